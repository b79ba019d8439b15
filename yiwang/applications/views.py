"""Pages for applicants (apply, follow, supplement, rate), the public progress query, and the
officials' workbench (queues, tasks, processes, waits, rectifications)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.catalog.models import LifeEvent, ServiceItem
from yiwang.catalog.selectors import get_item
from yiwang.core import context
from yiwang.identity.models import CASE_ROLES, WORKBENCH_ROLES
from yiwang.identity.permissions import (
    acting_enterprise,
    departments_for,
    forbidden,
    has_role,
    is_row_id,
    require_role,
)
from yiwang.lib import filetypes

from . import credit_flag, duties, licence_materials, schemaforms, selectors, services, workflow
from .forms import (
    ActionForm,
    ProcessForm,
    RatingForm,
    ReplyForm,
    SchemaForm,
    SupplementForm,
    TrackForm,
    UploadForm,
    WithdrawForm,
)
from .models import DECISION_LABELS, Attachment, BundleCase, Case, Process, Rectification, Task
from .permissions import (
    can_read_case_as_official,
    can_see_applicant_data,
    get_case_for_user,
    get_process_for_user,
    get_task_for_user,
)


def case_ref(case: Case) -> str:
    return case.number or f"draft-{case.pk}"


def _refusal(request, exc: services.ApplicationError, *, errors_into=None) -> None:
    messages.error(request, exc.message)
    if errors_into is not None:
        errors_into.update(exc.errors)


# --- applicants --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """Apply for an item: re-opens the applicant's draft of it, or starts one pre-filled with
    what the government holds (and what the applicant gave their account)."""
    item = get_item(code)
    enterprise = acting_enterprise(request)
    if request.method == "GET":
        draft = selectors.open_draft(request.user, item, enterprise)
        if draft is not None:
            messages.info(
                request, _("Your draft for this service is opened again; continue where you left off.")
            )
            return redirect("applications:edit", number=case_ref(draft))
        return render(request, "applications/apply.html", {"item": item})
    try:
        case, _created = services.draft_open(actor=request.user, item=item, enterprise=enterprise)
    except services.ApplicationError as exc:
        _refusal(request, exc)
        return redirect("catalog:item", code=item.code)
    return redirect("applications:edit", number=case_ref(case))


@login_required
@require_POST
def apply_bundle(request: HttpRequest, code: str) -> HttpResponse:
    bundle = get_object_or_404(LifeEvent, code=code)
    try:
        bundle_case = services.bundle_start(
            actor=request.user, bundle=bundle, enterprise=acting_enterprise(request)
        )
    except services.ApplicationError as exc:
        _refusal(request, exc)
        return redirect("catalog:bundle", code=code)
    return redirect("applications:bundle_case", pk=bundle_case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bundle_case(request: HttpRequest, pk: int) -> HttpResponse:
    """一件事一次办: one form for all the bundle's items (a field they share asked once), one set
    of materials (a material several items ask for uploaded once) and one submission. Every
    button posts the whole form, so what was typed is saved whatever is pressed."""
    bundle_case = get_object_or_404(
        BundleCase.objects.select_related("bundle"), pk=pk, applicant=request.user
    )
    errors: dict[str, str] = {}
    posted: dict | None = None
    status = 200
    if request.method == "POST" and bundle_case.status == BundleCase.Status.DRAFT:
        op = request.POST.get("op", "save")
        if op == "delete":
            try:
                services.bundle_discard(actor=request.user, bundle_case=bundle_case)
            except services.ApplicationError as exc:
                _refusal(request, exc)
                return redirect("applications:bundle_case", pk=pk)
            messages.success(request, _("The draft was deleted."))
            return redirect("applications:my_cases")
        drafts = services.bundle_drafts(bundle_case)
        posted = schemaforms.split_post(services.bundle_schemas(drafts), request.POST)
        try:
            services.bundle_save(actor=request.user, bundle_case=bundle_case, data=posted)
        except services.ApplicationError as exc:
            _refusal(request, exc, errors_into=errors)
        if op == "upload":
            _bundle_upload(request, bundle_case)
        elif op.startswith("remove-") and is_row_id(op.removeprefix("remove-")):
            try:
                services.bundle_attachment_remove(
                    actor=request.user, bundle_case=bundle_case, attachment_id=int(op.removeprefix("remove-"))
                )
            except services.ApplicationError as exc:
                _refusal(request, exc)
        elif op == "submit" and not errors:
            try:
                services.bundle_submit(actor=request.user, bundle_case=bundle_case)
                messages.success(request, _("All applications of the bundle were submitted."))
                return redirect("applications:bundle_case", pk=pk)
            except services.ApplicationError as exc:
                _refusal(request, exc, errors_into=errors)
        if not errors:
            if op == "save":
                messages.success(request, _("Saved. You can come back to it at any time."))
            anchor = "#materials" if op == "upload" or op.startswith("remove-") else ""
            return redirect(reverse("applications:bundle_case", kwargs={"pk": pk}) + anchor)
        status = 422
    elif request.method == "POST":  # submitted already (a double click): show where it stands
        return redirect("applications:bundle_case", pk=pk)
    return _bundle_page(request, bundle_case, errors, posted, status)


def _bundle_upload(request: HttpRequest, bundle_case: BundleCase) -> None:
    groups = services.bundle_materials(services.bundle_drafts(bundle_case))
    form = UploadForm(request.POST, request.FILES, materials=[_GroupChoice(g) for g in groups])
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return
    try:
        services.bundle_attachment_add(
            actor=request.user,
            bundle_case=bundle_case,
            material_id=form.cleaned_data["material"],
            upload=form.cleaned_data["file"],
        )
        messages.success(request, _("Uploaded."))
    except services.ApplicationError as exc:
        messages.error(request, " ".join([exc.message, *exc.errors.values()]))


class _GroupChoice:
    """A bundle material as ``UploadForm`` lists it (one choice per material asked once)."""

    def __init__(self, group: dict):
        self.pk, self.name = group["id"], group["name"]


def _bundle_page(request, bundle_case: BundleCase, errors: dict, posted: dict | None, status: int):
    cases = list(bundle_case.cases.select_related("item", "department").order_by("pk"))
    for case in cases:
        case.ref = case_ref(case)
    context = {"bundle_case": bundle_case, "cases": cases, "errors": errors}
    if bundle_case.status == BundleCase.Status.DRAFT:
        drafts = services.bundle_drafts(bundle_case)
        schemas = services.bundle_schemas(drafts)
        data = {c.pk: c.data for c in drafts}
        if posted is not None:  # show what was typed, also when it could not be saved
            data = {c.pk: {**c.data, **posted.get(c.pk, {})} for c in drafts}
        prereview = errors or services.bundle_prereview(bundle_case, drafts)
        field_errors = {k: v for k, v in errors.items() if not k.startswith("bm-")}
        shared, own = schemaforms.combined_fields(schemas, data, field_errors)
        groups = services.bundle_materials(drafts)
        context.update(
            {
                "shared_fields": shared,
                "item_fields": [(c, own[c.pk]) for c in drafts if own[c.pk]],
                "groups": groups,
                "held": [(c, m) for c in drafts for m in services.held_materials(c)],
                "licence_offers": licence_materials.bundle_offers(drafts),
                "prereview": prereview,
                "summary": [(f"f-{k}" if not k.startswith("bm-") else k, v) for k, v in errors.items()],
                "upload_form": UploadForm(materials=[_GroupChoice(g) for g in groups]),
            }
        )
    return render(request, "applications/bundle_case.html", context, status=status)


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_cases(request.user), 20).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.ref = case_ref(case)
    return render(request, "applications/my_cases.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, number: str) -> HttpResponse:
    """Fill in the form, upload materials, see the pre-review, save or submit (drafts and 补正)."""
    case = get_case_for_user(request.user, number, for_write=True)
    if case.status not in workflow.APPLICANT_EDITS:
        return redirect("applications:case", number=case_ref(case))
    if case.is_draft and case.bundle_case_id:  # a life event's drafts are filled in together
        return redirect("applications:bundle_case", pk=case.bundle_case_id)
    schema = services.form_schema(case.item)
    errors: dict[str, str] = {}
    data = case.data
    if request.method == "POST":
        posted = schemaforms.parse_post(schema, request.POST)
        data = posted
        try:
            case = services.case_save(actor=request.user, case=case, data=data)
            data = case.data
        except services.ApplicationError as exc:
            _refusal(request, exc, errors_into=errors)
        if not errors and "submit" in request.POST and case.is_draft:
            try:
                case = services.case_submit(actor=request.user, case=case)
                messages.success(
                    request, _("Submitted. Your case number is %(number)s.") % {"number": case.number}
                )
                return redirect("applications:case", number=case_ref(case))
            except services.ApplicationError as exc:
                _refusal(request, exc, errors_into=errors)
        elif not errors and "submit" not in request.POST:
            messages.success(request, _("Saved. You can come back to it at any time."))
            return redirect("applications:edit", number=case_ref(case))
    return _edit_page(request, case, schema, data, errors)


def _edit_page(
    request, case: Case, schema: dict, data: dict, errors: dict, status: int = 200
) -> HttpResponse:
    required = services.required_materials(case)
    attachments = list(case.attachments.select_related("material", "blob").order_by("pk"))
    prereview = errors if errors else services.prereview(case)
    field_errors = {k: v for k, v in errors.items() if not k.startswith("material-")}
    material_errors = {k: v for k, v in prereview.items() if k.startswith("material-")}
    open_task = case.tasks.filter(state=Task.State.OPEN, role="applicant").first()
    return render(
        request,
        "applications/edit.html",
        {
            "case": case,
            "ref": case_ref(case),
            "fields": schemaforms.fields(schema, data, field_errors),
            "summary": [(f"f-{k}" if not k.startswith("material-") else k, v) for k, v in errors.items()],
            "prereview": prereview,
            "materials": required,
            "material_errors": material_errors,
            "held": services.held_materials(case),
            "licence_offers": licence_materials.offers(case),
            "attachments": attachments,
            "upload_form": UploadForm(materials=required),
            "supplement_form": SupplementForm(),
            "supplement_request": case.events.filter(decision="supplement").last() if open_task else None,
        },
        status=status,
    )


@login_required
@require_POST
def upload(request: HttpRequest, number: str) -> HttpResponse:
    """Upload a material. Posted from the application form itself, the typed form data is saved
    with it (nothing typed is lost by uploading before saving)."""
    case = get_case_for_user(request.user, number, for_write=True)
    errors: dict[str, str] = {}
    schema = services.form_schema(case.item)
    data = case.data
    if request.POST.get("form") == "1":  # the whole application form came along
        data = schemaforms.parse_post(schema, request.POST)
        try:
            case = services.case_save(actor=request.user, case=case, data=data)
            data = case.data
        except services.ApplicationError as exc:
            _refusal(request, exc, errors_into=errors)
    form = UploadForm(request.POST, request.FILES, materials=services.required_materials(case))
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
    else:
        try:
            services.attachment_add(
                actor=request.user,
                case=case,
                material_id=form.cleaned_data["material"],
                upload=form.cleaned_data["file"],
            )
            messages.success(request, _("Uploaded."))
        except services.ApplicationError as exc:
            messages.error(request, " ".join([exc.message, *exc.errors.values()]))
    if errors:  # what was typed is shown again, with what to correct, rather than dropped
        return _edit_page(request, case, schema, data, errors, status=422)
    return redirect(reverse("applications:edit", kwargs={"number": case_ref(case)}) + "#materials")


@login_required
@require_POST
def discard(request: HttpRequest, number: str) -> HttpResponse:
    """Delete one's own draft."""
    case = get_case_for_user(request.user, number, for_write=True)
    try:
        services.case_discard(actor=request.user, case=case)
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("applications:case", number=case_ref(case))
    messages.success(request, _("The draft was deleted."))
    return redirect("applications:my_cases")


@login_required
@require_POST
def remove_attachment(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    case = get_case_for_user(request.user, number, for_write=True)
    attachment = get_object_or_404(Attachment, pk=pk, case=case)
    try:
        services.attachment_remove(actor=request.user, attachment=attachment)
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("applications:edit", kwargs={"number": case_ref(case)}) + "#materials")


@login_required
@require_GET
def attachment_file(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A material's file, for the applicant and for officials who may read the case."""
    case = get_case_for_user(request.user, number)
    if not can_see_applicant_data(request.user, case):
        raise Http404("no such file")
    attachment = get_object_or_404(Attachment.objects.select_related("blob"), pk=pk, case=case)
    kind = attachment.blob.kind
    # Type and extension come from the content sniffed at upload, never from the uploaded name:
    # a PDF uploaded as "x.hta" is served as "x.pdf" (application/pdf), always as a download.
    response = FileResponse(
        default_storage.open(attachment.blob.storage_name, "rb"),
        content_type=filetypes.ALLOWED.get(kind, "application/octet-stream"),
        as_attachment=True,
        filename=filetypes.safe_name(attachment.filename, kind),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def supplement(request: HttpRequest, number: str) -> HttpResponse:
    """The applicant resubmits after a 补正 request (form data were saved by the edit page)."""
    case = get_case_for_user(request.user, number, for_write=True)
    task = case.tasks.filter(state=Task.State.OPEN, role="applicant").first()
    form = SupplementForm(request.POST)
    if task is None or not form.is_valid():
        messages.error(request, _("Nothing is asked of you on this case now."))
        return redirect("applications:case", number=case_ref(case))
    try:
        services.task_complete(
            actor=request.user, task=task, decision="resubmit", comment=form.cleaned_data["comment"]
        )
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
        return _edit_page(request, case, services.form_schema(case.item), case.data, exc.errors, status=422)
    messages.success(request, _("Sent back to the department. The clock runs again."))
    return redirect("applications:case", number=case_ref(case))


@login_required
@require_GET
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for_user(request.user, number)
    if case.is_draft:
        return redirect("applications:edit", number=case_ref(case))
    is_applicant = case.applicant_id == request.user.pk
    attachments = (
        list(case.attachments.select_related("material", "blob").order_by("pk"))
        if can_see_applicant_data(request.user, case)
        else []
    )
    context = {
        "case": case,
        "ref": case_ref(case),
        "is_applicant": is_applicant,
        "events": selectors.timeline(case),
        "attachments": attachments,
        "case_licences": licence_materials.for_officials(case)
        if can_see_applicant_data(request.user, case)
        else None,
        "rating": getattr(case, "rating", None) if hasattr(case, "rating") else None,
        "open_applicant_task": case.tasks.filter(state=Task.State.OPEN, role="applicant").first(),
        "rating_form": RatingForm(),
        "withdraw_form": WithdrawForm(),
        "decision_labels": DECISION_LABELS,
        "can_withdraw": workflow.may_transition(case.status, Case.Status.WITHDRAWN),
        "can_rate": case.status in workflow.RATEABLE,
    }
    rating = context["rating"]
    context["rectification"] = (
        getattr(rating, "rectification", None) if rating and hasattr(rating, "rectification") else None
    )
    return render(request, "applications/case.html", context)


@login_required
@require_POST
def withdraw(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for_user(request.user, number, for_write=True)
    form = WithdrawForm(request.POST)
    try:
        services.case_withdraw(
            actor=request.user, case=case, reason=form.cleaned_data["reason"] if form.is_valid() else ""
        )
        messages.success(request, _("The application was withdrawn."))
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("applications:case", number=case_ref(case))


@login_required
@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for_user(request.user, number, for_write=True)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the five levels."))
        return redirect(reverse("applications:case", kwargs={"number": case_ref(case)}) + "#rating")
    try:
        services.case_rate(
            actor=request.user,
            case=case,
            level=form.cleaned_data["level"],
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("Thank you for your rating."))
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("applications:case", kwargs={"number": case_ref(case)}) + "#rating")


def _own_case(request: HttpRequest) -> Case | None:
    """The signed-in user's own case named by the posted number (the identity characters are
    not needed: nothing to guess), or None."""
    if not request.user.is_authenticated:
        return None
    try:  # the form's own checks (length, NUL) before the number reaches the database
        number = TrackForm.base_fields["number"].clean(request.POST.get("number", ""))
    except ValidationError:
        return None
    return selectors.own_case_by_number(request.user, services.track_normalise(number))


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Progress by case number and the last four of the identity number, without signing in.
    A POST, so the four characters never appear in a URL or an access log. A signed-in
    applicant who enters the number of their own case goes straight to it (nothing to guess)."""
    form = TrackForm(request.POST if request.method == "POST" else None)
    case = None
    not_found = False
    status = 200
    own = _own_case(request) if request.method == "POST" else None
    if own is not None:
        return redirect("applications:case", number=own.number)
    if form.is_bound and form.is_valid():
        try:
            case = services.track_lookup(
                number=form.cleaned_data["number"],
                id_last4=form.cleaned_data["id_last4"],
                client_ip=context.current().client_ip,
            )
            not_found = case is None
            status = 404 if not_found else 200
        except services.Throttled as exc:
            form.add_error(None, exc.message)
            status = 429
    events = selectors.timeline(case) if case else []
    return render(
        request,
        "applications/track.html",
        {
            "form": form,
            "case": case,
            "events": events,
            "not_found": not_found,
            "decision_labels": DECISION_LABELS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notices(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notices_mark_read(actor=request.user)
        return redirect("applications:notices")
    page = Paginator(request.user.notices.select_related("case"), 30).get_page(request.GET.get("page"))
    for notice in page.object_list:
        notice.ref = case_ref(notice.case) if notice.case_id else None
    return render(request, "applications/notices.html", {"page": page})


# --- officials ---------------------------------------------------------------------------

QUEUE_LABELS = {
    "accept": gettext_lazy("To accept and complete"),
    "review": gettext_lazy("To review"),
    "approve": gettext_lazy("To approve"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due soon"),
    "mine": gettext_lazy("Claimed by me"),
}


@require_role(*WORKBENCH_ROLES)  # the header links every one of them here
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    available = selectors.queues_for(request.user)
    which = request.GET.get("queue") or (available[0] if available else "overdue")
    if which not in selectors.QUEUES:
        raise Http404("no such queue")
    q, item = request.GET.get("q", ""), request.GET.get("item", "")
    page = selectors.queue_page(request.user, which, request.GET.get("page"), q=q, item=item)
    handled = selectors.handled_departments(request.user)
    for task in page.object_list:
        task.ref = case_ref(task.case)
        # Supervisors see deadlines of tasks they do not handle: those rows open the case page.
        departments = handled.get(task.role, set())
        task.handles = departments is None or task.department_id in departments
    tabs = [(q, QUEUE_LABELS[q]) for q in available]
    links = {
        "waits": any(has_role(request.user, r) for r in ("leader", "admin", "approver")),
        "processes": has_role(request.user, "admin"),
        "rectifications": any(has_role(request.user, r) for r in ("leader", "admin")),
    }
    return render(
        request,
        "applications/workbench.html",
        {
            "page": page,
            "queue": which,
            "queue_label": QUEUE_LABELS[which],
            "tabs": tabs,
            "links": links,
            "q": q[: selectors.SEARCH_MAX],
            "item": item[: selectors.SEARCH_MAX],
            "items": selectors.queue_items(request.user, which),
        },
    )


@require_role(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user(request.user, pk)
    case = task.case
    form = ActionForm(decisions=task.decisions)
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "act")
        try:
            if op == "claim":
                services.task_claim(actor=request.user, task=task)
                messages.success(request, _("You have claimed this task."))
                return redirect("applications:task", pk=task.pk)
            if op == "release":
                services.task_release(actor=request.user, task=task)
                messages.success(request, _("Released: the task is back in the queue."))
                return redirect("applications:task", pk=task.pk)
            form = ActionForm(request.POST, decisions=task.decisions)
            if form.is_valid():
                case = services.task_complete(
                    actor=request.user,
                    task=task,
                    decision=form.cleaned_data["decision"],
                    comment=form.cleaned_data["comment"],
                )
                if case.tasks.filter(state=Task.State.OPEN, name=services.HALT_TASK).exists():
                    messages.warning(
                        request,
                        _("%(number)s: the process stopped; a clerk will handle the case by hand.")
                        % {"number": case.number},
                    )
                else:
                    messages.success(request, _("Done: %(number)s.") % {"number": case.number})
                return redirect("applications:workbench")
            status = 422
        except services.ApplicationError as exc:
            messages.error(request, exc.message)
            for field, message in exc.errors.items():
                if field in form.fields:
                    form.add_error(field, message)
            status = exc.status
            task.refresh_from_db()
    done = duties.conflicting_duty(case=case, actor=request.user, role=task.role)
    return render(
        request,
        "applications/task.html",
        {
            "task": task,
            "duty_conflict": duties.conflict_message(done=done, role=task.role) if done else "",
            "credit_flag": credit_flag.flag_for(case),
            "case": case,
            "ref": case_ref(case),
            "form": form,
            "events": selectors.timeline(case),
            "attachments": list(case.attachments.select_related("material", "blob").order_by("pk")),
            "held": services.held_materials(case),
            "case_licences": licence_materials.for_officials(case),
            "waits": selectors.waits(case),
            "decision_labels": DECISION_LABELS,
            "schema_fields": schemaforms.fields(services.form_schema(case.item), case.data, {}),
        },
        status=status,
    )


@require_role("leader", "admin", "approver")
@require_GET
def waits(request: HttpRequest) -> HttpResponse:
    """For leaders: the open cases of their departments and how long each waited at each step."""
    scope = set()
    everything = False
    for role in ("leader", "admin", "approver"):
        ids = departments_for(request.user, role)
        if ids is None:
            everything = True
        else:
            scope |= ids
    cases = Case.objects.filter(status__in=Case.OPEN_STATUSES).select_related("item", "department")
    if not everything:
        cases = cases.filter(department_id__in=sorted(scope))
    page = Paginator(cases.order_by("submitted_at", "pk"), 20).get_page(request.GET.get("page"))
    waits = selectors.waits_of_cases(page.object_list)
    rows = [(case, waits[case.pk]) for case in page.object_list]
    return render(request, "applications/waits.html", {"page": page, "rows": rows})


@require_role("admin")
@require_GET
def processes(request: HttpRequest) -> HttpResponse:
    departments = departments_for(request.user, "admin")
    items = ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED).select_related("department")
    if departments is not None:
        items = items.filter(department_id__in=sorted(departments))
    q = (request.GET.get("q") or "").strip()[:100]
    if q:
        items = items.filter(name__icontains=q)
    page = Paginator(items.order_by("code"), 30).get_page(request.GET.get("page"))
    active = dict(
        Process.objects.filter(item__in=list(page.object_list), is_active=True).values_list(
            "item_id", "version"
        )
    )
    for item in page.object_list:
        item.process_version = active.get(item.pk)
    return render(request, "applications/processes.html", {"page": page, "q": q})


@require_role("admin")
@require_http_methods(["GET", "POST"])
def process_item(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(ServiceItem.objects.select_related("department"), code=code)
    if not has_role(request.user, "admin", item.department_id):
        return forbidden(request)
    process_form = ProcessForm(prefix="p")
    schema_form = SchemaForm(prefix="s", initial={"schema": _pretty(services.form_schema(item))})
    status = 200
    if request.method == "POST" and request.POST.get("op") == "process":
        process_form = ProcessForm(request.POST, request.FILES, prefix="p")
        if process_form.is_valid():
            data = process_form.cleaned_data
            try:
                process = services.process_attach(
                    actor=request.user, item=item, bpmn=data["bpmn"], dmn=data["dmn"], name=data["name"]
                )
                messages.success(request, _("Process version %(v)s is now in use.") % {"v": process.version})
                return redirect("applications:process_item", code=code)
            except services.ApplicationError as exc:
                for message in getattr(exc, "messages", None) or exc.errors.values():
                    process_form.add_error("bpmn", message)
        status = 422
    elif request.method == "POST" and request.POST.get("op") == "form":
        schema_form = SchemaForm(request.POST, prefix="s")
        if schema_form.is_valid():
            try:
                services.form_attach(actor=request.user, item=item, schema=schema_form.cleaned_data["schema"])
                messages.success(request, _("The application form was saved."))
                return redirect("applications:process_item", code=code)
            except services.ApplicationError as exc:
                if getattr(exc, "messages", None):
                    schema_form.add_error("schema", exc.message)
                for message in getattr(exc, "messages", None) or exc.errors.values():
                    schema_form.add_error("schema", message)
        status = 422
    versions = Process.objects.filter(item=item).select_related("created_by").order_by("-version")
    return render(
        request,
        "applications/process_item.html",
        {"item": item, "versions": versions, "process_form": process_form, "schema_form": schema_form},
        status=status,
    )


def _version_page(request: HttpRequest, process: Process, *, refusal=None, status: int = 200) -> HttpResponse:
    active = (
        Process.objects.filter(item=process.item, is_active=True).values_list("version", flat=True).first()
    )
    return render(
        request,
        "applications/process_version.html",
        {
            "process": process,
            "item": process.item,
            "active_version": active,
            "outline": selectors.process_outline(process),
            "refusal": refusal,
            "decision_labels": DECISION_LABELS,
        },
        status=status,
    )


@require_role("admin")
@require_GET
def process_version(request: HttpRequest, code: str, version: int) -> HttpResponse:
    """One stored version: its steps, the fields it reads, its XML; download and activate."""
    return _version_page(request, get_process_for_user(request.user, code, version))


@require_role("admin")
@require_POST
def process_activate(request: HttpRequest, code: str, version: int) -> HttpResponse:
    """Use this version for new cases (a later one, or a rollback to an earlier one)."""
    process = get_process_for_user(request.user, code, version)
    try:
        process = services.process_activate(actor=request.user, process=process)
    except services.ApplicationError as exc:
        return _version_page(request, process, refusal=exc, status=422)
    messages.success(request, _("Process version %(v)s is now in use.") % {"v": process.version})
    return redirect("applications:process_item", code=process.item.code)


PROCESS_FILE_KINDS = ("bpmn", "dmn")


@require_role("admin")
@require_GET
def process_download(request: HttpRequest, code: str, version: int, kind: str) -> HttpResponse:
    """The version's BPMN or DMN file exactly as uploaded, as a download (never rendered)."""
    return process_file_response(get_process_for_user(request.user, code, version), kind)


def process_file_response(process: Process, kind: str) -> HttpResponse:
    """The version's BPMN or DMN file as an attachment (the page's and the API's download);
    404 for another kind or a DMN the version does not have."""
    text = process.bpmn if kind == "bpmn" else process.dmn if kind == "dmn" else ""
    if kind not in PROCESS_FILE_KINDS or not text:
        raise Http404("no such file")
    response = HttpResponse(text.encode("utf-8"), content_type="application/xml; charset=utf-8")
    safe_code = (
        "".join(c for c in process.item.code if c.isascii() and (c.isalnum() or c in "-_")) or "process"
    )
    response["Content-Disposition"] = f'attachment; filename="{safe_code}-v{process.version}.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pretty(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2)


@require_role("admin", "leader")
@require_http_methods(["GET", "POST"])
def rectifications(request: HttpRequest) -> HttpResponse:
    form = ReplyForm()
    if request.method == "POST":
        rectification_id = request.POST.get("id", "")
        rectification = get_object_or_404(
            Rectification, pk=rectification_id if is_row_id(rectification_id) else 0
        )
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                services.rectification_reply(
                    actor=request.user, rectification=rectification, reply=form.cleaned_data["reply"]
                )
                messages.success(request, _("Your reply was sent to the applicant."))
                return redirect("applications:rectifications")
            except PermissionDenied:
                return forbidden(request)
            except services.ApplicationError as exc:
                messages.error(request, exc.message)
    page = Paginator(selectors.rectifications_for(request.user), 30).get_page(request.GET.get("page"))
    for r in page.object_list:
        r.ref = case_ref(r.rating.case)
    return render(request, "applications/rectifications.html", {"page": page, "form": form})


@login_required
@require_GET
def official_case(request: HttpRequest, number: str) -> HttpResponse:
    """An official's read-only view of a case (from the waits page)."""
    case = get_case_for_user(request.user, number)
    if not can_read_case_as_official(request.user, case):
        raise Http404("no such case")
    handler = can_see_applicant_data(request.user, case)
    return render(
        request,
        "applications/official_case.html",
        {
            "case": case,
            "ref": case_ref(case),
            "handler": handler,
            "events": selectors.timeline(case),
            "waits": selectors.waits(case),
            "schema_fields": schemaforms.fields(services.form_schema(case.item), case.data, {})
            if handler
            else [],
            "held": services.held_materials(case) if handler else [],
            "case_licences": licence_materials.for_officials(case) if handler else None,
            "attachments": list(case.attachments.select_related("material", "blob").order_by("pk"))
            if handler
            else [],
            "decision_labels": DECISION_LABELS,
            "open_tasks": [
                t
                for t in case.tasks.filter(state=Task.State.OPEN)
                if has_role(request.user, t.role, t.department_id)
            ],
        },
    )
