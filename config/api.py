"""The JSON API: one NinjaAPI, each app contributing a router. OpenAPI at /api/openapi.json."""

from yiwang.applications.api import router as applications_router
from yiwang.applications.services import ApplicationError
from yiwang.audit.api import router as audit_router
from yiwang.catalog.api import router as catalog_router
from yiwang.core.api import PlatformAPI, PlatformSwagger, install_error_handlers
from yiwang.identity.api import router as identity_router
from yiwang.licences.api import router as licences_router

api = PlatformAPI(
    title="yiwang API",
    version="1",
    description="一网 digital government platform. Errors share one shape: "
    '{"detail": "...", "errors": [{"field": "...", "message": "..."}]} (schema `Error`), in the '
    "language of Accept-Language; every operation lists the refusals it can give. Authenticated "
    "operations use the session cookie of the platform's sign-in (/login, with two-factor for "
    "administrators); unsafe methods need the CSRF token: read the `csrftoken` cookie and send it "
    "back in the `X-CSRFToken` header. Limits: request bodies 5 MB besides files, 1,000 fields, "
    "100 files, 10 MB per file; audit entries 1,000 per call; lists are paged.",
    urls_namespace="api",
    docs=PlatformSwagger(),
)
api.throttled_paths = frozenset({"/api/applications/track", "/api/applications/cases"})
install_error_handlers(api)
api.add_router("/applications/", applications_router)
api.add_router("/audit/", audit_router)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    errors = [{"field": field, "message": str(message)} for field, message in exc.errors.items()]
    return api.create_response(request, {"detail": exc.message, "errors": errors}, status=exc.status)


api.add_router("/catalog/", catalog_router)
api.add_router("/identity/", identity_router)
api.add_router("/licences/", licences_router)

# --- exchange gateway: its own router under /exchange/, API-key auth ---
from yiwang.exchange import gateway_api  # noqa: E402 — appended block of the gateway

api.add_router("/exchange/", gateway_api.router)
gateway_api.install(api)
# --- exchange: the resource catalog, requests and grants ---
from yiwang.exchange.api import router as exchange_router  # noqa: E402 — appended block

api.add_router("/exchange/", exchange_router)
# --- supervision: published 双随机 draws and entities' public records ---
from yiwang.supervision.api import router as supervision_router  # noqa: E402 — appended block

api.add_router("/supervision/", supervision_router)
