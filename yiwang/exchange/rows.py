"""Rows of resources stored in the platform: splitting a record into its stored parts and back.

One place decides how a row is stored (``ResourceRow``): values of personal fields are sealed
(``vault``), the others kept as JSON, and the key field's value kept in clear, or as a blind index
when it is personal. The loader (CSV/XLSX), the demo and the gateway all go through here.
"""

from collections.abc import Iterable, Sequence

from yiwang.exchange import vault
from yiwang.exchange.models import DataResource, ResourceField, ResourceRow


def key_for(resource: DataResource, fields: Sequence[ResourceField], value) -> str:
    """The stored ``ResourceRow.key`` for a key-field value (what a lookup by key compares with)."""
    if not resource.key_field or value in (None, ""):
        return ""
    spec = next((f for f in fields if f.name == resource.key_field), None)
    if spec is not None and spec.is_personal:
        return vault.key_index(value)
    return str(value)[:64]


def build_rows(
    resource: DataResource, fields: Sequence[ResourceField], records: Iterable[dict], *, start: int = 1
) -> list[ResourceRow]:
    """Unsaved ``ResourceRow`` objects for already validated records (field name → JSON value),
    numbered from ``start``. Fields not in ``fields`` are dropped."""
    personal = [f.name for f in fields if f.is_personal]
    plain = [f.name for f in fields if not f.is_personal]
    records = list(records)
    sealed = (
        vault.seal_personal_many([{n: r.get(n) for n in personal} for r in records]) if personal else None
    )
    out = []
    for i, record in enumerate(records):
        out.append(
            ResourceRow(
                resource=resource,
                row_no=start + i,
                key=key_for(resource, fields, record.get(resource.key_field)) if resource.key_field else "",
                data={n: record.get(n) for n in plain},
                sealed=sealed[i] if sealed else None,
            )
        )
    return out


def row_values(row: ResourceRow) -> dict:
    """Every stored value of a row, personal ones decrypted. Callers mask before showing."""
    return {**row.data, **vault.unseal_personal(row.sealed)}
