"""Real-name verification (实名核验): does a name belong to an identity number, per the
population register (人口库)?

A deployment plugs in its register client — the province's 人口库, or the public-security
identity interface reached through the data-sharing exchange — as a class implementing
``RealNameVerifier`` and names it in the ``IDENTITY_REALNAME_VERIFIER`` setting (a dotted
path). The default, ``DemoRegisterVerifier``, checks the demo resident register that
``yiwang demo`` builds (``ResidentRecord``); outside development that table is empty, so every
check fails (closed) and the deploy check ``identity.W001`` says to configure a real client.

A verifier answers one question and never raises for "no": unreachable registers return
``ok=False`` too, so nothing is ever verified by a fallback.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.identity import pii

DEFAULT_VERIFIER = "yiwang.identity.realname.DemoRegisterVerifier"
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


class DemoRegisterVerifier:
    """Checks the demo resident register built by ``yiwang demo``. Never use in production."""

    def verify(self, *, name: str, id_number: str) -> RealNameResult:
        from yiwang.identity.models import ResidentRecord

        record = ResidentRecord.objects.filter(id_number_index=pii.id_number_index(id_number)).first()
        if record is None:
            return RealNameResult(False, "not in the register")
        if record.name != (name or "").strip():
            return RealNameResult(False, "name does not match")
        return RealNameResult(True)


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
