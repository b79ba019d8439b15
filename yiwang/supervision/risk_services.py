"""Writes of risk warnings: a scan raises warnings as tasks, each then moves along
``risk_workflow.TRANSITIONS`` (派发 → 处置 → 反馈 → 办结). Audited; keyword-only with ``actor``."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.identity.models import Role
from yiwang.identity.permissions import has_role
from yiwang.lib import workdays
from yiwang.licences import selectors as licence_selectors
from yiwang.supervision import feedback_source, risk, risk_workflow
from yiwang.supervision.models import Inspection, MarketEntity, RiskWarning
from yiwang.supervision.permissions import may_manage
from yiwang.supervision.services import InvalidInput, NotAllowed, WrongState

# working days to handle a warning, by rule
DUE_WORKDAYS = {
    RiskWarning.Rule.EXPIRED_COMPLAINTS: 10,
    RiskWarning.Rule.FAILED_INSPECTIONS: 10,
    RiskWarning.Rule.COMPLAINT_SPIKE: 5,
    RiskWarning.Rule.ANOMALY: 3,
}


def region_prefix(department) -> str:
    """The division-code prefix a department's region covers ("61", "6101", "610102")."""
    code = department.region.code
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _raise(*, key, rule, department, today, now, actor, entity=None, region_code="", topic="", detail=None):
    """One warning, unless one with the same key exists (then None). Savepoint: a concurrent scan
    that raised it first leaves this one out, not the whole scan."""
    if RiskWarning.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            warning = RiskWarning.objects.create(
                key=key,
                rule=rule,
                entity=entity,
                department=department,
                region_code=region_code or (entity.region_code if entity else ""),
                topic=topic,
                detail=detail or {},
                due_date=workdays.add_workdays(today, DUE_WORKDAYS[rule]),
                opened_at=now,
            )
    except IntegrityError:
        return None
    audit.record(
        actor=actor,
        event="supervision:warning:raise",
        target=warning,
        data={"rule": rule, "key": key, "due": warning.due_date.isoformat()},
    )
    return warning


@transaction.atomic
def warnings_scan(*, department, actor, today: dt.date | None = None, source=None) -> list[RiskWarning]:
    """Run every rule and the detector over the entities and areas in ``department``'s region and
    raise what they find as warnings dispatched to ``department`` (idempotent: the same finding in
    the same period is raised once). ``source``: the feedback source (default: the configured one;
    the demo passes its own). Returns the warnings raised now."""
    today = today or timezone.localdate()
    now = timezone.now()
    prefix = region_prefix(department)
    source = source or feedback_source.source()
    raised: list[RiskWarning | None] = []
    entities = {e.credit_code: e for e in MarketEntity.objects.filter(region_code__startswith=prefix)}
    month = today.strftime("%Y-%m")

    problems = licence_selectors.enterprise_licence_problems(entities)
    expired = {code: exp for code, (_rev, exp) in problems.items() if exp}
    if expired:
        complaints = source.complaints(list(expired), since=today - dt.timedelta(days=risk.COMPLAINT_DAYS))
        for code, detail in risk.expired_with_complaints(expired, complaints).items():
            raised.append(
                _raise(
                    key=f"expired_complaints:{code}:{month}",
                    rule=RiskWarning.Rule.EXPIRED_COMPLAINTS,
                    department=department,
                    entity=entities[code],
                    detail=detail,
                    today=today,
                    now=now,
                    actor=actor,
                )
            )
    since = today - dt.timedelta(days=risk.FAILED_DAYS)
    results = Inspection.objects.filter(
        entity__region_code__startswith=prefix, result__in=risk.FAILED_RESULTS, inspected_on__gte=since
    ).values_list("entity__credit_code", "result", "inspected_on")
    for code, n in risk.repeated_failures(results, today=today).items():
        raised.append(
            _raise(
                key=f"failed_inspections:{code}:{month}",
                rule=RiskWarning.Rule.FAILED_INSPECTIONS,
                department=department,
                entity=entities[code],
                detail={"failed": n},
                today=today,
                now=now,
                actor=actor,
            )
        )
    horizon = max(risk.SPIKE_DAYS + risk.BASELINE_DAYS, risk.WINDOW + 1)
    counts = [
        c
        for c in source.daily_counts(since=today - dt.timedelta(days=horizon), until=today)
        if c.region_code.startswith(prefix)
    ]
    by_area = [(RiskWarning.Rule.COMPLAINT_SPIKE, f) for f in risk.spikes(counts, today=today)]
    by_area += [
        (RiskWarning.Rule.ANOMALY, {**f, "p": float(f"{f['p']:.3g}"), "z": round(f["z"], 2)})
        for f in risk.anomalies(counts, today=today)
    ]
    for rule, found in by_area:
        raised.append(
            _raise(
                key=f"{rule}:{found['region_code']}:{found['topic']}:{today.isoformat()}"[:120],
                rule=rule,
                department=department,
                region_code=found["region_code"],
                topic=found["topic"][:64],
                detail=found,
                today=today,
                now=now,
                actor=actor,
            )
        )
    return [w for w in raised if w is not None]


def may_act(user, warning: RiskWarning, after: str) -> bool:
    """Whether ``user`` may move ``warning`` to ``after`` (the table's role for that step)."""
    who = risk_workflow.TRANSITIONS.get((warning.state, after), ("manager",))[0]
    if may_manage(user, warning.department):
        return True
    return who == "inspector" and has_role(user, Role.INSPECTOR, warning.department)


@transaction.atomic
def warning_move(*, warning: RiskWarning, to: str, note: str = "", actor) -> RiskWarning:
    """Move the warning's task one step along ``risk_workflow.TRANSITIONS``; a step the table does
    not have is refused (409), one it does not give ``actor`` too (403), a missing note (422)."""
    warning = RiskWarning.objects.select_for_update().get(pk=warning.pk)
    if not risk_workflow.may_transition(warning.state, to):
        raise WrongState(_("This warning cannot move to that step from where it is."))
    if not may_act(actor, warning, to):
        raise NotAllowed(_("You may not take this step for this warning."))
    _who, needs_note, _label = risk_workflow.TRANSITIONS[(warning.state, to)]
    text = (note or "").strip()
    if needs_note and not text:
        raise InvalidInput(
            _("The step was not taken: correct the fields marked."),
            {"note": _("Write what was found and done.")},
        )
    before = warning.state
    warning.state = to
    if text:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        warning.note = (f"{warning.note}\n" if warning.note else "") + f"[{stamp}] {text}"[:2000]
    if to == risk_workflow.CLOSED:
        warning.closed_at = timezone.now()
    warning.save(update_fields=["state", "note", "closed_at"])
    audit.record(
        actor=actor,
        event="supervision:warning:move",
        target=warning,
        data={"from": before, "to": to},
    )
    return warning
