"""Reads of the open data portal: the dataset search the pages and the CKAN API share, facets,
one dataset, organizations, themes, tags and statistics. Only published (active) datasets are
ever shown."""

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from yiwang.core.errors import ServiceError
from yiwang.identity.models import Department
from yiwang.opendata.models import Dataset, Distribution, Tag, Theme

MAX_ROWS = 1000
FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")
FACET_LIMIT = 50
SORTS = {
    "score desc": ("-metadata_modified", "name"),  # no relevance score: newest first
    "name asc": ("name",),
    "name desc": ("-name",),
    "title asc": ("title", "name"),
    "title desc": ("-title", "name"),
    "metadata_modified desc": ("-metadata_modified", "name"),
    "metadata_modified asc": ("metadata_modified", "name"),
    "metadata_created desc": ("-metadata_created", "name"),
    "metadata_created asc": ("metadata_created", "name"),
    "views_recent desc": ("-view_count", "name"),
    "downloads desc": ("-download_count", "name"),
}
FQ_TERM = re.compile(r'(?P<field>[a-z_]+):(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))')


class SearchError(ServiceError):
    """A search the portal cannot run (CKAN answers 409 Validation Error; pages show it)."""

    status = 409


@dataclass
class SearchQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet field → values (AND)
    sort: str = "score desc"
    rows: int = 10
    start: int = 0
    facet_fields: tuple[str, ...] = ()


@dataclass
class SearchResult:
    count: int
    datasets: list[Dataset]
    facets: dict[str, list[tuple[str, str, int]]]  # field → (name, display name, count)
    sort: str


def active() -> QuerySet[Dataset]:
    return Dataset.objects.filter(state=Dataset.State.ACTIVE)


def parse_fq(fq: str) -> dict[str, list[str]]:
    """CKAN's ``fq`` filter (``organization:610000-tjj tags:"公交" res_format:CSV``) as facet
    filters; anything else is refused, naming it."""
    fq = (fq or "").strip()
    filters: dict[str, list[str]] = {}
    rest = fq
    for m in FQ_TERM.finditer(fq):
        name = m["field"]
        if name not in FACET_FIELDS and name not in ("name", "access"):
            raise SearchError(_("fq cannot filter on “%(field)s”.") % {"field": name}, {"fq": name})
        filters.setdefault(name, []).append(m["quoted"] if m["quoted"] is not None else m["bare"])
        rest = rest.replace(m[0], " ", 1)
    rest = rest.replace("+", " ").replace("AND", " ").strip()
    if rest:
        raise SearchError(
            _("fq must be terms like field:value; “%(rest)s” is not one.") % {"rest": rest[:50]},
            {"fq": rest[:50]},
        )
    return filters


def _has(model, **lookups) -> Exists:
    """Whether the dataset has a related row matching ``lookups`` (a subquery: no join, so no
    duplicate rows and no DISTINCT)."""
    return Exists(model.objects.filter(dataset_id=OuterRef("pk"), **lookups))


def _filtered(query: SearchQuery) -> QuerySet[Dataset]:
    qs = active()
    text = (query.q or "").strip()
    if text and text != "*:*":
        if len(text) > 200:
            raise SearchError(_("The search text is longer than 200 characters."), {"q": _("Too long.")})
        for word in text.split()[:8]:
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(notes__icontains=word)
                | Q(name__icontains=word)
                | _has(Dataset.tags.through, tag__name=word)
                | Q(organization__name__icontains=word)
            )
    for name, values in query.filters.items():
        for value in values:
            if name == "organization":
                qs = qs.filter(organization__code__iexact=value)
            elif name == "groups":
                qs = qs.filter(_has(Dataset.themes.through, theme__name=value))
            elif name == "tags":
                qs = qs.filter(_has(Dataset.tags.through, tag__name=value))
            elif name == "res_format":
                qs = qs.filter(_has(Distribution, format__iexact=value))
            elif name == "license_id":
                qs = qs.filter(license_id=value)
            elif name == "name":
                qs = qs.filter(name=value)
            elif name == "access":
                qs = qs.filter(access=value)
            else:
                raise SearchError(_("Unknown filter “%(field)s”.") % {"field": name}, {"fq": name})
    return qs


def _facet_parts() -> dict[str, str]:
    """Per facet field, the grouped SELECT of (field, value, display name, count) over the
    matching datasets ``m``, from the models' metadata. Counts are of datasets, as CKAN's."""
    q = connection.ops.quote_name
    dataset, department = Dataset._meta, Department._meta
    themes, tags = Dataset.themes.through._meta, Dataset.tags.through._meta
    d_id, org = q(dataset.pk.column), q(dataset.get_field("organization").column)
    licence = q(dataset.get_field("license_id").column)
    dist = Distribution._meta
    dist_dataset, dist_format = q(dist.get_field("dataset").column), q(dist.get_field("format").column)

    def link(opts, target_model, value: str, display: str, label: str) -> str:
        target = target_model._meta
        to_dataset = q(opts.get_field("dataset").column)
        to_target = q(opts.get_field(target.model_name).column)
        v, t = q(target.get_field(value).column), q(target.get_field(display).column)
        return (
            f"SELECT '{label}', t.{v}, t.{t}, COUNT(*) FROM {q(opts.db_table)} x "  # noqa: S608 — model metadata only
            f"JOIN {q(target.db_table)} t ON t.{q(target.pk.column)} = x.{to_target} "
            f"WHERE x.{to_dataset} IN (SELECT id FROM m) GROUP BY t.{v}, t.{t}"
        )

    code, name = q(department.get_field("code").column), q(department.get_field("name").column)
    return {
        "organization": (
            f"SELECT 'organization', o.{code}, o.{name}, COUNT(*) FROM {q(dataset.db_table)} d "  # noqa: S608
            f"JOIN {q(department.db_table)} o ON o.{q(department.pk.column)} = d.{org} "
            f"WHERE d.{d_id} IN (SELECT id FROM m) GROUP BY o.{code}, o.{name}"
        ),
        "groups": link(themes, Theme, "name", "title", "groups"),
        "tags": link(tags, Tag, "name", "name", "tags"),
        "res_format": (
            f"SELECT 'res_format', x.{dist_format}, x.{dist_format}, COUNT(DISTINCT x.{dist_dataset}) "  # noqa: S608
            f"FROM {q(dist.db_table)} x WHERE x.{dist_dataset} IN (SELECT id FROM m) GROUP BY x.{dist_format}"
        ),
        "license_id": (
            f"SELECT 'license_id', d.{licence}, d.{licence}, COUNT(*) FROM {q(dataset.db_table)} d "  # noqa: S608
            f"WHERE d.{d_id} IN (SELECT id FROM m) GROUP BY d.{licence}"
        ),
    }


def _count_and_facets(matching: QuerySet, names) -> tuple[int, dict[str, list[tuple[str, str, int]]]]:
    """How many datasets match and the asked facets over them, as one statement: the matching
    ids are found once (a materialised WITH) and every facet is a grouped count over them."""
    inner, params = matching.order_by().values("pk").query.get_compiler(using=matching.db).as_sql()
    parts = _facet_parts()
    selects = ["SELECT '', '', '', COUNT(*) FROM m"] + [parts[n] for n in dict.fromkeys(names)]
    sql = f"WITH m(id) AS MATERIALIZED ({inner}) " + " UNION ALL ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    count = 0
    grouped: dict[str, list[tuple[str, str, int]]] = {n: [] for n in names}
    for label, value, display, n in rows:
        if label == "":
            count = int(n)
            continue
        # organizations are named by their code in lowercase, as CKAN names them (and fq takes them)
        grouped[label].append(
            (str(value).lower() if label == "organization" else str(value), str(display), int(n))
        )
    facets = {
        name: sorted(items, key=lambda r: (-r[2], r[0]))[:FACET_LIMIT] for name, items in grouped.items()
    }
    return count, facets


def search(query: SearchQuery) -> SearchResult:
    """Datasets matching ``query`` (words in title, description, name, tags or organization; the
    facet filters ANDed), one page in ``sort`` order, with the counts of the asked facets."""
    if query.sort not in SORTS:
        raise SearchError(
            _("sort must be one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)}, {"sort": query.sort[:50]}
        )
    if not 0 <= query.rows <= MAX_ROWS:
        raise SearchError(_("rows must be between 0 and %(n)d.") % {"n": MAX_ROWS}, {"rows": str(query.rows)})
    if query.start < 0:
        raise SearchError(_("start must be 0 or more."), {"start": str(query.start)})
    for name in query.facet_fields:
        if name not in FACET_FIELDS:
            raise SearchError(
                _("facet.field must be among: %(fields)s.") % {"fields": ", ".join(FACET_FIELDS)},
                {"facet.field": name},
            )
    qs = _filtered(query)
    if query.facet_fields:
        count, facets = _count_and_facets(qs, query.facet_fields)
    else:
        count, facets = qs.count(), {}
    page_ids = list(
        qs.order_by(*SORTS[query.sort]).values_list("pk", flat=True)[query.start : query.start + query.rows]
    )
    by_id = {
        d.pk: d
        for d in Dataset.objects.filter(pk__in=page_ids)
        .select_related("organization", "resource")
        .prefetch_related("themes", "tags", "distributions")
    }
    return SearchResult(count=count, datasets=[by_id[i] for i in page_ids], facets=facets, sort=query.sort)


def dataset_by_name_or_id(value: str) -> Dataset | None:
    """An active dataset by its name or id (CKAN accepts either), with what pages show."""
    value = (value or "").strip()
    qs = (
        active()
        .select_related("organization", "resource")
        .prefetch_related("themes", "tags", "distributions")
    )
    found = qs.filter(name=value).first()
    if found is None and re.fullmatch(r"[0-9a-fA-F-]{32,36}", value):
        try:
            found = qs.filter(pk=value).first()
        except Exception:  # noqa: BLE001 — a malformed UUID is simply no dataset
            found = None
    return found


def distribution_by_id(value: str) -> Distribution | None:
    value = (value or "").strip()
    if not re.fullmatch(r"[0-9a-fA-F-]{32,36}", value):
        return None
    try:
        return (
            Distribution.objects.select_related("dataset__organization", "dataset__resource")
            .filter(pk=value, dataset__state=Dataset.State.ACTIVE)
            .first()
        )
    except Exception:  # noqa: BLE001 — a malformed UUID is simply no resource
        return None


def organizations() -> QuerySet[Department]:
    """Departments with at least one active dataset, with their counts."""
    return (
        Department.objects.filter(open_datasets__state=Dataset.State.ACTIVE)
        .annotate(package_count=Count("open_datasets"))
        .order_by("code")
    )


def organization_by_code(code: str) -> Department | None:
    return organizations().filter(code__iexact=(code or "").strip()).first()


def themes() -> QuerySet[Theme]:
    return Theme.objects.annotate(
        package_count=Count("datasets", filter=Q(datasets__state=Dataset.State.ACTIVE))
    ).order_by("position", "name")


def theme_by_name(name: str) -> Theme | None:
    return themes().filter(name=(name or "").strip()).first()


def tags(query: str = "") -> QuerySet[Tag]:
    qs = (
        Tag.objects.filter(datasets__state=Dataset.State.ACTIVE)
        .annotate(n=Count("datasets"))
        .order_by("name")
    )
    if query:
        qs = qs.filter(name__icontains=query)
    return qs


def statistics() -> dict:
    """Totals of the portal: datasets (all, open, on conditions), organizations, rows, views,
    downloads, and the most downloaded datasets."""
    qs = active()
    totals = qs.aggregate(
        views=Sum("view_count"), downloads=Sum("download_count"), rows=Sum("resource__row_count")
    )
    return {
        "datasets": qs.count(),
        "open": qs.filter(access="unconditional").count(),
        "conditional": qs.filter(access="conditional").count(),
        "organizations": qs.values("organization").distinct().count(),
        "themes": Theme.objects.count(),
        "rows": totals["rows"] or 0,
        "views": totals["views"] or 0,
        "downloads": totals["downloads"] or 0,
        "top": list(qs.select_related("organization").order_by("-download_count", "name")[:10]),
        "by_theme": list(themes()),
    }
