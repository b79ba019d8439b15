"""Public catalog pages: search, item guide (办事指南), bundles, departments, themes, guidance."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.catalog import selectors
from yiwang.catalog.forms import GuideForm, SearchForm
from yiwang.identity.selectors import realname_level_of
from yiwang.lib import workdays

REGION_SESSION_KEY = "catalog_region"


def visitor_region(request: HttpRequest):
    """The region whose services come first: the one chosen with the switcher (kept in the
    session), else the signed-in person's, else the province."""
    region = selectors.region_by_code(request.session.get(REGION_SESSION_KEY, ""))
    if region is None and request.user.is_authenticated:
        person = getattr(request.user, "person", None)
        region = selectors.region_by_id(getattr(person, "region_id", None))
    return region or selectors.default_region()


def _user_region_id(request: HttpRequest) -> int | None:
    region = visitor_region(request)
    return region.pk if region else None


@require_POST
def region_switch(request: HttpRequest) -> HttpResponse:
    """Switch the visitor's region (切换地区); it stays for the session."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    region = selectors.region_by_code(request.POST.get("region", "").strip())
    if region is None:
        messages.error(request, _("Choose a region from the list."))
    else:
        request.session[REGION_SESSION_KEY] = region.code
        messages.success(request, _("Services of %(region)s now come first.") % {"region": region.name})
    return HttpResponseRedirect(target)  # a URL, never a view name


def region_context(region) -> dict:
    """What the region switcher shows (home and search pages)."""
    return {"visitor_region": region, "region_choices": selectors.region_choices()}


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    region = visitor_region(request)
    form = SearchForm(request.GET or None, region_id=region.pk if region else None)
    result = None
    basic = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        department = selectors.get_department_id(data["department"]) if data["department"] else None
        theme = selectors.theme_by_code(data["theme"]) if data["theme"] else None
        basic = selectors.basic_item_by_code(data["basic"]) if data["basic"] else None
        if data["q"] or department or theme or data["item_type"] or data["audience"] or basic:
            result = selectors.search_items(
                q=data["q"],
                department=department,
                theme=theme.pk if theme else None,
                item_type=data["item_type"] or None,
                audience=data["audience"] or None,
                basic=basic.pk if basic else None,
                page=data["page"] or 1,
                user_region_id=region.pk if region else None,
                relax=True,
                grouped=basic is None,  # one service's regions are listed each
            )
    context = {"form": form, "result": result, "basic": basic, **region_context(region)}
    if result is not None and not result.items:
        context["suggested_bundles"] = list(selectors.bundles()[:6])
        context["suggested_themes"] = list(selectors.themes()[:12])
    return render(request, "catalog/search.html", context)


@require_GET
def item_page(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.get_item(code)
    today = timezone.localdate()
    due = workdays.add_workdays(today, min(item.promised_limit_days, workdays.MAX_WORKDAYS))
    return render(
        request,
        "catalog/item.html",
        {
            "item": item,
            "materials": list(item.materials.all()),
            "licence_types": selectors.issued_licence_types(),
            "today": today,
            "promised_due": due,
            "promised_due_provisional": not workdays.covers(due),
            # 0 for visitors and accounts without a person: the page then shows no level notice.
            "viewer_level": realname_level_of(request.user),
        },
    )


@require_GET
def bundles_page(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/bundles.html", {"bundles": selectors.bundles()})


@require_GET
def bundle_page(request: HttpRequest, code: str) -> HttpResponse:
    bundle = selectors.get_bundle(code)
    return render(
        request,
        "catalog/bundle.html",
        {
            "bundle": bundle,
            "entries": list(bundle.entries.all()),
            "materials": selectors.bundle_materials(bundle),
        },
    )


@require_GET
def departments_page(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/departments.html", {"groups": selectors.departments_by_region()})


@require_GET
def department_page(request: HttpRequest, code: str) -> HttpResponse:
    department = selectors.get_department(code)
    paginator = Paginator(selectors.department_items(department), 30)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "catalog/department.html", {"department": department, "page": page})


@require_GET
def themes_page(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/themes.html", {"themes": selectors.themes()})


@require_GET
def guide_page(request: HttpRequest) -> HttpResponse:
    form = GuideForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.guide(form.cleaned_data["q"], user_region_id=_user_region_id(request))
    return render(request, "catalog/guide.html", {"form": form, "result": result})
