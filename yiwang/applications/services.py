"""Writes for applications: drafts, materials, submission, officials' actions, ratings.

Every function locks what it changes, checks the state, writes, records the audit entry in the
same transaction and defers email to after commit. Refusals raise ``ApplicationError``
subclasses carrying a message in the user's language; nothing is half-changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.timezone import get_current_timezone  # not via ``timezone``: the demo replaces it
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalog.models import LifeEvent, Material, ServiceItem
from yiwang.core import throttle
from yiwang.core.bulk import insert_objects
from yiwang.core.errors import ServiceError
from yiwang.identity.models import CASE_ROLES, RealNameLevel, Role
from yiwang.identity.permissions import has_role, may_apply_for
from yiwang.identity.selectors import person_of, realname_level_of
from yiwang.lib import filetypes
from yiwang.lib.workdays import MAX_WORKDAYS, add_workdays, workdays_between
from yiwang.licences import services as licence_services

from . import credit_flag, duties, engine, facts, notice_texts, schemaforms, verification, workflow
from .models import (
    APPLICANT_ROLE,
    REASONED_DECISIONS,
    Attachment,
    Blob,
    BundleCase,
    Case,
    CaseEvent,
    CaseLicence,
    CaseSequence,
    Decision,
    FormDefinition,
    Notice,
    Process,
    Rating,
    Rectification,
    Task,
)

DEFAULT_LIMIT_DAYS = 20  # statutory default for licensing (行政许可法 art. 42) when an item names none
RECTIFY_DAYS = 5
OFFICIAL_ROLES = CASE_ROLES
# The task a case gets when its process stops before deciding (engine.RunHalted): a clerk of the
# department restarts it on the item's current process or does not accept it, by hand.
HALT_TASK = "yiwang_halted"
HALT_DECISIONS = [Decision.RESTART, Decision.REJECT]


class ApplicationError(ServiceError):
    """A refusal of this app's services (see ``core.errors.ServiceError``)."""


class InvalidInput(ApplicationError):  # noqa: N818 — named for what happened
    status = 422


class WrongState(ApplicationError):  # noqa: N818 — named for what happened
    status = 409


class AlreadyHandled(ApplicationError):  # noqa: N818 — named for what happened
    status = 409


class Throttled(ApplicationError):  # noqa: N818 — named for what happened
    status = 429


class DutyConflict(ApplicationError):  # noqa: N818 — named for what happened
    """Separation of duties: the official already performed another duty on this case."""

    status = 403


class RealNameLevelTooLow(ApplicationError):  # noqa: N818 — named for what happened
    """The applicant's identity is not verified to the level the item needs (nothing saved)."""

    status = 403


class TooLarge(ApplicationError):  # noqa: N818 — named for what happened
    status = 413


class QuotaReached(ApplicationError):  # noqa: N818 — named for what happened
    """A count quota (open drafts, files on a case): finish or remove something first."""

    status = 409


class DailyQuotaReached(ApplicationError):  # noqa: N818 — named for what happened
    """An amount per day (bytes uploaded): try again tomorrow."""

    status = 429


class ProcessFailed(ApplicationError):  # noqa: N818 — named for what happened
    """The item's process model could not run on this case's data (nothing was saved)."""

    status = 422

    def __init__(self, exc: Exception):
        messages = getattr(exc, "messages", None) or [str(exc)]
        super().__init__(
            _("The department's process could not handle this application; it was not changed."),
            {"process": "; ".join(str(m) for m in messages)},
        )


_UNREAD = object()  # "not read yet" for optional arguments that may be None


# --- forms and processes -----------------------------------------------------------------


def form_schema(item: ServiceItem) -> dict:
    """The item's form, or the default one. Free when the item was loaded with
    ``select_related("form_definition")`` (as ``_lock`` does)."""
    try:
        return schemaforms.from_storage(item.form_definition.schema)
    except FormDefinition.DoesNotExist:
        return schemaforms.DEFAULT_SCHEMA


@transaction.atomic
def form_attach(*, actor, item: ServiceItem, schema: dict) -> FormDefinition:
    """Attach (or replace) an item's application form. Department admins of the item only."""
    _ensure_admin(actor, item)
    try:
        schemaforms.check_schema(schema)
    except schemaforms.SchemaError as exc:
        raise InvalidInput(_("The form schema is not valid."), {"schema": "; ".join(exc.messages)}) from exc
    fact_problems = facts.check_bindings(item=item, schema=schema)
    if fact_problems:
        raise InvalidInput(_("The form schema is not valid."), {"schema": "; ".join(fact_problems)})
    _ensure_process_fits(item, schema)
    definition, _created = FormDefinition.objects.update_or_create(
        item=item, defaults={"schema": schemaforms.for_storage(schema)}
    )
    audit.record(
        actor=actor,
        event="applications:form:attach",
        target=item,
        data={"fields": list(schema["properties"])},
    )
    return definition


class ModelRefused(InvalidInput):  # noqa: N818 — named for what happened
    """A process model (or a form that would break the item's process) was refused; nothing was
    saved. ``messages`` lists every problem (translated); ``errors["bpmn"]`` joins them."""

    def __init__(self, message: str, messages, field: str = "bpmn"):
        self.messages = [str(m) for m in messages]
        super().__init__(message, {field: "; ".join(self.messages)})


def process_check(*, item: ServiceItem, bpmn: str, dmn: str = "") -> engine.ProcessSpec:
    """Everything checked before a model may run this item's cases, without saving anything:
    it can be read and run safely (``engine.parse_process``), its paths and names make sense for
    the item's current form, and a dry run on sample data of that form succeeds
    (``verification.verify_process``). Raises ModelRefused with every message."""
    try:
        spec = engine.parse_process(bpmn, [dmn] if dmn.strip() else [])
        verification.verify_process(spec, form_schema(item))
    except engine.ModelError as exc:
        raise ModelRefused(_("The process model was refused."), exc.messages) from exc
    return spec


@transaction.atomic
def process_attach(
    *, actor, item: ServiceItem, bpmn: str, dmn: str = "", name: str = "", activate: bool = True
) -> Process:
    """Attach a new process version to an item after ``process_check``; with ``activate`` (the
    default) it is used for new cases at once, else it waits to be activated
    (``process_activate``). Running cases keep the version they started with. Department admins
    of the item only; audited."""
    _ensure_admin(actor, item)
    spec = process_check(item=item, bpmn=bpmn, dmn=dmn)
    ServiceItem.objects.select_for_update().filter(pk=item.pk).first()
    last = Process.objects.filter(item=item).order_by("-version").values_list("version", flat=True).first()
    if activate:
        Process.objects.filter(item=item, is_active=True).update(is_active=False)
    process = Process.objects.create(
        item=item,
        version=(last or 0) + 1,
        name=(name or spec.name or spec.process_id)[:200],
        bpmn=bpmn,
        dmn=dmn,
        key=spec.key,
        is_active=activate,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        event="applications:process:attach",
        target=item,
        data={"version": process.version, "key": spec.key, "process_id": spec.process_id, "active": activate},
    )
    return process


@transaction.atomic
def process_activate(*, actor, process: Process) -> Process:
    """Use this version for the item's new cases: activating a later version, or rolling back
    to an earlier one. It is checked again first (``process_check``: the form may have changed
    since it was attached). Running cases keep their version. Already active: nothing changes.
    Department admins of the item only; audited."""
    item = process.item
    _ensure_admin(actor, item)
    ServiceItem.objects.select_for_update().filter(pk=item.pk).first()
    process = Process.objects.get(pk=process.pk)
    if process.is_active:
        return process
    process_check(item=item, bpmn=process.bpmn, dmn=process.dmn)
    previous = Process.objects.filter(item=item, is_active=True).values_list("version", flat=True).first()
    Process.objects.filter(item=item, is_active=True).update(is_active=False)
    process.is_active = True
    process.save(update_fields=["is_active"])
    audit.record(
        actor=actor,
        event="applications:process:activate",
        target=item,
        data={
            "version": process.version,
            "previous": previous,
            "rollback": previous is not None and process.version < previous,
        },
    )
    return process


def _ensure_process_fits(item: ServiceItem, schema: dict) -> None:
    """A new form must keep every field the item's active process reads, and the process must
    still pass its dry run on the new form's data (a field's type may have changed)."""
    active = Process.objects.filter(item=item, is_active=True).first()
    if active is None:
        return
    try:
        spec = engine.parse_process(active.bpmn, [active.dmn] if active.dmn.strip() else [])
        verification.verify_process(spec, schema)
    except engine.ModelError as exc:
        raise ModelRefused(
            _(
                "The form cannot be saved: the process in use (version %(version)s) would not work "
                "with it. Change the process first, or keep the fields it uses."
            )
            % {"version": active.version},
            exc.messages,
            field="schema",
        ) from exc


def _ensure_admin(actor, item: ServiceItem) -> None:
    if not has_role(actor, "admin", item.department_id):
        raise PermissionDenied("admin of the item's department required")


def _spec_for(case: Case) -> engine.ProcessSpec:
    if case.process_id:
        try:
            if Case.process.is_cached(case):
                process = case.process
                return engine.parse_process(process.bpmn, [process.dmn] if process.dmn.strip() else [])
            return process_spec(case.process_id, getattr(case, "_process_key", None))
        except engine.ModelError as exc:
            # A version stored before a check was added: the case goes to a person, never a 500.
            raise engine.RunHalted(exc.messages, "model") from exc
    return engine.default_process()


# Parsed process versions by (id, content hash). A version's model never changes once stored (a
# change is a new version, ``process_attach``), and the key is the hash of that content, so an
# entry can never be stale; which version is active is read from the database on every submit
# (``_active_process``), so activating or rolling back takes effect at once in every worker.
_SPECS: dict[tuple[int, str], engine.ProcessSpec] = {}
_SPECS_MAX = 512


def process_spec(process_id: int, key: str | None = None) -> engine.ProcessSpec:
    """The parsed model of a process version (raises engine.ModelError). ``key``: its stored
    content hash, when the caller has read it (saves a lookup on a hit)."""
    if key is not None and (spec := _SPECS.get((process_id, key))) is not None:
        return spec
    bpmn, dmn, key = Process.objects.values_list("bpmn", "dmn", "key").get(pk=process_id)
    spec = engine.parse_process(bpmn, [dmn] if dmn.strip() else [])
    if spec.key == key:  # a row edited behind the versioning's back is parsed each time, never kept
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.clear()
        _SPECS[(process_id, key)] = spec
    return spec


# --- the submit path's statements ----------------------------------------------------------
# The one-step submit runs on every application, and most of its cost was the ORM building
# statements in Python (issue 9 §9): its narrow reads are prepared once per database vendor
# here, as the audit append does, and its inserts with ``core.bulk.insert_objects`` (nothing
# listens to these models' save signals: a test says so). Everything else uses the ORM.


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    q = connection.ops.quote_name

    def table(model) -> str:
        return q(model._meta.db_table)

    def col(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    case, process, material = table(Case), table(Process), table(Material)
    user = get_user_model()
    return {  # noqa: S608 below — model metadata only, every value is a parameter
        "active_process": f"SELECT {col(Process, 'id')}, {col(Process, 'key')} FROM {process} "  # noqa: S608
        f"WHERE {col(Process, 'item')} = %s AND {col(Process, 'is_active')}",
        "lock_user": f"SELECT {col(user, 'id')} FROM {table(user)} WHERE {col(user, 'id')} = %s FOR UPDATE",  # noqa: S608
        "drafts": f"SELECT COUNT(*) FROM {case} WHERE {col(Case, 'applicant')} = %s "  # noqa: S608
        f"AND {col(Case, 'status')} = %s",
        # The partial unique index's condition written as the index has it (``NOT (key = '')``;
        # SQLite does not take ``key <> ''`` for it), so SQLite uses that index (a test asks).
        "idempotency": f"SELECT {col(Case, 'id')} FROM {case} WHERE {col(Case, 'applicant')} = %s "  # noqa: S608
        f"AND {col(Case, 'idempotency_key')} = %s AND NOT ({col(Case, 'idempotency_key')} = %s)",
        "materials_to_upload": f"SELECT {col(Material, 'id')}, {col(Material, 'name')} FROM {material} "  # noqa: S608
        f"WHERE {col(Material, 'item')} = %s AND {col(Material, 'required')} "
        f"AND {col(Material, 'source')} <> %s "
        f"ORDER BY {col(Material, 'order')}, {col(Material, 'id')}",
    }


# --- drafts ------------------------------------------------------------------------------


def _ensure_online(item: ServiceItem) -> None:
    if (
        item.online_depth < ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE
        or item.status != ServiceItem.Status.PUBLISHED
    ):
        raise WrongState(_("This service cannot be applied for online."))


def ensure_may_apply(actor, item: ServiceItem, enterprise=None, *, person=_UNREAD) -> None:
    """Refuse unless the actor's real-name level reaches the item's and, when applying for an
    enterprise, their agency lets them apply (a delegate scoped to following cases may not).
    The message says how to raise the level; the API answers 403 with it. ``person``: the
    actor's Person (or None) when the caller has just read it."""
    needed = RealNameLevel(item.realname_level)
    if person is _UNREAD:
        level = realname_level_of(actor)
    else:
        level = int(person.realname_level) if person is not None else 0
    if level < needed:
        if needed == RealNameLevel.REGISTER:
            how = _("Verify your identity with the population register on My account (/account/verify).")
        else:
            how = _("Bring your identity card to a government service hall to have it checked in person.")
        current = RealNameLevel(level).label if level else _("none")
        raise RealNameLevelTooLow(
            _("This service needs real-name level %(needed)s; your account is at %(current)s. %(how)s")
            % {"needed": needed.label, "current": current, "how": how},
            {"realname_level": str(int(needed))},
        )
    if not may_apply_for(actor, enterprise):
        raise PermissionDenied("the actor may not apply for this enterprise")


@transaction.atomic
def case_start(
    *,
    actor,
    item: ServiceItem,
    enterprise=None,
    bundle_case: BundleCase | None = None,
    data: Mapping | None = None,
    idempotency_key: str = "",
    request_digest: str = "",
) -> Case:
    """A new draft, pre-filled with what the government already holds (once-only); ``data``
    (the applicant's values) never overrides a field bound to government data. Refused
    (``RealNameLevelTooLow``) below the item's real-name level."""
    case = _new_draft(
        actor=actor,
        item=item,
        enterprise=enterprise,
        bundle_case=bundle_case,
        data=data,
        idempotency_key=idempotency_key,
        request_digest=request_digest,
    )
    case.save(force_insert=True)
    return case


def _new_draft(
    *,
    actor,
    item: ServiceItem,
    enterprise=None,
    bundle_case: BundleCase | None = None,
    data: Mapping | None = None,
    idempotency_key: str = "",
    request_digest: str = "",
) -> Case:
    """``case_start``'s checks and its draft, not saved yet (the caller is in a transaction)."""
    _ensure_online(item)
    person = person_of(actor)  # read once for the level check and the pre-fill
    ensure_may_apply(actor, item, enterprise, person=person)
    _ensure_draft_quota(actor)
    schema = form_schema(item)
    sources = schemaforms.gov_sources(user=actor, enterprise=enterprise, person=person)
    provided = schemaforms.prefill(schema, sources)
    # Bound facts come through the data exchange's gateway (a logged use of the person's data).
    fetched = facts.fetch(item=item, schema=schema, person=person, actor=actor)
    provided |= fetched.values
    locked = set(provided) | schemaforms.bound_fields(schema)
    # What the applicant gave their account (their phone) is a first value they may change.
    suggested = schemaforms.account_prefill(schema, schemaforms.account_values(user=actor, person=person))
    values = suggested | {k: v for k, v in dict(data or {}).items() if k not in locked} | provided
    # Checked before anything is stored: NaN, Infinity or a lone surrogate would not survive
    # PostgreSQL's jsonb (a 500), and what is not part of the form has no place in the case.
    errors = schemaforms.validate(schema, values, partial=True)
    if errors:
        raise InvalidInput(_("Some fields need correcting."), errors)
    process_id, process_key = _active_process(item.pk)
    case = Case(
        item=item,
        department_id=item.department_id,
        applicant=actor,
        enterprise=enterprise,
        bundle_case=bundle_case,
        process_id=process_id,
        data=values,
        provided=sorted(provided),
        facts=fetched.records,
        idempotency_key=idempotency_key,
        request_digest=request_digest,
    )
    if ServiceItem.department.is_cached(item):  # loaded with the item: no query to show it
        case.department = item.department
    case._process_key = process_key  # for _spec_for: the parsed version without reading it
    case._fact_missing = fetched.missing  # fetched in this request: _submit need not fetch again
    return case


def _active_process(item_id: int) -> tuple[int | None, str | None]:
    """(id, content hash) of the item's active process version (at most one, a unique index), or
    (None, None). Read on every submit: it is what makes an activation count at once everywhere."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor)["active_process"], [item_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, None)


def _lock_person(actor) -> None:
    """Serialise one person's quota checks (their drafts and uploads) across requests. SQLite has
    no row locks: its transactions start with the database's write lock (BEGIN IMMEDIATE), which
    already serialises them, so nothing is sent there."""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(_sql(connection.vendor)["lock_user"], [actor.pk])
            cursor.fetchall()


def _ensure_draft_quota(actor) -> None:
    """At most APPLICATIONS_MAX_DRAFTS open drafts per person (a bundle's drafts count too).
    The person's row is locked so two starts at once cannot both take the last place (the count
    is its own statement, so it sees what a transaction we waited for committed)."""
    _lock_person(actor)
    limit = settings.APPLICATIONS_MAX_DRAFTS
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor)["drafts"], [actor.pk, Case.Status.DRAFT])
        (drafts,) = cursor.fetchone()
    if drafts >= limit:
        raise QuotaReached(
            _("You have %(n)s unfinished drafts, the most allowed. Submit or delete one first.")
            % {"n": limit},
            {"item": _("Submit or delete one of your drafts first (at most %(n)s).") % {"n": limit}},
        )


def _ensure_move(before: str, after: str) -> None:
    """WrongState unless a case may go from ``before`` to ``after`` (staying put is no move)."""
    if before != after:
        try:
            workflow.ensure_transition(before, after)
        except workflow.TransitionRefused as exc:
            raise WrongState(str(exc)) from exc


def _move(case: Case, status: str) -> None:
    """Set the case's status along the lifecycle table (workflow.py); the caller saves it."""
    _ensure_move(case.status, status)
    case.status = status


def _lock(case: Case | int) -> Case:
    """The case (or the case of this id) read again and locked, with its item's details."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("item", "item__region", "item__form_definition", "department")
        .get(pk=case if isinstance(case, int) else case.pk)
    )


@transaction.atomic
def case_save(*, actor, case: Case, data: Mapping) -> Case:
    """Save a draft's form data (partial: required fields may still be empty). Fields the
    government provided are kept, never taken from the user."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if case.status not in workflow.APPLICANT_EDITS:
        raise WrongState(_("This application can no longer be changed."))
    merged = _merge(case, data)
    errors = schemaforms.validate(form_schema(case.item), merged, partial=True)
    if errors:
        raise InvalidInput(_("Some fields need correcting."), errors)
    case.data = merged
    case.save(update_fields=["data", "updated_at"])
    return case


def _merge(case: Case, data: Mapping) -> dict:
    """The applicant's values over what the government provided; a field bound to government
    data is never taken from the applicant, even when the government had no value for it."""
    locked = set(case.provided) | schemaforms.bound_fields(form_schema(case.item))
    merged = {k: v for k, v in case.data.items() if k in locked}
    merged.update({k: v for k, v in dict(data).items() if k not in locked})
    return merged


def _ensure_applicant(actor, case: Case) -> None:
    if actor is None or case.applicant_id != actor.pk:
        raise PermissionDenied("only the applicant may do this")


# --- materials ---------------------------------------------------------------------------


def required_materials(case: Case) -> list[Material]:
    """Materials the applicant must upload: those the government already holds are not asked for,
    nor those one of the applicant's electronic licences replaces with their consent (免证办)."""
    from .licence_materials import replaced_ids  # it uses this module's errors

    asked = [m for m in case.item.materials.all() if m.applicant_submits]
    replaced = replaced_ids(case, asked)
    return [m for m in asked if m.pk not in replaced] if replaced else asked


def held_materials(case: Case) -> list[Material]:
    return [m for m in case.item.materials.all() if not m.applicant_submits]


@transaction.atomic
def attachment_add(*, actor, case: Case, material_id: int, upload) -> Attachment:
    """Store an upload by content hash (a retried upload is stored once) after checking its
    size and its type by content."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if case.status not in workflow.APPLICANT_EDITS:
        raise WrongState(_("Materials can no longer be changed for this application."))
    max_files = settings.APPLICATIONS_MAX_FILES_PER_CASE
    if case.attachments.count() >= max_files:
        raise QuotaReached(
            _("This application has too many files."),
            {"file": _("Remove a file first: at most %(n)s files per application.") % {"n": max_files}},
        )
    material = Material.objects.filter(pk=material_id, item_id=case.item_id).first()
    if material is None or not material.applicant_submits:
        raise InvalidInput(
            _("Choose one of the materials this service asks for."), {"material": _("Unknown material.")}
        )
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise TooLarge(
            _("The file is too large."),
            {"file": _("Upload a file of at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}},
        )
    if upload.size == 0:
        raise InvalidInput(_("The file is empty."), {"file": _("The file is empty.")})
    kind = filetypes.sniff_file(upload)
    if kind is None:
        raise InvalidInput(
            _("This type of file is not accepted."),
            {"file": _("Upload a PDF, OFD, PNG, JPEG or WebP file (checked by its content, not its name).")},
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha = digest.hexdigest()
    attachment = Attachment.objects.filter(case=case, material=material, blob_id=sha).first()
    if attachment is None:
        _ensure_daily_bytes(actor, upload.size)
    blob = Blob.objects.filter(sha256=sha).first()
    if blob is None:
        blob = Blob(sha256=sha, size=upload.size, kind=kind)
        if not default_storage.exists(blob.storage_name):
            upload.seek(0)
            default_storage.save(blob.storage_name, upload)
        try:
            with transaction.atomic():  # the same file uploaded at the same moment elsewhere
                blob.save(force_insert=True)
        except IntegrityError:
            blob = Blob.objects.get(sha256=sha)
    # Shown to officials and used for the download: named after what the content is.
    filename = filetypes.safe_name(getattr(upload, "name", "") or "upload", kind)
    # The case is locked, so no other upload to it can add the same file in between: no
    # get_or_create (and its savepoint) needed.
    created = attachment is None
    if created:
        attachment = Attachment.objects.create(case=case, material=material, blob=blob, filename=filename)
    if created and case.submitted_at is not None:  # added during 补正: part of the record
        audit.record(
            actor=actor,
            event="applications:attachment:add",
            target=case,
            data={"material": material.pk, "sha256": sha},
        )
    return attachment


def uploaded_bytes_today(actor) -> int:
    """Bytes the person attached to their cases since local midnight (a file attached twice
    counts twice: each attachment is an upload the platform accepted)."""
    midnight = dt.datetime.combine(timezone.localdate(), dt.time.min, tzinfo=get_current_timezone())
    total = Attachment.objects.filter(case__applicant=actor, uploaded_at__gte=midnight).aggregate(
        total=Sum("blob__size")
    )["total"]
    return int(total or 0)


def _ensure_daily_bytes(actor, size: int) -> None:
    """At most APPLICATIONS_MAX_UPLOAD_BYTES_PER_DAY per person and calendar day."""
    _lock_person(actor)
    limit = settings.APPLICATIONS_MAX_UPLOAD_BYTES_PER_DAY
    if uploaded_bytes_today(actor) + size > limit:
        mb = max(1, limit // (1024 * 1024))
        raise DailyQuotaReached(
            _("You have uploaded the most allowed today (%(mb)s MB). Try again tomorrow.") % {"mb": mb},
            {"file": _("Today's upload allowance (%(mb)s MB) is used up; try again tomorrow.") % {"mb": mb}},
        )


@transaction.atomic
def attachment_remove(*, actor, attachment: Attachment) -> None:
    case = _lock(attachment.case)
    _ensure_applicant(actor, case)
    if case.status != Case.Status.DRAFT:
        # What the department reviewed stays on record; a supplement adds files, never removes.
        raise WrongState(_("Files of a submitted application cannot be removed; upload a corrected one."))
    attachment.delete()


# --- pre-review and submission -----------------------------------------------------------


def prereview(case: Case, *, uploaded: set[int] | None = None) -> dict[str, str]:
    """预审: everything missing or wrong, by field (form fields, ``material-<id>``);
    ``uploaded``: the materials uploaded, when the caller knows (none for a case not saved)."""
    errors = _without_missing_facts(case, schemaforms.validate(form_schema(case.item), case.data))
    if uploaded is None:
        uploaded = set(case.attachments.values_list("material_id", flat=True))
    for material in required_materials(case):
        if material.required and material.pk not in uploaded:
            errors[f"material-{material.pk}"] = _("Upload “%(name)s”.") % {"name": material.name}
    return errors


def _prereview_new(case: Case) -> dict[str, str]:
    """``prereview`` of a case not saved yet (nothing uploaded): the form, and every required
    material the applicant submits, read narrowly."""
    errors = _without_missing_facts(case, schemaforms.validate(form_schema(case.item), case.data))
    with connection.cursor() as cursor:
        sql = _sql(connection.vendor)["materials_to_upload"]
        cursor.execute(sql, [case.item_id, Material.Source.GOVERNMENT])
        for pk, name in cursor.fetchall():
            errors[f"material-{pk}"] = _("Upload “%(name)s”.") % {"name": name}
    return errors


def _without_missing_facts(case: Case, errors: dict) -> dict[str, str]:
    """A bound fact is not the applicant's to fix: one the exchange could not give sends the
    case to a clerk (``_submit``), and one it gave is what the rules decide on (a "required"
    box the records say no to is a "no" for the rules, not a box to tick)."""
    bound = facts.bindings(form_schema(case.item))
    return {k: v for k, v in errors.items() if k not in bound}


_NEXT_SEQUENCE_SQL = (
    f"UPDATE {CaseSequence._meta.db_table} SET last = last + 1 "  # noqa: S608 — our own table name
    "WHERE region_code = %s AND day = %s RETURNING last"
)


def _next_number(region_code: str, day) -> str:
    """The next number of the region and day: one locked increment (the row is created on the
    day's first case; a concurrent creator makes us retry the increment)."""
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_SEQUENCE_SQL, [region_code, day])
            row = cursor.fetchone()
        if row is not None:
            return f"{region_code}-{day:%Y%m%d}-{row[0]:06d}"
        try:
            with transaction.atomic():
                CaseSequence.objects.create(region_code=region_code, day=day, last=1)
            return f"{region_code}-{day:%Y%m%d}-{1:06d}"
        except IntegrityError:
            continue
    raise RuntimeError("could not number the case")


@transaction.atomic
def case_submit(*, actor, case: Case, within_bundle: bool = False) -> Case:
    """Submit a draft. Submitting an already submitted case returns it unchanged (a page
    double-submit creates one case). 秒批 items are decided here, inside the request. A bundle's
    cases are submitted together by ``bundle_submit`` (``within_bundle``), never one by one."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if not case.is_draft:
        if case.submitted_at is not None:
            return case
        raise WrongState(_("This application can no longer be submitted."))
    if case.bundle_case_id and not within_bundle:
        raise WrongState(_("This application is part of a life event: submit all of them together."))
    _ensure_online(case.item)
    ensure_may_apply(actor, case.item, case.enterprise)  # the level or the delegation may have ended
    errors = prereview(case)
    if errors:
        raise InvalidInput(_("The application is not complete yet."), errors)
    return _submit(actor=actor, case=case)


def _submit(*, actor, case: Case) -> Case:
    """Number a checked draft, start its process and record the submission (inside the caller's
    transaction). A ``case`` not saved yet (the one-step submit) is inserted whole, submitted,
    and keeps its events and tasks in its prefetch cache, as they are all it has."""
    now = timezone.now()
    today = timezone.localdate(now)
    item = case.item
    case.number = _next_number(item.region.code, today)
    case.submitted_at = now
    limit = item.promised_limit_days or item.statutory_limit_days or DEFAULT_LIMIT_DAYS
    case.due_date = add_workdays(today, min(limit, MAX_WORKDAYS))
    _move(case, Case.Status.SUBMITTED)
    events = [CaseEvent(case=case, kind=CaseEvent.Kind.SUBMITTED, status=case.status, actor=actor, at=now)]
    tasks: list[Task] = []
    halted = _refresh_facts(case, actor)
    flag = credit_flag.flag_for(case)  # joint punishment: a listed enterprise goes to a person
    if halted is None and flag is not None and flag.listed:
        halted = engine.RunHalted([flag.message], "credit")
    if halted is None:
        try:
            run = engine.Run.start(_spec_for(case), _workflow_data(case))
        except engine.RunHalted as exc:
            halted = exc  # submitted, but nothing decided: a clerk takes it by hand (below)
        except engine.ProcessError as exc:
            raise ProcessFailed(exc) from exc
        else:
            if flag is not None and run.rule_hits:  # the list unread: no 秒批 decided blind
                halted = engine.RunHalted([flag.message], "credit")
            else:
                halted = _apply_run(case, run, now=now, fresh=True, pending=(events, tasks))
    fresh = case.pk is None
    if fresh:
        insert_objects(case)
    else:
        case.save(update_fields=[*RUN_FIELDS, "number", "submitted_at", "data", "facts"])
    insert_objects(*events)
    insert_objects(*tasks)
    if halted is not None:
        _halt(case, halted, now=now)
    elif fresh:  # all the rows it has: what the response shows needs no query
        _keep_loaded(case, events=events, tasks=tasks)
    audit.record(
        actor=actor,
        event="applications:case:submit",
        target=case,
        data={"number": case.number, "item": item.code, "status": case.status},
    )
    if case.rule_hits:
        audit.record(
            actor="system:rules",
            event="applications:case:instant",
            target=case,
            subject=case.applicant_id,
            data={"status": case.status, "rules": [h["rule_id"] for h in case.rule_hits]},
        )
    if case.rule_hits and case.is_approved:  # 秒批 approvals issue licences too
        _issue_licences(case, "system:rules")
    _notify(case, notice_texts.RECEIVED, {"number": case.number})
    if case.rule_hits:  # 秒批: decided by rules inside this request
        rules = [h["description"] for h in case.rule_hits if h.get("description")]
        _notify(case, notice_texts.STATUS, {"number": case.number, "status": case.status, "rules": rules})
    return case


def _refresh_facts(case: Case, actor) -> engine.RunHalted | None:
    """Fetch the case's bound facts again at submission (the rules decide on the data as it is
    now, not as it was when the draft was made). A fact missing stops the rules: the case goes to
    a clerk with the reason (returned as the halt)."""
    schema = form_schema(case.item)
    bound = facts.bindings(schema)
    if not bound:
        return None
    missing = getattr(case, "_fact_missing", None)
    if missing is None:
        fetched = facts.fetch(
            item=case.item,
            schema=schema,
            person=person_of(case.applicant),
            actor=actor,
            reference=case.number,
        )
        case.data = {k: v for k, v in case.data.items() if k not in bound} | fetched.values
        case.facts, missing = fetched.records, fetched.missing
    if not missing:
        return None
    labels = {name: prop.get("title", name) for name, prop in (schema.get("properties") or {}).items()}
    messages = [
        _("“%(field)s” could not be taken from government data: %(reason)s")
        % {"field": labels.get(name, name), "reason": reason}
        for name, reason in missing.items()
    ]
    return engine.RunHalted(messages, "fact")


def _issue_licences(case: Case, actor) -> None:
    """The licences the case's item issues, in the transaction that approves it (issue 10),
    whoever approves: an official (task_complete) or the item's rules (秒批, case_submit). A
    licence that cannot be issued refuses the approval with the reason: nothing is approved
    without the licence it promises."""
    try:
        licence_services.licence_issue_for_case(case=case, actor=actor)
    except licence_services.LicenceError as exc:
        raise WrongState(exc.message, exc.errors) from exc


def _keep_loaded(case: Case, **related: list) -> None:
    """Mark ``case``'s related rows as loaded, as ``prefetch_related`` does (``case.tasks.all()``
    then reads them from memory)."""
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(case, name).get_queryset()
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        cache[name] = queryset


def _workflow_data(case: Case) -> dict:
    """What the process sees of the form: every field of the item's form, so a rule naming an
    optional field the applicant left empty reads "no" (a checkbox not ticked) or None instead of
    stopping on a missing name (issue 9 §5)."""
    data = {k: v for k, v in case.data.items() if isinstance(v, (str, int, float, bool)) or v is None}
    for name, spec in (form_schema(case.item).get("properties") or {}).items():
        if name not in data and isinstance(spec, dict):
            data[name] = False if spec.get("type") == "boolean" else None
    return data


def case_request_digest(item_code: str, data: Mapping, enterprise_id) -> str:
    blob = json.dumps(
        {"item": item_code, "data": data, "enterprise": enterprise_id}, sort_keys=True, ensure_ascii=False
    )
    # surrogatepass: a lone surrogate ("\ud800") is refused by validation later, not here with a 500.
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def case_submit_once(
    *, actor, item: ServiceItem, data: Mapping, idempotency_key: str, enterprise=None
) -> tuple[Case, bool]:
    """The API's submit: create and submit in one step. The same Idempotency-Key returns the
    same case (created=False); reusing a key for a different request is refused."""
    digest = case_request_digest(item.code, data, enterprise.pk if enterprise else None)
    with connection.cursor() as cursor:  # the common answer is "none": one narrow indexed read
        cursor.execute(_sql(connection.vendor)["idempotency"], [actor.pk, idempotency_key, ""])
        found = cursor.fetchone()
    if found is not None:
        return _replay(case_by_idempotency_key(actor, idempotency_key).get(), digest), False
    try:
        with transaction.atomic():
            # case_start's checks, then case_submit's on the draft in memory: the case is
            # inserted once, already submitted (its number and its Idempotency-Key's unique
            # index are checked by that INSERT), and nobody else can see it before the commit.
            case = _new_draft(
                actor=actor,
                item=item,
                enterprise=enterprise,
                data=data,
                idempotency_key=idempotency_key,
                request_digest=digest,
            )
            errors = _prereview_new(case)
            if errors:
                raise InvalidInput(_("The application is not complete yet."), errors)
            return _submit(actor=actor, case=case), True
    except IntegrityError:
        existing = case_by_idempotency_key(actor, idempotency_key).first()
        if existing is None:
            raise
        return _replay(existing, digest), False


def case_by_idempotency_key(actor, idempotency_key: str):
    """The applicant's case made with this Idempotency-Key (at most one). The query repeats the
    partial unique index's condition (key not empty) so that SQLite can use that index: without
    it SQLite walked every earlier case of the applicant, workflow JSON and all."""
    return Case.objects.filter(applicant=actor, idempotency_key=idempotency_key).exclude(idempotency_key="")


def _replay(case: Case, digest: str) -> Case:
    if case.request_digest != digest:
        raise AlreadyHandled(_("This Idempotency-Key was already used for a different request."))
    return case


# --- the workflow ------------------------------------------------------------------------


# What a workflow step may change on a case (saved with update_fields).
RUN_FIELDS = ["status", "workflow", "rule_hits", "ended_at", "paused_on", "due_date", "updated_at"]


def _apply_run(
    case: Case, run: engine.Run, *, now, fresh: bool = False, pending: tuple[list, list] | None = None
) -> engine.RunHalted | None:
    """Bring the case, its clock and its task rows in line with the workflow after a step.
    ``pending`` (events, tasks): lists to add the new rows to, for the caller to insert after
    the case (a fresh case not saved yet); otherwise they are inserted here. With ``pending``,
    a step the lifecycle refuses is returned for the caller to halt the case once saved."""
    today = timezone.localdate(now)
    new_status = run.status
    if new_status != case.status and not workflow.may_transition(case.status, new_status):
        # The diagram took a step the case lifecycle does not allow: nothing of it is kept.
        refused = workflow.TransitionRefused(case.status, new_status)
        halted = engine.RunHalted([str(refused)], reason="transition")
        if pending is not None:
            return halted  # the case may not be saved yet: the caller halts it once it is
        _halt(case, halted, now=now)
        return None
    if new_status == Case.Status.SUPPLEMENT and case.status != Case.Status.SUPPLEMENT:
        case.paused_on = today  # the clock stops while the applicant supplements
    elif case.status == Case.Status.SUPPLEMENT and new_status != Case.Status.SUPPLEMENT and case.paused_on:
        stopped = workdays_between(case.paused_on, today)
        case.due_date = add_workdays(case.due_date, stopped) if case.due_date else None
        case.paused_on = None
    open_rows = {} if fresh else {t.spiff_id: t for t in case.tasks.filter(state=Task.State.OPEN)}
    open_now = {t.id: t for t in run.open_tasks()}
    for spiff_id, row in open_rows.items():
        if spiff_id not in open_now:
            row.state, row.closed_at = Task.State.CANCELLED, now
            row.save(update_fields=["state", "closed_at"])
    new_rows = []
    for spiff_id, t in open_now.items():
        if spiff_id in open_rows:
            continue
        new_rows.append(
            Task(
                case=case,
                spiff_id=spiff_id,
                name=t.name[:100],
                title=(t.title or t.name)[:200],
                role=t.role,
                department_id=None if t.role == APPLICANT_ROLE else case.department_id,
                case_status=t.status,
                decisions=list(t.decisions),
                due_date=case.due_date,
                opened_at=now,
            )
        )
    new_events = []
    if run.rule_hits and not case.rule_hits:
        case.rule_hits = [asdict(h) for h in run.rule_hits]
        new_events.append(
            CaseEvent(
                case=case,
                kind=CaseEvent.Kind.INSTANT,
                status=new_status,
                comment="; ".join(h.description for h in run.rule_hits if h.description),
                at=now,
            )
        )
    if pending is not None:
        pending[0].extend(new_events)
        pending[1].extend(new_rows)
    else:
        Task.objects.bulk_create(new_rows)
        CaseEvent.objects.bulk_create(new_events)
    _move(case, new_status)
    case.workflow = run.serialize()
    if run.finished:
        case.ended_at = now
        case.paused_on = None


def _halt(case: Case, exc: engine.RunHalted, *, now) -> None:
    """The process stopped before deciding (budget spent, or a state no end event accounts for):
    nothing it computed is kept. The case keeps its status and last saved workflow, every open
    task is cancelled, and one task opens for the department's clerks, with the engine's message
    on the timeline; the caller saves ``RUN_FIELDS``."""
    Task.objects.filter(case=case, state=Task.State.OPEN).update(state=Task.State.CANCELLED, closed_at=now)
    title = _("Handle by hand: the process stopped")
    Task.objects.create(
        case=case,
        spiff_id=f"halt-{uuid.uuid4().hex[:31]}",  # 36 characters, like a Spiff task id
        name=HALT_TASK,
        title=title[:200],
        role=Role.CLERK,
        department_id=case.department_id,
        case_status=case.status,
        decisions=list(HALT_DECISIONS),
        due_date=case.due_date,
        opened_at=now,
    )
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.STATUS,
        status=case.status,
        step=title[:200],
        comment="; ".join(exc.messages)[:2000],
        at=now,
    )
    audit.record(
        actor="system:engine",
        event="applications:case:halt",
        target=case,
        subject=case.applicant_id,
        data={"reason": exc.reason, "status": case.status},
    )


def _acting_role(task: Task) -> str:
    """The role an official acts in on ``task``, for the audit log's public leaf (the applicant's own
    steps name no role)."""
    return "" if task.role == APPLICANT_ROLE else task.role


def _halt_resolve(*, actor, case: Case, task: Task, decision: str, comment: str, now) -> Case:
    """A clerk handles a stopped case by hand: ``restart`` runs it again from the start on the
    item's current process (after the department fixed it), ``reject`` ends it as not accepted,
    with the reason the applicant is told. Nothing is approved or completed here."""
    if decision not in HALT_DECISIONS:
        raise InvalidInput(
            _("Choose one of the decisions this task offers."), {"decision": _("Not possible here.")}
        )
    before = case.status
    task.state, task.closed_at, task.closed_by = Task.State.DONE, now, actor
    task.decision, task.comment = decision, comment
    task.save(update_fields=["state", "closed_at", "closed_by", "decision", "comment"])
    if decision == Decision.REJECT:
        _move(case, Case.Status.REJECTED)
        case.ended_at, case.paused_on = now, None
        case.save(update_fields=["status", "ended_at", "paused_on", "updated_at"])
    else:
        _ensure_move(case.status, Case.Status.SUBMITTED)  # the process runs again from the start
        case.process = Process.objects.filter(item=case.item, is_active=True).first()
        try:
            run = engine.Run.start(_spec_for(case), _workflow_data(case))
        except engine.RunHalted as exc:
            _halt(case, exc, now=now)
        except engine.ProcessError as exc:
            raise ProcessFailed(exc) from exc
        else:
            flag = credit_flag.flag_for(case)
            if flag is not None and run.rule_hits:  # a listed enterprise is never decided by 秒批
                _halt(case, engine.RunHalted([flag.message], "credit"), now=now)
            else:
                case.rule_hits = []
                _apply_run(case, run, now=now, fresh=True)
        case.save(update_fields=[*RUN_FIELDS, "process"])
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.DECIDED,
        status=case.status,
        step=task.title,
        decision=decision,
        comment=comment,
        actor=actor,
        at=now,
    )
    audit.record(
        actor=actor,
        event="applications:case:decide",
        target=case,
        subject=case.applicant_id,
        role=_acting_role(task),
        data={"task": task.name, "decision": decision, "from": before, "to": case.status},
    )
    _notify(case, notice_texts.STATUS, {"number": case.number, "status": case.status}, comment)
    if case.has_ended and case.bundle_case_id:
        _bundle_refresh(case.bundle_case_id, now)
    return case


def _restore(case: Case) -> engine.Run:
    return engine.Run.restore(case.workflow)


def _ensure_may_act(actor, task: Task) -> None:
    if task.role == APPLICANT_ROLE:
        _ensure_applicant(actor, task.case)
    elif not has_role(actor, task.role, task.department_id):
        raise PermissionDenied("role required")
    elif task.case.applicant_id == actor.pk:
        # 回避: an official never handles their own application.
        raise PermissionDenied("officials may not handle their own application")


def _lock_open_task(actor, task: Task) -> tuple[Case, Task]:
    """Lock the case, then the task (always in this order), and check that the actor may act on
    it and that it is still open; the loser of a race gets AlreadyHandled here."""
    case = _lock(task.case_id)  # by id: loading ``task.case`` first would read the case twice
    task = Task.objects.select_for_update().get(pk=task.pk)
    task.case = case
    _ensure_may_act(actor, task)
    if task.state != Task.State.OPEN:
        raise AlreadyHandled(_("This task was already handled."))
    return case, task


def _ensure_separate_duties(actor, case: Case, task: Task) -> None:
    """四眼原则 (see duties.py): checked with the case locked, so two tasks of one case cannot
    both pass the check for the same official at once."""
    done = duties.conflicting_duty(case=case, actor=actor, role=task.role)
    if done is not None:
        message = duties.conflict_message(done=done, role=task.role)
        raise DutyConflict(message, {"decision": message})


@transaction.atomic
def task_claim(*, actor, task: Task) -> Task:
    case, task = _lock_open_task(actor, task)
    if task.claimed_by_id and task.claimed_by_id != actor.pk:
        raise AlreadyHandled(_("Someone else has already claimed this task."))
    _ensure_separate_duties(actor, case, task)
    task.claimed_by, task.claimed_at = actor, timezone.now()
    task.save(update_fields=["claimed_by", "claimed_at"])
    audit.record(
        actor=actor,
        event="applications:task:claim",
        target=case,
        data={"task": task.name},
        subject=case.applicant_id,
        role=_acting_role(task),
    )
    return task


@transaction.atomic
def task_release(*, actor, task: Task) -> Task:
    case, task = _lock_open_task(actor, task)
    if task.claimed_by_id != actor.pk:
        raise WrongState(_("You have not claimed this task."))
    task.claimed_by, task.claimed_at = None, None
    task.save(update_fields=["claimed_by", "claimed_at"])
    audit.record(
        actor=actor,
        event="applications:task:release",
        target=case,
        data={"task": task.name},
        subject=case.applicant_id,
        role=_acting_role(task),
    )
    return task


@transaction.atomic
def task_complete(
    *, actor, task: Task, decision: str, comment: str = "", data: Mapping | None = None
) -> Case:
    """An official's action on an open task (accept / reject / supplement / pass / approve /
    not approve / complete), or the applicant's resubmission of a 补正 task. Of two people acting
    at once, one succeeds; the other is told the task was already handled."""
    case, task = _lock_open_task(actor, task)
    if task.claimed_by_id and task.claimed_by_id != actor.pk:
        raise AlreadyHandled(_("Someone else has claimed this task."))
    _ensure_separate_duties(actor, case, task)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput(_("The comment is too long."), {"comment": _("Use at most 2000 characters.")})
    if decision in REASONED_DECISIONS and not comment:
        raise InvalidInput(_("Give a reason."), {"comment": _("Say why, so the applicant knows what to do.")})
    if task.role == APPLICANT_ROLE:
        if data:  # the applicant's corrections, on top of what the form already holds
            case.data = _merge(case, {**case.data, **dict(data)})
            errors = schemaforms.validate(form_schema(case.item), case.data)
            if errors:
                raise InvalidInput(_("Some fields need correcting."), errors)
        errors = prereview(case)
        if errors:
            raise InvalidInput(_("The application is not complete yet."), errors)
    now = timezone.now()
    if task.name == HALT_TASK:
        return _halt_resolve(actor=actor, case=case, task=task, decision=decision, comment=comment, now=now)
    run = _restore(case)
    try:
        run.complete(task.spiff_id, decision=decision, data={**_workflow_data(case), "comment": comment})
    except engine.InvalidDecision as exc:
        raise InvalidInput(str(exc), {"decision": str(exc)}) from exc
    except engine.TaskNotOpen as exc:
        raise AlreadyHandled(_("This task was already handled.")) from exc
    except engine.RunHalted as exc:
        # The decision is on record (on the cancelled task), but it moved nothing.
        task.decision, task.comment, task.closed_by = decision, comment, actor
        task.save(update_fields=["decision", "comment", "closed_by"])
        _halt(case, exc, now=now)
        case.save(update_fields=[*RUN_FIELDS, "data"])
        return case
    except engine.ProcessError as exc:
        raise ProcessFailed(exc) from exc
    task.state, task.closed_at, task.closed_by = Task.State.DONE, now, actor
    task.decision, task.comment = decision, comment
    task.save(update_fields=["state", "closed_at", "closed_by", "decision", "comment"])
    before = case.status
    _apply_run(case, run, now=now)
    case.save(update_fields=[*RUN_FIELDS, "data"])
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.DECIDED,
        status=case.status,
        step=task.title,
        decision=decision,
        comment=comment,
        actor=actor,
        at=now,
    )
    audit.record(
        actor=actor,
        event="applications:case:decide",
        target=case,
        subject=case.applicant_id,
        role=_acting_role(task),
        data={"task": task.name, "decision": decision, "from": before, "to": case.status},
    )
    if case.is_approved and before not in Case.APPROVED_STATUSES:
        _issue_licences(case, actor)
    if task.role != APPLICANT_ROLE:
        _notify(case, notice_texts.STATUS, {"number": case.number, "status": case.status}, comment)
    if case.has_ended and case.bundle_case_id:
        _bundle_refresh(case.bundle_case_id, now)
    return case


@transaction.atomic
def case_withdraw(*, actor, case: Case, reason: str = "") -> Case:
    """The applicant withdraws a case that has not been decided yet."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if not workflow.may_transition(case.status, Case.Status.WITHDRAWN):
        raise WrongState(_("This application can no longer be withdrawn."))
    now = timezone.now()
    Task.objects.filter(case=case, state=Task.State.OPEN).update(state=Task.State.CANCELLED, closed_at=now)
    if case.workflow:  # the process ends too: no step of it can open again
        run = _restore(case)
        run.cancel()
        case.workflow = run.serialize()
    before = case.status
    _move(case, Case.Status.WITHDRAWN)
    case.ended_at, case.paused_on = now, None
    case.save(update_fields=["status", "workflow", "ended_at", "paused_on", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.WITHDRAWN,
        status=case.status,
        comment=reason[:2000],
        actor=actor,
        at=now,
    )
    audit.record(actor=actor, event="applications:case:withdraw", target=case, data={"from": before})
    _notify(case, notice_texts.WITHDRAWN, {"number": case.number})
    if case.bundle_case_id:
        _bundle_refresh(case.bundle_case_id, now)
    return case


@transaction.atomic
def case_discard(*, actor, case: Case) -> None:
    """Delete one's own draft that was never submitted (with its attachments; the stored files
    stay, shared by content). A bundle's drafts go with their bundle (``bundle_discard``).
    Audited: the entry names the draft and its item, no form data."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if not case.is_draft or case.submitted_at is not None:
        raise WrongState(_("Only a draft can be deleted."))
    if case.bundle_case_id:
        raise WrongState(_("This draft is part of a life event: delete the life event's application."))
    audit.record(actor=actor, event="applications:case:discard", target=case, data={"item": case.item.code})
    case.delete()


@transaction.atomic
def draft_open(*, actor, item: ServiceItem, enterprise=None) -> tuple[Case, bool]:
    """The applicant's open draft of the item (see ``selectors.open_draft``), else a new one
    (``case_start``): pressing "apply" twice never makes two drafts. Returns (case, created)."""
    from .selectors import open_draft

    _lock_person(actor)  # two presses at once: the second sees the first one's draft
    draft = open_draft(actor, item, enterprise)
    if draft is not None:
        return draft, False
    return case_start(actor=actor, item=item, enterprise=enterprise), True


# --- bundles (并联审批) ------------------------------------------------------------------


def bundle_drafts(bundle_case: BundleCase) -> list[Case]:
    """The bundle's draft cases in the items' order, with their items' forms and materials."""
    return list(
        bundle_case.cases.filter(status=Case.Status.DRAFT)
        .select_related("item", "item__form_definition", "department")
        .prefetch_related("item__materials")
        .order_by("pk")
    )


def bundle_schemas(drafts: list[Case]) -> dict[int, dict]:
    """{case pk: the item's form}, the input of the combined form (``schemaforms.combined_fields``)."""
    return {case.pk: form_schema(case.item) for case in drafts}


def material_key(material: Material) -> str:
    """What makes two items' materials one document for the applicant: the same name."""
    return " ".join(material.name.split())


def bundle_materials(drafts: list[Case]) -> list[dict]:
    """The bundle's materials, each asked once: [{key, name, required, materials: [(case,
    material)], attachments: [Attachment]}] where ``attachments`` lists one attachment per file
    (a file attached to several cases is listed once). ``id`` is the first material's pk."""
    groups: dict[str, dict] = {}
    attachments = {case.pk: list(case.attachments.select_related("blob").order_by("pk")) for case in drafts}
    for case in drafts:
        for material in required_materials(case):
            key = material_key(material)
            group = groups.setdefault(
                key,
                {"key": key, "id": material.pk, "name": material.name, "required": False, "materials": []},
            )
            group["required"] = group["required"] or material.required
            group["materials"].append((case, material))
    for group in groups.values():
        files: dict[str, Attachment] = {}
        for case, material in group["materials"]:
            for a in attachments[case.pk]:
                if a.material_id == material.pk:
                    files.setdefault(a.blob_id, a)
        group["attachments"] = list(files.values())
    return list(groups.values())


def _bundle_lock(actor, bundle_case: BundleCase) -> BundleCase:
    bundle_case = BundleCase.objects.select_for_update().select_related("bundle").get(pk=bundle_case.pk)
    if bundle_case.applicant_id != actor.pk:
        raise PermissionDenied("only the applicant may do this")
    return bundle_case


def _ensure_bundle_draft(bundle_case: BundleCase) -> None:
    if bundle_case.status != BundleCase.Status.DRAFT:
        raise WrongState(_("This life event's applications were already submitted."))


@transaction.atomic
def bundle_start(*, actor, bundle: LifeEvent, enterprise=None) -> BundleCase:
    """Start a bundle: one draft per item that can be applied for online. An open draft of the
    same bundle (for the same enterprise) is returned instead: "apply" twice makes one."""
    _lock_person(actor)
    existing = (
        BundleCase.objects.filter(
            bundle=bundle, applicant=actor, enterprise=enterprise, status=BundleCase.Status.DRAFT
        )
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        return existing
    items = [e.item for e in bundle.entries.select_related("item").order_by("order", "pk")]
    online = [
        i
        for i in items
        if i.status == ServiceItem.Status.PUBLISHED
        and i.online_depth >= ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE
    ]
    if not online:
        raise WrongState(_("None of this bundle's services can be applied for online."))
    bundle_case = BundleCase.objects.create(bundle=bundle, applicant=actor, enterprise=enterprise)
    for item in online:
        case_start(actor=actor, item=item, enterprise=enterprise, bundle_case=bundle_case)
    return bundle_case


@transaction.atomic
def bundle_save(*, actor, bundle_case: BundleCase, data: Mapping[int, Mapping]) -> BundleCase:
    """Save the combined form: ``data`` is {case pk: values} (``schemaforms.split_post``), each
    saved as ``case_save`` does. All or nothing: errors come back keyed by the combined form's
    field names and nothing is saved."""
    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    drafts = bundle_drafts(bundle_case)
    schemas = bundle_schemas(drafts)
    errors: dict[str, str] = {}
    for case in drafts:
        try:
            case_save(actor=actor, case=case, data=data.get(case.pk, {}))
        except InvalidInput as exc:
            for name, message in exc.errors.items():
                errors.setdefault(schemaforms.combined_name(schemas, case.pk, name), message)
    if errors:
        raise InvalidInput(_("Some fields need correcting."), errors)
    return bundle_case


@transaction.atomic
def bundle_attachment_add(*, actor, bundle_case: BundleCase, material_id: int, upload) -> list[Attachment]:
    """Upload a material once for the whole bundle: it is attached to every draft whose item asks
    for the same material (``material_key``). The file is stored once (by content)."""
    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    group = next(
        (
            g
            for g in bundle_materials(bundle_drafts(bundle_case))
            if any(m.pk == material_id for _c, m in g["materials"])
        ),
        None,
    )
    if group is None:
        raise InvalidInput(
            _("Choose one of the materials this service asks for."), {"material": _("Unknown material.")}
        )
    attached = []
    for case, material in group["materials"]:
        upload.seek(0)
        attached.append(attachment_add(actor=actor, case=case, material_id=material.pk, upload=upload))
    return attached


@transaction.atomic
def bundle_attachment_remove(*, actor, bundle_case: BundleCase, attachment_id: int) -> None:
    """Remove a file from the bundle's material: from every draft it was attached to."""
    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    drafts = bundle_drafts(bundle_case)
    for group in bundle_materials(drafts):
        for a in group["attachments"]:
            if a.pk == attachment_id:
                ids = [m.pk for _c, m in group["materials"]]
                for attachment in Attachment.objects.filter(
                    case__in=drafts, material_id__in=ids, blob_id=a.blob_id
                ).select_related("case"):
                    attachment_remove(actor=actor, attachment=attachment)
                return
    raise InvalidInput(_("This file is not part of the application."), {"file": _("Unknown file.")})


def _bundle_licence_offer(bundle_case: BundleCase, material_id: int):
    from .licence_materials import bundle_offers

    offers = bundle_offers(bundle_drafts(bundle_case)).rows
    offer = next((o for o in offers if any(m.pk == material_id for _c, m in o.targets)), None)
    if offer is None:
        raise InvalidInput(_("This material cannot be replaced by an electronic licence."))
    return offer


@transaction.atomic
def bundle_licence_use(
    *, actor, bundle_case: BundleCase, material_id: int, licence_id: int, consent: bool
) -> list[CaseLicence]:
    """免证办 on the combined form: the licence replaces the material in every draft asking for
    it (``licence_materials.bundle_offers``), the consent recorded and audited on each case by
    ``licence_materials.case_licence_use``. All or none: a draft it does not satisfy refuses all."""
    from .licence_materials import case_licence_use

    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    offer = _bundle_licence_offer(bundle_case, material_id)
    return [
        case_licence_use(actor=actor, case=case, material_id=m.pk, licence_id=licence_id, consent=consent)
        for case, m in offer.targets
    ]


@transaction.atomic
def bundle_licence_withdraw(*, actor, bundle_case: BundleCase, material_id: int) -> None:
    """Take the consent back for the material in every draft of the bundle: it is asked again."""
    from .licence_materials import case_licence_withdraw

    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    for case, m in _bundle_licence_offer(bundle_case, material_id).targets:
        case_licence_withdraw(actor=actor, case=case, material_id=m.pk)


def bundle_prereview(bundle_case: BundleCase, drafts: list[Case] | None = None) -> dict[str, str]:
    """预审 of the whole bundle, keyed like the combined form: a shared field or material missing
    in several items is named once (``bm-<id>`` for a material)."""
    drafts = bundle_drafts(bundle_case) if drafts is None else drafts
    schemas = bundle_schemas(drafts)
    groups = {m.pk: g for g in bundle_materials(drafts) for _c, m in g["materials"]}
    errors: dict[str, str] = {}
    for case in drafts:
        for field, message in prereview(case).items():
            if field.startswith("material-"):
                group = groups.get(int(field.removeprefix("material-")))
                key = f"bm-{group['id']}" if group else field
                errors.setdefault(key, message)
            else:
                name = schemaforms.combined_name(schemas, case.pk, field)
                shared = name == field
                errors.setdefault(name, message if shared else f"{case.item.name}: {message}")
    return errors


@transaction.atomic
def bundle_submit(*, actor, bundle_case: BundleCase) -> BundleCase:
    """Submit every draft of the bundle together (one submission); each then runs in its own
    department in parallel. All or nothing: if one is incomplete or its process refuses it, none
    is submitted. Submitting a submitted bundle returns it unchanged (a double click)."""
    bundle_case = _bundle_lock(actor, bundle_case)
    if bundle_case.status != BundleCase.Status.DRAFT:
        return bundle_case
    drafts = bundle_drafts(bundle_case)
    errors = bundle_prereview(bundle_case, drafts)
    if errors:
        raise InvalidInput(_("Some applications in this bundle are not complete yet."), errors)
    for case in drafts:
        case_submit(actor=actor, case=case, within_bundle=True)
    bundle_case.status = BundleCase.Status.IN_PROGRESS
    bundle_case.save(update_fields=["status"])
    audit.record(
        actor=actor,
        event="applications:bundle:submit",
        target=bundle_case,
        data={"bundle": bundle_case.bundle.code, "cases": [c.pk for c in drafts]},
    )
    _bundle_refresh(bundle_case.pk, timezone.now())
    return bundle_case


@transaction.atomic
def bundle_discard(*, actor, bundle_case: BundleCase) -> None:
    """Delete one's own bundle application that was never submitted, with its drafts. Audited."""
    bundle_case = _bundle_lock(actor, bundle_case)
    _ensure_bundle_draft(bundle_case)
    cases = list(bundle_case.cases.select_for_update().all())
    if any(not c.is_draft or c.submitted_at is not None for c in cases):
        raise WrongState(_("Only a draft can be deleted."))
    audit.record(
        actor=actor,
        event="applications:bundle:discard",
        target=bundle_case,
        data={"bundle": bundle_case.bundle.code, "cases": [c.pk for c in cases]},
    )
    for case in cases:
        case.delete()
    bundle_case.delete()


def _bundle_refresh(bundle_case_id: int, now) -> None:
    bundle_case = BundleCase.objects.select_for_update().get(pk=bundle_case_id)
    statuses = list(bundle_case.cases.values_list("status", flat=True))
    if bundle_case.status != BundleCase.Status.IN_PROGRESS or not all(
        s in Case.ENDED_STATUSES for s in statuses
    ):
        return
    ok = all(s == Case.Status.COMPLETED for s in statuses)
    bundle_case.status = BundleCase.Status.COMPLETED if ok else BundleCase.Status.CLOSED
    bundle_case.completed_at = now
    bundle_case.save(update_fields=["status", "completed_at"])
    audit.record(
        actor=None, event="applications:bundle:end", target=bundle_case, data={"status": bundle_case.status}
    )


# --- 好差评 ------------------------------------------------------------------------------


@transaction.atomic
def case_rate(*, actor, case: Case, level: int, comment: str = "") -> Rating:
    """Rate a finished case once. 不满意/非常不满意 opens a rectification for the department."""
    case = _lock(case)
    _ensure_applicant(actor, case)
    if case.status not in workflow.RATEABLE:
        raise WrongState(_("You can rate an application once it has been decided."))
    if Rating.objects.filter(case=case).exists():
        raise AlreadyHandled(_("You have already rated this application."))
    if level not in Rating.Level.values:
        raise InvalidInput(_("Choose a rating."), {"level": _("Choose one of the five levels.")})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput(_("The comment is too long."), {"comment": _("Use at most 2000 characters.")})
    now = timezone.now()
    rating = Rating.objects.create(case=case, level=level, comment=comment, created_at=now)
    if level <= Rating.Level.DISSATISFIED:
        Rectification.objects.create(
            rating=rating,
            department_id=case.department_id,
            due_date=add_workdays(timezone.localdate(now), RECTIFY_DAYS),
        )
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.RATED, status=case.status, actor=actor, at=now)
    audit.record(actor=actor, event="applications:rating:create", target=case, data={"level": level})
    return rating


@transaction.atomic
def rectification_reply(*, actor, rectification: Rectification, reply: str) -> Rectification:
    rectification = (
        Rectification.objects.select_for_update().select_related("rating__case").get(pk=rectification.pk)
    )
    if not (
        has_role(actor, "admin", rectification.department_id)
        or has_role(actor, "leader", rectification.department_id)
    ):
        raise PermissionDenied("admin or leader of the department required")
    if rectification.state != Rectification.State.OPEN:
        raise AlreadyHandled(_("This rectification was already answered."))
    reply = (reply or "").strip()
    if not reply or len(reply) > 4000:
        raise InvalidInput(_("Write a reply."), {"reply": _("Write between 1 and 4000 characters.")})
    rectification.state, rectification.reply = Rectification.State.REPLIED, reply
    rectification.replied_at, rectification.replied_by = timezone.now(), actor
    rectification.save(update_fields=["state", "reply", "replied_at", "replied_by"])
    case = rectification.rating.case
    audit.record(
        actor=actor,
        event="applications:rectification:reply",
        target=case,
        subject=case.applicant_id,
        data={"rating": rectification.rating.level},
    )
    _notify(case, notice_texts.RATING_REPLIED, {"number": case.number}, reply)
    return rectification


# --- the public progress query ----------------------------------------------------------


def track_normalise(text: str) -> str:
    """A case number or identity characters as typed: NFKC (full-width digits and hyphens
    become ASCII), whitespace removed, upper case — the same form for the lookup and its
    throttle, so " 610100-…" and "610100-…" are one key."""
    return throttle.normalise(text).upper()


def track_lookup(*, number: str, id_last4: str, client_ip: str | None) -> Case | None:
    """The progress query without sign-in: the case whose number and applicant's last four
    identity characters both match, else None. Raises ``Throttled`` when this client made too
    many wrong guesses.

    Each try is counted before the answer is checked (atomically, so parallel guesses cannot
    overrun the limit) in two scopes of its own, apart from sign-in: ``track-case`` per (case
    number, client) and ``track-client`` per client. A right answer is given back, so only
    wrong guesses count. Nothing is counted per case alone: nobody's guesses can lock another
    person's case. The per-client limit is the one trade-off: someone making many wrong guesses
    from a shared address (a kiosk) makes the signed-out query wait there for everyone, since
    nothing else tells the people behind one address apart; the owner signed in always sees the
    case under "my cases", and the message says so."""
    number, id_last4 = track_normalise(number), track_normalise(id_last4)
    client = throttle.normalise_address(client_ip)
    attempt = throttle.attempt(
        (throttle.rule("track-case"), f"{number}|{client}"),
        (throttle.rule("track-client"), client),
    )
    if not attempt.allowed:
        raise Throttled(
            _(
                "Too many lookups from this network did not match. Try again in %(minutes)s minutes, "
                "or sign in: your own applications are always under “My applications”."
            )
            % {"minutes": attempt.minutes}
        )
    from .selectors import track

    case = track(number, id_last4)
    if case is not None:
        attempt.give_back()
    return case


# --- notices -----------------------------------------------------------------------------


def _notify(case: Case, key: str, params: dict, body: str = "") -> Notice:
    """An in-site notice now, stored as a message key and parameters (``notice_texts``) and
    rendered in the reader's language; the email goes out after commit through the task queue."""
    notice = Notice(
        user_id=case.applicant_id,
        case=case,
        subject=notice_texts.stored_subject(key, params)[:200],
        body=body or notice_texts.stored_body(params),
        message_key=key,
        params=params,
    )
    insert_objects(notice)

    def send():
        from .tasks import send_notice_email

        send_notice_email.enqueue(notice_id=notice.pk)

    transaction.on_commit(send)
    return notice


@transaction.atomic
def notices_mark_read(*, actor, ids: list[int] | None = None) -> int:
    qs = Notice.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
