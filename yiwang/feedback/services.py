"""Writes of 12345 feedback: filing, routing, acceptance, transfer, reply, rating, closing, and the
routing rules departments keep.

Each write locks the item it changes, checks the transition (``workflow``), saves with
``update_fields`` and appends to the audit log in the same transaction. The public audit leaf
never names the filer: the entries carry the item's number, kind, category, region and
department, never the account, the contact, the address or the point.

Refusals raise ``errors.FeedbackError`` subclasses with a message in the active language saying
what to fix, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.feedback import classifier, photos, selectors, workflow
from yiwang.feedback.errors import InvalidInput, NotAllowed, TooLarge, WrongState
from yiwang.feedback.models import Category, Item, Photo, RoutingRule, Transfer
from yiwang.feedback.permissions import handles, may_keep_rules, may_route
from yiwang.identity.models import Department, Region
from yiwang.lib import workdays
from yiwang.lib.uscc import validate_credit_code

MIN_TEXT = 5
MAX_TEXT = 2000
MAX_REPLY = 4000
MIN_REASON = 4
# Same place: within this many metres, or the same address text.
REPEAT_RADIUS_M = 150


def _transition(item: Item, new: str) -> None:
    try:
        workflow.ensure_transition(item.status, new)
    except workflow.TransitionNotAllowed as exc:
        raise WrongState(
            _("This item is “%(status)s”; that cannot be done now.") % {"status": item.get_status_display()}
        ) from exc


def _decimal(value, low: int, high: int, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter a number of degrees, e.g. 34.26.")
        return None
    if not number.is_finite() or not low <= number <= high:
        errors[field] = _("Enter a value between %(low)d and %(high)d.") % {"low": low, "high": high}
        return None
    return number.quantize(Decimal("0.000001"))


def _distance_m(a: Item, lat: Decimal, lon: Decimal) -> float:
    """Great-circle distance (haversine) between an item's point and (lat, lon), in metres."""
    p1, p2 = math.radians(float(a.latitude)), math.radians(float(lat))
    dp, dl = p2 - p1, math.radians(float(lon) - float(a.longitude))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def find_repeat(
    *, filer, category: str, region: Region, address: str, latitude, longitude, at: dt.datetime
) -> Item | None:
    """The first item of a repeat chain this new one repeats: the same filer, or the same place
    (address, or a point within ``REPEAT_RADIUS_M``), with the same category, filed within
    ``workflow.REPEAT_WINDOW_DAYS``. None when there is none (or no category to compare)."""
    if not category:
        return None
    recent = Item.objects.filter(
        category=category, filed_at__gte=at - dt.timedelta(days=workflow.REPEAT_WINDOW_DAYS)
    ).order_by("filed_at", "pk")
    found = None
    if filer is not None:
        found = recent.filter(filer=filer).first()
    if found is None and address:
        found = recent.filter(region=region, address=address).first()
    if found is None and latitude is not None and longitude is not None:
        span = Decimal("0.002")  # about 200 m: a box first, then the exact distance
        near = recent.filter(
            latitude__range=(latitude - span, latitude + span),
            longitude__range=(longitude - span, longitude + span),
        )
        found = next((i for i in near[:50] if _distance_m(i, latitude, longitude) <= REPEAT_RADIUS_M), None)
    if found is not None and found.repeat_of_id is not None:
        return found.repeat_of
    return found


@transaction.atomic
def item_file(
    *,
    kind: str,
    text: str,
    region: Region | None,
    actor,
    category: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    uploads: Sequence[tuple[str, bytes]] = (),
    case=None,
    entity_credit_code: str = "",
    source: str = Item.Source.WEB,
    client=None,
    contact: dict | None = None,
) -> Item:
    """File a complaint, suggestion or consultation. ``actor``: the signed-in filer (a User), or
    for ``source=open311`` the client's API credential (then ``filer`` stays empty and
    ``contact`` holds what the client sent). ``uploads``: (name, bytes) photos, re-encoded
    without metadata. ``case``: a case of the filer's the item is about.

    The classifier's suggestion (category, department, the words that weighed most) is stored
    for the routing officer; a repeat (same filer or same place, same category, within the
    window) is linked to the first item of its chain. Audited ``feedback:item:file``."""
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if kind not in Item.Kind.values:
        errors["kind"] = _("Choose complaint, suggestion or consultation.")
    if len(text) < MIN_TEXT:
        errors["text"] = _("Say in at least %(n)d characters what happened or what you suggest.") % {
            "n": MIN_TEXT
        }
    elif len(text) > MAX_TEXT:
        errors["text"] = _("Use at most %(n)d characters.") % {"n": MAX_TEXT}
    if category and category not in Category.values:
        errors["category"] = _("Choose a category from the list, or leave it for us to choose.")
    if region is None:
        errors["region"] = _("Choose the district where it happened.")
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = _("Use at most %(n)d characters.") % {"n": 200}
    lat = _decimal(latitude, -90, 90, "latitude", errors)
    lon = _decimal(longitude, -180, 180, "longitude", errors)
    if (lat is None) != (lon is None) and "latitude" not in errors and "longitude" not in errors:
        missing = "longitude" if lon is None else "latitude"
        errors[missing] = _("Give both latitude and longitude, or neither.")
    code = (entity_credit_code or "").strip()
    if code:
        try:
            code = validate_credit_code(code)
        except ValidationError as exc:
            errors["entity_credit_code"] = exc.messages[0]
    filer = actor if source != Item.Source.OPEN311 else None
    if case is not None and (filer is None or case.applicant_id != filer.pk):
        errors["case"] = _("Link only a case of your own.")
    if len(uploads) > photos.MAX_PHOTOS:
        errors["photos"] = _("Attach at most %(n)d photos.") % {"n": photos.MAX_PHOTOS}
    cleaned = []
    if "photos" not in errors:
        for name, data in uploads:
            try:
                cleaned.append(photos.clean(data, name=name))
            except photos.PhotoRefused as exc:
                if len(data) > photos.MAX_BYTES:
                    raise TooLarge(exc.message, {"photos": exc.message}) from exc
                errors["photos"] = exc.message
                break
    if errors:
        raise InvalidInput(next(iter(errors.values())), errors)
    now = timezone.now()
    suggestion = classifier.suggest(text)
    suggested_department = selectors.department_for(suggestion.category, region)
    contact = contact or {}
    repeat_of = find_repeat(
        filer=filer,
        category=category or suggestion.category,
        region=region,
        address=address,
        latitude=lat,
        longitude=lon,
        at=now,
    )
    item = Item.objects.create(
        kind=kind,
        text=text,
        category=category,
        region=region,
        address=address,
        latitude=lat,
        longitude=lon,
        filer=filer,
        source=source,
        client=client,
        contact_name=str(contact.get("name", ""))[:100],
        contact_phone=str(contact.get("phone", ""))[:32],
        contact_email=str(contact.get("email", ""))[:254],
        case=case,
        entity_credit_code=code,
        repeat_of=repeat_of,
        suggested_category=suggestion.category,
        suggested_department=suggested_department,
        suggestion_words=[w for w, _weight in suggestion.words],
        filed_at=now,
    )
    item.number = f"FB{timezone.localtime(now):%Y%m%d}{item.pk:06d}"
    item.save(update_fields=["number"])
    Photo.objects.bulk_create(
        [
            Photo(item=item, content=p.content, content_type=p.content_type, width=p.width, height=p.height)
            for p in cleaned
        ]
    )
    audit.record(
        actor=actor,
        event="feedback:item:file",
        target=item,
        data={
            "number": item.number,
            "kind": kind,
            "category": category,
            "region": region.code,
            "source": source,
            "photos": len(cleaned),
            "repeat_of": repeat_of.number if repeat_of else "",
        },
    )
    return item


def _lock(item: Item) -> Item:
    return (
        Item.objects.select_for_update(of=("self",))
        .select_related("region__parent__parent", "department")
        .get(pk=item.pk)
    )


@transaction.atomic
def item_route(*, item: Item, department: Department, category: str, actor) -> Item:
    """The routing officer sends a filed item to ``department`` under ``category`` (confirming
    the classifier's suggestion or changing it). The reply is due ``REPLY_WORKDAYS[kind]``
    working days after today. Audited ``feedback:item:route`` (with whether the suggestion was
    followed)."""
    item = _lock(item)
    if not may_route(actor, item.region):
        raise NotAllowed(_("Only the 12345 routing officers of this area route its items."))
    if category not in Category.values:
        message = _("Choose a category from the list.")
        raise InvalidInput(message, {"category": message})
    if department is None:
        raise InvalidInput(_("Choose the department."), {"department": _("Choose the department.")})
    _transition(item, Item.Status.ROUTED)
    now = timezone.now()
    item.status, item.category, item.department = Item.Status.ROUTED, category, department
    item.routed_at = now
    item.due_date = workdays.add_workdays(timezone.localdate(now), workflow.REPLY_WORKDAYS[item.kind])
    item.save(update_fields=["status", "category", "department", "routed_at", "due_date"])
    audit.record(
        actor=actor,
        event="feedback:item:route",
        target=item,
        data={
            "number": item.number,
            "category": category,
            "department": department.code,
            "suggested_category": item.suggested_category,
            "followed_suggestion": category == item.suggested_category
            and department.pk == item.suggested_department_id,
            "due_date": item.due_date.isoformat(),
        },
    )
    return item


def _ensure_handler(item: Item, actor) -> None:
    if not handles(actor, item.department_id):
        raise NotAllowed(_("Only the department this item is routed to handles it."))


@transaction.atomic
def item_accept(*, item: Item, actor) -> Item:
    """The department takes the item on (受理). Audited ``feedback:item:accept``."""
    item = _lock(item)
    _ensure_handler(item, actor)
    _transition(item, Item.Status.ACCEPTED)
    item.status, item.accepted_at = Item.Status.ACCEPTED, timezone.now()
    item.save(update_fields=["status", "accepted_at"])
    audit.record(
        actor=actor,
        event="feedback:item:accept",
        target=item,
        data={"number": item.number, "department": item.department.code},
    )
    return item


@transaction.atomic
def item_transfer(*, item: Item, to_department: Department | None, reason: str, actor) -> Item:
    """The department sends a misrouted item to ``to_department``, saying why (转办). The
    deadline does not restart. Audited ``feedback:item:transfer``."""
    item = _lock(item)
    _ensure_handler(item, actor)
    reason = (reason or "").strip()
    errors = {}
    if to_department is None:
        errors["department"] = _("Choose the department that should handle it.")
    elif to_department.pk == item.department_id:
        errors["department"] = _("Choose another department than this one.")
    if len(reason) < MIN_REASON:
        errors["reason"] = _("Say why it belongs to the other department.")
    elif len(reason) > 1000:
        errors["reason"] = _("Use at most %(n)d characters.") % {"n": 1000}
    if errors:
        raise InvalidInput(next(iter(errors.values())), errors)
    _transition(item, Item.Status.TRANSFERRED)
    from_department = item.department
    Transfer.objects.create(
        item=item,
        from_department=from_department,
        to_department=to_department,
        reason=reason,
        by=actor,
        at=timezone.now(),
    )
    item.status, item.department, item.accepted_at = Item.Status.TRANSFERRED, to_department, None
    item.save(update_fields=["status", "department", "accepted_at"])
    audit.record(
        actor=actor,
        event="feedback:item:transfer",
        target=item,
        data={
            "number": item.number,
            "from": from_department.code,
            "to": to_department.code,
            "reason": reason[:500],
        },
    )
    return item


@transaction.atomic
def item_reply(*, item: Item, reply: str, actor) -> Item:
    """The department's public reply (no personal data of the filer belongs in it: the page
    says so). A reply after the due date is marked late. Audited ``feedback:item:reply``."""
    item = _lock(item)
    _ensure_handler(item, actor)
    reply = (reply or "").strip()
    if len(reply) < MIN_TEXT:
        message = _("Write the reply (at least %(n)d characters).") % {"n": MIN_TEXT}
        raise InvalidInput(message, {"reply": message})
    if len(reply) > MAX_REPLY:
        message = _("Use at most %(n)d characters.") % {"n": MAX_REPLY}
        raise InvalidInput(message, {"reply": message})
    _transition(item, Item.Status.REPLIED)
    now = timezone.now()
    item.status, item.reply, item.replied_at, item.replied_by = Item.Status.REPLIED, reply, now, actor
    item.replied_late = item.due_date is not None and timezone.localdate(now) > item.due_date
    item.save(update_fields=["status", "reply", "replied_at", "replied_by", "replied_late"])
    audit.record(
        actor=actor,
        event="feedback:item:reply",
        target=item,
        data={"number": item.number, "department": item.department.code, "late": item.replied_late},
    )
    return item


@transaction.atomic
def item_rate(*, item: Item, rating, comment: str = "", actor) -> Item:
    """The filer rates the reply on the five levels of 好差评. Audited ``feedback:item:rate``
    (the level, not the comment)."""
    item = _lock(item)
    if item.filer_id is None or actor is None or item.filer_id != getattr(actor, "pk", None):
        raise NotAllowed(_("Only the person who filed this item rates its reply."))
    try:
        level = int(rating)
    except (TypeError, ValueError):
        level = 0
    if level not in Item.Rating.values:
        message = _("Choose one of the five levels.")
        raise InvalidInput(message, {"rating": message})
    comment = (comment or "").strip()
    if len(comment) > 1000:
        message = _("Use at most %(n)d characters.") % {"n": 1000}
        raise InvalidInput(message, {"comment": message})
    _transition(item, Item.Status.RATED)
    item.status, item.rating, item.rating_comment = Item.Status.RATED, level, comment
    item.rated_at = timezone.now()
    item.save(update_fields=["status", "rating", "rating_comment", "rated_at"])
    audit.record(
        actor=actor,
        event="feedback:item:rate",
        target=item,
        data={"number": item.number, "department": item.department.code, "rating": level},
    )
    return item


@transaction.atomic
def item_close(*, item: Item, actor) -> Item:
    """Close a rated item, or a replied one whose rating window passed. Audited
    ``feedback:item:close``."""
    item = _lock(item)
    if item.status == Item.Status.REPLIED:
        window_end = item.replied_at + dt.timedelta(days=workflow.RATING_DAYS)
        if timezone.now() < window_end:
            raise WrongState(_("The filer may still rate the reply; it closes when the rating window ends."))
    _transition(item, Item.Status.CLOSED)
    item.status, item.closed_at = Item.Status.CLOSED, timezone.now()
    item.save(update_fields=["status", "closed_at"])
    audit.record(actor=actor, event="feedback:item:close", target=item, data={"number": item.number})
    return item


def items_close_due(*, actor="system:feedback") -> int:
    """Close every rated item and every replied one past its rating window; returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=workflow.RATING_DAYS)
    due = Item.objects.filter(status=Item.Status.RATED) | Item.objects.filter(
        status=Item.Status.REPLIED, replied_at__lte=cutoff
    )
    closed = 0
    for item in due.order_by("pk").iterator():
        item_close(item=item, actor=actor)
        closed += 1
    return closed


@transaction.atomic
def rule_set(*, category: str, region: Region, department: Department, actor) -> RoutingRule:
    """Items of ``category`` in ``region`` go to ``department`` from now on (``actor``: an
    administrator of ``department``). Audited ``feedback:rule:set``."""
    if not may_keep_rules(actor, department):
        raise NotAllowed(
            _("Only the administrators of %(dept)s keep its routing rules.") % {"dept": department.name}
        )
    if category not in Category.values:
        message = _("Choose a category from the list.")
        raise InvalidInput(message, {"category": message})
    rule, _created = RoutingRule.objects.select_for_update().get_or_create(
        category=category, region=region, defaults={"department": department}
    )
    if rule.department_id != department.pk:
        if not may_keep_rules(actor, rule.department):
            raise NotAllowed(
                _("This rule sends the items to %(dept)s; its administrators change it.")
                % {"dept": rule.department.name}
            )
        rule.department = department
        rule.save(update_fields=["department", "updated_at"])
    audit.record(
        actor=actor,
        event="feedback:rule:set",
        target=rule,
        data={"category": category, "region": region.code, "department": department.code},
    )
    return rule
