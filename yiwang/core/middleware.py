import ipaddress
import re
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
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
