"""The legal-entity register (法人库): which enterprises exist and who represents them.

Enterprises and their legal representatives come from here, never from what an applicant
types. A deployment plugs in its register client (the market regulator's 法人库, usually
through the data-sharing exchange) as a class implementing ``LegalEntityRegister`` named in
``IDENTITY_LEGAL_ENTITY_REGISTER``. The default, ``DemoLegalEntityRegister``, reads the demo
register ``yiwang demo`` builds (``LegalEntityRecord``); outside development that table is empty,
so nobody can act for any enterprise until a real client is configured (fail closed).
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.identity import pii
from yiwang.lib import crypto

DEFAULT_REGISTER = "yiwang.identity.legalentities.DemoLegalEntityRegister"
REPRESENTATIVE_PURPOSE = pii.REPRESENTATIVE_PURPOSE
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """What the register says about one enterprise."""

    credit_code: str
    name: str
    representative_name: str
    representative_id_number: str  # normalised; compared through the blind index, never shown
    region_code: str = ""
    address: str = ""
    is_active: bool = True

    def names_as_representative(self, person) -> bool:
        """Whether ``person`` (a verified Person) is the representative the register names."""
        return (
            pii.id_number_index(self.representative_id_number) == person.id_number_index
            and self.representative_name == person.name
        )


class LegalEntityRegister(Protocol):
    def lookup(self, *, credit_code: str) -> LegalEntity | None:
        """The register's entry for a (normalised) credit code, or None when it has none."""
        ...


class DemoLegalEntityRegister:
    """Reads the demo legal-entity register built by ``yiwang demo``. Never use in production."""

    def lookup(self, *, credit_code: str) -> LegalEntity | None:
        from yiwang.identity.models import LegalEntityRecord

        record = LegalEntityRecord.objects.filter(credit_code=credit_code).first()
        if record is None:
            return None
        return LegalEntity(
            credit_code=record.credit_code,
            name=record.name,
            representative_name=record.representative_name,
            representative_id_number=crypto.decrypt(
                record.representative_id_number_ciphertext, REPRESENTATIVE_PURPOSE
            ),
            region_code=record.region_code,
            address=record.address,
            is_active=record.is_active,
        )


def register_path() -> str:
    return getattr(settings, "IDENTITY_LEGAL_ENTITY_REGISTER", DEFAULT_REGISTER)


def get_register() -> LegalEntityRegister:
    return import_string(register_path())()


def lookup(*, credit_code: str) -> LegalEntity | None:
    """Ask the configured register; an error of its client counts as "no such enterprise"."""
    try:
        return get_register().lookup(credit_code=credit_code)
    except Exception:  # an outage must never let anyone act for an enterprise, nor show a 500
        log.exception("legal-entity register failed")
        return None
