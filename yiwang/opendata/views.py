"""Pages of the open data portal, its DCAT catalog and the CKAN Action API endpoint.

Public pages show only published datasets; rows of a dataset open on conditions are shown to
nobody on the pages (they are read through the API with an approved application's key).
Applying needs a signed-in account; the data steward's page shows the applications to the
steward's departments only.
"""

import json

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.exchange import rowquery
from yiwang.exchange.errors import ExchangeError
from yiwang.exchange.models import DataResource
from yiwang.identity.models import Role
from yiwang.identity.permissions import departments_for, forbidden, has_role
from yiwang.opendata import ckan, dcat, selectors, services, tables
from yiwang.opendata.models import Access, ApiKey, Application, DistributionFormat

PAGE_SIZE = 20
PREVIEW_ROWS = 20


def _dataset_or_404(code: str):
    dataset = selectors.dataset_by_name_or_id(code)
    if dataset is None:
        raise Http404(_("No such dataset."))
    return dataset


@require_GET
def datasets(request: HttpRequest) -> HttpResponse:
    """Search with facets by organization, theme, tag and format."""
    filters = {}
    for name in ("organization", "groups", "tags", "res_format"):
        values = [v.strip()[:100] for v in request.GET.getlist(name) if v.strip()][:5]
        if values:
            filters[name] = values
    sort = request.GET.get("sort") or "score desc"
    try:
        page_no = max(1, min(int(request.GET.get("page") or 1), 10_000))
    except ValueError:
        page_no = 1
    error, result = "", None
    query = selectors.SearchQuery(
        q=(request.GET.get("q") or "").strip()[:200],
        filters=filters,
        sort=sort if sort in selectors.SORTS else "score desc",
        rows=PAGE_SIZE,
        start=(page_no - 1) * PAGE_SIZE,
        facet_fields=("organization", "groups", "tags", "res_format"),
    )
    try:
        result = selectors.search(query)
    except selectors.SearchError as exc:
        error = exc.message
    pages = (result.count + PAGE_SIZE - 1) // PAGE_SIZE if result else 0
    facet_titles = {
        "organization": _("Organizations"),
        "groups": _("Themes"),
        "tags": _("Tags"),
        "res_format": _("Formats"),
    }
    facets = []
    if result:
        for name, items in result.facets.items():
            chosen = set(filters.get(name, []))
            facets.append(
                (
                    name,
                    facet_titles[name],
                    [(d, n, v in chosen, _toggle(request, name, v)) for v, d, n in items[:15]],
                )
            )
    return render(
        request,
        "opendata/datasets.html",
        {
            "query": query,
            "result": result,
            "error": error,
            "facets": facets,
            "filters": filters,
            "page_no": page_no,
            "pages": pages,
            "previous": _page_link(request, page_no - 1) if page_no > 1 else "",
            "next": _page_link(request, page_no + 1) if page_no < pages else "",
            "sorts": [
                ("score desc", _("Newest first")),
                ("name asc", _("Name")),
                ("downloads desc", _("Most downloaded")),
                ("views_recent desc", _("Most viewed")),
            ],
        },
    )


def _toggle(request: HttpRequest, name: str, value: str) -> str:
    """The search address with the facet value ``name=value`` added, or removed if chosen."""
    query = request.GET.copy()
    query.pop("page", None)
    values = query.getlist(name)
    query.setlist(name, [v for v in values if v != value] if value in values else [*values, value])
    return "?" + query.urlencode()


def _page_link(request: HttpRequest, page_no: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page_no)
    return "?" + query.urlencode()


@require_GET
def dataset(request: HttpRequest, code: str) -> HttpResponse:
    item = _dataset_or_404(code)
    try:
        fields = tables.open_fields(item)
    except ExchangeError as exc:
        return forbidden(request, exc.message)
    services.count_view(item)
    preview = None
    if item.access == Access.OPEN:
        preview = tables.page(item, rowquery.RowQuery(filters={}, limit=PREVIEW_ROWS), fields)
    application = None
    if request.user.is_authenticated and item.access == Access.CONDITIONAL:
        application = Application.objects.filter(dataset=item, applicant=request.user).order_by("-pk").first()
    return render(
        request,
        "opendata/dataset.html",
        {
            "dataset": item,
            "fields": fields,
            "preview": preview,
            # (label, value) of each cell: on a phone the table reads as one block per row
            "preview_rows": [[(f.label_zh, row.get(f.name)) for f in fields] for row in preview.rows]
            if preview
            else [],
            "distributions": item.distributions.all(),
            "application": application,
            "api_resource": item.distributions.first(),
        },
    )


@require_GET
def download(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    item = _dataset_or_404(code)
    fmt = kind.upper()
    if fmt not in DistributionFormat.values:
        raise Http404(_("No such download."))
    if item.access != Access.OPEN:
        return forbidden(
            request,
            _("This dataset is open on conditions: apply for it, then read it through the API with a key."),
        )
    distribution = item.distributions.filter(format=fmt).first()
    if distribution is None:
        raise Http404(_("No such download."))
    try:
        fields = tables.open_fields(item)
    except ExchangeError as exc:
        return forbidden(request, exc.message)
    services.count_download(distribution)
    filename = f"{item.name}.{fmt.lower()}"
    if fmt == "XLSX":
        response = HttpResponse(
            tables.xlsx_bytes(item, fields),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "CSV":
        response = StreamingHttpResponse(
            tables.csv_chunks(item, fields), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(tables.json_chunks(item, fields), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """Apply to use a dataset open on conditions (signed-in accounts)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    item = _dataset_or_404(code)
    if item.access != Access.CONDITIONAL:
        return redirect("opendata:dataset", code=item.name)
    errors, values = {}, {"organization": "", "purpose": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            services.application_submit(dataset=item, actor=request.user, **values)
        except ExchangeError as exc:
            errors = exc.errors or {"__all__": exc.message}
            if not exc.errors:
                messages.error(request, exc.message)
                return redirect("opendata:dataset", code=item.name)
        else:
            messages.success(
                request,
                _("Your application was sent to the data steward of %(org)s.")
                % {"org": item.organization.name},
            )
            return redirect("opendata:my_data")
    return render(
        request,
        "opendata/apply.html",
        {"dataset": item, "errors": errors, "values": values},
        status=422 if errors else 200,
    )


@require_GET
def organizations(request: HttpRequest) -> HttpResponse:
    return render(request, "opendata/organizations.html", {"organizations": selectors.organizations()})


@require_GET
def organization(request: HttpRequest, code: str) -> HttpResponse:
    org = selectors.organization_by_code(code)
    if org is None:
        raise Http404(_("No such organization."))
    items = selectors.active().filter(organization=org).order_by("name")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "opendata/organization.html", {"organization": org, "page": page})


@require_GET
def themes(request: HttpRequest) -> HttpResponse:
    return render(request, "opendata/themes.html", {"themes": selectors.themes()})


@require_GET
def theme(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.theme_by_name(code)
    if found is None:
        raise Http404(_("No such theme."))
    page = Paginator(selectors.active().filter(themes=found).order_by("name"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "opendata/theme.html", {"theme": found, "page": page})


@require_GET
def tags(request: HttpRequest) -> HttpResponse:
    return render(request, "opendata/tags.html", {"tags": selectors.tags()[:500]})


@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    return render(request, "opendata/statistics.html", {"stats": selectors.statistics()})


@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """The signed-in account's applications and API keys (create: shown once; revoke)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    new_key = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                key = ApiKey.objects.filter(
                    user=request.user, pk=_int_or_none(request.POST.get("key"))
                ).first()
                if key is None:
                    raise Http404(_("No such key."))
                services.api_key_revoke(key=key, actor=request.user)
                messages.success(request, _("The key was revoked."))
            else:
                _record, new_key = services.api_key_create(
                    actor=request.user, name=request.POST.get("name", "")
                )
        except ExchangeError as exc:
            messages.error(request, exc.message)
    applications = Application.objects.filter(applicant=request.user).select_related("dataset")
    keys = ApiKey.objects.filter(user=request.user)
    response = render(
        request,
        "opendata/my_data.html",
        {
            "applications": applications,
            "keys": keys,
            "new_key": new_key,
            "may_create": applications.filter(state=Application.State.APPROVED).exists(),
        },
    )
    response["Cache-Control"] = "no-store, private"
    return response


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_http_methods(["GET", "POST"])
def steward(request: HttpRequest) -> HttpResponse:
    """The data steward's open data: applications to the steward's departments (approve or
    refuse), their resources that are not open yet (publish, or why they cannot be), and their
    published datasets (withdraw)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_role(request.user, Role.DATA_STEWARD):
        return forbidden(request)
    scope = departments_for(request.user, Role.DATA_STEWARD)
    mine = Application.objects.select_related("dataset__organization", "applicant")
    if scope is not None:
        mine = mine.filter(dataset__organization_id__in=scope)
    if request.method == "POST":
        action = request.POST.get("action", "decide")
        try:
            if action == "publish":
                _publish(request, scope)
            elif action == "withdraw":
                _withdraw(request, scope)
            else:
                application = mine.filter(pk=_int_or_none(request.POST.get("application"))).first()
                if application is None:
                    raise Http404(_("No such application."))
                services.application_decide(
                    application=application,
                    actor=request.user,
                    approve=request.POST.get("decision") == "approve",
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("The decision was recorded."))
        except ExchangeError as exc:
            messages.error(request, exc.message)
        return redirect("opendata:steward")
    resources = DataResource.objects.filter(open_dataset__isnull=True).prefetch_related("fields")
    published = selectors.active().select_related("organization")
    if scope is not None:
        resources = resources.filter(provider_id__in=scope)
        published = published.filter(organization_id__in=scope)
    candidates = [
        (r, services.reasons_not_openable(r, list(r.fields.all()))) for r in resources.order_by("code")[:100]
    ]
    response = render(
        request,
        "opendata/steward.html",
        {
            "pending": mine.filter(state=Application.State.PENDING),
            "decided": mine.exclude(state=Application.State.PENDING)[:50],
            "candidates": candidates,
            "published": published.order_by("name")[:200],
            "themes": selectors.themes(),
        },
    )
    response["Cache-Control"] = "no-store, private"
    return response


def _publish(request: HttpRequest, scope) -> None:
    resources = DataResource.objects.filter(code=request.POST.get("resource", "").strip()[:64])
    if scope is not None:
        resources = resources.filter(provider_id__in=scope)
    resource = resources.first()
    if resource is None:
        raise Http404(_("No such resource."))
    dataset = services.dataset_publish(
        resource=resource, actor=request.user, themes=request.POST.getlist("themes")[:10]
    )
    messages.success(request, _("“%(title)s” is published as open data.") % {"title": dataset.title})


def _withdraw(request: HttpRequest, scope) -> None:
    datasets = selectors.active().filter(name=request.POST.get("dataset", "").strip()[:100])
    if scope is not None:
        datasets = datasets.filter(organization_id__in=scope)
    dataset = datasets.first()
    if dataset is None:
        raise Http404(_("No such dataset."))
    services.dataset_withdraw(dataset=dataset, actor=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("“%(title)s” was withdrawn.") % {"title": dataset.title})


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def catalog_ttl(request: HttpRequest) -> HttpResponse:
    return HttpResponse(dcat.serialize(_base(request), "ttl"), content_type="text/turtle; charset=utf-8")


@require_GET
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return HttpResponse(dcat.serialize(_base(request), "jsonld"), content_type="application/ld+json")


def _params(request: HttpRequest) -> dict | None:
    if request.method == "GET":
        return {k: (v if len(v) > 1 else v[0]) for k, v in request.GET.lists()}
    if request.content_type == "application/json" or request.body[:1] in (b"{", b"["):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}


@csrf_exempt  # read-only actions, answered alike with or without a session; keys come in a header
@require_http_methods(["GET", "POST"])
def ckan_action(request: HttpRequest, action: str) -> HttpResponse:
    params = _params(request)
    if params is None:
        status, body = (
            400,
            {
                "help": "",
                "success": False,
                "error": {"__type": "Bad request", "message": _("The request body is not a JSON object.")},
            },
        )
    else:
        status, body = ckan.run(request, action, params)
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response
