"""Import and export of the catalog as JSON or CSV.

JSON: ``{"format": "yiwang-catalog", "version": 1, "items": [...], "bundles": [...]}`` with
every element of each item and its materials nested. CSV: one item per row, list-valued
elements (process_steps, channels, themes, materials) as JSON in their column; bundles go to
a CSV of their own (recognised by its header). See docs/catalog.md for an example.

Import checks every row first and reports each bad one with its line and the reason; only a
file without errors is saved, in one transaction, and the saved items are re-indexed for search.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalog import search
from yiwang.catalog.models import BundleItem, LifeEvent, Material, ServiceItem, Theme
from yiwang.catalog.services import ELEMENT_FIELDS, bundle_search_text
from yiwang.core.validation import INTEGER_RANGES

MAX_FILE_BYTES = 32 * 1024 * 1024  # a full export of a province (~16 MB) must re-import
MAX_JSON_DEPTH = 32  # an export nests 4 deep (file → items → item → materials); json recurses
FORMAT = "yiwang-catalog"

# The file's columns: identity and placement first, then every standard element, then links.
ITEM_FIELDS = [
    "code",
    *ELEMENT_FIELDS,
    "department",
    "region",
    "level",
    "basic_item",
    "status",
    "version",
    "popularity",
    "themes",
    "materials",
]
MATERIAL_FIELDS = [
    "name",
    "source",
    "form",
    "copies",
    "required",
    "licence_replaceable",
    "licence_type",
    "notes",
]
BUNDLE_FIELDS = [
    "code",
    "name",
    "summary",
    "description",
    "audience",
    "keywords",
    "popularity",
    "themes",
    "items",
]
# The item's own columns, checked by the model (ServiceItem.clean_fields and clean).
ITEM_SCALARS = [
    "code",
    *ELEMENT_FIELDS,
    "level",
    "status",
    "version",
    "popularity",
]
JSON_COLUMNS = {"process_steps", "channels", "themes", "materials", "items"}
TRUE = {"true", "1", "yes", "y", "是", "t"}
FALSE = {"false", "0", "no", "n", "否", "f", ""}
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class RowError:
    line: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = _("line %(line)s") % {"line": self.line} if self.line else _("file")
        return f"{where}{' · ' + self.field if self.field else ''}: {self.message}"


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    items_created: int = 0
    items_updated: int = 0
    bundles_saved: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


# --- export --------------------------------------------------------------------------------
def item_record(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "department": item.department.code,
        "region": item.region.code,
        "level": item.level,
        "basic_item": item.basic_item.code if item.basic_item_id else None,
        "status": item.status,
        "version": item.version,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "process_steps": item.process_steps,
        "statutory_limit_days": item.statutory_limit_days,
        "promised_limit_days": item.promised_limit_days,
        "fee_description": item.fee_description,
        "is_free": item.is_free,
        "visits_needed": item.visits_needed,
        "online_depth": item.online_depth,
        "channels": item.channels,
        "consult_phone": item.consult_phone,
        "complaint_phone": item.complaint_phone,
        "service_object": item.service_object,
        "realname_level": item.realname_level,
        "address": item.address,
        "hours": item.hours,
        "aliases": item.aliases,
        "description": item.description,
        "popularity": item.popularity,
        "themes": [t.code for t in item.themes.all()],
        "materials": [{f: getattr(m, f) for f in MATERIAL_FIELDS} for m in item.materials.all()],
    }


def bundle_record(bundle: LifeEvent) -> dict[str, Any]:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "summary": bundle.summary,
        "description": bundle.description,
        "audience": bundle.audience,
        "keywords": bundle.keywords,
        "popularity": bundle.popularity,
        "themes": [t.code for t in bundle.themes.all()],
        "items": [e.item.code for e in bundle.entries.all()],
    }


def _items_queryset():
    # Basic items first, so a file imports in order.
    return (
        ServiceItem.objects.select_related("department", "region", "basic_item")
        .prefetch_related("themes", "materials")
        .order_by("basic_item_id", "code")
    )


def _bundles_queryset():
    return LifeEvent.objects.prefetch_related("themes", "entries__item").order_by("code")


def iter_item_records(chunk: int = 2000):
    qs = _items_queryset()
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        # Keep the basic-first order inside each chunk as well.
        by_id = qs.in_bulk(ids[start : start + chunk])
        for pk in ids[start : start + chunk]:
            yield item_record(by_id[pk])


def export_json(stream) -> int:
    """Write the whole catalog as JSON to a text stream; return the number of items."""
    stream.write(json.dumps({"format": FORMAT, "version": 1})[:-1] + ', "items": [\n')
    n = 0
    for n, record in enumerate(iter_item_records(), start=1):
        stream.write((",\n" if n > 1 else "") + json.dumps(record, ensure_ascii=False))
    stream.write('\n], "bundles": [\n')
    stream.write(",\n".join(json.dumps(bundle_record(b), ensure_ascii=False) for b in _bundles_queryset()))
    stream.write("\n]}\n")
    return n


def _csv_value(key: str, value: Any) -> str:
    if key in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export_csv(stream, *, what: str = "items") -> int:
    """Write items (or bundles) as CSV to a text stream; return the number of rows."""
    columns, records = (
        (ITEM_FIELDS, iter_item_records())
        if what == "items"
        else (BUNDLE_FIELDS, map(bundle_record, _bundles_queryset()))
    )
    writer = csv.writer(stream)
    writer.writerow(columns)
    rows = 0
    for record in records:
        writer.writerow([_csv_value(c, record.get(c)) for c in columns])
        rows += 1
    return rows


# --- parsing ---------------------------------------------------------------------------------
def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip_ws(text: str, idx: int) -> int:
    while idx < len(text) and text[idx] in " \t\r\n":
        idx += 1
    return idx


# A JSON string (with its escapes) or a bracket: enough to measure nesting without parsing.
_JSON_NESTING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class TooDeep(ValueError):  # noqa: N818 - named for what happened
    """JSON nested deeper than MAX_JSON_DEPTH; ``lineno`` is where it goes too deep."""

    def __init__(self, lineno: int):
        super().__init__(
            _("it is nested more than %(max)d levels deep (line %(line)d).")
            % {"max": MAX_JSON_DEPTH, "line": lineno}
        )
        self.lineno = lineno


def _check_nesting(text: str) -> None:
    """Raise TooDeep before the json module sees text nested deeper than MAX_JSON_DEPTH: it
    parses nesting by recursion, and 100,000 levels end in RecursionError (a 500), not a
    message. One linear pass; strings are skipped whole, so brackets inside them do not count."""
    depth = 0
    for match in _JSON_NESTING_RE.finditer(text):
        bracket = match.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise TooDeep(_line_of(text, match.start()))
        elif bracket in ("]", "}"):
            depth -= 1


def _parse_json(text: str) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]]]:
    """(items, bundles) as [(line, record)], keeping where each record starts in the file."""
    decoder = json.JSONDecoder()
    _check_nesting(text)
    json.loads(text)  # raises a ValueError with the position for any syntax error

    def walk_array(idx: int) -> tuple[list[tuple[int, Any]], int]:
        rows = []
        idx = _skip_ws(text, idx + 1)
        if text[idx] == "]":
            return rows, idx + 1
        while True:
            idx = _skip_ws(text, idx)
            value, end = decoder.raw_decode(text, idx)
            rows.append((_line_of(text, idx), value))
            idx = _skip_ws(text, end)
            if text[idx] == ",":
                idx += 1
                continue
            return rows, idx + 1

    idx = _skip_ws(text, 0)
    if text[idx] == "[":
        items, _end = walk_array(idx)
        return items, []
    if text[idx] != "{":
        raise ValueError(
            _("The file must hold a JSON object with 'items' and 'bundles', or a list of items.")
        )
    items: list = []
    bundles: list = []
    idx = _skip_ws(text, idx + 1)
    while idx < len(text) and text[idx] != "}":
        key, idx = decoder.raw_decode(text, idx)
        idx = _skip_ws(text, idx)
        idx = _skip_ws(text, idx + 1)  # the colon
        if key in ("items", "bundles") and text[idx] == "[":
            rows, idx = walk_array(idx)
            (items if key == "items" else bundles).extend(rows)
        else:
            _value, idx = decoder.raw_decode(text, idx)
        idx = _skip_ws(text, idx)
        if idx < len(text) and text[idx] == ",":
            idx = _skip_ws(text, idx + 1)
    return items, bundles


def _parse_csv(text: str) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]], list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [], [RowError(0, _("The file is empty."))]
    header = [h.strip() for h in header]
    is_bundles = "items" in header and "item_type" not in header
    expected = BUNDLE_FIELDS if is_bundles else ITEM_FIELDS
    missing = [c for c in ("code", "name") if c not in header]
    if missing:
        return [], [], [RowError(1, _("Missing columns: %(columns)s") % {"columns": ", ".join(missing)})]
    unknown = [c for c in header if c not in expected]
    if unknown:
        return [], [], [RowError(1, _("Unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})]
    rows, errors = [], []
    start = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a value over the csv module's field size limit
            errors.append(RowError(reader.line_num, _("This row cannot be read: %(error)s") % {"error": exc}))
            break
        line = start
        start = reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(
                RowError(
                    line, _("Expected %(n)s values, found %(m)s.") % {"n": len(header), "m": len(values)}
                )
            )
            continue
        record: dict[str, Any] = {}
        bad = False
        for key, raw in zip(header, values, strict=True):
            if key in JSON_COLUMNS:
                try:
                    _check_nesting(raw)
                    record[key] = json.loads(raw) if raw.strip() else []
                except TooDeep as exc:
                    message = _("This column's JSON is too deep: %(error)s") % {"error": exc}
                    errors.append(RowError(line, message, key))
                    bad = True
                except ValueError:
                    errors.append(RowError(line, _("This column must hold JSON."), key))
                    bad = True
            else:
                record[key] = raw
        if not bad:
            rows.append((line, record))
    return ([], rows, errors) if is_bundles else (rows, [], errors)


# --- validation ------------------------------------------------------------------------------
class _Row:
    def __init__(self, line: int, errors: list[RowError], prefix: str = ""):
        self.line, self.errors, self.failed, self.prefix = line, errors, False, prefix
        self.reported: set[str] = set()

    def error(self, message: str, field_name: str = "") -> None:
        name = f"{self.prefix}.{field_name}" if self.prefix and field_name else (self.prefix or field_name)
        self.errors.append(RowError(self.line, str(message), name))
        self.reported.add(field_name)
        self.failed = True

    def check(self, instance, *, exclude: list[str], field_of_rules: str = "") -> None:
        """The model's own checks on the row (its fields' lengths, ranges and choices, on every
        database the same, then its ``clean`` rules): the same rules as the admin and the
        services. Fields this row already reported are not reported twice."""
        try:
            instance.clean_fields(exclude=[*exclude, *self.reported])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.error(message, name)
        if self.failed:
            return
        try:
            instance.clean()
        except ValidationError as exc:
            for name, messages in exc.update_error_dict({}).items():
                for message in ValidationError(messages).messages:
                    self.error(message, field_of_rules if name == NON_FIELD_ERRORS else name)


def _as_int(row: _Row, record: dict, key: str, default: int) -> int:
    value = record.get(key, default)
    if value in ("", None):
        return default
    if isinstance(value, bool):
        row.error(_("Enter a whole number."), key)
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        row.error(_("Enter a whole number."), key)
        return default
    return number


def _as_bool(row: _Row, record: dict, key: str, default: bool) -> bool:
    value = record.get(key, default)
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False if text else default
    row.error(_("Enter true or false."), key)
    return default


def _as_text(row: _Row, record: dict, key: str, *, required: bool = False) -> str:
    value = record.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        row.error(_("Enter text."), key)
        return ""
    value = str(value).strip()
    if required and not value:
        row.error(_("This field is required."), key)
    return value


def _as_choice(row: _Row, record: dict, key: str, default: str | None = None) -> str:
    """The value of a choice column (checked against the model's choices by ``_Row.check``)."""
    return _as_text(row, record, key, required=default is None) or (default or "")


def _as_list(row: _Row, record: dict, key: str) -> list:
    value = record.get(key) or []
    if not isinstance(value, list):
        row.error(_("Enter a list."), key)
        return []
    return value


def _steps(row: _Row, record: dict) -> list[dict]:
    steps = []
    for step in _as_list(row, record, "process_steps"):
        if isinstance(step, str) and step.strip():
            steps.append({"name": step.strip(), "description": ""})
        elif isinstance(step, dict) and str(step.get("name", "")).strip():
            steps.append({"name": str(step["name"]).strip(), "description": str(step.get("description", ""))})
        else:
            row.error(_("Each step needs a name."), "process_steps")
    return steps


def _materials(row: _Row, record: dict) -> list[dict]:
    materials = []
    for n, raw in enumerate(_as_list(row, record, "materials"), start=1):
        where = f"materials[{n}]"
        if not isinstance(raw, dict):
            row.error(_("Each material must be an object."), where)
            continue
        sub = _Row(row.line, row.errors, prefix=where)
        material = {
            "name": _as_text(sub, raw, "name", required=True),
            "source": _as_choice(sub, raw, "source", Material.Source.APPLICANT),
            "form": _as_choice(sub, raw, "form", Material.Form.ORIGINAL),
            "copies": _as_int(sub, raw, "copies", 1),
            "required": _as_bool(sub, raw, "required", True),
            "licence_replaceable": _as_bool(sub, raw, "licence_replaceable", False),
            "licence_type": _as_text(sub, raw, "licence_type"),
            "notes": _as_text(sub, raw, "notes"),
            "order": n,
        }
        sub.check(Material(**material), exclude=["item"])
        row.failed = row.failed or sub.failed
        materials.append(material)
    return materials


def _validate_items(rows, result: ImportResult, refs: dict) -> list[tuple[int, dict]]:
    departments, regions, themes, existing, statuses = (
        refs["departments"],
        refs["regions"],
        refs["themes"],
        refs["items"],
        refs["statuses"],
    )
    file_codes: dict[str, int] = {}
    basic_codes = {r.get("code") for _l, r in rows if isinstance(r, dict) and not r.get("basic_item")}
    valid = []
    for line, record in rows:
        row = _Row(line, result.errors)
        if not isinstance(record, dict):
            row.error(_("Each item must be an object."))
            continue
        code = _as_text(row, record, "code", required=True)
        if code and not CODE_RE.match(code):
            row.error(_("Use letters, digits, dot, dash or underscore only."), "code")
        if code in file_codes:
            row.error(_("Duplicate code: already on line %(line)s.") % {"line": file_codes[code]}, "code")
        elif code:
            file_codes[code] = line
        department_code = _as_text(row, record, "department", required=True)
        department = departments.get(department_code)
        if department_code and department is None:
            row.error(
                _("There is no department with code “%(code)s”.") % {"code": department_code}, "department"
            )
        region_code = _as_text(row, record, "region")
        region_id = department.region_id if department else None
        if region_code:
            region_id = regions.get(region_code)
            if region_id is None:
                row.error(_("There is no region with code “%(code)s”.") % {"code": region_code}, "region")
            elif department and department.region_id != region_id:
                row.error(_("The department does not belong to this region."), "region")
        basic = _as_text(row, record, "basic_item")
        if basic and basic not in existing and basic not in basic_codes:
            row.error(_("There is no basic item with code “%(code)s”.") % {"code": basic}, "basic_item")
        if basic and basic == code:
            row.error(_("An item cannot implement itself."), "basic_item")
        theme_codes = [str(t) for t in _as_list(row, record, "themes")]
        for t in theme_codes:
            if t not in themes:
                row.error(_("There is no theme with code “%(code)s”.") % {"code": t}, "themes")
        data = {
            "code": code,
            "name": _as_text(row, record, "name", required=True),
            "item_type": _as_choice(row, record, "item_type"),
            "department_id": department.pk if department else None,
            "region_id": region_id,
            "level": _as_choice(row, record, "level", ServiceItem.Level.PROVINCE),
            "basic_code": basic or None,
            # Without a status column an existing item keeps its status; a new one is a draft.
            "status": _as_choice(row, record, "status", statuses.get(code, ServiceItem.Status.DRAFT)),
            "version": _as_int(row, record, "version", 1),
            "legal_basis": _as_text(row, record, "legal_basis"),
            "conditions": _as_text(row, record, "conditions"),
            "process_steps": _steps(row, record),
            "statutory_limit_days": _as_int(row, record, "statutory_limit_days", 0),
            "promised_limit_days": _as_int(row, record, "promised_limit_days", 0),
            "fee_description": _as_text(row, record, "fee_description"),
            "is_free": _as_bool(row, record, "is_free", True),
            "visits_needed": _as_int(row, record, "visits_needed", 0),
            "online_depth": _as_int(row, record, "online_depth", 1),
            "channels": [str(c) for c in _as_list(row, record, "channels")],
            "consult_phone": _as_text(row, record, "consult_phone"),
            "complaint_phone": _as_text(row, record, "complaint_phone"),
            "service_object": _as_choice(row, record, "service_object", ServiceItem.ServiceObject.PERSONAL),
            # Files written before items declared a level lack the column: the default (L2) applies.
            "realname_level": _as_int(row, record, "realname_level", 2),
            "address": _as_text(row, record, "address"),
            "hours": _as_text(row, record, "hours"),
            "aliases": _as_text(row, record, "aliases"),
            "description": _as_text(row, record, "description"),
            "popularity": _as_int(row, record, "popularity", 0),
            "themes": theme_codes,
            "materials": _materials(row, record),
        }
        if data["version"] < 1:
            top = INTEGER_RANGES["PositiveIntegerField"][1]
            row.error(_("Enter a number from %(low)s to %(high)s.") % {"low": 1, "high": top}, "version")
        scalars = {f: data[f] for f in ITEM_SCALARS}
        row.check(
            ServiceItem(**scalars),
            exclude=["department", "region", "basic_item", "themes"],
            field_of_rules="status",
        )
        if not row.failed:
            valid.append((line, data))
    return valid


def _validate_bundles(rows, result: ImportResult, refs: dict, item_codes: set[str]) -> list[dict]:
    themes = refs["themes"]
    seen: dict[str, int] = {}
    valid = []
    for line, record in rows:
        row = _Row(line, result.errors)
        if not isinstance(record, dict):
            row.error(_("Each bundle must be an object."))
            continue
        code = _as_text(row, record, "code", required=True)
        if code in seen:
            row.error(_("Duplicate code: already on line %(line)s.") % {"line": seen[code]}, "code")
        elif code:
            seen[code] = line
        items = [str(c) for c in _as_list(row, record, "items")]
        for c in items:
            if c not in item_codes:
                row.error(_("There is no item with code “%(code)s”.") % {"code": c}, "items")
        theme_codes = [str(t) for t in _as_list(row, record, "themes")]
        for t in theme_codes:
            if t not in themes:
                row.error(_("There is no theme with code “%(code)s”.") % {"code": t}, "themes")
        data = {
            "code": code,
            "name": _as_text(row, record, "name", required=True),
            "summary": _as_text(row, record, "summary"),
            "description": _as_text(row, record, "description"),
            "audience": _as_choice(row, record, "audience", LifeEvent.Audience.PERSONAL),
            "keywords": _as_text(row, record, "keywords"),
            "popularity": _as_int(row, record, "popularity", 0),
            "themes": theme_codes,
            "items": items,
        }
        row.check(
            LifeEvent(**{k: v for k, v in data.items() if k not in ("themes", "items")}),
            exclude=["themes", "items"],
        )
        if not row.failed:
            valid.append(data)
    return valid


def decode(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark; raises UnicodeDecodeError otherwise."""
    return data.decode("utf-8-sig")


def import_catalog(*, data: bytes, filename: str, actor, dry_run: bool = False) -> ImportResult:
    """Validate a JSON or CSV catalog file and, if every row is valid, save it in one transaction
    (items upserted by code, materials replaced, bundles replaced) and re-index search.
    Audited as catalog:import:apply. Returns the errors (with lines) or the counts."""
    from yiwang.identity.models import Department, Region

    result = ImportResult()
    if len(data) > MAX_FILE_BYTES:
        result.errors.append(RowError(0, _("The file is larger than 32 MB.")))
        return result
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.errors.append(RowError(line, _("The file is not UTF-8 text.")))
        return result
    if not text.strip():
        result.errors.append(RowError(0, _("The file is empty.")))
        return result
    is_json = filename.lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")
    if is_json:
        try:
            item_rows, bundle_rows = _parse_json(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", 0)
            result.errors.append(RowError(line, _("The file is not valid JSON: %(error)s") % {"error": exc}))
            return result
    else:
        item_rows, bundle_rows, parse_errors = _parse_csv(text)
        result.errors.extend(parse_errors)
    if not item_rows and not bundle_rows and not result.errors:
        result.errors.append(RowError(0, _("The file holds no items and no bundles.")))
        return result

    refs = {
        "departments": {d.code: d for d in Department.objects.only("pk", "code", "region_id")},
        "regions": dict(Region.objects.values_list("code", "pk")),
        "themes": {t.code: t for t in Theme.objects.all()},
        "items": dict(ServiceItem.objects.values_list("code", "pk")),
        "statuses": dict(ServiceItem.objects.values_list("code", "status")),
    }
    items = _validate_items(item_rows, result, refs)
    item_codes = set(refs["items"]) | {d["code"] for _l, d in items}
    bundles = _validate_bundles(bundle_rows, result, refs, item_codes)
    result.errors.sort(key=lambda e: e.line)
    if result.errors or dry_run:
        return result
    try:
        with transaction.atomic():
            _save(items, bundles, refs, result)
            _audit_import(actor, filename, result)
    except MaterialsInUse as exc:
        result.errors.append(RowError(0, str(exc), "materials"))
        result.items_created = result.items_updated = result.bundles_saved = 0
        return result
    search.clear_caches()
    return result


def _audit_import(actor, filename: str, result: ImportResult) -> None:
    audit.record(
        actor=actor,
        event="catalog:import:apply",
        target=None,
        data={
            "file": filename[:200],
            "items_created": result.items_created,
            "items_updated": result.items_updated,
            "bundles": result.bundles_saved,
        },
    )


class MaterialsInUse(Exception):  # noqa: N818 - named for what happened
    """The file leaves out materials that applications have used (their uploads point at them)."""


def _save_materials(to_create: list, to_update: list) -> None:
    """The items' materials as the file lists them. An updated item keeps the material of the
    same name (its id, and the uploads of applications that point at it, stay) and changes it
    in place; the file's other materials are added and the ones it leaves out removed."""
    current: dict[int, dict[str, Material]] = {}
    for material in Material.objects.filter(item__in=[i for i, _d in to_update]).order_by("pk"):
        current.setdefault(material.item_id, {}).setdefault(material.name, material)
    changed, new, kept = [], [], set()
    for item, d in [*to_create, *to_update]:
        mine = current.get(item.pk, {})
        for values in d["materials"]:
            material = mine.get(values["name"])
            if material is None or material.pk in kept:
                new.append(Material(item=item, **values))
                continue
            kept.add(material.pk)
            for key, value in values.items():
                setattr(material, key, value)
            changed.append(material)
    Material.objects.bulk_update(changed, MATERIAL_FIELDS + ["order"], batch_size=2000)
    left_out = Material.objects.filter(item__in=[i for i, _d in to_update]).exclude(pk__in=kept)
    try:
        with transaction.atomic():
            left_out.delete()
    except ProtectedError as exc:
        names = sorted({f"{m.item.code}: {m.name}" for m in left_out.select_related("item")})
        raise MaterialsInUse(
            _("Applications have used these materials, so the file must keep them: %(names)s")
            % {"names": "; ".join(names[:20])}
        ) from exc
    Material.objects.bulk_create(new, batch_size=2000)


def _save(items: list[tuple[int, dict]], bundles: list[dict], refs: dict, result: ImportResult) -> None:
    themes = refs["themes"]
    existing = ServiceItem.objects.in_bulk([d["code"] for _l, d in items], field_name="code")
    scalar = [
        f
        for f in ITEM_FIELDS
        if f not in {"code", "department", "region", "basic_item", "themes", "materials"}
    ]
    # Basic items first so implementation items can point at them.
    ordered = sorted(items, key=lambda row: row[1]["basic_code"] is not None)
    code_to_pk = dict(refs["items"])
    to_create, to_update = [], []
    for _line, d in ordered:
        item = existing.get(d["code"]) or ServiceItem(code=d["code"])
        for f in scalar:
            setattr(item, f, d[f])
        item.department_id, item.region_id = d["department_id"], d["region_id"]
        (to_update if item.pk else to_create).append((item, d))
    # Basic items created first (they may be referenced), then the others.
    for phase in (False, True):
        batch = [(i, d) for i, d in to_create if (d["basic_code"] is not None) == phase]
        for item, d in batch:
            item.basic_item_id = code_to_pk.get(d["basic_code"]) if d["basic_code"] else None
        ServiceItem.objects.bulk_create([i for i, _d in batch], batch_size=500)
        if batch and batch[0][0].pk is None:
            pks = dict(
                ServiceItem.objects.filter(code__in=[i.code for i, _d in batch]).values_list("code", "pk")
            )
            for item, _d in batch:
                item.pk = item.id = pks[item.code]
        code_to_pk.update({i.code: i.pk for i, _d in batch})
    for item, d in to_update:
        item.basic_item_id = code_to_pk.get(d["basic_code"]) if d["basic_code"] else None
    ServiceItem.objects.bulk_update(
        [i for i, _d in to_update], [*scalar, "department_id", "region_id", "basic_item_id"], batch_size=500
    )
    all_items = [*to_create, *to_update]
    _save_materials(to_create, to_update)
    through = ServiceItem.themes.through
    through.objects.filter(serviceitem__in=[i for i, _d in to_update]).delete()
    through.objects.bulk_create(
        [
            through(serviceitem_id=item.pk, theme_id=themes[c].pk)
            for item, d in all_items
            for c in d["themes"]
        ],
        batch_size=2000,
    )
    result.items_created, result.items_updated = len(to_create), len(to_update)
    for start in range(0, len(all_items), 2000):
        pks = [i.pk for i, _d in all_items[start : start + 2000]]
        search.index_items(
            list(
                ServiceItem.objects.filter(pk__in=pks)
                .select_related("department")
                .prefetch_related("materials")
            )
        )
    for d in bundles:
        bundle, _created = LifeEvent.objects.update_or_create(
            code=d["code"],
            defaults={
                k: d[k] for k in ("name", "summary", "description", "audience", "keywords", "popularity")
            },
        )
        bundle.search_text = bundle_search_text(bundle)
        bundle.save(update_fields=["search_text"])
        bundle.entries.all().delete()
        BundleItem.objects.bulk_create(
            [
                BundleItem(bundle=bundle, item_id=code_to_pk[c], order=n)
                for n, c in enumerate(d["items"], start=1)
            ]
        )
        bundle.themes.set([themes[c] for c in d["themes"]])
        result.bundles_saved += 1
