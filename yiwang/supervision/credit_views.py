"""Pages of credit supervision and risk warnings: an entity's credit for officials, the public
credit record and serious-dishonesty list, credit repair, the warnings and one warning's task.
Thin: access check → parse → one service call → render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.identity.permissions import official_of, require_role
from yiwang.supervision import (
    credit_permissions,
    credit_selectors,
    credit_services,
    risk_services,
    risk_workflow,
)
from yiwang.supervision.models import CreditScore, Penalty, RepairApplication, RiskWarning
from yiwang.supervision.permissions import WORKBENCH_ROLES, may_manage
from yiwang.supervision.services import SupervisionError

PAGE_SIZE = 50
KIND_LABELS = {
    "inspection:pass": gettext_lazy("Inspection: no problem found"),
    "inspection:rectify": gettext_lazy("Inspection: rectification ordered"),
    "inspection:fail": gettext_lazy("Inspection: violations found"),
    "inspection:absent": gettext_lazy("Inspection: not found at the address"),
    "penalty:warning": gettext_lazy("Penalty: warning"),
    "penalty:fine": gettext_lazy("Penalty: fine or confiscation"),
    "penalty:suspension": gettext_lazy("Penalty: suspension"),
    "penalty:revocation": gettext_lazy("Penalty: licence revoked"),
    "licence:revoked": gettext_lazy("Licence revoked"),
    "licence:expired": gettext_lazy("Licence expired"),
    "complaints": gettext_lazy("Complaints in the last year"),
    "ratings:bad": gettext_lazy("Bad ratings (bad/all)"),
    "ratings:good": gettext_lazy("No bad rating (bad/all)"),
    "dishonesty:listed": gettext_lazy("On the serious-dishonesty list: tier D"),
}


def _page(request, queryset):
    try:
        number = max(1, min(int(request.GET.get("page") or 1), 10_000))
    except ValueError:
        number = 1
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def _entity_or_404(code: str):
    found = credit_selectors.entity_by_code(code)
    if found is None:
        raise Http404(_("No market entity has this credit code."))
    return found


def _explained(score: CreditScore | None) -> list[dict]:
    if score is None:
        return []
    return [{**line, "label": KIND_LABELS.get(line["kind"], line["kind"])} for line in score.explanation]


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def credit_entity(request: HttpRequest, code: str) -> HttpResponse:
    entity = _entity_or_404(code)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "recompute":
                credit_services.credit_recompute(entity_ids=[entity.pk], actor=request.user)
                messages.success(request, _("The credit score was computed again from the records."))
            elif action == "decide":
                application = (
                    RepairApplication.objects.filter(
                        pk=request.POST.get("application") or 0, entry__entity=entity
                    ).first()
                    if str(request.POST.get("application") or "").isdecimal()
                    else None
                )
                if application is None or not may_manage(request.user, application.entry.department):
                    raise Http404
                approve = request.POST.get("decision") == "approve"
                credit_services.repair_decide(
                    application=application,
                    approve=approve,
                    note=request.POST.get("note", ""),
                    actor=request.user,
                )
                messages.success(request, _("The decision on the repair application was recorded."))
            else:
                messages.error(request, _("Choose one of the actions on the page."))
                status = 422
        except SupervisionError as exc:
            messages.error(request, exc.message)
            for message in exc.errors.values():
                messages.error(request, message)
            status = exc.status
        if status == 200:
            return redirect("credit:entity", code=entity.credit_code)
    score = CreditScore.objects.filter(entity=entity).first()
    repairs = list(credit_selectors.repairs_for_entity(entity).select_related("entry__department"))
    for application in repairs:
        application.may_decide = application.state == RepairApplication.State.PENDING and may_manage(
            request.user, application.entry.department
        )
    response = render(
        request,
        "supervision/credit_entity.html",
        {
            "entity": entity,
            "score": score,
            "lines": _explained(score),
            "penalties": Penalty.objects.filter(entity=entity).select_related("department"),
            "entries": entity.dishonesty.select_related("department"),
            "repairs": repairs,
            "warnings": entity.warnings.order_by("-opened_at")[:20],
        },
    )
    response.status_code = status
    return response


@require_GET
def credit_record(request: HttpRequest, code: str) -> HttpResponse:
    entity = _entity_or_404(code)
    return render(
        request,
        "supervision/credit_record.html",
        {"entity": entity, **credit_selectors.public_record(entity)},
    )


@require_GET
def dishonesty_list(request: HttpRequest) -> HttpResponse:
    show_removed = request.GET.get("removed") == "1"
    page = _page(request, credit_selectors.listed_entries(include_removed=show_removed))
    return render(request, "supervision/credit_list.html", {"page": page, "show_removed": show_removed})


@require_http_methods(["GET", "POST"])
@login_required
def repair_apply(request: HttpRequest, pk: int) -> HttpResponse:
    entry = credit_permissions.get_entry_for_repair(request.user, pk)
    status, statement = 200, ""
    if request.method == "POST":
        statement = request.POST.get("statement", "")
        try:
            credit_services.repair_apply(entry=entry, statement=statement, actor=request.user)
        except SupervisionError as exc:
            messages.error(request, exc.message)
            for message in exc.errors.values():
                messages.error(request, message)
            status = exc.status
        else:
            messages.success(request, _("Your application for credit repair was received."))
            return redirect("credit:record", code=entry.entity.credit_code)
    response = render(
        request,
        "supervision/credit_repair.html",
        {
            "entry": entry,
            "statement": statement,
            "repairs": entry.repairs.all(),
            "too_early": timezone.localdate() < entry.repair_from,
        },
    )
    response.status_code = status
    return response


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def warnings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        official = official_of(request.user)
        if official is None or not may_manage(request.user, official.department):
            raise Http404
        raised = risk_services.warnings_scan(department=official.department, actor=request.user)
        messages.success(request, _("Scan done: %(n)d new warnings.") % {"n": len(raised)})
        return redirect("credit:warnings")
    state = request.GET.get("state", "")
    if state not in risk_workflow.STATES:
        state = ""
    qs = credit_selectors.warnings_for(request.user, state=state)
    overdue_ids = set(credit_selectors.overdue(qs).values_list("pk", flat=True)[:1000])
    official = official_of(request.user)
    return render(
        request,
        "supervision/credit_warnings.html",
        {
            "page": _page(request, qs),
            "overdue_ids": overdue_ids,
            "state": state,
            "states": RiskWarning.State.choices,
            "may_scan": official is not None and may_manage(request.user, official.department),
        },
    )


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def warning(request: HttpRequest, pk: int) -> HttpResponse:
    found = credit_permissions.get_warning_for_user(request.user, pk)
    status, note = 200, ""
    if request.method == "POST":
        note = request.POST.get("note", "")
        try:
            risk_services.warning_move(
                warning=found, to=request.POST.get("to", ""), note=note, actor=request.user
            )
        except SupervisionError as exc:
            messages.error(request, exc.message)
            for message in exc.errors.values():
                messages.error(request, message)
            status = exc.status
        else:
            messages.success(request, _("The warning moved on."))
            return redirect("credit:warning", pk=found.pk)
    steps = [
        {"to": after, "label": risk_workflow.TRANSITIONS[(found.state, after)][2]}
        for after in risk_workflow.next_states(found.state)
        if risk_services.may_act(request.user, found, after)
    ]
    response = render(
        request,
        "supervision/credit_warning.html",
        {
            "warning": found,
            "steps": steps,
            "note": note,
            "overdue": found.state != "closed" and found.due_date < timezone.localdate(),
        },
    )
    response.status_code = status
    return response
