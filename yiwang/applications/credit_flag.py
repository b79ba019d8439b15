"""Joint punishment (联合惩戒) of the serious-dishonesty list (严重失信主体名单) in applications.

The list is kept by supervision and published as the exchange's base resource A03001; this
module reads it through ``exchange.selectors`` (applications never imports supervision). For a
case made for an enterprise:

- listed: the case is flagged to the handling official with the list's basis and deciding
  department, and goes to a person at submission (``services._submit`` halts it with reason
  ``credit``): it is never decided by 秒批;
- the list cannot be read: a 秒批 decision would be made blind, so a case the rules would decide
  goes to a person too, with that reason (fail closed); a case for people to decide anyway goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from yiwang.exchange import selectors as exchange_selectors


@dataclass(frozen=True)
class CreditFlag:
    listed: bool  # False: the lookup failed
    message: str


def flag_for(case) -> CreditFlag | None:
    """The flag of ``case`` (None: not for an enterprise, or the enterprise is not listed)."""
    enterprise = getattr(case, "enterprise", None) if case.enterprise_id else None
    if enterprise is None:
        return None
    try:
        entry = exchange_selectors.dishonesty_listed(enterprise.credit_code)
    except exchange_selectors.ListLookupFailed:
        return CreditFlag(
            False,
            _(
                "The serious-dishonesty list could not be checked for %(name)s: the rules may not "
                "decide this application; check the list and decide it by hand."
            )
            % {"name": enterprise.name},
        )
    if entry is None:
        return None
    return CreditFlag(
        True,
        _(
            "%(name)s is on the serious-dishonesty list (decided by %(department)s on %(date)s, "
            "basis: %(basis)s, decision %(number)s): joint punishment applies; this application "
            "is not decided by instant approval."
        )
        % {
            "name": enterprise.name,
            "department": entry.get("department") or "—",
            "date": entry.get("listed_on") or "—",
            "basis": entry.get("basis") or "—",
            "number": entry.get("decision_number") or "—",
        },
    )
