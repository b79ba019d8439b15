"""Pages of supervision: the department's workbench (/workbench/supervision/) and the public pages
of 双随机、一公开 (/supervision/). Thin: access check → form → one service call → render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.identity.models import Department
from yiwang.identity.permissions import departments_for, forbidden, has_role, official_of, require_role
from yiwang.supervision import forms, permissions, selectors, services
from yiwang.supervision.models import DrawPlan, Inspection, Law
from yiwang.supervision.permissions import MANAGER_ROLES, WORKBENCH_ROLES

PAGE_SIZE = 50


def _refused(request, form, exc: services.SupervisionError) -> None:
    messages.error(request, exc.message)
    if form is not None:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)


def _page(request, queryset):
    try:
        number = max(1, min(int(request.GET.get("page") or 1), 10_000))
    except ValueError:
        number = 1
    return Paginator(queryset, PAGE_SIZE).get_page(number)


# --- workbench ------------------------------------------------------------------------------------


@require_GET
@require_role(*WORKBENCH_ROLES)
def workbench(request: HttpRequest) -> HttpResponse:
    departments = selectors.workbench_departments(request.user)
    official = official_of(request.user)
    return render(
        request,
        "supervision/workbench.html",
        {
            "items": selectors.items_for(departments)[:100],
            "plans": selectors.plans_for(departments)[:50],
            "mine": selectors.inspections_of_official(official)[:100] if official else [],
            "overdue": selectors.overdue(departments)[:100],
            "may_manage": any(has_role(request.user, r) for r in MANAGER_ROLES),
        },
    )


@require_http_methods(["GET", "POST"])
@require_role(*MANAGER_ROLES)
def item_new(request: HttpRequest) -> HttpResponse:
    official = official_of(request.user)
    if official is None:  # a superuser without a department: items belong to departments
        return forbidden(request, _("Supervision items belong to a department: sign in as its official."))
    form = forms.ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.item_create(
                department=official.department,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                basis=data["basis"].splitlines(),
                service_item_codes=data["service_items"].split(),
                publish_workdays=data["publish_workdays"],
                actor=request.user,
            )
        except services.SupervisionError as exc:
            _refused(request, form, exc)
        else:
            messages.success(request, _("The supervision item was added."))
            return redirect("supervision:item", pk=item.pk)
    return render(request, "supervision/item_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def item(request: HttpRequest, pk: int) -> HttpResponse:
    found = permissions.get_item_for_user(request.user, pk)
    may_manage = permissions.may_manage(request.user, found.department)
    if request.method == "POST":
        if not may_manage:
            raise Http404
        try:
            if request.POST.get("action") == "link":
                services.item_link_clause(
                    item=found, reference=request.POST.get("reference", ""), actor=request.user
                )
                messages.success(request, _("The clause was added to the item's basis."))
            else:
                services.item_confirm_basis(item=found, actor=request.user)
                messages.success(request, _("The item's basis now follows the clauses in force."))
        except services.SupervisionError as exc:
            _refused(request, None, exc)
        return redirect("supervision:item", pk=found.pk)
    return render(
        request,
        "supervision/item.html",
        {
            "item": found,
            "basis": found.basis.select_related("clause__law").order_by(
                "clause__law__code", "clause__number"
            ),
            "service_items": found.service_items.all(),
            "implementations": found.implementations.select_related("region", "department"),
            "plans": found.plans.defer("inputs"),
            "may_manage": may_manage,
        },
    )


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def laws(request: HttpRequest) -> HttpResponse:
    may_keep = permissions.may_keep_laws(request.user)
    form = forms.LawForm(request.POST or None)
    if request.method == "POST":
        if not may_keep:
            return forbidden(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                law = services.law_create(
                    code=data["code"],
                    title=data["title"],
                    kind=data["kind"],
                    issuer=data["issuer"],
                    clauses=data["clauses"],
                    effective_from=data["effective_from"],
                    actor=request.user,
                )
            except services.SupervisionError as exc:
                _refused(request, form, exc)
            else:
                messages.success(request, _("The law was added to the library."))
                return redirect("supervision:law", pk=law.pk)
    return render(
        request, "supervision/laws.html", {"laws": selectors.laws(), "form": form, "may_keep": may_keep}
    )


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def law(request: HttpRequest, pk: int) -> HttpResponse:
    found = Law.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    may_keep = permissions.may_keep_laws(request.user)
    amend, repeal = forms.AmendForm(), forms.RepealForm()
    if request.method == "POST":
        if not may_keep:
            return forbidden(request)
        action = request.POST.get("action")
        form = forms.AmendForm(request.POST) if action == "amend" else forms.RepealForm(request.POST)
        clause = None
        if form.is_valid():
            clause = found.clauses.filter(pk=form.cleaned_data["clause"]).first()
        if clause is None:
            messages.error(request, _("Choose a clause of this law and fill in the date."))
        else:
            try:
                if action == "amend":
                    services.clause_amend(
                        clause=clause,
                        text=form.cleaned_data["text"],
                        effective_from=form.cleaned_data["effective_from"],
                        actor=request.user,
                    )
                    messages.success(
                        request, _("The clause was amended; the items resting on it are flagged.")
                    )
                else:
                    services.clause_repeal(
                        clause=clause,
                        effective_until=form.cleaned_data["effective_until"],
                        actor=request.user,
                    )
                    messages.success(
                        request, _("The clause was repealed; the items resting on it are flagged.")
                    )
                return redirect("supervision:law", pk=found.pk)
            except services.SupervisionError as exc:
                _refused(request, None, exc)
    return render(
        request,
        "supervision/law.html",
        {
            "law": found,
            "clauses": selectors.clauses_of(found).prefetch_related("items"),
            "may_keep": may_keep,
            "amend": amend,
            "repeal": repeal,
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
@require_role(*MANAGER_ROLES)
def plan_new(request: HttpRequest) -> HttpResponse:
    departments = set()
    for role in MANAGER_ROLES:
        ids = departments_for(request.user, role)
        if ids is None:
            departments = None
            break
        departments |= ids
    items = selectors.items_for(departments)
    form = forms.PlanForm(request.POST or None, items=items, initial={"item": request.GET.get("item")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                item=data["item"],
                title=data["title"],
                ratios={t: data[f"ratio_{t}"] for t in "ABCD"},
                scope_region=data["scope_region"],
                scope_industry=data["scope_industry"],
                post_approval_only=data["post_approval_only"],
                inspectors_per_entity=data["inspectors_per_entity"],
                actor=request.user,
            )
        except services.SupervisionError as exc:
            _refused(request, form, exc)
        else:
            messages.success(request, _("The plan was saved as a draft: commit its inputs, then draw."))
            return redirect("supervision:plan", pk=plan.pk)
    return render(request, "supervision/plan_new.html", {"form": form})


PLAN_ACTIONS = {
    "commit": (services.plan_commit, _("The inputs are committed and recorded in the audit log.")),
    "publish": (services.plan_publish, _("The draw is public now.")),
}


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    found = permissions.get_plan_for_user(request.user, pk)
    may_manage = permissions.may_manage(request.user, found.department)
    if request.method == "POST":
        if not may_manage:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "draw":
                # two steps, two transactions: the seed is fixed and recorded first, then drawn
                if found.state == DrawPlan.State.COMMITTED:
                    found = services.draw_seed(plan=found, actor=request.user)
                services.draw_run(plan=found, actor=request.user)
                messages.success(
                    request, _("The draw was made: the seed and the result are in the audit log.")
                )
            elif action == "publish_results":
                count = services.inspections_publish(plan=found, actor=request.user)
                messages.success(request, _("%(count)d results were published.") % {"count": count})
            elif action in PLAN_ACTIONS:
                service, done = PLAN_ACTIONS[action]
                service(plan=found, actor=request.user)
                messages.success(request, done)
            else:
                messages.error(request, _("Choose one of the actions offered."))
        except services.SupervisionError as exc:
            _refused(request, None, exc)
        return redirect("supervision:plan", pk=found.pk)
    inspections = found.inspections.select_related("entity").prefetch_related("assignments__official__user")
    return render(
        request,
        "supervision/plan.html",
        {
            "plan": found,
            "page": _page(request, inspections),
            "may_manage": may_manage,
            "today": timezone.localdate(),
            "population": services.population(found).count() if found.state == DrawPlan.State.DRAFT else None,
            "mine": set(
                found.inspections.filter(assignments__official__user=request.user).values_list(
                    "pk", flat=True
                )
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@require_role(*WORKBENCH_ROLES)
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    found = permissions.get_inspection_for_user(request.user, pk)
    form = forms.InspectionForm(request.POST or None, initial={"inspected_on": timezone.localdate()})
    may_record = (
        found.state == Inspection.State.ASSIGNED
        and found.assignments.filter(official__user=request.user).exists()
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.inspection_record(
                inspection=found,
                result=data["result"],
                findings=data["findings"],
                inspected_on=data["inspected_on"],
                actor=request.user,
            )
        except services.SupervisionError as exc:
            _refused(request, form, exc)
        else:
            messages.success(request, _("The result was recorded; publish it within the deadline."))
            return redirect("supervision:inspection", pk=found.pk)
    return render(
        request,
        "supervision/inspection.html",
        {
            "inspection": found,
            "assignments": found.assignments.select_related("official__user"),
            "form": form,
            "may_record": may_record,
            "overdue": selectors.is_overdue(found),
        },
    )


# --- public pages -------------------------------------------------------------------------------


@require_GET
def draws(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:64]
    return render(
        request,
        "supervision/draws.html",
        {"page": _page(request, selectors.published_plans()), "q": q, "found": selectors.search_entities(q)},
    )


@require_GET
def draw(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.published_plan(pk)
    if found is None:
        raise Http404(_("No published draw has this id."))
    inputs = selectors.published_inputs(found)
    return render(
        request,
        "supervision/draw.html",
        {
            "plan": found,
            "page": _page(request, selectors.public_inspections(found)),
            "population": len(inputs["entities"]),
            "pool": len(inputs["inspectors"]),
            "conflicts": len(inputs["conflicts"]),
            "department": Department.objects.filter(pk=found.department_id).first(),
        },
    )


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    return render(
        request, "supervision/results.html", {"page": _page(request, selectors.published_results())}
    )


@require_GET
def entity(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.entity_by_code(code)
    if found is None:
        raise Http404(_("No market entity has this credit code."))
    return render(request, "supervision/entity.html", selectors.entity_public_record(found))
