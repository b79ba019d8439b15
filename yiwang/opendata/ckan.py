"""The CKAN Action API v3 (``/api/3/action/<name>`` and ``/api/action/<name>``), read-only.

Answers in CKAN's envelope: ``{"help": ..., "success": true, "result": ...}``, or on a refusal
``{"help": ..., "success": false, "error": {"__type": ..., "message": ...}}`` with CKAN's types and
statuses: "Not Found Error" 404, "Validation Error" 409 (with the field named), "Authorization
Error" 403, "Bad request" 400 (an unknown action). Parameters come as the query string (GET) or
a JSON object or form (POST). Datasets open on conditions are listed to everyone, but their rows
(``datastore_search``) only to the holder of an API key (``Authorization`` or ``X-CKAN-API-Key``
header) whose application was approved.
"""

import json
from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.exchange import rowquery
from yiwang.exchange.errors import ExchangeError
from yiwang.opendata import selectors, services, tables
from yiwang.opendata.models import LICENCES, Dataset, Distribution

API_VERSION = 3
MAX_BODY_KEYS = 50
# datastore_search counts matching rows exactly up to this many, and estimates past it (CKAN's
# total_estimation_threshold; a caller may ask for another, or for an exact count)
TOTAL_ESTIMATION_THRESHOLD = 10_000


class ActionError(Exception):
    statuses = {
        "Not Found Error": 404,
        "Validation Error": 409,
        "Authorization Error": 403,
        "Bad request": 400,
    }

    def __init__(self, kind: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.kind, self.message, self.fields = kind, message, fields or {}

    @property
    def status(self) -> int:
        return self.statuses[self.kind]

    def body(self) -> dict:
        error = {"__type": self.kind, "message": self.message}
        error.update({k: [v] for k, v in self.fields.items()})
        return error


def not_found(message: str) -> ActionError:
    return ActionError("Not Found Error", message)


def invalid(field: str, message: str) -> ActionError:
    return ActionError("Validation Error", message, {field: message})


# --- parameters ----------------------------------------------------------------------------------


def _int(params: dict, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid(name, _("%(name)s must be a whole number.") % {"name": name}) from None
    if not low <= value <= high:
        raise invalid(
            name,
            _("%(name)s must be between %(low)d and %(high)d.") % {"name": name, "low": low, "high": high},
        )
    return value


def _bool(params: dict, name: str, default: bool) -> bool:
    raw = params.get(name, default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise invalid(name, _("%(name)s must be true or false.") % {"name": name})


def _text(params: dict, name: str, *, required: bool = False, limit: int = 200) -> str:
    raw = params.get(name, "")
    if isinstance(raw, (dict, list)):
        raise invalid(name, _("%(name)s must be text.") % {"name": name})
    text = str(raw if raw is not None else "").strip()
    if required and not text:
        raise invalid(name, _("Missing value: %(name)s.") % {"name": name})
    if len(text) > limit:
        raise invalid(name, _("%(name)s is longer than %(n)d characters.") % {"name": name, "n": limit})
    return text


def _json_param(params: dict, name: str, kind: type):
    raw = params.get(name)
    if raw in (None, ""):
        return kind()
    if isinstance(raw, str) and kind is not str:
        try:
            raw = json.loads(raw)
        except ValueError:
            if kind is list:  # CKAN also takes "a,b"
                raw = [p.strip() for p in raw.split(",") if p.strip()]
            else:
                raise invalid(name, _("%(name)s must be a JSON object.") % {"name": name}) from None
    if not isinstance(raw, kind):
        raise invalid(name, _("%(name)s has the wrong type.") % {"name": name})
    return raw


# --- dictionaries in CKAN's shapes ---------------------------------------------------------------


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


def _iso(value) -> str:
    return value.replace(tzinfo=None).isoformat() if value else None


def organization_dict(department, count: int | None = None) -> dict:
    return {
        "id": department.code.lower(),
        "name": department.code.lower(),
        "title": department.name,
        "display_name": department.name,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        **({"package_count": count} if count is not None else {}),
    }


def group_dict(theme, count: int | None = None) -> dict:
    return {
        "id": theme.name,
        "name": theme.name,
        "title": theme.title,
        "display_name": theme.title,
        "description": theme.description,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        **({"package_count": count} if count is not None else {}),
    }


def resource_dict(request, distribution: Distribution, dataset: Dataset | None = None) -> dict:
    dataset = dataset or distribution.dataset
    return {
        "id": str(distribution.id),
        "package_id": str(dataset.id),
        "name": f"{dataset.title} ({distribution.format})",
        "description": "",
        "format": distribution.format,
        "mimetype": {"CSV": "text/csv", "JSON": "application/json"}.get(
            distribution.format, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
        "url": _absolute(
            request,
            reverse("opendata:download", kwargs={"code": dataset.name, "kind": distribution.format.lower()}),
        ),
        "url_type": "",
        "datastore_active": True,
        "position": distribution.position,
        "created": _iso(distribution.created),
        "last_modified": _iso(dataset.resource.loaded_at),
        "state": "active",
        "downloads": distribution.download_count,
    }


def package_dict(request, dataset: Dataset) -> dict:
    licence_title, licence_url = LICENCES.get(dataset.license_id, (dataset.license_id, ""))
    distributions = list(dataset.distributions.all())
    tags = list(dataset.tags.all())
    return {
        "id": str(dataset.id),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": "active",
        "private": False,
        "license_id": dataset.license_id,
        "license_title": licence_title,
        "license_url": licence_url,
        "metadata_created": _iso(dataset.metadata_created),
        "metadata_modified": _iso(dataset.metadata_modified),
        "owner_org": dataset.organization.code.lower(),
        "organization": organization_dict(dataset.organization),
        "groups": [group_dict(t) for t in dataset.themes.all()],
        "tags": [{"name": t.name, "display_name": t.name, "state": "active"} for t in tags],
        "num_tags": len(tags),
        "resources": [resource_dict(request, d, dataset) for d in distributions],
        "num_resources": len(distributions),
        "url": _absolute(request, reverse("opendata:dataset", kwargs={"code": dataset.name})),
        "extras": [
            {"key": "access", "value": dataset.access},
            {"key": "conditions", "value": dataset.conditions},
            {"key": "resource_code", "value": dataset.resource.code},
            {"key": "frequency", "value": dataset.frequency},
            {"key": "rows", "value": str(dataset.resource.row_count)},
        ],
    }


# --- actions -------------------------------------------------------------------------------------


def status_show(request, params):
    """The portal's name, address and API version."""
    return {
        "site_title": "一网 · 公共数据开放平台",
        "site_url": _absolute(request, "/data/"),
        "site_description": _("Open data of the province's departments"),
        "ckan_version": "2.10.0",
        "api_version": API_VERSION,
        "locale_default": "zh_Hans",
        "extensions": ["datastore", "dcat"],
        "software": "yiwang",
    }


def package_list(request, params):
    """The names of every published dataset (limit, offset)."""
    limit = _int(params, "limit", selectors.MAX_ROWS, 0, selectors.MAX_ROWS)
    offset = _int(params, "offset", 0, 0, 10**7)
    names = selectors.active().order_by("name").values_list("name", flat=True)
    return list(names[offset : offset + limit])


def package_search(request, params):
    """Search datasets: q (words), fq (organization:, groups:, tags:, res_format:, license_id:,
    access:), rows, start, sort, facet.field, facet.limit."""
    facet_fields = _json_param(params, "facet.field", list)
    if not _bool(params, "facet", True):
        facet_fields = []
    query = selectors.SearchQuery(
        q=_text(params, "q"),
        filters=_fq(params),
        sort=_text(params, "sort") or "score desc",
        rows=_int(params, "rows", 10, 0, selectors.MAX_ROWS),
        start=_int(params, "start", 0, 0, 10**7),
        facet_fields=tuple(str(f) for f in facet_fields),
    )
    found = _search(query)
    limit = _int(params, "facet.limit", selectors.FACET_LIMIT, -1, selectors.FACET_LIMIT)
    limit = selectors.FACET_LIMIT if limit < 0 else limit
    facets = {name: {value: n for value, _d, n in items[:limit]} for name, items in found.facets.items()}
    search_facets = {
        name: {
            "title": name,
            "items": [{"name": v, "display_name": d, "count": n} for v, d, n in items[:limit]],
        }
        for name, items in found.facets.items()
    }
    return {
        "count": found.count,
        "sort": found.sort,
        "results": [package_dict(request, d) for d in found.datasets],
        "facets": facets,
        "search_facets": search_facets,
    }


def _fq(params) -> dict:
    try:
        return selectors.parse_fq(_text(params, "fq", limit=1000))
    except selectors.SearchError as exc:
        raise invalid("fq", exc.message) from None


def _search(query):
    try:
        return selectors.search(query)
    except selectors.SearchError as exc:
        field = next(iter(exc.errors), "q")
        raise invalid(field, exc.message) from None


def package_show(request, params):
    """One dataset by its id or name, with its organization, groups, tags and resources."""
    ident = _text(params, "id") or _text(params, "name")
    if not ident:
        raise invalid("id", _("Missing value: %(name)s.") % {"name": "id"})
    dataset = selectors.dataset_by_name_or_id(ident)
    if dataset is None:
        raise not_found(_("Dataset not found"))
    return package_dict(request, dataset)


def organization_list(request, params):
    """The organizations (provider departments) with published datasets (all_fields)."""
    orgs = selectors.organizations()
    if _bool(params, "all_fields", False):
        return [organization_dict(o, o.package_count) for o in orgs]
    return [o.code.lower() for o in orgs]


def _datasets_of(request, params, qs):
    if not _bool(params, "include_datasets", False):
        return {}
    return {"packages": [package_dict(request, d) for d in qs[: selectors.MAX_ROWS]]}


def organization_show(request, params):
    """One organization by its name (include_datasets)."""
    org = selectors.organization_by_code(_text(params, "id", required=True))
    if org is None:
        raise not_found(_("Organization not found"))
    datasets = selectors.active().filter(organization=org).order_by("name")
    return {**organization_dict(org, org.package_count), **_datasets_of(request, params, datasets)}


def group_list(request, params):
    """The portal's themes (all_fields)."""
    groups = selectors.themes()
    if _bool(params, "all_fields", False):
        return [group_dict(g, g.package_count) for g in groups]
    return [g.name for g in groups]


def group_show(request, params):
    """One theme by its name (include_datasets)."""
    theme = selectors.theme_by_name(_text(params, "id", required=True))
    if theme is None:
        raise not_found(_("Group not found"))
    datasets = selectors.active().filter(themes=theme).order_by("name")
    return {**group_dict(theme, theme.package_count), **_datasets_of(request, params, datasets)}


def tag_list(request, params):
    """The tags of published datasets (query, all_fields)."""
    query = _text(params, "query", limit=64)
    tags = selectors.tags(query)
    if _bool(params, "all_fields", False):
        return [{"name": t.name, "display_name": t.name, "id": t.name, "count": t.n} for t in tags]
    return [t.name for t in tags]


def resource_show(request, params):
    """One resource (download) by its id."""
    distribution = selectors.distribution_by_id(_text(params, "id", required=True))
    if distribution is None:
        raise not_found(_("Resource was not found."))
    return resource_dict(request, distribution)


def _sort(params) -> list[tuple[str, bool]]:
    text = _text(params, "sort", limit=500)
    out = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise invalid("sort", _("sort is “field” or “field desc”, separated by commas."))
        out.append((words[0].strip('"'), len(words) == 2 and words[1].lower() == "desc"))
    return out


def datastore_search(request, params):
    """Rows of a resource: resource_id, q, filters (JSON object), fields, sort, limit, offset,
    include_total, total_estimation_threshold. Datasets open on conditions need the key of an
    approved application."""
    distribution = selectors.distribution_by_id(_text(params, "resource_id", required=True))
    if distribution is None:
        raise not_found(_("Resource “%(id)s” was not found.") % {"id": _text(params, "resource_id")[:40]})
    dataset = distribution.dataset
    key = services.api_key_for(
        request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key") or ""
    )
    if not services.key_may_read(key, dataset):
        raise ActionError(
            "Authorization Error",
            _(
                "This dataset is open on conditions: send the API key of an approved application "
                "(Authorization header)."
            ),
        )
    filters = _json_param(params, "filters", dict)
    wanted = [str(f) for f in _json_param(params, "fields", list)]
    query = rowquery.RowQuery(
        filters=filters,
        q=_text(params, "q"),
        sort=_sort(params),
        limit=_int(params, "limit", rowquery.DEFAULT_LIMIT, 0, rowquery.MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, rowquery.MAX_OFFSET),
    )
    try:
        fields = tables.open_fields(dataset)
        names = [f.name for f in fields]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise invalid("fields", _("No such fields: %(names)s.") % {"names": ", ".join(unknown)[:200]})
        include_total = _bool(params, "include_total", True)
        found = tables.page(
            dataset, query, fields, count=include_total, estimate_above=_estimation_threshold(params)
        )
    except rowquery.QueryError as exc:
        raise invalid("filters" if filters else "q", exc.message) from None
    except ExchangeError as exc:
        raise ActionError("Authorization Error", exc.message) from None
    shown = [f for f in fields if not wanted or f.name in wanted]
    base = reverse("opendata:ckan_action", kwargs={"action": "datastore_search"})
    records = [
        {"_id": query.offset + i + 1, **{f.name: row.get(f.name) for f in shown}}
        for i, row in enumerate(found.rows)
    ]
    result = {
        "resource_id": str(distribution.id),
        "fields": [{"id": "_id", "type": "int"}]
        + [
            {"id": f.name, "type": tables.CKAN_TYPES.get(f.type, "text"), "info": {"label": f.label_zh}}
            for f in shown
        ],
        "records": records,
        "total": found.total,
        "total_was_estimated": found.total_was_estimated,
        "limit": found.limit,
        "offset": found.offset,
        "_links": {
            "start": f"{base}?resource_id={distribution.id}",
            "next": f"{base}?resource_id={distribution.id}&offset={found.offset + found.limit}",
        },
    }
    if not include_total:  # as CKAN: no total asked, none given
        del result["total"], result["total_was_estimated"]
    return result


def _estimation_threshold(params) -> int | None:
    """CKAN's ``total_estimation_threshold``: count exactly up to that many matching rows and
    estimate past it (``total_was_estimated``); empty or null: always exact. Not given: the
    portal's default, ``TOTAL_ESTIMATION_THRESHOLD``."""
    if "total_estimation_threshold" not in params:
        return TOTAL_ESTIMATION_THRESHOLD
    raw = params["total_estimation_threshold"]
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "null", "none")):
        return None
    return _int(params, "total_estimation_threshold", TOTAL_ESTIMATION_THRESHOLD, 0, 10**9)


ACTIONS: dict[str, Callable] = {
    f.__name__: f
    for f in (
        status_show,
        package_list,
        package_search,
        package_show,
        organization_list,
        organization_show,
        group_list,
        group_show,
        tag_list,
        resource_show,
        datastore_search,
    )
}


def help_show(request, params):
    """What an action does (its documentation)."""
    name = _text(params, "name", required=True, limit=64)
    if name not in ACTIONS:
        raise not_found(_("Action name not known: %(name)s") % {"name": name})
    return (ACTIONS[name].__doc__ or name).strip()


ACTIONS["help_show"] = help_show


def run(request, action: str, params: dict) -> tuple[int, dict]:
    """Run ``action`` with ``params``: (status, CKAN envelope)."""
    base = reverse("opendata:ckan_action", kwargs={"action": "help_show"})
    help_ = _absolute(request, f"{base}?name={action}") if action in ACTIONS else ""
    handler = ACTIONS.get(action)
    try:
        if handler is None:
            raise ActionError("Bad request", _("Action name not known: %(name)s") % {"name": action[:64]})
        if len(params) > MAX_BODY_KEYS:
            raise invalid("request", _("Too many parameters."))
        result = handler(request, params)
    except ActionError as exc:
        return exc.status, {"help": help_, "success": False, "error": exc.body()}
    return 200, {"help": help_, "success": True, "result": result}
