"""The one place of the exchange's masking rules: what a consumer sees of a personal field.

A field that is not personal information is handed over as it is stored. A personal field is
handed over in clear only when the grant names it in ``unmasked_fields`` (the provider agreed to
it for the grant's purpose) and its grade is not above ``MAX_UNMASKED_GRADE``; otherwise it is
masked by what it holds (``PersonalKind``) and how sensitive it is (``Grade``):

=============  ====================================  ===========================================
kind           grades 1–3                            grade 4 (重要)
=============  ====================================  ===========================================
id_number      first 4 and last 4 kept               withheld (``MASK``)
phone          mobile: first 3 and last 4 kept;      withheld
               others: last 4 kept
name           surname kept (both characters of a    withheld
               compound surname)
address        the divisions kept (province, city,   withheld
               district or county), the rest hidden
other          withheld                              withheld
=============  ====================================  ===========================================

A missing value (None or "") stays missing: there is nothing to hide. Masked values are text,
whatever the field's type (a masked date of birth is ``MASK``, not a date). The gateway, the
pages that show rows and the open data portal all mask through ``mask_row``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

from yiwang.exchange.models import Grade, PersonalKind, ResourceField
from yiwang.lib.masking import mask_id_number, mask_name, mask_phone

MASK = "******"
# A grade-4 (重要) personal field is never handed over in clear, whatever the grant says.
MAX_UNMASKED_GRADE = Grade.SENSITIVE

# The administrative divisions an address starts with: a province-level unit, a prefecture-level
# unit, a county-level unit (the parts GB/T 2260 names), each as short as it can be.
_DIVISIONS = re.compile(
    r"^(?:.{2,10}?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)?"
    r"(?:.{1,10}?(?:自治州|地区|盟|市))?"
    r"(?:.{1,10}?(?:区|县|旗|市))?"
)


def mask_address(value: str) -> str:
    """ "陕西省西安市新城区解放路100号" → "陕西省西安市新城区****": the divisions stay, the street,
    number and anything after them are hidden. An address with no recognisable division keeps
    nothing."""
    s = str(value or "").strip()
    if not s:
        return ""
    kept = _DIVISIONS.match(s).group(0)
    if len(kept) >= len(s):  # nothing but divisions: hide the last one
        kept = ""
    return kept + "****"


_BY_KIND = {
    PersonalKind.ID_NUMBER: mask_id_number,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.NAME: mask_name,
    PersonalKind.ADDRESS: mask_address,
}


def may_unmask(field: ResourceField) -> bool:
    """Whether a grant can hand this field over in clear at all (grade 4 personal fields: never)."""
    return not field.is_personal or field.grade <= MAX_UNMASKED_GRADE


def mask_value(field: ResourceField, value, *, unmasked: bool = False):
    """The value a consumer sees of ``field``. ``unmasked``: the grant hands the field over in clear."""
    if not field.is_personal or value is None or value == "":
        return value
    if unmasked and may_unmask(field):
        return value
    if field.grade > MAX_UNMASKED_GRADE:
        return MASK
    rule = _BY_KIND.get(field.personal)
    if rule is None:  # "other" personal information, or a kind this version does not know
        return MASK
    return rule(str(value))


def is_masked(field: ResourceField, unmasked_fields: Collection[str]) -> bool:
    """Whether ``field``'s values reach the consumer masked under a grant's ``unmasked_fields``."""
    return field.is_personal and not (field.name in unmasked_fields and may_unmask(field))


def mask_row(row: dict, fields: Sequence[ResourceField], unmasked_fields: Collection[str] = ()) -> dict:
    """Only ``fields`` of ``row`` (a stored row's values, as ``rows.row_values`` gives them), in
    their order, each masked unless it is in ``unmasked_fields``."""
    return {f.name: mask_value(f, row.get(f.name), unmasked=f.name in unmasked_fields) for f in fields}


def mask_rows(
    rows: Iterable[dict], fields: Sequence[ResourceField], unmasked_fields: Collection[str] = ()
) -> list[dict]:
    unmasked = frozenset(unmasked_fields)
    return [mask_row(row, fields, unmasked) for row in rows]
