"""Demo licences: the shipped licence types, and a few licences for the demo citizens and the
demo enterprise so a fresh ``make run`` shows a wallet, the verify page and the departments'
lists at once (one suspended and one revoked, to show those verdicts). Idempotent: a holder
who has a licence of a type gets no second one. Approved demo cases get theirs from the
applications demo (issuance on approval), which runs after this.
"""

from __future__ import annotations

from django.db import transaction

from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Person
from yiwang.licences import services
from yiwang.licences.models import Licence, LicenceType

ACTOR = "system:demo"
# (username or "enterprise", licence type, issuing department, claims, final state)
PLAN = [
    ("citizen", "resident-identity", "610000-GAT", {}, "valid"),
    (
        "citizen",
        "dog-registration",
        "610100-GAT",
        {"keeping_address": "西安市雁塔区演示路8号", "dog": "中华田园犬，黄色，2岁"},
        "valid",
    ),
    (
        "citizen",
        "individual-business-licence",
        "610100-SCJG",
        {"business_address": "西安市雁塔区演示路8号一层", "business_scope": "日用百货零售"},
        "valid",
    ),
    ("citizen2", "resident-identity", "610000-GAT", {}, "valid"),
    ("citizen2", "dog-registration", "610100-GAT", {"dog": "柯基犬，3岁"}, "suspended"),
    ("agent", "resident-identity", "610000-GAT", {}, "valid"),
    ("elder", "resident-identity", "610000-GAT", {}, "valid"),
    ("enterprise", "business-licence", "610100-SCJG", {"business_scope": "餐饮服务；餐饮管理"}, "valid"),
    (
        "enterprise",
        "food-business-licence",
        "610100-SCJG",
        {"business_address": "西安市雁塔区演示路1号", "business_items": "热食类食品制售"},
        "valid",
    ),
    ("enterprise", "drug-business-licence", "610100-SCJG", {"business_mode": "零售"}, "revoked"),
]


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _holder(who: str):
    if who == "enterprise":
        from yiwang.identity.demo import DEMO_ENTERPRISE
        from yiwang.lib.uscc import make_credit_code

        _name, region, seq = DEMO_ENTERPRISE
        return identity_selectors.enterprise_by_credit_code(make_credit_code(region, seq))
    return Person.objects.filter(user__username=who).first()


def build_types(*, stdout=None) -> int:
    """The licence types (before the applications demo approves cases that issue them)."""
    changed = services.licence_types_sync(actor=ACTOR)
    _say(stdout, f"Licence types: {LicenceType.objects.count()} ({changed} changed).")
    return changed


@transaction.atomic
def build(*, stdout=None) -> int:
    """The types and the demo holders' licences; returns how many licences were added."""
    build_types(stdout=stdout)
    types = {lt.code: lt for lt in LicenceType.objects.all()}
    added = 0
    for who, code, department_code, claims, state in PLAN:
        holder, department = _holder(who), identity_selectors.department_by_code(department_code)
        if holder is None or department is None:
            continue
        owned = Licence.objects.filter(type=types[code])
        owned = (
            owned.filter(holder_enterprise=holder)
            if who == "enterprise"
            else owned.filter(holder_person=holder)
        )
        if owned.exists():
            continue
        licence = services.licence_issue(
            licence_type=types[code], holder=holder, department=department, claims=claims, actor=ACTOR
        )
        if state == "suspended":
            services.licence_suspend(licence=licence, actor=ACTOR, reason="演示：停业整顿期间暂停")
        elif state == "revoked":
            services.licence_revoke(licence=licence, actor=ACTOR, reason="演示：依法注销")
        added += 1
    _say(stdout, f"Demo licences: {added} issued, {Licence.objects.count()} in all.")
    return added
