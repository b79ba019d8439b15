"""The registers identity checks people and enterprises against, read from the exchange's base
data: the population base data (人口库, ``basedata.POPULATION``) for real-name verification and
the legal-entity base data (法人库, ``basedata.LEGAL_ENTITY``) for enterprises and their legal
representatives.

Identity imports nothing of the exchange: it names these classes in its settings
(``IDENTITY_REALNAME_VERIFIER``, ``IDENTITY_LEGAL_ENTITY_REGISTER``), whose defaults they are.
Rows are found by the resource's key (``rows.key_for``: the blind index of an identity number,
the credit code in clear) and read with ``rows.row_values``. Only a published resource counts:
a missing, draft or retired one answers "not in the register" (fail closed).

``put_demo_records`` lets ``yiwang demo`` put the demo people into the same base data
(``basedata.put_records``); a deployment's own register client need not have it.
"""

from yiwang.exchange import basedata
from yiwang.exchange import rows as rowstore
from yiwang.exchange.models import DataResource, ResourceRow, ResourceState
from yiwang.identity.legalentities import LegalEntity
from yiwang.identity.realname import RealNameResult

DEMO_ACTOR = "system:demo"


def base_row(code: str, key_value: str) -> dict | None:
    """The stored values of the row of published base resource ``code`` whose key field holds
    ``key_value`` (personal values decrypted: callers compare, never show), or None."""
    resource = DataResource.objects.filter(code=code, state=ResourceState.PUBLISHED).first()
    if resource is None or not key_value:
        return None
    key = rowstore.key_for(resource, list(resource.fields.all()), key_value)
    row = ResourceRow.objects.filter(resource=resource, key=key).order_by("row_no").first() if key else None
    return rowstore.row_values(row) if row is not None else None


class ExchangeRealNameVerifier:
    """Real-name verification against the population base data (A01001)."""

    def verify(self, *, name: str, id_number: str) -> RealNameResult:
        values = base_row(basedata.POPULATION, id_number)
        if values is None:
            return RealNameResult(False, "not in the register")
        recorded = str(values.get("name") or "").strip()
        if not recorded or recorded != (name or "").strip():  # a row without a name matches nobody
            return RealNameResult(False, "name does not match")
        return RealNameResult(True)

    def put_demo_records(self, records: list[dict]) -> tuple[int, int]:
        return basedata.put_records(basedata.POPULATION, records, actor=DEMO_ACTOR)


class ExchangeLegalEntityRegister:
    """Enterprises and their legal representatives from the legal-entity base data (A02001)."""

    def lookup(self, *, credit_code: str) -> LegalEntity | None:
        values = base_row(basedata.LEGAL_ENTITY, credit_code)
        if values is None:
            return None
        return LegalEntity(
            credit_code=str(values.get("credit_code") or credit_code),
            name=str(values.get("name") or ""),
            representative_name=str(values.get("legal_representative") or ""),
            representative_id_number=str(values.get("representative_id_number") or "").strip().upper(),
            region_code=str(values.get("region_code") or ""),
            address=str(values.get("address") or ""),
            is_active=values.get("status") in basedata.ACTIVE_STATUSES,
        )

    def put_demo_records(self, records: list[dict]) -> tuple[int, int]:
        return basedata.put_records(basedata.LEGAL_ENTITY, records, actor=DEMO_ACTOR)
