"""Application forms declared as JSON Schema: checked, pre-filled, parsed, validated and rendered.

A service item declares its form as a small, supported subset of JSON Schema (Draft 2020-12);
pages render it through ``fields()`` and ``_schema_fields.html`` and the API validates with the
same schema through ``validate()``. Properties bound with ``x-source`` carry data the government
already holds (once-only principle, 一次录入多渠道共用): they are pre-filled, shown read-only and
never taken from the user.

Field ``pattern``s run on RE2 (``google-re2``), which matches in time linear in the input: a
department's pattern can never backtrack for hours on a citizen's value (ReDoS). What RE2 cannot
compile (back-references, look-arounds) is refused when the form is attached, and jsonschema's
own ``pattern`` keyword (Python ``re``) is replaced by RE2 in ``FormValidator``.

Titles and descriptions pass through ``gettext`` when shown, so the built-in ``DEFAULT_SCHEMA``
(marked with ``gettext_noop``) is translated while schemas written by departments show as written.
"""

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import re2
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import get_language, gettext_lazy, gettext_noop, ngettext
from django.utils.translation import gettext as _

MAX_PROPERTIES = 60
MAX_TEXT = 10_000  # longest string accepted when a property sets no maxLength
MAX_PATTERN = 500
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TYPES = ("string", "integer", "number", "boolean")
FORMATS = ("date", "email")
TOP_KEYS = {"type", "properties", "required", "$schema", "title", "description"}
PROPERTY_KEYS = {
    "type",
    "title",
    "description",
    "enum",
    "x-enum-titles",
    "format",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "default",
    "x-source",
    "x-fact",
    "x-prefill",
    "x-widget",
    "x-title-en",
    "x-description-en",
    "x-enum-titles-en",
}
# English labels beside the department's own (zh-Hans) "title", "description" and
# "x-enum-titles": shown when the reader's language is English.
ENGLISH_KEYS = {"title": "x-title-en", "description": "x-description-en", "x-enum-titles": "x-enum-titles-en"}
STRING_ONLY = ("format", "minLength", "maxLength", "pattern", "x-widget")
NUMBER_ONLY = ("minimum", "maximum")
NON_FORM = "__all__"  # the errors key for problems with the data as a whole

SOURCES: dict[str, str] = {
    "person.name": gettext_lazy("Name (real-name identity)"),
    "person.id_number_masked": gettext_lazy("Identity number, masked (real-name identity)"),
    "person.age": gettext_lazy("Age in whole years, from the identity number's date of birth"),
    "enterprise.name": gettext_lazy("Enterprise name (registration)"),
    "enterprise.credit_code": gettext_lazy("Unified social credit code (registration)"),
    "enterprise.legal_representative": gettext_lazy("Legal representative (registration)"),
    "enterprise.address": gettext_lazy("Registered address (registration)"),
}

SOURCE_TYPES = {"person.age": "integer"}  # the others are text

# What the applicant gave their account themself (``x-prefill``): a first value they can change,
# shown as "from your account", never as provided by the government (nobody confirmed it).
ACCOUNT_SOURCES: dict[str, str] = {
    "account.phone": gettext_lazy("Mobile phone given for your account"),
}

DEFAULT_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "applicant_name": {
            "type": "string",
            "title": gettext_noop("Applicant name"),
            "x-source": "person.name",
        },
        "id_number": {
            "type": "string",
            "title": gettext_noop("Identity number"),
            "x-source": "person.id_number_masked",
        },
        "phone": {
            "type": "string",
            "title": gettext_noop("Contact phone"),
            "description": gettext_noop("A mainland mobile number of 11 digits, for example 13800000000."),
            "pattern": r"^1[3-9][0-9]{9}$",
            "maxLength": 11,
            "x-prefill": "account.phone",
        },
        "address": {
            "type": "string",
            "title": gettext_noop("Address"),
            "description": gettext_noop("Where we can send letters about this application."),
            "maxLength": 200,
        },
        "purpose": {
            "type": "string",
            "title": gettext_noop("What you are applying for"),
            "description": gettext_noop("Describe your request and anything the department should know."),
            "maxLength": 2000,
            "x-widget": "textarea",
        },
        "preferred_date": {
            "type": "string",
            "title": gettext_noop("Preferred date"),
            # The browser's date picker shows the date in the reader's local order: no format hint.
            "description": gettext_noop("Optional. Pick the day in the calendar."),
            "format": "date",
        },
    },
    "required": ["applicant_name", "id_number", "phone", "address", "purpose"],
}


class SchemaError(Exception):
    """A form schema outside the supported subset; ``messages`` say which property and what to fix."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# --- checking a schema when an admin attaches it -------------------------------------------------


def check_schema(schema: dict) -> None:
    """Raise SchemaError unless ``schema`` is in the supported subset and valid Draft 2020-12."""
    if not isinstance(schema, dict):
        raise SchemaError([_("The form must be a JSON object.")])
    problems = [
        _("Remove “%(key)s” from the top level: it is not supported.") % {"key": key}
        for key in sorted(set(schema) - TOP_KEYS, key=str)
    ]
    if schema.get("type") != "object":
        problems.append(_('The top level needs "type": "object".'))
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append(_('The form needs "properties" with at least one field.'))
        properties = {}
    elif len(properties) > MAX_PROPERTIES:
        problems.append(_("A form may have at most %(max)d fields.") % {"max": MAX_PROPERTIES})
    for name, prop in properties.items():
        problems.extend(_property_problems(name, prop))
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.append(_('"required" must be a list of field names.'))
    else:
        if len(set(required)) != len(required):
            problems.append(_('"required" names a field more than once.'))
        problems.extend(
            _('"required" names “%(name)s”, which is not a field.') % {"name": name}
            for name in required
            if name not in properties
        )
    if not problems:
        try:
            FormValidator.check_schema(schema, format_checker=_SCHEMA_FORMATS)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "/"
            problems.append(
                _("Not a valid JSON Schema at %(where)s: %(error)s") % {"where": where, "error": exc}
            )
    if problems:
        raise SchemaError(problems)


def _property_problems(name: Any, prop: Any) -> list[str]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [
            _(
                "Rename field “%(name)s”: use 1 to 40 lower-case letters, digits or underscores, "
                "starting with a letter."
            )
            % {"name": name}
        ]
    if not isinstance(prop, dict):
        return [_("Field “%(name)s” must be a JSON object.") % {"name": name}]
    ctx = {"name": name}
    problems = [
        _("Field “%(name)s”: remove “%(key)s”, it is not supported.") % {**ctx, "key": key}
        for key in sorted(set(prop) - PROPERTY_KEYS, key=str)
    ]
    kind = prop.get("type")
    if kind not in TYPES:
        problems.append(
            _('Field “%(name)s”: "type" must be one of %(types)s.') % {**ctx, "types": ", ".join(TYPES)}
        )
        return problems
    title = prop.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        problems.append(_('Field “%(name)s” needs a "title" (its label), up to 200 characters.') % ctx)
    if "description" in prop and not isinstance(prop["description"], str):
        problems.append(_('Field “%(name)s”: "description" must be text.') % ctx)
    english_title = prop.get("x-title-en")
    if "x-title-en" in prop and (not isinstance(english_title, str) or len(english_title) > 200):
        problems.append(
            _('Field “%(name)s”: "x-title-en" (the English label) must be text of up to 200 characters.')
            % ctx
        )
    if "x-description-en" in prop and not isinstance(prop["x-description-en"], str):
        problems.append(_('Field “%(name)s”: "x-description-en" must be text.') % ctx)
    problems.extend(
        _("Field “%(name)s”: “%(key)s” is only for text fields.") % {**ctx, "key": key}
        for key in STRING_ONLY
        if key in prop and kind != "string"
    )
    problems.extend(
        _("Field “%(name)s”: “%(key)s” is only for number fields.") % {**ctx, "key": key}
        for key in NUMBER_ONLY
        if key in prop and kind not in ("integer", "number")
    )
    problems.extend(_limit_problems(ctx, prop))
    problems.extend(_enum_problems(ctx, prop, kind))
    if "format" in prop and prop["format"] not in FORMATS:
        problems.append(_('Field “%(name)s”: "format" must be "date" or "email".') % ctx)
    if "pattern" in prop:
        pattern = prop["pattern"]
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
            problems.append(
                _(
                    'Field “%(name)s”: "pattern" must be a valid regular expression '
                    "of at most %(max)d characters."
                )
                % {**ctx, "max": MAX_PATTERN}
            )
        elif (error := pattern_error(pattern)) is not None:
            problems.append(
                _(
                    'Field “%(name)s”: "pattern" must be a valid regular expression '
                    "of at most %(max)d characters; this one cannot be used (%(error)s). "
                    "Back-references (\\1) and look-arounds ((?=…), (?!…), (?<=…)) are not "
                    "supported: write the rule without them."
                )
                % {**ctx, "max": MAX_PATTERN, "error": error}
            )
    if "x-source" in prop and prop["x-source"] not in SOURCES:
        problems.append(
            _('Field “%(name)s”: "x-source" must be one of %(sources)s.')
            % {**ctx, "sources": ", ".join(SOURCES)}
        )
    elif "x-source" in prop and prop.get("type") != SOURCE_TYPES.get(prop["x-source"], "string"):
        problems.append(
            _('Field “%(name)s”: "x-source" %(source)s gives a value of type %(type)s.')
            % {**ctx, "source": prop["x-source"], "type": SOURCE_TYPES.get(prop["x-source"], "string")}
        )
    if "x-fact" in prop:
        problems.extend(_fact_problems(ctx, prop))
    if "x-prefill" in prop and (prop["x-prefill"] not in ACCOUNT_SOURCES or "x-source" in prop):
        problems.append(
            _('Field “%(name)s”: "x-prefill" must be one of %(sources)s, and not beside "x-source".')
            % {**ctx, "sources": ", ".join(ACCOUNT_SOURCES)}
        )
    elif "x-prefill" in prop and prop.get("type") != "string":
        problems.append(_('Field “%(name)s”: "x-prefill" is only for text fields.') % ctx)
    if "x-widget" in prop and prop["x-widget"] != "textarea":
        problems.append(_('Field “%(name)s”: "x-widget" can only be "textarea".') % ctx)
    if "default" in prop and not problems:
        errors = list(FormValidator(_plain(prop)).iter_errors(prop["default"]))
        if errors or _format_error(prop, prop["default"]):
            problems.append(_('Field “%(name)s”: "default" does not fit the field\'s own rules.') % ctx)
    return problems


# A property bound to a field of a resource of the data exchange ("bound government fact"):
# {"resource": "A01001", "field": "birth_date", "derive": "years"}. The value is fetched through
# the exchange's gateway under the item department's standing grant (applications.facts), shown
# read-only with its source, and recorded on the case. "derive" turns the stored value into what
# the form asks: "years" (whole years from a date until today: an age, years of residence) or
# "in_region" (a division code within the item's region: registered here or not).
FACT_KEYS = {"resource", "field", "derive"}
FACT_DERIVE_TYPES = {"": None, "years": "integer", "in_region": "boolean"}
FACT_CODE_RE = re.compile(r"^[ABC][0-9]{5}$")
FACT_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _fact_problems(ctx: dict, prop: dict) -> list[str]:
    spec = prop["x-fact"]
    if not isinstance(spec, dict) or set(spec) - FACT_KEYS:
        return [
            _(
                'Field “%(name)s”: "x-fact" must be an object with "resource" (a resource code such '
                'as A01001), "field" (one of its fields) and optionally "derive" ("years" or "in_region").'
            )
            % ctx
        ]
    problems = []
    if not isinstance(spec.get("resource"), str) or not FACT_CODE_RE.match(spec["resource"]):
        problems.append(
            _('Field “%(name)s”: "x-fact" needs "resource", a resource code such as A01001.') % ctx
        )
    if not isinstance(spec.get("field"), str) or not FACT_FIELD_RE.match(spec["field"]):
        problems.append(
            _('Field “%(name)s”: "x-fact" needs "field", the name of a field of the resource.') % ctx
        )
    derive = spec.get("derive", "")
    if derive not in FACT_DERIVE_TYPES:
        problems.append(_('Field “%(name)s”: "derive" in "x-fact" must be "years" or "in_region".') % ctx)
    elif FACT_DERIVE_TYPES[derive] and prop.get("type") != FACT_DERIVE_TYPES[derive]:
        problems.append(
            _('Field “%(name)s”: "derive": "%(derive)s" gives a value of type %(type)s.')
            % {**ctx, "derive": derive, "type": FACT_DERIVE_TYPES[derive]}
        )
    if "x-source" in prop or "x-prefill" in prop:
        problems.append(_('Field “%(name)s”: "x-fact" cannot be beside "x-source" or "x-prefill".') % ctx)
    return problems


def fact_bindings(schema: dict) -> dict[str, dict]:
    """{property: its "x-fact"} for every property bound to a government fact."""
    return {
        name: {"derive": "", **prop["x-fact"]}
        for name, prop in _properties(schema).items()
        if isinstance(prop.get("x-fact"), dict)
    }


def _limit_problems(ctx: dict, prop: dict) -> list[str]:
    problems = []
    for low, high, whole in (("minLength", "maxLength", True), ("minimum", "maximum", False)):
        bad = [key for key in (low, high) if key in prop and not _is_limit(prop[key], whole=whole)]
        for key in bad:
            what = _("a whole number of 0 or more") if whole else _("a number")
            problems.append(
                _("Field “%(name)s”: “%(key)s” must be %(what)s.") % {**ctx, "key": key, "what": what}
            )
        if not bad and low in prop and high in prop and prop[low] > prop[high]:
            problems.append(
                _("Field “%(name)s”: “%(low)s” is greater than “%(high)s”.")
                % {**ctx, "low": low, "high": high}
            )
    return problems


def _is_limit(value: Any, *, whole: bool) -> bool:
    if isinstance(value, bool):
        return False
    if whole:
        return isinstance(value, int) and value >= 0
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _enum_problems(ctx: dict, prop: dict, kind: str) -> list[str]:
    if "enum" not in prop:
        if "x-enum-titles" in prop or "x-enum-titles-en" in prop:
            return [_('Field “%(name)s”: "x-enum-titles" needs an "enum".') % ctx]
        return []
    enum = prop["enum"]
    python_type = {"string": str, "integer": int, "number": (int, float)}.get(kind)
    if (
        python_type is None
        or not isinstance(enum, list)
        or not enum
        or any(isinstance(v, bool) or not isinstance(v, python_type) for v in enum)
        or len({str(v) for v in enum}) != len(enum)
    ):
        return [
            _('Field “%(name)s”: "enum" must be a non-empty list of different values of the field\'s type.')
            % ctx
        ]
    for key in ("x-enum-titles", "x-enum-titles-en"):
        titles = prop.get(key)
        if titles is not None and (
            not isinstance(titles, list)
            or len(titles) != len(enum)
            or not all(isinstance(t, str) for t in titles)
        ):
            return [
                _('Field “%(name)s”: "%(key)s" must list one text per "enum" value.') % {**ctx, "key": key}
            ]
    return []


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the admin, not to stderr
    options.max_mem = 1 << 20  # 1 MB per compiled pattern: {1000}{1000} is refused, not built
    return options


_RE2_OPTIONS = _re2_options()


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    """The pattern compiled by RE2 (raises ``re2.error``); compiled once per pattern."""
    return re2.compile(pattern, _RE2_OPTIONS)


def pattern_error(pattern: str) -> str | None:
    """Why RE2 cannot use ``pattern`` (its own words), or None when it compiles."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None


def _re2_pattern(validator, pattern, instance, schema):
    """jsonschema's ``pattern`` keyword, evaluated by RE2 (search semantics, as the spec says).
    A pattern RE2 refuses never matches: check_schema refuses it before it is stored."""
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = _compiled(pattern).search(instance) is not None
    except re2.error:
        matched = False
    if not matched:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# Every form validation goes through this class, never jsonschema's default (Python re).
FormValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _re2_pattern})

# Checking a schema: the metaschema's "format": "regex" also means "RE2 compiles it".
_SCHEMA_FORMATS = jsonschema.FormatChecker()


@_SCHEMA_FORMATS.checks("regex", raises=re2.error)
def _is_re2(instance: Any) -> bool:
    if isinstance(instance, str):
        _compiled(instance)
    return True


def _plain(prop: dict) -> dict:
    """The property's schema without our annotations, for checking its default."""
    return {
        k: v
        for k, v in prop.items()
        if k not in ("default", "title", "description") and not k.startswith("x-")
    }


# --- once-only: data the government holds --------------------------------------------------------


_UNREAD = object()


def gov_sources(*, user, enterprise=None, person=_UNREAD) -> dict[str, str]:
    """Values for ``SOURCES`` from data the government holds: the user's identity only when a
    register or an official confirmed it (real-name level L2+), and the enterprise only when
    its details come from the legal-entity register and the user's person acts for it now.

    Anything self-declared is left out, so it is never shown as "provided by the government";
    a forged enterprise id cannot pre-fill someone else's registration. Missing or empty values
    are left out. ``person``: the user's Person (or None) when the caller has just read it."""
    from yiwang.identity.selectors import age_of, enterprises_of, person_of

    values: dict[str, Any] = {}
    if person is _UNREAD:
        person = person_of(user)
    if person is None or not person.is_verified:
        return {}
    # The phone is what the person typed at registration (no register confirms it): not here.
    for attr in ("name", "id_number_masked"):
        values[f"person.{attr}"] = getattr(person, attr, "")
    values["person.age"] = age_of(person)
    if (
        enterprise is not None
        and enterprise.from_register
        and enterprises_of(person).filter(pk=enterprise.pk).exists()
    ):
        for attr in ("name", "credit_code", "legal_representative", "address"):
            values[f"enterprise.{attr}"] = getattr(enterprise, attr, "")
    return {
        key: value if key in SOURCE_TYPES else str(value)
        for key, value in values.items()
        if value or (key in SOURCE_TYPES and value is not None)
    }


# --- storing: the order of the fields ------------------------------------------------------------

# PostgreSQL's jsonb keeps an object's keys in its own order (shortest first), not in the order
# they were written: the stored form carries its fields' order beside them. Storage only: it is
# added when a form is attached and removed when it is read, never part of what admins write.
ORDER_KEY = "x-order"


def for_storage(schema: dict) -> dict:
    """The checked schema as stored: with ``ORDER_KEY`` listing its properties in order."""
    return {**schema, ORDER_KEY: list(_properties(schema))}


def from_storage(schema: dict) -> dict:
    """A stored schema as written: properties back in their order, without ``ORDER_KEY``
    (a schema stored without it is returned as it is)."""
    order = schema.get(ORDER_KEY) if isinstance(schema, dict) else None
    if not isinstance(order, list):
        return schema
    properties = _properties(schema)
    ordered = {name: properties[name] for name in order if isinstance(name, str) and name in properties}
    ordered.update((name, prop) for name, prop in properties.items() if name not in ordered)
    result = {key: value for key, value in schema.items() if key != ORDER_KEY}
    result["properties"] = ordered
    return result


def field_names(schema: dict) -> list[str]:
    """The form's field names, in order (what conditions and rules can refer to)."""
    return list(_properties(schema))


def account_values(*, user, person=_UNREAD) -> dict[str, str]:
    """Values for ``ACCOUNT_SOURCES``: what the applicant gave their account (their person's
    phone, else the account's). Self-declared: a suggestion to check, not government data.
    ``person``: the user's Person (or None) when the caller has just read it."""
    from yiwang.identity.selectors import person_of

    if person is _UNREAD:
        person = person_of(user)
    phone = (getattr(person, "phone", "") if person else "") or getattr(user, "phone", "") or ""
    return {"account.phone": phone} if phone else {}


def account_prefill(schema: dict, values: dict[str, str]) -> dict:
    """{property: value} for every ``x-prefill`` property whose account value fits the field
    (a value the field's own rules refuse is not offered)."""
    out = {}
    for name, prop in _properties(schema).items():
        value = values.get(prop.get("x-prefill", ""))
        if value and not list(FormValidator(_plain(prop)).iter_errors(value)):
            out[name] = value
    return out


def bound_fields(schema: dict) -> set[str]:
    """Properties filled from government data (``x-source``, ``x-fact``): read-only for the
    applicant."""
    return {name for name, prop in _properties(schema).items() if "x-source" in prop or "x-fact" in prop}


def prefill(schema: dict, sources: dict[str, str]) -> dict:
    """{property: value} for every bound property whose source has a value."""
    return {
        name: sources[prop["x-source"]]
        for name, prop in _properties(schema).items()
        if prop.get("x-source") in sources
    }


def _properties(schema: dict) -> dict[str, dict]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


# --- parsing a posted form -----------------------------------------------------------------------

_INTEGER_RE = re.compile(r"^[+-]?[0-9]{1,30}$")
_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})$")
_DIGITS_PATTERN_RE = re.compile(r"^\^(?:\\d|[0-9\[\]{},?+*-])+\$$")  # e.g. a mobile number
_TRUE, _FALSE = {"on", "true", "1"}, {"off", "false", "0"}


def parse_post(schema: dict, post: Mapping) -> dict:
    """Typed values from a QueryDict (request.POST), keyed by property.

    Empty values are left out; values that do not parse stay raw strings so ``validate`` reports
    them. Bound properties are never read from the user."""
    data: dict[str, Any] = {}
    for name, prop in _properties(schema).items():
        if "x-source" in prop or "x-fact" in prop:
            continue
        raw = post.get(name)
        if not isinstance(raw, str):
            continue
        # Browsers send textarea line breaks as CRLF, but count maxlength with LF.
        raw = raw.replace("\r\n", "\n").strip()
        if raw == "":
            continue
        data[name] = _coerce(prop, raw)
    return data


def _coerce(prop: dict, raw: str) -> Any:
    kind = prop.get("type")
    if kind == "string" and _DIGITS_PATTERN_RE.match(str(prop.get("pattern", ""))):
        # Chinese input methods often type full-width digits (１３８…): accept them.
        return unicodedata.normalize("NFKC", raw)
    if kind == "boolean":
        low = raw.lower()
        return True if low in _TRUE else False if low in _FALSE else raw
    if kind in ("integer", "number"):
        # Full-width digits as above; commas stay unparsed (is "1,5" 15 or 1.5?) to be reported.
        text = unicodedata.normalize("NFKC", raw).strip()
        if kind == "integer" and _INTEGER_RE.match(text):
            return int(text)
        if kind == "number" and _NUMBER_RE.match(text):
            return int(text) if _INTEGER_RE.match(text) else float(text)
    return raw


# --- validating ----------------------------------------------------------------------------------

# Characters PostgreSQL cannot store in jsonb (NUL) or that no form should carry.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def validate(schema: dict, data: Any, *, partial: bool = False) -> dict[str, str]:
    """{property: message} in the user's language; empty when ``data`` fits ``schema``.

    ``partial=True`` (saving a draft) skips "required". Errors about the data as a whole (not
    an object) are under ``NON_FORM``. Never raises on odd input: values that are not scalars,
    over-long or carry control characters are reported before jsonschema sees them, which also
    keeps a department's pattern from running on huge strings."""
    if not isinstance(data, dict):
        return {NON_FORM: _("Send the form as an object of field values.")}
    properties = _properties(schema)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        prop = properties.get(key) if isinstance(key, str) else None
        if prop is None:
            errors[str(key)[:100]] = _("This field is not part of the form.")
            continue
        problem = _precheck(prop, value) or _format_error(prop, value)
        if problem:
            errors[key] = problem
        else:
            clean[key] = value
    checked = {k: v for k, v in schema.items() if k != "required"} if partial else schema
    for error in FormValidator(checked).iter_errors(clean):
        if error.validator == "required" and not error.path:
            for name in error.validator_value:
                if name not in clean and name in properties:
                    errors.setdefault(name, _required_message(properties[name]))
        elif error.path:
            name = str(error.path[0])
            errors.setdefault(name, _message(properties.get(name, {}), error))
    if not partial:
        for name in schema.get("required", []):
            # A required checkbox is a declaration the applicant must tick, also through the API.
            if properties.get(name, {}).get("type") == "boolean" and clean.get(name) is False:
                errors.setdefault(name, _required_message(properties[name]))
    return errors


def _precheck(prop: dict, value: Any) -> str | None:
    if isinstance(value, str):
        limit = prop.get("maxLength", MAX_TEXT)
        if len(value) > limit:
            return _too_long(limit, len(value))
        if _CONTROL_RE.search(value):
            return _("Remove the control characters from this text.")
        return None
    if isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else _type_message(prop)
    return _type_message(prop)


def _format_error(prop: dict, value: Any) -> str | None:
    """The formats jsonschema leaves unchecked by default, checked strictly."""
    if not isinstance(value, str) or prop.get("type") != "string":
        return None
    if prop.get("format") == "date":
        try:
            if not _DATE_RE.match(value):
                raise ValueError(value)
            dt.date.fromisoformat(value)
        except ValueError:
            return _("Enter a real date in the form YYYY-MM-DD, for example 2026-03-27.")
    if prop.get("format") == "email":
        try:
            validate_email(value)
        except ValidationError:
            return _("Enter an email address like name@example.org.")
    return None


def _localized(prop: dict, key: str) -> Any:
    """The property's ``key`` in the reader's language: its English twin (``ENGLISH_KEYS``) when
    the reader reads English and the form gives one, else the department's own text."""
    english = ENGLISH_KEYS.get(key)
    language = get_language() or ""
    if english and language.startswith("en") and prop.get(english):
        return prop[english]
    return prop.get(key)


def _title(prop: dict) -> str:
    title = _localized(prop, "title")
    return _(title) if isinstance(title, str) and title else _("this field")


def _required_message(prop: dict) -> str:
    if "x-source" in prop or "x-fact" in prop:
        return _("%(title)s is not on record for you; it cannot be typed in here.") % {"title": _title(prop)}
    if prop.get("type") == "boolean":
        return _("Tick “%(title)s” to continue.") % {"title": _title(prop)}
    if "enum" in prop:
        return _("Choose %(title)s.") % {"title": _title(prop)}
    return _("Enter %(title)s.") % {"title": _title(prop)}


def _type_message(prop: dict) -> str:
    return {
        "integer": _("Enter a whole number, like 12."),
        "number": _("Enter a number, like 12 or 12.5."),
        "boolean": _("Answer yes or no."),
    }.get(prop.get("type", ""), _("Enter text."))


def _too_long(limit: int, length: int) -> str:
    return ngettext(
        "Enter at most %(limit)d character (you entered %(length)d).",
        "Enter at most %(limit)d characters (you entered %(length)d).",
        limit,
    ) % {"limit": limit, "length": length}


def _message(prop: dict, error: jsonschema.ValidationError) -> str:
    keyword, limit = error.validator, error.validator_value
    if keyword == "type":
        return _type_message(prop)
    if keyword == "enum":
        return _("Choose one of the options listed.")
    if keyword == "minLength":
        return ngettext(
            "Enter at least %(limit)d character.", "Enter at least %(limit)d characters.", limit
        ) % {"limit": limit}
    if keyword == "maxLength":
        return _too_long(limit, len(error.instance))
    if keyword == "pattern":
        return _("Enter %(title)s in the format described.") % {"title": _title(prop)}
    if keyword == "minimum":
        return _("Enter a number of %(limit)s or more.") % {"limit": limit}
    if keyword == "maximum":
        return _("Enter a number of %(limit)s or less.") % {"limit": limit}
    return _("Check this value.")


# --- rendering -----------------------------------------------------------------------------------


@dataclass
class Field:
    """One property ready for ``_schema_fields.html``; ``value`` is the text to show or post back."""

    name: str
    id: str
    label: str
    hint: str = ""
    widget: str = "text"  # text | textarea | number | date | email | select | checkbox
    value: str = ""
    required: bool = False
    error: str = ""
    provided: bool = False
    from_account: bool = False  # x-prefill: a first value from the applicant's own account
    choices: list[tuple[str, str]] = field(default_factory=list)
    maxlength: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    step: str = ""
    pattern: str = ""
    inputmode: str = ""

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        """The ids for aria-describedby: hint and error, when present."""
        return " ".join(
            i for i, on in ((self.hint_id, self.hint or self.from_account), (self.error_id, self.error)) if on
        )

    @property
    def display(self) -> str:
        """The value as read by a person: the choice title for a select."""
        return dict(self.choices).get(self.value, self.value)


def fields(schema: dict, data: dict, errors: dict[str, str]) -> list[Field]:
    """The schema's properties in order, with values and errors, for rendering.

    ``data`` should already hold ``prefill(...)`` for bound properties."""
    data = data if isinstance(data, dict) else {}
    required = set(schema.get("required", [])) if isinstance(schema, dict) else set()
    return [
        _field(name, prop, data.get(name, prop.get("default")), name in required, errors.get(name, ""))
        for name, prop in _properties(schema).items()
    ]


def _field(name: str, prop: dict, value: Any, required: bool, error: str) -> Field:
    kind = prop.get("type")
    f = Field(
        name=name,
        id=f"f-{name}",
        label=_title(prop),
        hint=_(_localized(prop, "description")) if _localized(prop, "description") else "",
        required=required,
        error=error,
        provided="x-source" in prop or "x-fact" in prop,
        from_account="x-prefill" in prop and value not in (None, ""),
        value=_as_text(value),
        maxlength=prop.get("maxLength"),
    )
    if "enum" in prop:
        titles = _localized(prop, "x-enum-titles") or [str(v) for v in prop["enum"]]
        f.widget = "select"
        f.choices = [(str(v), _(t) if t else str(v)) for v, t in zip(prop["enum"], titles, strict=False)]
    elif kind == "boolean":
        f.widget, f.value = "checkbox", "on" if value is True else ""
    elif kind in ("integer", "number"):
        f.widget, f.min, f.max = "number", prop.get("minimum"), prop.get("maximum")
        f.step, f.inputmode = ("1", "numeric") if kind == "integer" else ("any", "decimal")
    elif prop.get("x-widget") == "textarea":
        f.widget = "textarea"
    elif prop.get("format") in FORMATS:
        f.widget = prop["format"]
    if f.widget == "text" and isinstance(prop.get("pattern"), str):
        # HTML anchors patterns, JSON Schema does not: only pass on ones anchored already.
        pattern = prop["pattern"]
        if pattern.startswith("^") and pattern.endswith("$"):
            f.pattern = pattern
        if _DIGITS_PATTERN_RE.match(pattern):
            f.inputmode = "numeric"
    return f


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, list | dict):
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


# --- one form for several items (一件事一次办) ------------------------------------------------


def _meaning(prop: dict) -> str:
    """What a property asks, apart from how it is worded: two items' fields of one name and one
    meaning (type, rules, government source) are one question."""
    import json

    return json.dumps(
        {k: v for k, v in prop.items() if k not in ("title", "description", "x-enum-titles")},
        sort_keys=True,
        ensure_ascii=False,
    )


def shared_properties(schemas: Mapping[Any, dict]) -> set[str]:
    """Names asked by two or more of ``schemas`` ({key: schema}) with the same meaning
    everywhere: the combined form asks them once. A name with different meanings in different
    items is asked per item."""
    seen: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for schema in schemas.values():
        for name, prop in _properties(schema).items():
            seen.setdefault(name, set()).add(_meaning(prop))
            counts[name] = counts.get(name, 0) + 1
    return {name for name, meanings in seen.items() if counts[name] > 1 and len(meanings) == 1}


def own_name(key: Any, name: str) -> str:
    """The posted name of an item-specific field in a combined form."""
    return f"c{key}__{name}"


def combined_fields(
    schemas: Mapping[Any, dict], data: Mapping[Any, dict], errors: Mapping[str, str]
) -> tuple[list[Field], dict[Any, list[Field]]]:
    """The combined form: (shared fields, {key: that item's own fields}), in the items' order.
    ``errors`` is keyed by posted name (``name`` shared, ``own_name(key, name)`` per item)."""
    shared = shared_properties(schemas)
    shared_props: dict[str, dict] = {}
    shared_required: set[str] = set()
    shared_values: dict[str, Any] = {}
    own: dict[Any, list[Field]] = {}
    for key, schema in schemas.items():
        values = data.get(key) or {}
        required = set(schema.get("required", [])) if isinstance(schema, dict) else set()
        for name, prop in _properties(schema).items():
            if name in shared:
                shared_props.setdefault(name, prop)
                if name in required:
                    shared_required.add(name)
                if shared_values.get(name) in (None, "") and name in values:
                    shared_values[name] = values[name]
        mine = []
        for name, prop in _properties(schema).items():
            if name in shared:
                continue
            posted = own_name(key, name)
            f = _field(
                name, prop, values.get(name, prop.get("default")), name in required, errors.get(posted, "")
            )
            f.name, f.id = posted, f"f-{posted}"
            mine.append(f)
        own[key] = mine
    common = [
        _field(
            name,
            prop,
            shared_values.get(name, prop.get("default")),
            name in shared_required,
            errors.get(name, ""),
        )
        for name, prop in shared_props.items()
    ]
    return common, own


def split_post(schemas: Mapping[Any, dict], post: Mapping) -> dict[Any, dict]:
    """{key: typed values} from a combined form's POST: shared fields go to every item that asks
    them, item-specific ones to their item only."""
    shared = shared_properties(schemas)
    out = {}
    for key, schema in schemas.items():
        view = {
            name: post.get(name if name in shared else own_name(key, name)) for name in _properties(schema)
        }
        out[key] = parse_post(schema, view)
    return out


def combined_name(schemas: Mapping[Any, dict], key: Any, name: str) -> str:
    """The posted name under which ``key``'s field ``name`` appears in the combined form."""
    return name if name in shared_properties(schemas) else own_name(key, name)
