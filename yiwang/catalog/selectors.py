"""Reads of the catalog, for pages, the API and other apps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from yiwang.catalog import search
from yiwang.catalog.models import BundleItem, LifeEvent, Material, ServiceItem, Theme

PUBLISHED = ServiceItem.Status.PUBLISHED
MAX_PAGE_SIZE = 50


def home_context(region=None) -> dict:
    """What the home page shows: the most used life-event bundles, every theme, and the region
    switcher (``region``: the visitor's region)."""
    return {
        "bundles": list(LifeEvent.objects.order_by("-popularity", "code")[:8]),
        "themes": list(Theme.objects.all()),
        "visitor_region": region,
        "region_choices": region_choices(),
    }


@dataclass
class SearchPage:
    query: search.ParsedQuery
    items: list[ServiceItem]
    count: int
    page: int
    page_size: int
    title_count: int = 0
    bundles: list[LifeEvent] = field(default_factory=list)
    relaxed: bool = False  # no item had every word, so items with some of them are shown
    capped: bool = False  # more than search.MAX_RESULTS items match; count and pages stop there
    grouped: bool = False  # one item per service; each item's ``other_regions`` says how many more

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.items else 0


SEGMENTED = ("search_title", "search_body", "description", "legal_basis", "conditions")  # not shown in lists


def _items_in_order(ids: list[int]) -> list[ServiceItem]:
    by_id = (
        ServiceItem.objects.select_related("department", "region", "basic_item")
        .defer(*SEGMENTED, *(f"basic_item__{f}" for f in SEGMENTED))
        .order_by()  # the default ordering by code would make SQLite walk the code index
        .in_bulk(ids)
    )
    return [by_id[i] for i in ids if i in by_id]


def place_of(region_id: int | None) -> search.Place | None:
    """The visitor's place for ranking: the region and its ancestors (province items serve a
    city's residents too)."""
    from yiwang.identity.models import Region

    if not region_id:
        return None
    region = Region.objects.select_related("parent__parent").filter(pk=region_id).first()
    if region is None:
        return None
    ancestors = []
    parent = region.parent
    while parent is not None and len(ancestors) < 3:
        ancestors.append(parent.pk)
        parent = parent.parent if parent.parent_id else None
    return search.Place(region_id=region.pk, ancestor_ids=tuple(ancestors))


def search_items(
    *,
    q: str = "",
    department: int | None = None,
    theme: int | None = None,
    region: int | None = None,
    item_type: str | None = None,
    audience: str | None = None,
    basic: int | None = None,
    page: int = 1,
    page_size: int = 20,
    user_region_id: int | None = None,
    with_bundles: bool = True,
    relax: bool = False,
    grouped: bool = False,
) -> SearchPage:
    """Published items matching a query and filters, best first (see :func:`search.search_ids`).

    Never raises on odd input: the query is sanitised by :func:`search.parse`. With ``relax``,
    a query none of whose items has every word falls back to items with some of the words,
    most first. ``grouped`` shows one item per service (the visitor's region's own first)."""
    parsed = search.parse(q)
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    filters = search.Filters(
        department_id=department,
        theme_id=theme,
        region_id=region,
        item_type=item_type,
        audience=audience,
        basic_id=basic,
    )
    offset = (page - 1) * page_size
    hits = search.search_ids(
        parsed,
        filters,
        offset=offset,
        limit=page_size,
        place=place_of(user_region_id),
        grouped=grouped,
        relax=relax,
    )
    bundles = match_bundles(parsed, any_term=hits.relaxed) if with_bundles and not parsed.is_empty else []
    items = _items_in_order(hits.ids)
    for item in items:
        item.other_regions = hits.others.get(item.pk, 0)
    return SearchPage(
        query=parsed,
        items=items,
        count=hits.count,
        page=page,
        page_size=page_size,
        title_count=hits.title_count,
        bundles=bundles,
        relaxed=hits.relaxed,
        capped=hits.capped,
        grouped=grouped,
    )


def match_bundles(parsed: search.ParsedQuery, *, any_term: bool = False, limit: int = 5) -> list[LifeEvent]:
    """Bundles whose name, summary or keywords match the query (there are few: matched in Python)."""
    if parsed.is_empty:
        return []
    scored = []
    for bundle in LifeEvent.objects.only("code", "name", "summary", "search_text", "popularity", "audience"):
        tokens = set(bundle.search_text.split())
        matched = parsed.matches_tokens(tokens)
        if matched == len(parsed.terms) or (any_term and matched):
            scored.append((-matched, -bundle.popularity, bundle.code, bundle))
    scored.sort(key=lambda row: row[:3])
    return [row[3] for row in scored[:limit]]


def guide(q: str, *, user_region_id: int | None = None, page_size: int = 10) -> SearchPage:
    """Plain-language guidance: bundles first, then items; any word counts when none has all."""
    return search_items(q=q, page_size=page_size, user_region_id=user_region_id, relax=True, grouped=True)


def get_item(code: str) -> ServiceItem:
    """A published item with everything its guide shows, or Http404."""
    item = (
        ServiceItem.objects.select_related("department", "region", "basic_item")
        .prefetch_related(
            Prefetch("materials", queryset=Material.objects.order_by("order", "id")),
            "themes",
            Prefetch("bundles", queryset=LifeEvent.objects.only("code", "name")),
        )
        .filter(code=code, status=PUBLISHED)
        .first()
    )
    if item is None:
        raise Http404(code)
    return item


def basic_item_by_code(code: str) -> ServiceItem | None:
    """A published basic-catalog item (a service as the national catalog names it)."""
    return ServiceItem.objects.filter(code=code, status=PUBLISHED, basic_item__isnull=True).first()


def item_by_code(code: str) -> ServiceItem | None:
    """A bare indexed lookup (used by other apps and as the benchmark's baseline)."""
    return ServiceItem.objects.filter(code=code, status=PUBLISHED).first()


def bundles() -> QuerySet[LifeEvent]:
    return LifeEvent.objects.annotate(
        item_count=Count("entries", filter=Q(entries__item__status=PUBLISHED))
    ).order_by("-popularity", "code")


def get_bundle(code: str) -> LifeEvent:
    bundle = (
        LifeEvent.objects.prefetch_related(
            Prefetch(
                "entries",
                queryset=BundleItem.objects.filter(item__status=PUBLISHED)
                .select_related("item__department", "item__region")
                .prefetch_related(
                    Prefetch("item__materials", queryset=Material.objects.order_by("order", "id"))
                )
                .order_by("order", "id"),
            ),
            "themes",
        )
        .filter(code=code)
        .first()
    )
    if bundle is None:
        raise Http404(code)
    return bundle


# 免证办: the Chinese names of the licence types the platform issues. The licences app sits above
# catalog, so it is told at start-up (``set_licence_types_source``, called by applications'
# AppConfig.ready); until then, and without licences, no material is promised to be replaced.
_licence_types_source = None


def set_licence_types_source(source) -> None:
    """``source()`` → the Chinese names of the licence types the platform issues."""
    global _licence_types_source  # noqa: PLW0603 — the one hook, set once at start-up
    _licence_types_source = source


def issued_licence_types() -> frozenset[str]:
    """The licence types the platform issues, by Chinese name (one query)."""
    return frozenset(_licence_types_source()) if _licence_types_source is not None else frozenset()


def replaced_by_licence(material, issued: frozenset[str]) -> bool:
    """Whether the guide promises 免提交：以电子证照替代: the material may be replaced by a licence
    and the platform issues licences of its type (so a holder uses it instead, 免证办)."""
    return bool(material.licence_replaceable and material.licence_type and material.licence_type in issued)


@dataclass
class CombinedMaterial:
    name: str
    required: bool
    applicant_submits: bool
    items: list[str]
    replaced_by_licence: bool = False


def bundle_materials(bundle: LifeEvent) -> list[CombinedMaterial]:
    """What the citizen prepares in total for a bundle: materials de-duplicated by name.

    A material is required if any item requires it, and the applicant submits it if any item
    asks the applicant for it (``Material.applicant_submits``)."""
    combined: dict[str, CombinedMaterial] = {}
    issued = issued_licence_types()
    for entry in bundle.entries.all():
        for m in entry.item.materials.all():
            key = search.normalize(m.name)
            if key not in combined:
                combined[key] = CombinedMaterial(
                    m.name, m.required, m.applicant_submits, [entry.item.name], replaced_by_licence(m, issued)
                )
            else:
                c = combined[key]
                c.required = c.required or m.required
                c.applicant_submits = c.applicant_submits or m.applicant_submits
                c.replaced_by_licence = c.replaced_by_licence and replaced_by_licence(m, issued)
                if entry.item.name not in c.items:
                    c.items.append(entry.item.name)
    return list(combined.values())


def departments_by_region() -> list[tuple]:
    """[(region, [department with item_count, ...]), ...] for departments that publish items."""
    from yiwang.identity.models import Department

    departments = (
        Department.objects.select_related("region")
        .annotate(item_count=Count("service_items", filter=Q(service_items__status=PUBLISHED)))
        .filter(item_count__gt=0)
        .order_by("region__code", "code")
    )
    grouped: dict = {}
    for d in departments:
        grouped.setdefault(d.region, []).append(d)
    return list(grouped.items())


def get_department(code: str):
    from yiwang.identity.models import Department

    department = Department.objects.select_related("region").filter(code=code).first()
    if department is None:
        raise Http404(code)
    return department


def department_items(department) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(department=department, status=PUBLISHED).order_by("-popularity", "code")


def themes() -> QuerySet[Theme]:
    return Theme.objects.annotate(
        item_count=Count("items", filter=Q(items__status=PUBLISHED), distinct=True),
    ).order_by("order", "code")


def theme_by_code(code: str) -> Theme | None:
    return Theme.objects.filter(code=code).first()


def department_choices(region_id: int | None = None, *, also: str = "") -> list:
    """Departments that publish items, for the search filter, grouped by region:
    [(region name, [(code, name), ...]), ...]. With ``region_id``, only the departments serving
    that region (its own and its ancestors'), a short list; ``also`` keeps one more (a code
    chosen elsewhere, e.g. on a department's page)."""
    from yiwang.identity.models import Department

    rows = Department.objects.filter(service_items__status=PUBLISHED)
    if region_id:
        place = place_of(region_id)
        ids = [place.region_id, *place.ancestor_ids] if place else [region_id]
        rows = rows.filter(Q(region_id__in=ids) | Q(code=also))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for code, name, region in (
        rows.distinct().order_by("region__code", "code").values_list("code", "name", "region__name")
    ):
        grouped.setdefault(region, []).append((code, name))
    return list(grouped.items())


def region_choices() -> list:
    """Every region for the region switcher, the province first, then each city with its
    counties: [(group label, [(code, name), ...]), ...]."""
    from yiwang.identity.models import Region

    regions = list(Region.objects.order_by("code").values_list("pk", "code", "name", "level", "parent_id"))
    by_id = {r[0]: r for r in regions}
    groups: dict[int | None, list[tuple[str, str]]] = {}
    for pk, code, name, level, parent_id in regions:
        if level == "county" and parent_id in by_id:
            groups.setdefault(parent_id, []).append((code, name))
        else:
            groups.setdefault(pk, []).insert(0, (code, name))
    return [(by_id[key][2], options) for key, options in groups.items()]


def default_region():
    """The region a visitor sees until they choose one: the top of the region tree (the province)."""
    from yiwang.identity.models import Region

    return Region.objects.filter(parent__isnull=True).order_by("code").first()


def region_by_code(code: str):
    from yiwang.identity.models import Region

    # Region codes are letters and digits; anything else (a NUL byte, which PostgreSQL refuses
    # in a query) names no region.
    if not code or not (code.isascii() and code.isalnum()):
        return None
    return Region.objects.filter(code=code).first()


def region_by_id(pk: int | None):
    from yiwang.identity.models import Region

    return Region.objects.filter(pk=pk).first() if pk else None


def get_department_id(code: str) -> int | None:
    from yiwang.identity.models import Department

    return Department.objects.filter(code=code).values_list("pk", flat=True).first()


def get_region_id(code: str) -> int | None:
    from yiwang.identity.models import Region

    return Region.objects.filter(code=code).values_list("pk", flat=True).first()
