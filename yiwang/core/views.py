from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.core.context_processors import CARE_COOKIE


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from yiwang.catalog import selectors as catalog  # the home page is the catalog's front door
    from yiwang.catalog.views import visitor_region

    return render(request, "core/home.html", catalog.home_context(visitor_region(request)))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_POST
def care_mode(request: HttpRequest) -> HttpResponse:
    """Switch the elderly-friendly mode (适老化) on or off; it stays for a year."""
    on = request.POST.get("on") == "1"
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)  # a URL, never a view name (redirect() would try to reverse it)
    if on:
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(CARE_COOKIE, samesite="Lax")
    return response


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):  # API clients get the API's error shape, not a page
        return JsonResponse({"detail": _("Not found."), "errors": []}, status=404)
    return render(request, "core/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: no context processors (the database may be what failed), the platform's
    stylesheet, and the request id a person can quote (the same id is in the logs)."""
    request_id = getattr(request, "request_id", "")
    html = loader.get_template("core/500.html").render({"request_id": request_id})
    return HttpResponse(html, status=500)
