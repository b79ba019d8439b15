"""Real-name verification (实名核验): does a name belong to an identity number, per the
population register (人口库)?

The verifier is a class implementing ``RealNameVerifier`` named in the
``IDENTITY_REALNAME_VERIFIER`` setting (a dotted path; identity imports no app above it). The
default, ``yiwang.exchange.registers.ExchangeRealNameVerifier``, reads the population base data
(人口库, resource A01001) the public-security department shares through the data exchange; a
deployment may name another client (e.g. the public-security identity interface). Until that
base data holds a person, nobody is verified (fail closed); ``yiwang demo`` puts its people there
through the verifier's ``put_demo_records``.

A verifier answers one question and never raises for "no": unreachable registers return
``ok=False`` too, so nothing is ever verified by a fallback.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_VERIFIER = "yiwang.exchange.registers.ExchangeRealNameVerifier"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RealNameResult:
    ok: bool
    # Why not, for logs and operators only: users get one generic refusal, so the answer
    # cannot tell them whether a number exists or who holds it.
    reason: str = ""


class RealNameVerifier(Protocol):
    def verify(self, *, name: str, id_number: str) -> RealNameResult:
        """Whether the register records ``name`` for the (normalised) ``id_number``."""
        ...


def verifier_path() -> str:
    return getattr(settings, "IDENTITY_REALNAME_VERIFIER", DEFAULT_VERIFIER)


def get_verifier() -> RealNameVerifier:
    """The configured verifier (a fresh instance: verifiers hold no request state)."""
    return import_string(verifier_path())()


def verify(*, name: str, id_number: str) -> RealNameResult:
    """Ask the configured verifier; any error of the register client counts as "not verified"."""
    try:
        return get_verifier().verify(name=name, id_number=id_number)
    except Exception:  # a register outage must never verify anyone, nor show a 500
        log.exception("real-name verifier failed")
        return RealNameResult(False, "verifier error")
