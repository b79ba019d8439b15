"""Writes of supervision: entities from the register, the law library, supervision items, draws,
inspections and publication. Each is keyword-only with a required ``actor``, locks what it
changes and appends its audit entry in the same transaction. Refusals are ``SupervisionError``s
with a message for the user (pages show it, the API answers its status).

Who may call what is checked by the callers (``permissions``): these functions trust their
``actor`` to have passed it, except where the rule is the service's own (only an inspector drawn
for an inspection records its result).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalog import selectors as catalog_selectors
from yiwang.core.errors import ServiceError
from yiwang.exchange import basedata
from yiwang.exchange import selectors as exchange_selectors
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Role
from yiwang.lib import workdays
from yiwang.licences import selectors as licence_selectors
from yiwang.supervision import draw
from yiwang.supervision.models import (
    TIERS,
    Clause,
    DrawPlan,
    Inspection,
    InspectionInspector,
    InspectorRelation,
    ItemBasis,
    Law,
    MarketEntity,
    SupervisionItem,
)


class SupervisionError(ServiceError):
    status = 422


class InvalidInput(SupervisionError):  # noqa: N818 — named for what happened
    status = 422


class WrongState(SupervisionError):  # noqa: N818 — named for what happened
    status = 409


class NotAllowed(SupervisionError):  # noqa: N818 — named for what happened
    status = 403


SYNC_BATCH = 5000
REFERENCE = re.compile(r"^\s*([a-z0-9_-]+)\s*[:：]\s*([0-9]+(?:\.[0-9]+)?)\s*$")
INDUSTRIES = frozenset("ABCDEFGHIJKLMNOPQRST")
SCALES = frozenset(v for v in MarketEntity.Scale.values if v)


def inspector_code(official_id: int) -> str:
    """The pseudonymous code a draw publishes for an inspector (no name)."""
    return f"I{official_id}"


# --- market entities ----------------------------------------------------------------------------


def _entity_values(record: Mapping) -> dict | None:
    code = str(record.get("credit_code") or "").strip().upper()
    if len(code) != 18:
        return None
    industry = str(record.get("industry") or "").strip().upper()
    scale = str(record.get("scale") or "").strip().lower()
    established = record.get("established_on")
    try:
        established = dt.date.fromisoformat(str(established)) if established else None
    except ValueError:
        established = None
    status = str(record.get("status") or "")[:16]
    return {
        "credit_code": code,
        "name": str(record.get("name") or "")[:128],
        "region_code": str(record.get("region_code") or "")[:6],
        "industry": industry if industry in INDUSTRIES else "",
        "scale": scale if scale in SCALES else "",
        "registration_status": status,
        "is_active": status in basedata.ACTIVE_STATUSES,
        "established_on": established,
    }


SYNCED_FIELDS = [
    "name",
    "region_code",
    "industry",
    "scale",
    "registration_status",
    "is_active",
    "established_on",
]


def entities_sync(*, actor) -> tuple[int, int]:
    """Copy the market entities from the legal-entity register (A02001, read through the exchange's
    selectors: only fields that are not personal) and link the enterprise accounts of identity with
    the same credit code. Adds the new ones, updates the rest; keeps tier and risk (supervision's
    own). Bulk writes in batches; one transaction; one audit entry. Returns (added, updated)."""
    now = timezone.now()
    added = updated = 0
    with transaction.atomic():
        batch: list[dict] = []

        def flush(rows: list[dict]) -> tuple[int, int]:
            codes = [r["credit_code"] for r in rows]
            existing = {e.credit_code: e for e in MarketEntity.objects.filter(credit_code__in=codes)}
            accounts = identity_selectors.enterprise_ids_by_credit_code(codes)
            new, changed = [], []
            for values in rows:
                found = existing.get(values["credit_code"])
                if found is None:
                    new.append(
                        MarketEntity(
                            **values, enterprise_id=accounts.get(values["credit_code"]), synced_at=now
                        )
                    )
                    continue
                for name in SYNCED_FIELDS:
                    setattr(found, name, values[name])
                found.enterprise_id = accounts.get(values["credit_code"], found.enterprise_id)
                found.synced_at = now
                changed.append(found)
            MarketEntity.objects.bulk_create(new, batch_size=SYNC_BATCH)
            MarketEntity.objects.bulk_update(
                changed, [*SYNCED_FIELDS, "enterprise", "synced_at"], batch_size=SYNC_BATCH
            )
            return len(new), len(changed)

        seen: set[str] = set()
        for record in exchange_selectors.base_rows_public(basedata.LEGAL_ENTITY):
            values = _entity_values(record)
            if values is None or values["credit_code"] in seen:
                continue
            seen.add(values["credit_code"])
            batch.append(values)
            if len(batch) >= SYNC_BATCH:
                a, u = flush(batch)
                added, updated, batch = added + a, updated + u, []
        if batch:
            a, u = flush(batch)
            added, updated = added + a, updated + u
        audit.record(
            actor=actor,
            event="supervision:entity:sync",
            target=("supervision.marketentity", "register"),
            data={"added": added, "updated": updated, "source": basedata.LEGAL_ENTITY},
        )
    return added, updated


def relation_declare(*, official, entity: MarketEntity, reason: str, actor) -> InspectorRelation:
    """Record a declared relation (利害关系) of an inspector with an entity; idempotent."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(_("Say what the relation is."), {"reason": _("This field is required.")})
    with transaction.atomic():
        relation, created = InspectorRelation.objects.get_or_create(
            official=official, entity=entity, defaults={"reason": reason}
        )
        if created:
            audit.record(
                actor=actor,
                event="supervision:relation:declare",
                target=relation,
                data={"official": official.pk, "entity": entity.credit_code},
            )
    return relation


# --- the law library -------------------------------------------------------------------------


def _check_number(number: str) -> str:
    number = (number or "").strip()
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", number):
        raise InvalidInput(
            _("A clause number is an article number, optionally with a paragraph: 55 or 55.2."),
            {"number": _("Enter 55 or 55.2.")},
        )
    return number


def law_create(
    *,
    code: str,
    title: str,
    kind: str = Law.Kind.LAW,
    issuer: str = "",
    clauses: Iterable[tuple[str, str]],
    effective_from: dt.date,
    actor,
) -> Law:
    """Add a law with its clauses (number, text), all in force from ``effective_from``."""
    code, title = (code or "").strip().lower(), (title or "").strip()
    errors = {}
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", code):
        errors["code"] = _("Use 1 to 40 lower-case letters, digits, - or _.")
    elif Law.objects.filter(code=code).exists():
        errors["code"] = _("A law with this code exists already.")
    if not title:
        errors["title"] = _("This field is required.")
    if kind not in Law.Kind.values:
        errors["kind"] = _("Choose one of the kinds offered.")
    if errors:
        raise InvalidInput(_("Some values are not valid."), errors)
    rows = [(_check_number(n), (t or "").strip()) for n, t in clauses]
    if len({n for n, _t in rows}) != len(rows):
        raise InvalidInput(_("Each clause number may appear once."))
    if any(not t for _n, t in rows):
        raise InvalidInput(_("Every clause needs its text."))
    with transaction.atomic():
        law = Law.objects.create(code=code, title=title[:200], kind=kind, issuer=(issuer or "")[:100])
        Clause.objects.bulk_create(
            Clause(law=law, number=n, text=t, effective_from=effective_from) for n, t in rows
        )
        audit.record(
            actor=actor, event="supervision:law:create", target=law, data={"code": code, "clauses": len(rows)}
        )
    return law


def _flag_items_on(clause: Clause) -> int:
    links = ItemBasis.objects.filter(clause=clause)
    item_ids = list(links.values_list("item_id", flat=True))
    links.update(flagged=True)
    SupervisionItem.objects.filter(pk__in=item_ids).update(needs_review=True)
    return len(item_ids)


def clause_amend(*, clause: Clause, text: str, effective_from: dt.date, actor) -> Clause:
    """A new version of a clause in force from ``effective_from``; the old version ends the day
    before. Every item resting on the old version is flagged for review. Returns the new version."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Enter the amended text."), {"text": _("This field is required.")})
    with transaction.atomic():
        clause = Clause.objects.select_for_update().get(pk=clause.pk)
        if not clause.is_current or clause.repealed:
            raise WrongState(_("Only the version in force of a clause can be amended."))
        if effective_from <= clause.effective_from:
            raise InvalidInput(
                _("The amendment must take effect after the version it replaces (from %(day)s).")
                % {"day": clause.effective_from.isoformat()},
                {"effective_from": _("Choose a later date.")},
            )
        clause.effective_until = effective_from - dt.timedelta(days=1)
        clause.save(update_fields=["effective_until"])
        new = Clause.objects.create(
            law=clause.law,
            number=clause.number,
            version=clause.version + 1,
            text=text,
            effective_from=effective_from,
        )
        clause.superseded_by = new
        clause.save(update_fields=["superseded_by"])
        flagged = _flag_items_on(clause)
        audit.record(
            actor=actor,
            event="supervision:clause:amend",
            target=new,
            data={
                "law": clause.law.code,
                "number": clause.number,
                "version": new.version,
                "flagged": flagged,
            },
        )
    return new


def clause_repeal(*, clause: Clause, effective_until: dt.date, actor) -> Clause:
    """Repeal the clause from the day after ``effective_until``; flags every item resting on it."""
    with transaction.atomic():
        clause = Clause.objects.select_for_update().get(pk=clause.pk)
        if not clause.is_current or clause.repealed:
            raise WrongState(_("This clause is no longer in force."))
        if effective_until < clause.effective_from:
            raise InvalidInput(
                _("A clause cannot end before it took effect (%(day)s).")
                % {"day": clause.effective_from.isoformat()},
                {"effective_until": _("Choose a later date.")},
            )
        clause.effective_until, clause.repealed = effective_until, True
        clause.save(update_fields=["effective_until", "repealed"])
        flagged = _flag_items_on(clause)
        audit.record(
            actor=actor,
            event="supervision:clause:repeal",
            target=clause,
            data={"law": clause.law.code, "number": clause.number, "flagged": flagged},
        )
    return clause


def resolve_references(references: Iterable[str]) -> list[Clause]:
    """The clauses in force named by references ``law-code:number`` (e.g. ``food-safety-law:87``).
    Raises InvalidInput naming every reference that is malformed or names no clause in force."""
    found, bad = [], []
    for ref in references:
        ref = str(ref).strip()
        if not ref:
            continue
        m = REFERENCE.match(ref)
        clause = (
            Clause.objects.select_related("law")
            .filter(law__code=m[1], number=m[2], effective_until__isnull=True, repealed=False)
            .first()
            if m
            else None
        )
        if clause is None:
            bad.append(ref)
        else:
            found.append(clause)
    if bad:
        raise InvalidInput(
            _(
                "These clause references name no clause in force: %(refs)s. "
                "Write law-code:article, e.g. %(eg)s."
            )
            % {"refs": "、".join(bad), "eg": "food-safety-law:87"},
            {"basis": _("Check the law code and the article number.")},
        )
    if not found:
        raise InvalidInput(
            _("A supervision item rests on at least one clause of the law library."),
            {"basis": _("This field is required.")},
        )
    return found


def item_create(
    *,
    department,
    code: str,
    name: str,
    basis: Iterable[str],
    kind: str = SupervisionItem.Kind.INSPECTION,
    service_item_codes: Iterable[str] = (),
    region=None,
    implements: SupervisionItem | None = None,
    publish_workdays: int = 20,
    actor,
) -> SupervisionItem:
    """Add a supervision item resting on clauses in force (``basis``: ``law-code:number``
    references) and following catalog service items (their codes). With ``implements`` and
    ``region`` it is an entry of that region's implementation list."""
    code, name = (code or "").strip(), (name or "").strip()
    errors = {}
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", code):
        errors["code"] = _("Use 1 to 40 letters, digits, ., - or _.")
    elif SupervisionItem.objects.filter(code=code).exists():
        errors["code"] = _("An item with this code exists already.")
    if not name:
        errors["name"] = _("This field is required.")
    if kind not in SupervisionItem.Kind.values:
        errors["kind"] = _("Choose one of the kinds offered.")
    if not 1 <= int(publish_workdays) <= 60:
        errors["publish_workdays"] = _("Between 1 and 60 working days.")
    if errors:
        raise InvalidInput(_("Some values are not valid."), errors)
    clauses = resolve_references(basis)
    services, unknown = [], []
    for item_code in {c.strip() for c in service_item_codes if c.strip()}:
        found = catalog_selectors.item_by_code(item_code)
        (services if found is not None else unknown).append(found or item_code)
    if unknown:
        raise InvalidInput(
            _("No service item has the code %(codes)s.") % {"codes": "、".join(sorted(unknown))},
            {"service_items": _("Check the service item codes.")},
        )
    with transaction.atomic():
        item = SupervisionItem.objects.create(
            code=code,
            name=name[:200],
            kind=kind,
            department=department,
            region=region,
            implements=implements,
            publish_workdays=int(publish_workdays),
        )
        ItemBasis.objects.bulk_create(
            ItemBasis(item=item, clause=c) for c in {c.pk: c for c in clauses}.values()
        )
        item.service_items.set(services)
        audit.record(
            actor=actor,
            event="supervision:item:create",
            target=item,
            data={
                "code": code,
                "basis": sorted(c.reference for c in clauses),
                "service_items": sorted(s.code for s in services),
            },
        )
    return item


def item_confirm_basis(*, item: SupervisionItem, actor) -> SupervisionItem:
    """After amendments: move each flagged link to the clause's version in force (dropping links to
    repealed clauses) and clear the flag. Refused when no clause in force would be left."""
    with transaction.atomic():
        item = SupervisionItem.objects.select_for_update().get(pk=item.pk)
        moved, dropped = [], []
        for link in ItemBasis.objects.filter(item=item, flagged=True).select_related("clause__law"):
            current = link.clause
            while current.superseded_by_id is not None:
                current = current.superseded_by
            if current.repealed or not current.is_current:
                dropped.append(link)
                continue
            moved.append((link, current))
        kept = ItemBasis.objects.filter(item=item, flagged=False).count()
        if kept + len(moved) == 0:
            raise WrongState(
                _("Every clause this item rested on was repealed: link it to a clause in force first.")
            )
        for link, current in moved:
            ItemBasis.objects.filter(pk=link.pk).delete()
            ItemBasis.objects.get_or_create(item=item, clause=current)
        ItemBasis.objects.filter(pk__in=[link.pk for link in dropped]).delete()
        item.needs_review = False
        item.save(update_fields=["needs_review"])
        audit.record(
            actor=actor,
            event="supervision:item:confirm",
            target=item,
            data={"moved": len(moved), "dropped": len(dropped)},
        )
    return item


def item_link_clause(*, item: SupervisionItem, reference: str, actor) -> SupervisionItem:
    """Add one clause in force (a ``law-code:number`` reference) to an item's basis."""
    (clause,) = resolve_references([reference])
    with transaction.atomic():
        item = SupervisionItem.objects.select_for_update().get(pk=item.pk)
        _link, created = ItemBasis.objects.get_or_create(item=item, clause=clause)
        if created:
            audit.record(
                actor=actor, event="supervision:item:link", target=item, data={"clause": clause.reference}
            )
    return item


# --- draws ---------------------------------------------------------------------------------------


def _check_ratios(ratios: Mapping) -> dict[str, int]:
    out, errors = {}, {}
    for tier in TIERS:
        raw = ratios.get(tier, 0)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = -1
        if not 0 <= value <= draw.MAX_BASIS_POINTS:
            errors[f"ratio_{tier}"] = _("A ratio is between 0 and 10000 basis points (0% to 100%).")
        out[tier] = value
    unknown = sorted(set(ratios) - set(TIERS))
    if unknown:
        errors["ratios"] = _("Credit tiers are A, B, C and D.")
    if errors:
        raise InvalidInput(_("The sampling ratios are not possible."), errors)
    if not any(out.values()):
        raise InvalidInput(
            _("Every sampling ratio is 0: the plan would draw no entity."),
            {"ratio_B": _("Give at least one tier a ratio above 0.")},
        )
    return out


def plan_create(
    *,
    item: SupervisionItem,
    title: str,
    ratios: Mapping,
    scope_region: str = "",
    scope_industry: str = "",
    post_approval_only: bool = False,
    inspectors_per_entity: int = 2,
    actor,
) -> DrawPlan:
    """A draft plan of the item's department. Ratios are basis points per tier (500 = 5%)."""
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("This field is required.")
    scope_region = (scope_region or "").strip()
    if scope_region and not re.fullmatch(r"[0-9]{2}(?:[0-9]{2}){0,2}", scope_region):
        errors["scope_region"] = _("A region is a division code of 2, 4 or 6 digits (61, 6101, 610102).")
    scope_industry = (scope_industry or "").strip().upper()
    if scope_industry and scope_industry not in INDUSTRIES:
        errors["scope_industry"] = _("An industry is a GB/T 4754 section letter, A to T.")
    try:
        k = int(inspectors_per_entity)
    except (TypeError, ValueError):
        k = 0
    if not 2 <= k <= 10:
        errors["inspectors_per_entity"] = _("At least two inspectors per entity, at most ten.")
    if errors:
        raise InvalidInput(_("Some values are not valid."), errors)
    clean = _check_ratios(ratios)
    with transaction.atomic():
        plan = DrawPlan.objects.create(
            item=item,
            department=item.department,
            title=title[:200],
            scope_region=scope_region,
            scope_industry=scope_industry,
            post_approval_only=bool(post_approval_only),
            ratios=clean,
            inspectors_per_entity=k,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            event="supervision:plan:create",
            target=plan,
            data={
                "item": item.code,
                "ratios": clean,
                "k": k,
                "region": scope_region,
                "industry": scope_industry,
            },
        )
    return plan


def population(plan: DrawPlan):
    """The entities a plan's scope covers (in business, region prefix, industry, post-approval)."""
    qs = MarketEntity.objects.filter(is_active=True)
    if plan.scope_region:
        qs = qs.filter(region_code__startswith=plan.scope_region)
    if plan.scope_industry:
        qs = qs.filter(industry=plan.scope_industry)
    if plan.post_approval_only:
        codes = licence_selectors.enterprise_codes_licensed_for_items(
            plan.item.service_items.values_list("code", flat=True)
        )
        qs = qs.filter(credit_code__in=list(codes))
    return qs


def _last_inspectors(entities) -> dict[int, set[int]]:
    """entity id → the officials of its latest drawn inspection, for the entities of the queryset
    ``entities`` (the same inspector as last time is a conflict)."""
    latest: dict[int, tuple] = {}
    rows = InspectionInspector.objects.filter(
        inspection__plan__drawn_at__isnull=False, inspection__entity__in=entities.values("pk")
    ).values_list("inspection__entity_id", "inspection__plan__drawn_at", "inspection__plan_id", "official_id")
    by_key: dict[tuple, set[int]] = {}
    for entity_id, drawn_at, plan_id, official_id in rows:
        key = (drawn_at, plan_id)
        by_key.setdefault((entity_id, key), set()).add(official_id)
        if entity_id not in latest or key > latest[entity_id]:
            latest[entity_id] = key
    return {entity_id: by_key[(entity_id, key)] for entity_id, key in latest.items()}


def _problem_message(kind: str, value, plan: DrawPlan) -> tuple[str, dict]:
    if kind == "pool":
        return (
            _(
                "The department has %(count)d inspector(s) who can be drawn; this plan needs at least "
                "%(k)d per entity. Grant the inspector role to more officials of the department."
            )
            % {"count": value, "k": plan.inspectors_per_entity},
            {"inspectors_per_entity": _("Not enough inspectors.")},
        )
    if kind == "short":
        shown = "、".join(value[:5]) + ("…" if len(value) > 5 else "")
        return (
            _(
                "%(count)d entities have fewer than %(k)d inspectors without a conflict of interest "
                "(%(codes)s): narrow the scope or add inspectors."
            )
            % {"count": len(value), "k": plan.inspectors_per_entity, "codes": shown},
            {"inspectors_per_entity": _("Too few eligible inspectors.")},
        )
    if kind == "empty":
        return (
            _("The scope and ratios select no entity: widen the scope or raise a ratio."),
            {"scope_region": _("No entity in scope.")},
        )
    return _("The sampling ratios are not possible."), {"ratios": str(value)}


def plan_commit(*, plan: DrawPlan, actor) -> DrawPlan:
    """Fix the plan's inputs: the entities in scope with their tiers, the department's inspectors
    (pseudonymous codes) and the conflicts (declared relations; the inspectors of each entity's
    last inspection). Refuses, saving nothing, when no draw could keep every rule: too few
    inspectors, too few free of conflict for some entity, or ratios that select nobody. Records the
    inputs' digest in the audit log: the seed is derived from a tree head after that entry."""
    with transaction.atomic():
        plan = DrawPlan.objects.select_for_update().select_related("item").get(pk=plan.pk)
        if plan.state != DrawPlan.State.DRAFT:
            raise WrongState(_("This plan's inputs are committed already."))
        scope = population(plan)
        entities = list(scope.values_list("pk", "credit_code", "credit_tier"))
        code_of = {pk: code for pk, code, _tier in entities}
        officials = list(identity_selectors.officials_with_role(plan.department_id, Role.INSPECTOR))
        pool = {o.pk for o in officials}
        conflicts = {
            (inspector_code(official_id), code_of[entity_id])
            for official_id, entity_id in InspectorRelation.objects.filter(
                official_id__in=pool, entity__in=scope.values("pk")
            ).values_list("official_id", "entity_id")
            if entity_id in code_of
        }
        for entity_id, officials_last in _last_inspectors(scope).items():
            if entity_id not in code_of:
                continue
            conflicts |= {(inspector_code(o), code_of[entity_id]) for o in officials_last if o in pool}
        inputs = draw.make_inputs(
            plan=plan.pk,
            ratios=plan.ratios,
            k=plan.inspectors_per_entity,
            entities=[(code, tier) for _pk, code, tier in entities],
            inspectors=[inspector_code(o) for o in pool],
            conflicts=conflicts,
        )
        found = draw.problems(inputs)
        if found:
            message, errors = _problem_message(*found[0], plan)
            raise InvalidInput(message, errors)
        plan.inputs, plan.inputs_digest = draw.pack(inputs), draw.digest(inputs)
        plan.state, plan.committed_at = DrawPlan.State.COMMITTED, timezone.now()
        entry = audit.record(
            actor=actor,
            event="supervision:plan:commit",
            target=plan,
            data={
                "inputs_digest": plan.inputs_digest,
                "entities": len(inputs["entities"]),
                "inspectors": len(inputs["inspectors"]),
                "conflicts": len(inputs["conflicts"]),
            },
        )
        plan.commit_leaf_index = entry.leaf_index
        plan.save(update_fields=["inputs", "inputs_digest", "state", "committed_at", "commit_leaf_index"])
    return plan


def draw_seed(*, plan: DrawPlan, actor) -> DrawPlan:
    """Fix the seed: sign a tree head of the audit log (which includes the plan's commitment entry,
    committed before) and derive the seed from it (``draw.derive_seed``); record both."""
    with transaction.atomic():
        plan = DrawPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != DrawPlan.State.COMMITTED:
            raise WrongState(_("The seed is fixed once, after the plan's inputs are committed."))
        head = audit.tree_head_sign(persist=True)
        if head.tree_size <= plan.commit_leaf_index:
            raise WrongState(_("The audit log does not show the plan's commitment yet; try again."))
        plan.sth_tree_size, plan.sth_timestamp = head.tree_size, head.timestamp
        plan.sth_root_hash = base64.b64encode(head.root_hash).decode()
        plan.sth_signature = base64.b64encode(head.signature).decode()
        plan.sth_key_id = head.key_id
        plan.seed = draw.derive_seed(
            plan=plan.pk,
            inputs_digest=plan.inputs_digest,
            commit_leaf_index=plan.commit_leaf_index,
            tree_size=head.tree_size,
            timestamp=head.timestamp,
            root_hash=head.root_hash,
        )
        plan.state = DrawPlan.State.SEEDED
        entry = audit.record(
            actor=actor,
            event="supervision:draw:seed",
            target=plan,
            data={
                "seed": plan.seed,
                "tree_size": head.tree_size,
                "root_hash": plan.sth_root_hash,
                "timestamp": head.timestamp,
            },
        )
        plan.seed_leaf_index = entry.leaf_index
        plan.save(
            update_fields=[
                "sth_tree_size",
                "sth_timestamp",
                "sth_root_hash",
                "sth_signature",
                "sth_key_id",
                "seed",
                "state",
                "seed_leaf_index",
            ]
        )
    return plan


def draw_run(*, plan: DrawPlan, actor) -> DrawPlan:
    """Run the draw from the committed inputs and the seed, and store every inspection with its
    inspectors, in one transaction with its audit entry: a draw is recorded whole or not at all."""
    with transaction.atomic():
        plan = DrawPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != DrawPlan.State.SEEDED:
            raise WrongState(_("A plan is drawn once, after its seed is fixed."))
        inputs = draw.unpack(plan.inputs)
        try:
            result = draw.run(inputs, plan.seed)
        except draw.DrawInfeasibleError as exc:  # inputs were checked at commit: should not happen
            message, errors = _problem_message(*exc.args[0][0], plan)
            raise InvalidInput(message, errors) from exc
        codes = [a.credit_code for a in result]
        ids: dict[str, int] = {}
        for at in range(0, len(codes), SYNC_BATCH):  # bounded IN lists (SQLite's variable limit)
            ids.update(
                MarketEntity.objects.filter(credit_code__in=codes[at : at + SYNC_BATCH]).values_list(
                    "credit_code", "pk"
                )
            )
        inspections = Inspection.objects.bulk_create(
            [
                Inspection(plan=plan, entity_id=ids[a.credit_code], position=i, tier=a.tier)
                for i, a in enumerate(result, start=1)
            ],
            batch_size=2000,
        )
        if any(i.pk is None for i in inspections):  # backends that return no ids (none here)
            inspections = list(Inspection.objects.filter(plan=plan).order_by("position"))
        InspectionInspector.objects.bulk_create(
            [
                InspectionInspector(inspection=row, official_id=int(code[1:]), position=j)
                for row, a in zip(inspections, result, strict=True)
                for j, code in enumerate(a.inspectors, start=1)
            ],
            batch_size=2000,
        )
        plan.result_digest = draw.digest(draw.result_json(result))
        plan.state, plan.drawn_at = DrawPlan.State.DRAWN, timezone.now()
        entry = audit.record(
            actor=actor,
            event="supervision:draw:run",
            target=plan,
            data={"seed": plan.seed, "result_digest": plan.result_digest, "drawn": len(result)},
        )
        plan.draw_leaf_index = entry.leaf_index
        plan.save(update_fields=["result_digest", "state", "drawn_at", "draw_leaf_index"])
    return plan


def plan_publish(*, plan: DrawPlan, actor) -> DrawPlan:
    """Publish a drawn plan: its inputs, seed, tree head and result become public (一公开)."""
    with transaction.atomic():
        plan = DrawPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != DrawPlan.State.DRAWN:
            raise WrongState(_("Only a drawn plan can be published, once."))
        plan.state, plan.published_at = DrawPlan.State.PUBLISHED, timezone.now()
        plan.save(update_fields=["state", "published_at"])
        audit.record(actor=actor, event="supervision:draw:publish", target=plan, data={"seed": plan.seed})
    return plan


def replay_bundle(plan: DrawPlan) -> dict:
    """What a drawn plan publishes so that anyone can replay it (``draw.replay_bundle``)."""
    return {
        "plan": plan.pk,
        "inputs": draw.unpack(plan.inputs),
        "inputs_digest": plan.inputs_digest,
        "commit_leaf_index": plan.commit_leaf_index,
        "tree_head": {
            "tree_size": plan.sth_tree_size,
            "root_hash": plan.sth_root_hash,
            "timestamp": plan.sth_timestamp,
            "signature": plan.sth_signature,
            "key_id": plan.sth_key_id,
        },
        "seed": plan.seed,
        "seed_leaf_index": plan.seed_leaf_index,
        "draw_leaf_index": plan.draw_leaf_index,
        "result": stored_result(plan),
        "result_digest": plan.result_digest,
    }


def replay(plan: DrawPlan) -> tuple[bool, str]:
    """Recompute a drawn plan from what it publishes; (identical, explanation)."""
    if plan.state not in (DrawPlan.State.DRAWN, DrawPlan.State.PUBLISHED):
        return False, "the plan has not been drawn"
    return draw.replay_bundle(replay_bundle(plan))


def stored_result(plan: DrawPlan) -> list:
    """The stored result of a plan in the draw's JSON form ([[code, tier, [inspectors]], ...])."""
    out: dict[int, list] = {}
    rows = (
        InspectionInspector.objects.filter(inspection__plan=plan)
        .order_by("inspection__position", "position")
        .values_list(
            "inspection__position", "inspection__entity__credit_code", "inspection__tier", "official_id"
        )
    )
    for position, code, tier, official_id in rows:
        out.setdefault(position, [code, tier, []])[2].append(inspector_code(official_id))
    return [out[p] for p in sorted(out)]


# --- inspections ----------------------------------------------------------------------------------


def inspection_record(
    *, inspection: Inspection, result: str, findings: str, inspected_on: dt.date, actor
) -> Inspection:
    """Record the result of an inspection on the spot: only one of its drawn inspectors may. Sets
    the date by which it must be published (the item's working days after the inspection)."""
    errors = {}
    if result not in Inspection.Result.values:
        errors["result"] = _("Choose one of the results offered.")
    findings = (findings or "").strip()[:4000]
    if result in (Inspection.Result.RECTIFY, Inspection.Result.FAIL) and not findings:
        errors["findings"] = _("Say what was found.")
    today = timezone.localdate()
    if inspected_on is None or inspected_on > today:
        errors["inspected_on"] = _("The inspection date cannot be in the future.")
    if errors:
        raise InvalidInput(_("Some values are not valid."), errors)
    with transaction.atomic():
        inspection = Inspection.objects.select_for_update().select_related("plan__item").get(pk=inspection.pk)
        official = getattr(actor, "official", None)
        if official is None or not inspection.assignments.filter(official=official).exists():
            raise NotAllowed(_("Only an inspector drawn for this inspection records its result."))
        if inspection.state != Inspection.State.ASSIGNED:
            raise WrongState(_("The result of this inspection is recorded already."))
        if inspection.plan.drawn_at and inspected_on < timezone.localdate(inspection.plan.drawn_at):
            raise InvalidInput(
                _("The inspection cannot be before the draw."), {"inspected_on": _("Choose a later date.")}
            )
        inspection.result, inspection.findings, inspection.inspected_on = result, findings, inspected_on
        inspection.publish_due = workdays.add_workdays(inspected_on, inspection.plan.item.publish_workdays)
        inspection.state, inspection.recorded_by, inspection.recorded_at = (
            Inspection.State.RECORDED,
            actor,
            timezone.now(),
        )
        inspection.save(
            update_fields=[
                "result",
                "findings",
                "inspected_on",
                "publish_due",
                "state",
                "recorded_by",
                "recorded_at",
            ]
        )
        audit.record(
            actor=actor,
            event="supervision:inspection:record",
            target=inspection,
            data={"plan": inspection.plan_id, "result": result, "inspected_on": inspected_on.isoformat()},
        )
    return inspection


def inspections_publish(*, plan: DrawPlan, actor) -> int:
    """Publish every recorded, unpublished result of a published plan. Returns how many."""
    with transaction.atomic():
        plan = DrawPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.state != DrawPlan.State.PUBLISHED:
            raise WrongState(_("Publish the draw before its results."))
        rows = list(Inspection.objects.select_for_update().filter(plan=plan, state=Inspection.State.RECORDED))
        if not rows:
            raise WrongState(_("No recorded result is waiting to be published."))
        now = timezone.now()
        late = 0
        for row in rows:
            late += bool(row.publish_due and timezone.localdate(now) > row.publish_due)
            row.state, row.published_at = Inspection.State.PUBLISHED, now
        Inspection.objects.bulk_update(rows, ["state", "published_at"])
        audit.record(
            actor=actor,
            event="supervision:inspection:publish",
            target=plan,
            data={"published": len(rows), "late": late},
        )
    return len(rows)
