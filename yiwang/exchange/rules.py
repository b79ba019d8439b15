"""The catalog's rules: what a data resource of the catalog must satisfy before it is saved.

One definition, used by the services (register, update, publish), hence by the pages, the API and
the demo alike. ``resource_errors`` returns per field what to fix (an empty dict: the resource is
valid); every message names the field and says what is expected, in the active language.

The rules, as the national catalog's practice has them:

- a code is the kind's letter (A basic, B thematic, C departmental) and five digits, e.g. A01001;
- 有条件共享 (conditional sharing) states its conditions; 不予共享 (no sharing) states its basis;
- basic resources (基础信息资源) are always shared, unconditionally or on conditions;
- a resource on the negative list (负面清单) states the basis and is never open (不予开放);
- a resource that is not shared is not opened either;
- a resource with personal fields is never open unconditionally (无条件开放);
- 有条件开放 (conditional opening) states its conditions;
- an upstream HTTP source has an http(s) URL and a key field to look rows up by;
- field names are identifiers (``[a-z][a-z0-9_]*``, at most 64), unique, at least one field;
  grades are 1 to 4; types and personal-information kinds are the vocabularies' own;
- the key field is one of the resource's fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from yiwang.exchange.models import (
    FieldType,
    Grade,
    OpenClass,
    PersonalKind,
    ResourceKind,
    ShareClass,
    SourceKind,
    UpdateFrequency,
)

CODE_PATTERN = re.compile(r"^[ABC][0-9]{5}$")
FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KIND_LETTERS = {ResourceKind.BASIC: "A", ResourceKind.THEME: "B", ResourceKind.DEPARTMENT: "C"}
MAX_FIELDS = 200
MAX_TEXT = 2000

# The keys of a resource's description (what ``resource_errors`` reads); fields are separate.
RESOURCE_KEYS = (
    "code",
    "name",
    "description",
    "kind",
    "share_class",
    "share_conditions",
    "no_share_basis",
    "open_class",
    "open_conditions",
    "on_negative_list",
    "negative_list_basis",
    "update_frequency",
    "source_kind",
    "upstream_url",
    "upstream_timeout_ms",
    "key_field",
    "themes",
    "tags",
)
FIELD_KEYS = ("name", "label_zh", "label_en", "type", "grade", "personal")


def _text(data: Mapping, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def code_error(code: str, kind: str) -> str | None:
    """What is wrong with a resource code for its kind, or None."""
    if not CODE_PATTERN.match(code or ""):
        return _(
            "Resource code: a letter (A basic, B thematic, C departmental) and five digits, e.g. A01001."
        )
    letter = KIND_LETTERS.get(kind)
    if letter and code[0] != letter:
        return _("Resource code: a resource of this kind has a code beginning with “%(letter)s”.") % {
            "letter": letter
        }
    return None


def field_errors(fields: Sequence[Mapping]) -> dict[str, str]:
    """Per field (``fields.<n>.<key>``, n from 1) what is wrong with a resource's field list."""
    errors: dict[str, str] = {}
    if not fields:
        errors["fields"] = _("Fields: a resource has at least one field.")
        return errors
    if len(fields) > MAX_FIELDS:
        errors["fields"] = _("Fields: at most %(n)d fields.") % {"n": MAX_FIELDS}
        return errors
    seen: set[str] = set()
    for n, spec in enumerate(fields, start=1):
        where = f"fields.{n}"
        name = _text(spec, "name")
        if not FIELD_NAME_PATTERN.match(name):
            errors[f"{where}.name"] = _(
                "Field %(n)d: the name is an identifier — lowercase letters, digits and _, "
                "starting with a letter (e.g. id_number)."
            ) % {"n": n}
        elif name in seen:
            errors[f"{where}.name"] = _("Field %(n)d: the name “%(name)s” is used twice.") % {
                "n": n,
                "name": name,
            }
        seen.add(name)
        label = _text(spec, "label_zh")
        if not label or len(label) > 100:
            errors[f"{where}.label_zh"] = _(
                "Field %(n)d: give a Chinese label of at most 100 characters."
            ) % {"n": n}
        if len(_text(spec, "label_en")) > 100:
            errors[f"{where}.label_en"] = _("Field %(n)d: the English label has at most 100 characters.") % {
                "n": n
            }
        if _text(spec, "type") not in FieldType.values:
            errors[f"{where}.type"] = _("Field %(n)d: the type is one of %(choices)s.") % {
                "n": n,
                "choices": ", ".join(FieldType.values),
            }
        grade = spec.get("grade")
        if isinstance(grade, bool) or str(grade).strip() not in {str(g) for g in Grade.values}:
            errors[f"{where}.grade"] = _("Field %(n)d: the sensitivity grade is 1, 2, 3 or 4.") % {"n": n}
        if _text(spec, "personal") not in PersonalKind.values:
            errors[f"{where}.personal"] = _(
                "Field %(n)d: the personal-information kind is one of %(choices)s."
            ) % {
                "n": n,
                "choices": ", ".join(v or "(none)" for v in PersonalKind.values),
            }
    return errors


def resource_errors(data: Mapping, fields: Sequence[Mapping]) -> dict[str, str]:
    """Everything wrong with a resource (``data`` keyed as ``RESOURCE_KEYS``) and its ``fields``
    (keyed as ``FIELD_KEYS``): per field of the form, what to fix. Empty: valid."""
    errors: dict[str, str] = {}
    kind = _text(data, "kind")
    share = _text(data, "share_class")
    open_class = _text(data, "open_class") or OpenClass.NONE
    source = _text(data, "source_kind") or SourceKind.TABLE
    negative = bool(data.get("on_negative_list"))

    if kind not in ResourceKind.values:
        errors["kind"] = _("Resource kind: basic, theme or department.")
    problem = code_error(_text(data, "code"), kind)
    if problem:
        errors["code"] = problem
    name = _text(data, "name")
    if not name or len(name) > 200:
        errors["name"] = _("Name: give the resource a name of at most 200 characters.")
    for key in (
        "description",
        "share_conditions",
        "no_share_basis",
        "open_conditions",
        "negative_list_basis",
    ):
        if len(_text(data, key)) > MAX_TEXT:
            errors[key] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    if _text(data, "update_frequency") not in UpdateFrequency.values:
        errors["update_frequency"] = _("Update frequency: one of %(choices)s.") % {
            "choices": ", ".join(UpdateFrequency.values)
        }

    # sharing
    if share not in ShareClass.values:
        errors["share_class"] = _("Share class: unconditional, conditional or none.")
    elif share == ShareClass.CONDITIONAL and not _text(data, "share_conditions"):
        errors["share_conditions"] = _(
            "Conditions of sharing: a resource shared on conditions states its conditions."
        )
    elif share == ShareClass.NONE and not _text(data, "no_share_basis"):
        errors["no_share_basis"] = _(
            "Basis for not sharing: a resource that is not shared states the law or policy it rests on."
        )
    if kind == ResourceKind.BASIC and share == ShareClass.NONE:
        errors["share_class"] = _(
            "Share class: a basic resource is always shared, unconditionally or on conditions."
        )

    # opening
    if open_class not in OpenClass.values:
        errors["open_class"] = _("Open class: unconditional, conditional or none.")
    elif open_class != OpenClass.NONE:
        if negative:
            errors["open_class"] = _("Open class: a resource on the negative list is never open (不予开放).")
        elif share == ShareClass.NONE:
            errors["open_class"] = _("Open class: a resource that is not shared is not opened either.")
        elif open_class == OpenClass.CONDITIONAL and not _text(data, "open_conditions"):
            errors["open_conditions"] = _(
                "Conditions of opening: a resource open on conditions states its conditions."
            )
    if negative and not _text(data, "negative_list_basis"):
        errors["negative_list_basis"] = _(
            "Basis of the negative listing: state why the resource is on the negative list."
        )

    # fields
    errors.update(field_errors(fields))
    names = [_text(f, "name") for f in fields]
    personal = [_text(f, "personal") for f in fields if _text(f, "personal")]
    if personal and open_class == OpenClass.UNCONDITIONAL and "open_class" not in errors:
        errors["open_class"] = _(
            "Open class: a resource with personal information is never open unconditionally."
        )
    key_field = _text(data, "key_field")
    if key_field and key_field not in names:
        errors["key_field"] = _("Key field: “%(name)s” is not one of the resource's fields.") % {
            "name": key_field[:64]
        }

    # where the data comes from
    if source not in SourceKind.values:
        errors["source_kind"] = _("Source: a table loaded into the platform or an HTTP endpoint.")
    elif source == SourceKind.HTTP:
        url = _text(data, "upstream_url")
        if not re.match(r"^https?://[^\s/]+", url) or len(url) > 500:
            errors["upstream_url"] = _(
                "Upstream endpoint: an HTTP source needs the http:// or https:// URL of the system."
            )
        if not key_field:
            errors["key_field"] = _("Key field: an HTTP source needs the field rows are looked up by.")
    timeout = data.get("upstream_timeout_ms")
    if timeout not in (None, ""):
        try:
            ok = 100 <= int(timeout) <= 30_000 and not isinstance(timeout, bool)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors["upstream_timeout_ms"] = _("Upstream timeout: 100 to 30000 milliseconds.")
    for key in ("themes", "tags"):
        value = data.get(key) or []
        if (
            not isinstance(value, (list, tuple))
            or len(value) > 20
            or any(not isinstance(v, str) or not v.strip() or len(v) > 50 for v in value)
        ):
            errors[key] = _("At most 20 words of at most 50 characters each.")
    return errors
