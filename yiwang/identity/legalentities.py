"""The legal-entity register (法人库): which enterprises exist and who represents them.

Enterprises and their legal representatives come from here, never from what an applicant
types. The register is a class implementing ``LegalEntityRegister`` named in
``IDENTITY_LEGAL_ENTITY_REGISTER`` (a dotted path; identity imports no app above it). The
default, ``yiwang.exchange.registers.ExchangeLegalEntityRegister``, reads the legal-entity base
data (法人库, resource A02001) market regulation shares through the data exchange; until it holds
an enterprise, nobody can act for it (fail closed).
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.identity import pii

DEFAULT_REGISTER = "yiwang.exchange.registers.ExchangeLegalEntityRegister"
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
