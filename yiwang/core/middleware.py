import re
import uuid

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


def client_ip(request) -> str:
    # Behind a trusted proxy the deployment sets REMOTE_ADDR correctly (see docs/configuration.md);
    # X-Forwarded-For is not trusted here because any client can forge it.
    return request.META.get("REMOTE_ADDR", "")
