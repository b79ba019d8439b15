"""Public catalog pages: search, item guide (办事指南), bundles, departments, themes, guidance."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from yiwang.catalog import selectors
from yiwang.catalog.forms import GuideForm, SearchForm
from yiwang.identity.selectors import realname_level_of
from yiwang.lib import workdays


def _user_region_id(request: HttpRequest) -> int | None:
    person = getattr(request.user, "person", None) if request.user.is_authenticated else None
    return getattr(person, "region_id", None)


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        department = selectors.get_department_id(data["department"]) if data["department"] else None
        theme = selectors.theme_by_code(data["theme"]) if data["theme"] else None
        if data["q"] or department or theme or data["item_type"] or data["audience"]:
            result = selectors.search_items(
                q=data["q"],
                department=department,
                theme=theme.pk if theme else None,
                item_type=data["item_type"] or None,
                audience=data["audience"] or None,
                page=data["page"] or 1,
                user_region_id=_user_region_id(request),
            )
    context = {"form": form, "result": result}
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
