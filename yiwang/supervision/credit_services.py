"""Writes of credit supervision (docs/supervision.md § Credit): penalties, score recomputation,
the serious-dishonesty list (严重失信主体名单) and credit repair (信用修复).

Like ``services``: keyword-only with a required ``actor``, locking what they change, one audit
entry in the same transaction, refusals as ``SupervisionError``. Every list change also writes the
entity's row of the exchange's base resource A03001 in the same transaction, which is how other
apps (applications: no 秒批 for a listed enterprise) learn of it without importing supervision.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.exchange import basedata
from yiwang.identity.permissions import agencies_of
from yiwang.licences import selectors as licence_selectors
from yiwang.supervision import credit, feedback_source
from yiwang.supervision.models import (
    CreditScore,
    DishonestyEntry,
    Inspection,
    MarketEntity,
    Penalty,
    RepairApplication,
)
from yiwang.supervision.services import InvalidInput, NotAllowed, WrongState

BATCH = 5000


# --- penalties --------------------------------------------------------------------------------------


@transaction.atomic
def penalty_record(
    *,
    entity: MarketEntity,
    department,
    decision_number: str,
    decided_on: dt.date,
    kind: str,
    amount,
    is_public: bool = True,
    actor,
) -> Penalty:
    """Record a penalty decision and recompute the entity's credit. Refuses an unknown kind, a
    negative or malformed amount, a decision date in the future or a number already recorded."""
    errors = {}
    number = (decision_number or "").strip()
    if not number or len(number) > 64:
        errors["decision_number"] = _("Give the decision number (at most 64 characters).")
    elif Penalty.objects.filter(decision_number=number).exists():
        errors["decision_number"] = _("A penalty with this decision number is already recorded.")
    if kind not in Penalty.Kind.values:
        errors["kind"] = _("Choose one of the kinds listed.")
    try:
        value = Decimal(str(amount or 0))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        errors["amount"] = _("Give the amount in yuan as a number of at least 0.")
    if decided_on is None or decided_on > timezone.localdate():
        errors["decided_on"] = _("Give the date of the decision (not in the future).")
    if errors:
        raise InvalidInput(_("The penalty was not recorded: correct the fields marked."), errors)
    penalty = Penalty.objects.create(
        entity=entity,
        department=department,
        decision_number=number,
        decided_on=decided_on,
        kind=kind,
        amount=value.quantize(Decimal("0.01")),
        is_public=is_public,
    )
    audit.record(
        actor=actor,
        event="supervision:penalty:record",
        target=penalty,
        data={"entity": entity.credit_code, "kind": kind, "public": is_public},
    )
    credit_recompute(entity_ids=[entity.pk], actor=actor)
    return penalty


# --- scores ------------------------------------------------------------------------------------------


def _records_for(entities: list[tuple[int, str]], today: dt.date) -> dict[int, credit.Records]:
    """The scoring records of ``entities`` ((id, credit code) pairs): a constant number of queries."""
    ids = [pk for pk, _code in entities]
    code_of = dict(entities)
    out = {pk: credit.Records() for pk in ids}
    since = today - dt.timedelta(days=credit.WINDOW_DAYS)
    for entity_id, pk, result, on in Inspection.objects.filter(
        entity_id__in=ids, result__gt="", inspected_on__gte=since
    ).values_list("entity_id", "pk", "result", "inspected_on"):
        out[entity_id].inspections.append((f"#{pk}", result, on))
    for entity_id, number, kind, amount, on in Penalty.objects.filter(
        entity_id__in=ids, decided_on__gte=since
    ).values_list("entity_id", "decision_number", "kind", "amount", "decided_on"):
        out[entity_id].penalties.append((number, kind, amount, on))
    for entity_id, number in DishonestyEntry.objects.filter(
        entity_id__in=ids, state=DishonestyEntry.State.LISTED
    ).values_list("entity_id", "decision_number"):
        out[entity_id].listed.append(number)
    by_code = {code: pk for pk, code in entities}
    for code, (revoked, expired) in licence_selectors.enterprise_licence_problems(by_code).items():
        out[by_code[code]].licences_revoked, out[by_code[code]].licences_expired = revoked, expired
    source = feedback_source.source()
    fb_since = today - dt.timedelta(days=credit.COMPLAINT_DAYS)
    codes = [code_of[pk] for pk in ids]
    for code, count in source.complaints(codes, since=fb_since).items():
        if code in by_code:
            out[by_code[code]].complaints = int(count)
    for code, pair in source.ratings(codes, since=fb_since).items():
        if code in by_code:
            out[by_code[code]].ratings = (int(pair[0]), int(pair[1]))
    return out


def _recompute_batch(entities: list[tuple[int, str, str]], *, today, now, actor) -> list[list[str]]:
    """Score one batch of (id, code, tier) and write it; returns [[code, old tier, new tier], …]."""
    records = _records_for([(pk, code) for pk, code, _t in entities], today)
    rows, moved, changes = [], [], []
    for pk, code, old_tier in entities:
        total, tier, lines = credit.score(records[pk], today=today)
        rows.append(CreditScore(entity_id=pk, score=total, tier=tier, explanation=lines, computed_at=now))
        if tier != old_tier:
            moved.append((pk, tier))
            changes.append([code, old_tier, tier])
    # replace the batch's scores: a delete and one insert (a bulk UPDATE of 5,000 JSON rows is a
    # CASE per row and far slower; the batch's entities are locked, nobody reads half of it)
    CreditScore.objects.filter(entity_id__in=list(records)).delete()
    CreditScore.objects.bulk_create(rows, batch_size=BATCH)
    for tier in {t for _pk, t in moved}:  # one UPDATE per new tier
        MarketEntity.objects.filter(pk__in=[pk for pk, t in moved if t == tier]).update(credit_tier=tier)
    if changes:
        audit.record(
            actor=actor,
            event="supervision:credit:change",
            target=("supervision.marketentity", moved[0][0]) if len(moved) == 1 else None,
            data={"changes": changes},
        )
    return changes


def credit_recompute(*, entity_ids=None, actor) -> tuple[int, int]:
    """Recompute the credit score, tier and explanation of the entities ``entity_ids`` (all when
    None) from their records, and set ``MarketEntity.credit_tier`` (what a draw reads). Tier
    changes are audited (``supervision:credit:change``, one entry per batch of up to 5,000
    entities, listing [credit code, old tier, new tier]). Each batch is one transaction holding
    its entities locked; a failing source (feedback) stops the run with nothing of that batch
    written. Returns (entities scored, tiers changed)."""
    today, now = timezone.localdate(), timezone.now()
    scored = changed = 0
    last = 0
    while True:
        with transaction.atomic():
            qs = MarketEntity.objects.filter(pk__gt=last).order_by("pk")
            if entity_ids is not None:
                qs = qs.filter(pk__in=list(entity_ids))
            batch = list(qs.select_for_update().values_list("pk", "credit_code", "credit_tier")[:BATCH])
            if not batch:
                return scored, changed
            changed += len(_recompute_batch(batch, today=today, now=now, actor=actor))
        scored += len(batch)
        last = batch[-1][0]


# --- the serious-dishonesty list ----------------------------------------------------------------------


def _publish_row(entry: DishonestyEntry, *, actor) -> None:
    """The entity's row of A03001 as the list now stands (inside the caller's transaction)."""
    listed = entry.state == DishonestyEntry.State.LISTED
    basedata.put_records(
        basedata.DISHONESTY_LIST,
        [
            {
                "credit_code": entry.entity.credit_code,
                "name": entry.entity.name,
                "listed": listed,
                "basis": entry.basis,
                "department": entry.department.name,
                "decision_number": entry.decision_number,
                "listed_on": entry.listed_on.isoformat(),
                "removed_on": entry.removed_on.isoformat() if entry.removed_on else None,
            }
        ],
        actor=actor,
        provider=entry.department,
    )


MIN_TERM_DAYS = 365  # the shortest time on the list before repair may be applied for


@transaction.atomic
def list_add(
    *,
    entity: MarketEntity,
    department,
    basis: str,
    reason: str,
    decision_number: str,
    listed_on: dt.date,
    repair_from: dt.date | None = None,
    actor,
) -> DishonestyEntry:
    """Put ``entity`` on the serious-dishonesty list by a decision of ``department``; publishes it
    in A03001 and recomputes the entity's credit (tier D), in one transaction. Refuses an entity
    already listed, missing basis, reason or number, and dates out of order."""
    entity = MarketEntity.objects.select_for_update().get(pk=entity.pk)
    errors = {}
    if not (basis or "").strip():
        errors["basis"] = _("Name the legal basis (law and article).")
    if not (reason or "").strip():
        errors["reason"] = _("State the facts of the serious dishonesty.")
    if not (decision_number or "").strip():
        errors["decision_number"] = _("Give the number of the decision.")
    if listed_on is None or listed_on > timezone.localdate():
        errors["listed_on"] = _("Give the date of the decision (not in the future).")
    if repair_from is None and listed_on is not None:
        repair_from = listed_on + dt.timedelta(days=MIN_TERM_DAYS)
    if listed_on is not None and repair_from is not None and repair_from < listed_on:
        errors["repair_from"] = _("Repair cannot be open before the entity is listed.")
    if errors:
        raise InvalidInput(_("The entity was not listed: correct the fields marked."), errors)
    if DishonestyEntry.objects.filter(entity=entity, state=DishonestyEntry.State.LISTED).exists():
        raise WrongState(_("This entity is already on the serious-dishonesty list."))
    entry = DishonestyEntry.objects.create(
        entity=entity,
        department=department,
        basis=basis.strip()[:300],
        reason=reason.strip(),
        decision_number=decision_number.strip()[:64],
        listed_on=listed_on,
        repair_from=repair_from,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _publish_row(entry, actor=actor)
    audit.record(
        actor=actor,
        event="supervision:list:add",
        target=entry,
        data={"entity": entity.credit_code, "decision": entry.decision_number, "basis": entry.basis},
    )
    credit_recompute(entity_ids=[entity.pk], actor=actor)
    return entry


def may_apply_for_repair(user, entry: DishonestyEntry) -> bool:
    """The entity's legal representative or one of its agents (from identity's delegations)."""
    return agencies_of(user).filter(enterprise__credit_code=entry.entity.credit_code).exists()


@transaction.atomic
def repair_apply(*, entry: DishonestyEntry, statement: str, actor) -> RepairApplication:
    """Apply for credit repair of a listed entry: only the entity's legal representative or agent,
    from the entry's repair date on, with a statement of what was corrected; one pending at a time."""
    entry = DishonestyEntry.objects.select_for_update().select_related("entity").get(pk=entry.pk)
    if not may_apply_for_repair(actor, entry):
        raise NotAllowed(_("Only the entity's legal representative or its agent may apply for repair."))
    if entry.state != DishonestyEntry.State.LISTED:
        raise WrongState(_("This entry is no longer on the list."))
    if timezone.localdate() < entry.repair_from:
        raise WrongState(
            _("Repair may be applied for from %(date)s.") % {"date": entry.repair_from.isoformat()}
        )
    text = (statement or "").strip()
    if len(text) < 10 or len(text) > 4000:
        raise InvalidInput(
            _("The application was not made: correct the fields marked."),
            {"statement": _("Describe what was corrected (10 to 4,000 characters).")},
        )
    if entry.repairs.filter(state=RepairApplication.State.PENDING).exists():
        raise WrongState(_("An application for this entry is already waiting for a decision."))
    application = RepairApplication.objects.create(entry=entry, applicant=actor, statement=text)
    audit.record(
        actor=actor,
        event="supervision:repair:apply",
        target=application,
        data={"entry": entry.pk},
    )
    return application


@transaction.atomic
def repair_decide(*, application: RepairApplication, approve: bool, note: str, actor) -> RepairApplication:
    """Decide a repair application (the caller checked that ``actor`` manages the entry's
    department). Approving removes the entry from the list (it stays, as removed, in the history),
    publishes the removal in A03001 and recomputes the entity's credit; refusing needs a reason."""
    application = RepairApplication.objects.select_for_update().get(pk=application.pk)
    entry = (
        DishonestyEntry.objects.select_for_update()
        .select_related("entity", "department")
        .get(pk=application.entry_id)
    )
    if application.state != RepairApplication.State.PENDING:
        raise WrongState(_("This application has already been decided."))
    text = (note or "").strip()
    if not approve and not text:
        raise InvalidInput(
            _("The decision was not recorded: correct the fields marked."),
            {"note": _("Give the reason for refusing.")},
        )
    now = timezone.now()
    application.state = RepairApplication.State.APPROVED if approve else RepairApplication.State.REFUSED
    application.decided_by, application.decided_at, application.decision_note = actor, now, text[:4000]
    application.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if approve:
        entry.state, entry.removed_on = DishonestyEntry.State.REMOVED, timezone.localdate(now)
        entry.save(update_fields=["state", "removed_on"])
        _publish_row(entry, actor=actor)
    audit.record(
        actor=actor,
        event="supervision:repair:approve" if approve else "supervision:repair:refuse",
        target=application,
        data={"entry": entry.pk, "entity": entry.entity.credit_code},
    )
    if approve:
        audit.record(
            actor=actor,
            event="supervision:list:remove",
            target=entry,
            data={"entity": entry.entity.credit_code, "repair": application.pk},
        )
        credit_recompute(entity_ids=[entry.entity_id], actor=actor)
    return application
