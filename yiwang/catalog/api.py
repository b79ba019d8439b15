"""The catalog JSON API, mounted at /api/catalog/. Read-only and public."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yiwang.catalog import search, selectors
from yiwang.catalog.models import LifeEvent, ServiceItem
from yiwang.core.api import ApiError, field_error

router = Router(tags=["catalog"])


# --- output schemas (separate from the models) ----------------------------------------------
class DepartmentOut(Schema):
    code: str
    name: str


class RegionOut(Schema):
    code: str
    name: str


class ItemSummaryOut(Schema):
    code: str
    name: str
    item_type: str
    department: DepartmentOut
    region: RegionOut
    online_depth: int
    promised_limit_days: int
    visits_needed: int
    url: str
    # With ``group``: how many more items (other regions' or departments') offer the same service.
    other_regions: int = 0


class ItemListOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[ItemSummaryOut]
    relaxed: bool = False  # no item had every word; these have some of them (only with ``relax``)


class MaterialOut(Schema):
    name: str
    source: str
    form: str
    copies: int
    required: bool
    licence_replaceable: bool
    licence_type: str
    notes: str
    applicant_submits: bool  # the applicant uploads it when applying (Material.applicant_submits)


class StepOut(Schema):
    name: str
    description: str


class ItemDetailOut(ItemSummaryOut):
    item_type_label: str
    level: str
    basic_item_code: str | None
    legal_basis: str
    conditions: str
    process_steps: list[StepOut]
    statutory_limit_days: int
    fee_description: str
    is_free: bool
    online_depth_label: str
    channels: list[str]
    consult_phone: str
    complaint_phone: str
    service_object: str
    realname_level: int
    realname_level_label: str
    address: str
    hours: str
    version: int
    aliases: list[str]
    description: str
    themes: list[str]
    materials: list[MaterialOut]
    updated_at: str


class BundleSummaryOut(Schema):
    code: str
    name: str
    summary: str
    audience: str
    url: str


class BundleItemOut(Schema):
    order: int
    item: ItemSummaryOut


class CombinedMaterialOut(Schema):
    name: str
    required: bool
    applicant_submits: bool
    items: list[str]


class BundleDetailOut(BundleSummaryOut):
    description: str
    keywords: list[str]
    themes: list[str]
    items: list[BundleItemOut]
    materials: list[CombinedMaterialOut]


class GuideOut(Schema):
    query: str
    bundles: list[BundleSummaryOut]
    items: list[ItemSummaryOut]
    count: int
    relaxed: bool


# --- input ---------------------------------------------------------------------------------
class ItemFilters(Schema):
    q: str = ""
    department: str = ""
    theme: str = ""
    region: str = ""
    item_type: str = ""
    audience: str = ""
    page: int = 1
    page_size: int = 20
    near: str = Field(
        "",
        description="The visitor's region code (GB/T 2260): its items, then its parent regions', come first.",
    )
    group: bool = Field(
        False,
        description="One item per service (basic catalog item), the nearest; `other_regions` counts the rest "
        "and `count` counts services.",
    )
    relax: bool = Field(False, description="When no item has every word, return items with some of them.")


def _summary(item: ServiceItem, request: HttpRequest) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "department": {"code": item.department.code, "name": item.department.name},
        "region": {"code": item.region.code, "name": item.region.name},
        "online_depth": item.online_depth,
        "promised_limit_days": item.promised_limit_days,
        "visits_needed": item.visits_needed,
        "url": request.build_absolute_uri(item.get_absolute_url()),
    }


def _bundle_summary(bundle: LifeEvent, request: HttpRequest) -> dict:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "summary": bundle.summary,
        "audience": bundle.audience,
        "url": request.build_absolute_uri(bundle.get_absolute_url()),
    }


def _check_query(q: str) -> None:
    if len(q) > search.MAX_QUERY_LENGTH:
        raise field_error(
            "q", _("Use at most %(limit)s characters.") % {"limit": search.MAX_QUERY_LENGTH}, status=422
        )


@router.get("/items", response=ItemListOut, summary="Search service items")
def list_items(request: HttpRequest, filters: Query[ItemFilters]):
    """Published items matching ``q`` (Chinese plain language, common variants and misspellings
    are fine), best first: name and alias matches ranked by how well the name answers, then
    matches in the description. ``near`` puts a region's items first, ``group`` shows one item
    per service, ``relax`` falls back to items with some of the words. ``page_size`` is at most 50."""
    errors = []
    if len(filters.q) > search.MAX_QUERY_LENGTH:
        errors.append(
            {
                "field": "q",
                "message": _("Use at most %(limit)s characters.") % {"limit": search.MAX_QUERY_LENGTH},
            }
        )
    if filters.page < 1 or filters.page > 10_000:
        errors.append({"field": "page", "message": _("Enter a page number from 1 to 10000.")})
    if not 1 <= filters.page_size <= selectors.MAX_PAGE_SIZE:
        errors.append(
            {
                "field": "page_size",
                "message": _("Enter a page size from 1 to %(limit)s.") % {"limit": selectors.MAX_PAGE_SIZE},
            }
        )
    department_id = theme_id = region_id = None
    if filters.department:
        department_id = selectors.get_department_id(filters.department)
        if department_id is None:
            errors.append({"field": "department", "message": _("There is no department with this code.")})
    if filters.theme:
        theme = selectors.theme_by_code(filters.theme)
        if theme is None:
            errors.append({"field": "theme", "message": _("There is no theme with this code.")})
        else:
            theme_id = theme.pk
    if filters.region:
        region_id = selectors.get_region_id(filters.region)
        if region_id is None:
            errors.append({"field": "region", "message": _("There is no region with this code.")})
    near_id = None
    if filters.near:
        near_id = selectors.get_region_id(filters.near)
        if near_id is None:
            errors.append({"field": "near", "message": _("There is no region with this code.")})
    if filters.item_type and filters.item_type not in ServiceItem.ItemType.values:
        errors.append({"field": "item_type", "message": _("This is not a known item type.")})
    if filters.audience and filters.audience not in ("personal", "enterprise"):
        errors.append({"field": "audience", "message": _("Choose personal or enterprise.")})
    if errors:
        raise ApiError(422, _("Some values are not valid."), errors)
    result = selectors.search_items(
        q=filters.q,
        department=department_id,
        theme=theme_id,
        region=region_id,
        item_type=filters.item_type or None,
        audience=filters.audience or None,
        page=filters.page,
        page_size=filters.page_size,
        with_bundles=False,
        user_region_id=near_id,
        grouped=filters.group,
        relax=filters.relax,
    )
    return {
        "count": result.count,
        "page": result.page,
        "page_size": result.page_size,
        "items": [{**_summary(i, request), "other_regions": i.other_regions} for i in result.items],
        "relaxed": result.relaxed,
    }


@router.get("/items/{code}", response=ItemDetailOut, summary="One item with every standard element")
def get_item(request: HttpRequest, code: str):
    item = selectors.get_item(code)
    return {
        **_summary(item, request),
        "item_type_label": str(item.get_item_type_display()),
        "level": item.level,
        "basic_item_code": item.basic_item.code if item.basic_item_id else None,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "process_steps": [
            {"name": str(s.get("name", "")), "description": str(s.get("description", ""))}
            for s in item.process_steps
            if isinstance(s, dict)
        ],
        "statutory_limit_days": item.statutory_limit_days,
        "fee_description": item.fee_description,
        "is_free": item.is_free,
        "online_depth_label": str(item.get_online_depth_display()),
        "channels": [str(c) for c in item.channels],
        "consult_phone": item.consult_phone,
        "complaint_phone": item.complaint_phone,
        "service_object": item.service_object,
        "realname_level": item.realname_level,
        "realname_level_label": str(item.get_realname_level_display()),
        "address": item.address,
        "hours": item.hours,
        "version": item.version,
        "aliases": item.alias_list,
        "description": item.description,
        "themes": [t.code for t in item.themes.all()],
        "materials": [{f: getattr(m, f) for f in MaterialOut.model_fields} for m in item.materials.all()],
        "updated_at": item.updated_at.isoformat(),
    }


@router.get("/bundles", response=list[BundleSummaryOut], summary="Life-event bundles")
def list_bundles(request: HttpRequest):
    return [_bundle_summary(b, request) for b in selectors.bundles()]


@router.get("/bundles/{code}", response=BundleDetailOut, summary="One bundle with its items in order")
def get_bundle(request: HttpRequest, code: str):
    bundle = selectors.get_bundle(code)
    return {
        **_bundle_summary(bundle, request),
        "description": bundle.description,
        "keywords": [k.strip() for k in bundle.keywords.split(",") if k.strip()],
        "themes": [t.code for t in bundle.themes.all()],
        "items": [{"order": e.order, "item": _summary(e.item, request)} for e in bundle.entries.all()],
        "materials": [vars(m) for m in selectors.bundle_materials(bundle)],
    }


@router.get("/guide", response=GuideOut, summary="Plain-language guidance: bundles first, then items")
def guide(request: HttpRequest, q: str = ""):
    _check_query(q)
    if not search.normalize(q):
        raise field_error("q", _("Tell us what you want to do."), status=422)
    result = selectors.guide(q)
    return {
        "query": q,
        "bundles": [_bundle_summary(b, request) for b in result.bundles],
        "items": [_summary(i, request) for i in result.items],
        "count": result.count,
        "relaxed": result.relaxed,
    }
