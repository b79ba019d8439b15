"""One error shape for the whole JSON API.

Every refusal is ``{"detail": "<what went wrong>", "errors": [{"field": ..., "message": ...}]}``
in the language the client asked for (Accept-Language), with the right 4xx status.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger

log = logging.getLogger(__name__)


class PlatformSwagger(Swagger):
    """The API docs page, served entirely from the platform: Swagger UI's script and styles
    come from the files django-ninja ships (collected as static files), never from a CDN, and
    the page names its language. A closed government network shows it all the same."""

    template = "core/api_docs.html"


class ApiError(Exception):
    """Raise from an endpoint to refuse a request with a clear message."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}  # e.g. Retry-After on a 429


def field_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, message, [{"field": field, "message": message}])


def _message_for(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "float_parsing": _("Enter a number."),
        "bool_parsing": _("Enter true or false."),
        "string_type": _("Enter text."),
        "json_invalid": _("The request body is not valid JSON."),
    }
    if kind in messages:
        return messages[kind]
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Enter a value of at least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("Enter a value of at most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt"))}
    if kind == "string_too_long":
        return _("Use at most %(limit)s characters.") % {"limit": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Use at least %(limit)s characters.") % {"limit": ctx.get("min_length")}
    if kind == "value_error":
        return str(ctx.get("error") or err.get("msg", ""))
    return str(err.get("msg", _("This value is not valid.")))


def _field_name(loc) -> str:
    # ninja prefixes locations with the parameter source ("query", "body", "path"); drop it.
    parts = [str(p) for p in loc if p not in {"query", "body", "path", "header", "payload"}]
    return ".".join(parts) or "request"


def install_error_handlers(api: NinjaAPI) -> None:
    def body(detail, errors=()):
        return {"detail": detail, "errors": list(errors)}

    @api.exception_handler(ApiError)
    def on_api_error(request, exc: ApiError):
        response = api.create_response(request, body(exc.detail, exc.errors), status=exc.status)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        errors = [{"field": _field_name(e.get("loc", ())), "message": _message_for(e)} for e in exc.errors]
        return api.create_response(request, body(_("Some values are not valid."), errors), status=422)

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return api.create_response(request, body(_("Not found.")), status=404)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request, exc):
        return api.create_response(request, body(_("Sign in first.")), status=401)

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc):
        # An app's PermissionDenied may carry a message for the user (e.g. "turn on two-factor").
        message = getattr(exc, "user_message", None) or _("Your account may not do this.")
        return api.create_response(request, body(str(message)), status=403)

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        message = str(exc.message)
        if message == "Cannot parse request body":  # django-ninja's own words, in English only
            message = _(
                "The request body could not be read: send valid JSON, as the API documentation shows."
            )
        return api.create_response(request, body(message), status=exc.status_code)

    def on_body_limit(request, exc):
        # BodyLimitMiddleware refuses these first; this keeps an endpoint that reads the body
        # some other way from turning them into a 500.
        from yiwang.core.middleware import body_limit_message

        message = body_limit_message(exc)
        errors = [{"field": "request", "message": message}]
        return api.create_response(request, body(message, errors), status=413)

    for kind in (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        api.add_exception_handler(kind, on_body_limit)

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        log.exception("Unhandled API error (request %s)", getattr(request, "request_id", "-"))
        return api.create_response(
            request, body(_("Something went wrong on our side. The error was logged.")), status=500
        )


# --- the error responses every operation can give, written into the OpenAPI document ----------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the client's language"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_BODY_METHODS = {"post", "put", "patch"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def document_errors(schema: dict, *, throttled: frozenset[str] = frozenset()) -> dict:
    """Add to each operation the refusals the server gives, all in the one error shape: 400 an
    unreadable body, 401/403 for operations that need a session, 404 for those with a path
    parameter, 413 a body over the limits, 422 invalid values, 429 where attempts are throttled.
    An operation's own declared responses win."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            extra = {422: _error("Some values are not valid: `errors` names each field and what to fix.")}
            if method in _BODY_METHODS:
                extra[400] = _error("The request body could not be read (not valid JSON or form data).")
                extra[413] = _error("The request body is over a limit (size, number of fields or files).")
            if operation.get("security"):
                extra[401] = _error("Not signed in: sign in first (session cookie).")
                extra[403] = _error("Signed in, but not allowed (role, real-name level or duty).")
            if "{" in path:
                extra[404] = _error("Not found — or not yours, which answers the same.")
            if path in throttled:
                extra[429] = _error("Too many attempts: wait the minutes the message gives.")
            declared = {int(status) for status in operation["responses"]}
            for status, response in extra.items():
                if status not in declared:
                    operation["responses"][status] = response
    return schema


class PlatformAPI(NinjaAPI):
    """The platform's NinjaAPI: its OpenAPI document lists each operation's error responses."""

    throttled_paths: frozenset[str] = frozenset()

    def get_openapi_schema(self, **kwargs):
        return document_errors(super().get_openapi_schema(**kwargs), throttled=self.throttled_paths)
