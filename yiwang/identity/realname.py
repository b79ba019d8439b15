"""Real-name verification (实名核验) of a person's name against their identity number.

Production plugs in the public-security identity interface (公安部公民身份信息核验服务, usually
reached through the province's data-sharing exchange) as a class implementing
``RealNameVerifier`` and names it in the ``IDENTITY_REALNAME_VERIFIER`` setting (a dotted path).
The default is ``FakeRealNameVerifier``: deterministic and offline, it checks that the
identity number is well-formed (check digit, date, region) and that a name is present. The
system check ``identity.W001`` warns when the fake is configured outside development.
"""

import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from yiwang.lib.idnumbers import validate_id_number

DEFAULT_VERIFIER = "yiwang.identity.realname.FakeRealNameVerifier"
_NAME = re.compile(r"^[^\d\s<>{}\[\]\\/@#$%^&*=+|~`]{2,64}$")


@dataclass(frozen=True, slots=True)
class RealNameResult:
    ok: bool
    reason: str = ""


class RealNameVerifier(Protocol):
    def verify(self, *, name: str, id_number: str) -> RealNameResult:
        """Whether the name belongs to the identity number; ``reason`` says why not, for the user."""
        ...


class FakeRealNameVerifier:
    """Offline stand-in: well-formed number + plausible name. Never use in production."""

    def verify(self, *, name: str, id_number: str) -> RealNameResult:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            return RealNameResult(False, exc.messages[0])
        if not _NAME.match(name.strip()):
            return RealNameResult(False, _("Enter your name as it is written on your identity card."))
        return RealNameResult(True)


def verifier_path() -> str:
    return getattr(settings, "IDENTITY_REALNAME_VERIFIER", DEFAULT_VERIFIER)


def get_verifier() -> RealNameVerifier:
    """The configured verifier (a fresh instance: verifiers hold no request state)."""
    return import_string(verifier_path())()
