"""Applications API (一网通办): forms, drafts, materials, submission, cases, tasks and actions.

Mounted at ``/api/applications/``. Session authentication (CSRF applies); refusals use the
project's one error shape with 401/403/404/409/422.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from yiwang.catalog.models import ServiceItem
from yiwang.core import context
from yiwang.core.api import ApiError, field_error
from yiwang.identity.models import Department, Region
from yiwang.identity.permissions import acting_enterprise, has_role
from yiwang.lib.bilingual import pick

from . import selectors, services
from .forms import ProcessForm
from .models import Case, FormDefinition, Process, Rating, Task
from .permissions import can_see_applicant_data, get_case_for_user, get_process_for_user, get_task_for_user

router = Router(tags=["applications"])

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


# --- schemas ---------------------------------------------------------------------------


class MaterialOut(Schema):
    id: int
    name: str
    required: bool
    held_by_government: bool


class FormOut(Schema):
    item: str
    name: str
    schema_: dict = Field(alias="schema")
    provided: dict
    materials: list[MaterialOut]


class DraftIn(Schema):
    item: str = Field(max_length=64)


class DataIn(Schema):
    data: dict


class SubmitIn(Schema):
    item: str = Field(max_length=64)
    data: dict


class AttachmentOut(Schema):
    id: int
    material: int
    filename: str
    size: int
    kind: str
    sha256: str


class EventOut(Schema):
    kind: str
    status: str
    step: str
    decision: str
    comment: str
    at: dt.datetime


class OpenTaskOut(Schema):
    id: int
    step: str
    role: str
    decisions: list[str]
    opened_at: dt.datetime


class RuleOut(Schema):
    rule_id: str
    description: str


class CaseOut(Schema):
    id: str
    number: str | None
    item: str
    item_name: str
    department: str
    status: str
    status_label: str
    data: dict
    provided: list[str]
    submitted_at: dt.datetime | None
    due_date: dt.date | None
    clock_stopped: bool
    rules: list[RuleOut]
    attachments: list[AttachmentOut]
    timeline: list[EventOut]
    open_tasks: list[OpenTaskOut]
    rating: int | None


class CaseSummaryOut(Schema):
    id: str
    number: str | None
    item: str
    item_name: str
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    due_date: dt.date | None


class PrereviewOut(Schema):
    ready: bool
    errors: list[dict]


class TrackIn(Schema):
    number: str = Field(max_length=64, description="The case number, e.g. 610100-20261123-000042")
    id_last4: str = Field(
        max_length=16, description="The last four characters of the applicant's identity number"
    )


class TrackOut(Schema):
    number: str
    item_name: str
    department: str
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    due_date: dt.date | None
    timeline: list[EventOut]


class TaskOut(Schema):
    id: int
    case: str
    item_name: str
    step: str
    role: str
    state: str
    decisions: list[str]
    opened_at: dt.datetime
    due_date: dt.date | None
    flag: str
    claimed_by: str | None


class TaskPageOut(Schema):
    queue: str
    count: int
    page: int
    tasks: list[TaskOut]


class ActionIn(Schema):
    decision: str = Field(max_length=16)
    comment: str = Field("", max_length=2000)


class SupplementIn(Schema):
    data: dict = {}
    comment: str = Field("", max_length=2000)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=2000)


class RatingIn(Schema):
    level: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class NoticeOut(Schema):
    id: int
    case: str | None
    subject: str
    body: str
    created_at: dt.datetime
    read: bool


# --- helpers -----------------------------------------------------------------------------


def case_id(case: Case) -> str:
    return case.number or f"draft-{case.pk}"


# What the one-step submit reads of the item (and shows of it), in one prepared statement: the
# item's row is wide, and the ORM's building and loading of it with its department, region and
# form was a good part of the submit's time (issue 9 §9). Every value is read on every submit
# (nothing is kept between requests), so a change to the item, its form, its department's name
# or its region counts at once; the other columns are left deferred, as ``only()`` leaves them.
_SUBMIT_ITEM_NEEDS = {
    "id",
    "code",
    "name",
    "status",
    "online_depth",
    "realname_level",
    "promised_limit_days",
    "statutory_limit_days",
    "department",
    "region",
}
# In the model's field order, as Model.from_db expects the values of a partial row.
SUBMIT_ITEM_FIELDS = tuple(f.name for f in ServiceItem._meta.concrete_fields if f.name in _SUBMIT_ITEM_NEEDS)


@functools.cache
def _submit_item_sql(vendor: str) -> str:
    q = connection.ops.quote_name

    def col(model, alias: str, name: str) -> str:
        return f"{alias}.{q(model._meta.get_field(name).column)}"

    selected = [col(ServiceItem, "i", name) for name in SUBMIT_ITEM_FIELDS] + [
        col(Department, "d", "name"),
        col(Region, "r", "code"),
        col(FormDefinition, "f", "id"),
        col(FormDefinition, "f", "schema"),
    ]
    return (
        f"SELECT {', '.join(selected)} FROM {q(ServiceItem._meta.db_table)} i "  # noqa: S608 — model metadata only
        f"JOIN {q(Department._meta.db_table)} d "
        f"ON {col(Department, 'd', 'id')} = {col(ServiceItem, 'i', 'department')} "
        f"JOIN {q(Region._meta.db_table)} r ON {col(Region, 'r', 'id')} = {col(ServiceItem, 'i', 'region')} "
        f"LEFT JOIN {q(FormDefinition._meta.db_table)} f "
        f"ON {col(FormDefinition, 'f', 'item')} = {col(ServiceItem, 'i', 'id')} "
        f"WHERE {col(ServiceItem, 'i', 'code')} = %s AND {col(ServiceItem, 'i', 'status')} = %s"
    )


def _item_for_submit(code: str) -> ServiceItem:
    """The published item of this code with what the submit needs (404 otherwise), as
    ``_published_item`` with ``only()`` would give it, its department, region and form loaded."""
    with connection.cursor() as cursor:
        cursor.execute(_submit_item_sql(connection.vendor), [str(code)[:64], ServiceItem.Status.PUBLISHED])
        row = cursor.fetchone()
    if row is None:
        raise field_error("item", _("There is no service item with this code."), status=404)
    n = len(SUBMIT_ITEM_FIELDS)
    attnames = [ServiceItem._meta.get_field(name).attname for name in SUBMIT_ITEM_FIELDS]
    item = ServiceItem.from_db(connection.alias, attnames, row[:n])
    department_name, region_code, form_id, schema = row[n:]
    department = Department.from_db(connection.alias, ["id", "name"], [item.department_id, department_name])
    region = Region.from_db(connection.alias, ["id", "code"], [item.region_id, region_code])
    ServiceItem.department.field.set_cached_value(item, department)
    ServiceItem.region.field.set_cached_value(item, region)
    form = None
    if form_id is not None:  # the database's JSON text, decoded as the field itself decodes it
        stored = FormDefinition._meta.get_field("schema").from_db_value(schema, None, connection)
        form = FormDefinition.from_db(
            connection.alias, ["id", "item_id", "schema"], [form_id, item.pk, stored]
        )
        FormDefinition.item.field.set_cached_value(form, item)
    ServiceItem.form_definition.related.set_cached_value(item, form)
    return item


def _published_item(code: str) -> ServiceItem:
    try:  # get(): the code is unique, and no ORDER BY to build
        return ServiceItem.objects.select_related("region", "department", "form_definition").get(
            code=str(code)[:64], status=ServiceItem.Status.PUBLISHED
        )
    except ServiceItem.DoesNotExist:
        raise field_error("item", _("There is no service item with this code."), status=404) from None


def case_out(case: Case, *, official: bool = False, fresh: bool = False, redact: bool = False) -> dict:
    """The case as the API shows it; ``fresh``: created in this request (no files, no rating);
    ``redact``: without the applicant's form data and files."""
    attachments = [] if fresh or redact else case.attachments.select_related("blob").order_by("pk")
    if fresh:  # the submit keeps the tasks it created in memory
        open_tasks = [t for t in case.tasks.all() if t.state == Task.State.OPEN]
        open_tasks = [t for t in open_tasks if official or t.role == "applicant"]
    else:
        open_tasks = case.tasks.filter(state=Task.State.OPEN)
        if not official:
            open_tasks = open_tasks.filter(role="applicant")
    rating = None if fresh else Rating.objects.filter(case=case).first()
    return {
        "id": case_id(case),
        "number": case.number,
        "item": case.item.code,
        "item_name": case.item.name,
        "department": case.department.name,
        "status": case.status,
        "status_label": case.get_status_display(),
        "data": {} if redact else case.data,
        "provided": case.provided,
        "submitted_at": case.submitted_at,
        "due_date": case.due_date,
        "clock_stopped": case.paused_on is not None,
        "rules": [
            {"rule_id": h.get("rule_id", ""), "description": pick(h.get("description", ""))}
            for h in case.rule_hits
        ],
        "attachments": [
            {
                "id": a.pk,
                "material": a.material_id,
                "filename": a.filename,
                "size": a.blob.size,
                "kind": a.blob.kind,
                "sha256": a.blob_id,
            }
            for a in attachments
        ],
        "timeline": [_event(e) for e in selectors.timeline(case)],
        "open_tasks": [
            {
                "id": t.pk,
                "step": pick(t.title),
                "role": t.role,
                "decisions": t.decisions,
                "opened_at": t.opened_at,
            }
            for t in open_tasks
        ],
        "rating": rating.level if rating else None,
    }


def _event(e) -> dict:
    return {
        "kind": e.kind,
        "status": e.status,
        "step": pick(e.step),
        "decision": e.decision,
        "comment": e.comment,
        "at": e.at,
    }


def _task_out(t: Task) -> dict:
    return {
        "id": t.pk,
        "case": case_id(t.case),
        "item_name": t.case.item.name,
        "step": pick(t.title),
        "role": t.role,
        "state": t.state,
        "decisions": t.decisions,
        "opened_at": t.opened_at,
        "due_date": t.due_date,
        "flag": t.flag,
        "claimed_by": t.claimed_by.username if t.claimed_by_id else None,
    }


def _draft(request, draft_id: str) -> Case:
    case = get_case_for_user(request.user, draft_id, for_write=True)
    return case


# --- forms and drafts --------------------------------------------------------------------


@router.get(
    "/items/{code}/form",
    response=FormOut,
    by_alias=True,
    auth=django_auth,
    summary="An item's application form",
)
def item_form(request, code: str):
    from . import schemaforms

    item = _published_item(code)
    schema = services.form_schema(item)
    sources = schemaforms.gov_sources(user=request.user, enterprise=acting_enterprise(request))
    materials = list(item.materials.all())
    return {
        "item": item.code,
        "name": item.name,
        "schema": schema,
        "provided": schemaforms.prefill(schema, sources),
        "materials": [
            {
                "id": m.pk,
                "name": m.name,
                "required": m.required,
                "held_by_government": m.source == m.Source.GOVERNMENT,
            }
            for m in materials
        ],
    }


@router.post("/drafts", response={201: CaseOut}, auth=django_auth, summary="Start a draft application")
def draft_create(request, payload: DraftIn):
    item = _published_item(payload.item)
    case = services.case_start(actor=request.user, item=item, enterprise=acting_enterprise(request))
    return Status(201, case_out(case))


@router.get("/drafts/{draft_id}", response=CaseOut, auth=django_auth, summary="A draft or case of yours")
def draft_detail(request, draft_id: str):
    return case_out(_draft(request, draft_id))


@router.put("/drafts/{draft_id}", response=CaseOut, auth=django_auth, summary="Save a draft's form data")
def draft_save(request, draft_id: str, payload: DataIn):
    case = services.case_save(actor=request.user, case=_draft(request, draft_id), data=payload.data)
    return case_out(case)


@router.post(
    "/drafts/{draft_id}/materials",
    response={201: AttachmentOut},
    auth=django_auth,
    summary="Upload a material (PDF, OFD, PNG, JPEG, WebP; checked by content)",
)
def draft_upload(request, draft_id: str, material: Form[int], file: File[UploadedFile]):
    attachment = services.attachment_add(
        actor=request.user, case=_draft(request, draft_id), material_id=material, upload=file
    )
    blob = attachment.blob
    return Status(
        201,
        {
            "id": attachment.pk,
            "material": attachment.material_id,
            "filename": attachment.filename,
            "size": blob.size,
            "kind": blob.kind,
            "sha256": blob.sha256,
        },
    )


@router.get(
    "/drafts/{draft_id}/prereview", response=PrereviewOut, auth=django_auth, summary="预审: what is missing"
)
def draft_prereview(request, draft_id: str):
    errors = services.prereview(_draft(request, draft_id))
    return {"ready": not errors, "errors": [{"field": k, "message": v} for k, v in errors.items()]}


@router.post("/drafts/{draft_id}/submit", response=CaseOut, auth=django_auth, summary="Submit a draft")
def draft_submit(request, draft_id: str):
    case = services.case_submit(actor=request.user, case=_draft(request, draft_id))
    return case_out(case)


@router.delete("/drafts/{draft_id}", response={204: None}, auth=django_auth, summary="Delete a draft")
def draft_delete(request, draft_id: str):
    services.case_discard(actor=request.user, case=_draft(request, draft_id))
    return Status(204, None)


# --- cases -------------------------------------------------------------------------------


@router.post(
    "/cases",
    response={200: CaseOut, 201: CaseOut},
    auth=django_auth,
    summary="Apply in one step (requires an Idempotency-Key header; a retry returns the same case)",
)
def case_create(request, payload: SubmitIn, idempotency_key: str = Header(..., alias="Idempotency-Key")):
    if not IDEMPOTENCY_KEY.match(idempotency_key or ""):
        raise field_error(
            "Idempotency-Key", _("Send an Idempotency-Key header of 8 to 64 letters, digits or -_.:")
        )
    item = _item_for_submit(payload.item)
    case, created = services.case_submit_once(
        actor=request.user,
        item=item,
        data=payload.data,
        idempotency_key=idempotency_key,
        enterprise=acting_enterprise(request),
    )
    return Status(201 if created else 200, case_out(case, fresh=created))


@router.get("/cases", response=list[CaseSummaryOut], auth=django_auth, summary="Your applications")
def case_list(request, page: int = 1):
    if page < 1 or page > 10_000:
        raise field_error("page", _("Enter a page number from 1."))
    start = (page - 1) * selectors.PAGE_SIZE
    cases = selectors.my_cases(request.user)[start : start + selectors.PAGE_SIZE]
    return [
        {
            "id": case_id(c),
            "number": c.number,
            "item": c.item.code,
            "item_name": c.item.name,
            "status": c.status,
            "status_label": c.get_status_display(),
            "submitted_at": c.submitted_at,
            "due_date": c.due_date,
        }
        for c in cases
    ]


@router.get("/cases/{number}", response=CaseOut, auth=django_auth, summary="A case: status and timeline")
def case_detail(request, number: str):
    case = get_case_for_user(request.user, number)
    if case.applicant_id == request.user.pk:
        return case_out(case)
    # Officials: those who process cases see the data and files; leaders, administrators and
    # auditors see status, timeline and tasks only (the same rule as the pages).
    return case_out(case, official=True, redact=not can_see_applicant_data(request.user, case))


@router.post("/cases/{number}/withdraw", response=CaseOut, auth=django_auth, summary="Withdraw a case")
def case_withdraw(request, number: str, payload: WithdrawIn):
    case = services.case_withdraw(
        actor=request.user,
        case=get_case_for_user(request.user, number, for_write=True),
        reason=payload.reason,
    )
    return case_out(case)


@router.post(
    "/cases/{number}/materials",
    response={201: AttachmentOut},
    auth=django_auth,
    summary="Upload a material while answering a supplement request",
)
def case_upload(request, number: str, material: Form[int], file: File[UploadedFile]):
    return draft_upload(request, number, material, file)


@router.post(
    "/cases/{number}/supplement", response=CaseOut, auth=django_auth, summary="Answer a 补正 request"
)
def case_supplement(request, number: str, payload: SupplementIn):
    case = get_case_for_user(request.user, number, for_write=True)
    task = case.tasks.filter(state=Task.State.OPEN, role="applicant").first()
    if task is None:
        raise ApiError(409, _("Nothing is asked of you on this case now."))
    case = services.task_complete(
        actor=request.user, task=task, decision="resubmit", comment=payload.comment, data=payload.data
    )
    return case_out(case)


@router.post(
    "/cases/{number}/rating", response={201: CaseOut}, auth=django_auth, summary="好差评: rate a case"
)
def case_rating(request, number: str, payload: RatingIn):
    case = get_case_for_user(request.user, number, for_write=True)
    services.case_rate(actor=request.user, case=case, level=payload.level, comment=payload.comment)
    return Status(201, case_out(Case.objects.get(pk=case.pk)))


@router.post(
    "/track", response=TrackOut, summary="Progress by case number and the last 4 of the identity number"
)
def track(request, payload: TrackIn):
    """A POST, so the four characters never appear in a URL or an access log. Only wrong
    guesses count, per (case, client) and per client; too many give 429."""
    case = services.track_lookup(
        number=payload.number, id_last4=payload.id_last4, client_ip=context.current().client_ip
    )
    if case is None:
        raise Http404("no match")
    return {
        "number": case.number,
        "item_name": case.item.name,
        "department": case.department.name,
        "status": case.status,
        "status_label": case.get_status_display(),
        "submitted_at": case.submitted_at,
        "due_date": case.due_date,
        "timeline": [_event(e) | {"comment": ""} for e in selectors.timeline(case)],
    }


# --- officials: tasks --------------------------------------------------------------------


@router.get("/tasks", response=TaskPageOut, auth=django_auth, summary="A workbench queue")
def task_queue(request, queue: str = "accept", page: int = 1):
    if not selectors.queues_for(request.user):  # as the workbench page: no case duty, no queues
        raise ApiError(403, _("Only officials who handle or supervise cases have a workbench."))
    if queue not in selectors.QUEUES:
        raise field_error("queue", _("Choose one of: %(queues)s.") % {"queues": ", ".join(selectors.QUEUES)})
    if page < 1 or page > 10_000:
        raise field_error("page", _("Enter a page number from 1."))
    result = selectors.queue_page(request.user, queue, page)
    return {
        "queue": queue,
        "count": result.paginator.count,
        "page": result.number,
        "tasks": [_task_out(t) for t in result.object_list],
    }


@router.get("/tasks/{task_id}", response=TaskOut, auth=django_auth, summary="One task")
def task_detail(request, task_id: str):
    return _task_out(get_task_for_user(request.user, task_id))


@router.post("/tasks/{task_id}/claim", response=TaskOut, auth=django_auth, summary="Claim a task")
def task_claim(request, task_id: str):
    task = services.task_claim(actor=request.user, task=get_task_for_user(request.user, task_id))
    return _task_out(task)


@router.post("/tasks/{task_id}/release", response=TaskOut, auth=django_auth, summary="Release a claimed task")
def task_release(request, task_id: str):
    task = services.task_release(actor=request.user, task=get_task_for_user(request.user, task_id))
    return _task_out(task)


@router.post("/tasks/{task_id}/action", response=CaseOut, auth=django_auth, summary="Act on a task")
def task_action(request, task_id: str, payload: ActionIn):
    task = get_task_for_user(request.user, task_id)
    case = services.task_complete(
        actor=request.user, task=task, decision=payload.decision, comment=payload.comment
    )
    return case_out(case, official=True)


@router.get("/notices", response=list[NoticeOut], auth=django_auth, summary="Your in-site messages")
def notices(request):
    rows = request.user.notices.select_related("case")[:100]
    return [
        {
            "id": n.pk,
            "case": case_id(n.case) if n.case_id else None,
            "subject": n.subject_text,
            "body": n.body_text,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in rows
    ]


# --- department admins: process versions -------------------------------------------------
# The same checks, services and audit entries as the version pages (views.process_item,
# process_version, process_download, process_activate): the API only reads and answers.


class ProcessSummaryOut(Schema):
    version: int
    name: str
    active: bool
    key: str = Field(description="Hash of the BPMN and DMN as stored")
    has_dmn: bool
    created_at: dt.datetime
    created_by: str | None


class ProcessStepOut(Schema):
    id: str
    title: str = Field(description="The step's name in the reader's language")
    kind: str = Field(description='"user" (a person\'s task) or "rules" (a decision table)')
    role: str
    status: str
    decisions: list[str]


class VerificationOut(Schema):
    ok: bool = Field(description="Whether the version passes today's checks against the item's current form")
    messages: list[str] = Field(description="What to change, when it does not")


class ProcessOut(ProcessSummaryOut):
    item: str
    steps: list[ProcessStepOut]
    fields: list[str] = Field(description="Form fields its conditions and rules read")
    verification: VerificationOut


PROCESS_REFUSED = {
    "description": "The model was refused: each entry of `errors` says what to change "
    "(the same messages as the process pages).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
PROCESS_FILE = {
    200: {
        "description": "The file exactly as uploaded, as an attachment",
        "content": {"application/xml": {"schema": {"type": "string"}}},
    }
}


OPTIONAL_FILE = File(None)  # the DMN file may be left out (ninja's marker, made once)


def _ensure_process_admin(request) -> None:
    if not has_role(request.user, "admin"):
        raise ApiError(403, _("Only department administrators manage processes."))


def _admin_item(request, code: str) -> ServiceItem:
    """The item, for an administrator of its department (or one above it): 403 otherwise, as
    the item's process page; 404 when no item has this code."""
    _ensure_process_admin(request)
    item = get_object_or_404(ServiceItem.objects.select_related("department"), code=str(code)[:64])
    if not has_role(request.user, "admin", item.department_id):
        raise ApiError(403, _("Only administrators of the item's department manage its processes."))
    return item


def _admin_process(request, code: str, version: int) -> Process:
    _ensure_process_admin(request)
    return get_process_for_user(request.user, code, version)


def _refused(exc: services.ApplicationError) -> ApiError:
    messages = getattr(exc, "messages", None) or list(exc.errors.values())
    field = next(iter(exc.errors), "bpmn")
    return ApiError(400, exc.message, [{"field": field, "message": str(m)} for m in messages])


def _process_summary(p: Process) -> dict:
    return {
        "version": p.version,
        "name": pick(p.name),
        "active": p.is_active,
        "key": p.key,
        "has_dmn": bool(p.dmn.strip()),
        "created_at": p.created_at,
        "created_by": p.created_by.username if p.created_by_id else None,
    }


def _process_out(p: Process) -> dict:
    outline = selectors.process_outline(p)
    try:
        services.process_check(item=p.item, bpmn=p.bpmn, dmn=p.dmn)
        verification = {"ok": True, "messages": []}
    except services.ModelRefused as exc:
        verification = {"ok": False, "messages": exc.messages}
    return _process_summary(p) | {
        "item": p.item.code,
        "steps": [
            {
                "id": step.id,
                "title": pick(step.title),
                "kind": step.kind,
                "role": step.role,
                "status": step.status,
                "decisions": list(step.decisions),
            }
            for step in outline.steps
        ],
        "fields": outline.fields,
        "verification": verification,
    }


@router.get(
    "/items/{code}/processes",
    response=list[ProcessSummaryOut],
    auth=django_auth,
    summary="An item's process versions, newest first (its department's admins)",
)
def process_list(request, code: str):
    item = _admin_item(request, code)
    versions = Process.objects.filter(item=item).select_related("created_by").order_by("-version")
    return [_process_summary(p) for p in versions]


@router.post(
    "/items/{code}/processes",
    response={201: ProcessOut},
    auth=django_auth,
    summary="Upload a new process version (BPMN, optional DMN): checked as on the process page",
    openapi_extra={
        "responses": {400: PROCESS_REFUSED},
        # Optional in the signature so that the right to upload is checked before the input.
        "requestBody": {"content": {"multipart/form-data": {"schema": {"required": ["bpmn"]}}}},
    },
)
def process_upload(
    request,
    code: str,
    bpmn: UploadedFile | None = OPTIONAL_FILE,
    dmn: UploadedFile | None = OPTIONAL_FILE,
    name: Form[str] = "",
    activate: Form[bool] = True,
):
    """Checked and saved exactly as the item's process page does (``services.process_attach``):
    a refused model saves nothing and answers 400 with every problem. With ``activate`` (the
    default) new cases use it at once; running cases keep their version."""
    item = _admin_item(request, code)
    if bpmn is None:
        raise field_error("bpmn", _("This field is required."))
    form = ProcessForm(data={"name": name}, files={"bpmn": bpmn, **({"dmn": dmn} if dmn else {})})
    if not form.is_valid():
        errors = [{"field": f, "message": str(m)} for f, ms in form.errors.items() for m in ms]
        raise ApiError(400, _("The files could not be read."), errors)
    data = form.cleaned_data
    try:
        process = services.process_attach(
            actor=request.user,
            item=item,
            bpmn=data["bpmn"],
            dmn=data["dmn"],
            name=data["name"],
            activate=activate,
        )
    except services.ModelRefused as exc:
        raise _refused(exc) from exc
    return Status(201, _process_out(process))


@router.get(
    "/items/{code}/processes/{version}",
    response=ProcessOut,
    auth=django_auth,
    summary="One process version: its steps, the fields it reads and today's check of it",
)
def process_detail(request, code: str, version: int):
    return _process_out(_admin_process(request, code, version))


@router.post(
    "/items/{code}/processes/{version}/activate",
    response=ProcessOut,
    auth=django_auth,
    summary="Use this version for new cases: a later one, or a rollback to an earlier one",
    openapi_extra={"responses": {400: PROCESS_REFUSED}},
)
def process_activate(request, code: str, version: int):
    """Checked again against the item's current form first (``services.process_activate``);
    refused: 400 with every problem, and the version in use stays. Already in use: nothing
    changes."""
    process = _admin_process(request, code, version)
    try:
        process = services.process_activate(actor=request.user, process=process)
    except services.ModelRefused as exc:
        raise _refused(exc) from exc
    return _process_out(process)


# After the activation: its path would also match {kind}.
@router.get(
    "/items/{code}/processes/{version}/{kind}",
    auth=django_auth,
    summary="Download a version's BPMN or DMN file (kind: bpmn or dmn)",
    openapi_extra={"responses": PROCESS_FILE},
)
def process_file(request, code: str, version: int, kind: str):
    from .views import process_file_response

    return process_file_response(_admin_process(request, code, version), kind)
