"""The JSON API: one NinjaAPI, each app contributing a router. OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

from yiwang.applications.api import router as applications_router
from yiwang.applications.services import ApplicationError
from yiwang.audit.api import router as audit_router
from yiwang.catalog.api import router as catalog_router
from yiwang.core.api import PlatformSwagger, install_error_handlers
from yiwang.identity.api import router as identity_router

api = NinjaAPI(
    title="yiwang API",
    version="1",
    description="一网 digital government platform. Errors share one shape: "
    '{"detail": "...", "errors": [{"field": "...", "message": "..."}]}.',
    urls_namespace="api",
    docs=PlatformSwagger(),
)
install_error_handlers(api)
api.add_router("/applications/", applications_router)
api.add_router("/audit/", audit_router)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    errors = [{"field": field, "message": str(message)} for field, message in exc.errors.items()]
    return api.create_response(request, {"detail": exc.message, "errors": errors}, status=exc.status)


api.add_router("/catalog/", catalog_router)
api.add_router("/identity/", identity_router)
