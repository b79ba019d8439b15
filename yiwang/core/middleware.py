import ipaddress
import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from yiwang.core import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# A JSON NUL escape (\u0000) that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class RejectNulMiddleware:
    """Refuses requests whose path, query or JSON body carries a NUL character with 400.

    No legitimate input contains one, PostgreSQL text cannot store one, and catching it here
    spares every view and selector from checking (forms already refuse NUL in POST data)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = [text for key, values in request.GET.lists() for text in (key, *values)]
        if "\x00" in request.path or any("\x00" in text for text in query) or _json_nul(request):
            message = _("The request contains a NUL character, which is never valid. Remove it.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": []}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when well-formed) and records the
    client address, so audit entries can name both. Echoes the id in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.bind(context.RequestContext(request_id=request_id, client_ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


_FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _json_nul(request) -> bool:
    """A NUL in a JSON body. The API parses any body that is not a form as JSON, whatever its
    declared type, so every non-form API body is checked (forms refuse NUL themselves)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return False
    if request.content_type != "application/json" and (
        not request.path.startswith("/api/") or request.content_type in _FORM_TYPES
    ):
        return False
    body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
    return b"\x00" in body or _JSON_NUL.search(body) is not None


def _parse_ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(ip) -> bool:
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in settings.TRUSTED_PROXIES if network.version == ip.version)


def client_ip(request) -> str:
    """The client's address. The direct peer (REMOTE_ADDR), unless that peer is one of the
    configured ``TRUSTED_PROXIES``: then the right-most address of X-Forwarded-For that is not
    itself a trusted proxy. Everything left of that is whatever the client chose to send."""
    peer = request.META.get("REMOTE_ADDR", "")
    peer_ip = _parse_ip(peer)
    if peer_ip is None or not settings.TRUSTED_PROXIES or not _trusted(peer_ip):
        return peer
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    client = peer_ip
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if ip is None:
            break  # a malformed hop written by a trusted proxy: keep the last good address
        client = ip
        if not _trusted(ip):
            break
    return str(client)


BODY_LIMIT_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def body_limit_message(exc: Exception | None) -> str:
    """What to tell someone whose request body broke one of the limits, in their language."""
    if isinstance(exc, TooManyFieldsSent):
        return _("The request has too many fields (at most %(n)s). Send fewer at a time.") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    if isinstance(exc, TooManyFilesSent):
        return _("The request has too many files (at most %(n)s). Send fewer at a time.") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    if isinstance(exc, RequestDataTooBig):  # the fields, not the files, passed the limit
        return _("The form data are too large (at most %(mb)s MB besides files). Send less at a time.") % {
            "mb": max(1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024))
        }
    return _("The request is too large. Send less data, or a smaller file (at most %(mb)s MB).") % {
        "mb": max(1, settings.UPLOAD_MAX_BYTES // (1024 * 1024))
    }


def body_limit_response(request, exc: Exception | None) -> HttpResponse:
    """413 with the message: the API's one error shape under /api/, a small page elsewhere."""
    message = body_limit_message(exc)
    if request.path.startswith("/api/"):
        errors = [{"field": "request", "message": message}]
        return JsonResponse({"detail": message, "errors": errors}, status=413)
    html = render_to_string("core/413.html", {"message": message})
    return HttpResponse(html, status=413, content_type="text/html; charset=utf-8")


class BodyLimitMiddleware:
    """Refuses a request whose body breaks a limit with 413 and a clear message, never a 500.

    Django raises RequestDataTooBig, TooManyFieldsSent or TooManyFilesSent lazily, wherever the
    body is first read (the CSRF check, a view, the API's parser, which turns them into 500s).
    Reading it here first, under the same limits, makes the refusal one place's job; what was
    parsed is cached on the request, so nothing reads it twice. A declared length over
    REQUEST_MAX_BYTES is refused before a byte is read (DATA_UPLOAD_MAX_MEMORY_SIZE does not
    count uploaded files)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > settings.REQUEST_MAX_BYTES:
                return body_limit_response(request, None)
            try:
                if request.method == "POST" and request.content_type in _FORM_TYPES:
                    request.POST  # noqa: B018 — parse now, under the limits
                    request.FILES  # noqa: B018
                else:
                    request.body  # noqa: B018
            except BODY_LIMIT_ERRORS as exc:
                return body_limit_response(request, exc)
            except MultiPartParserError:
                message = _("The uploaded form data are damaged. Send the form again.")
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": message, "errors": []}, status=400)
                return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class HeadAsGetMiddleware:
    """Answers HEAD wherever GET is answered, with GET's status and headers and no body.

    Django's ``require_GET`` and the API's GET operations refuse HEAD with 405; the generic
    views treat HEAD as GET, and so does this, in one place for every page and endpoint (HEAD
    is as safe as GET: no view may change anything on a GET)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            # The file stays registered for closing when the response is closed.
            response.streaming_content = iter(())
        else:
            length = response.get("Content-Length")
            response.content = b""
            if length is not None:
                response["Content-Length"] = length
        return response


class PrivateNoStoreMiddleware:
    """``Cache-Control: no-store`` (and ``private``) on every answer to a signed-in person:
    their account, cases, workbench and notices are personal data that no shared or browser
    cache may keep. So are the answers of the signed-out progress query (``SIGNED_OUT_PATHS``)."""

    SIGNED_OUT_PATHS = ("/track/", "/api/applications/track")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(self.SIGNED_OUT_PATHS):
            response.headers.pop("Cache-Control", None)
            patch_cache_control(response, no_store=True, private=True)
        return response
