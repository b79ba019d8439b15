"""Pages of 12345 feedback: filing and following one's items, the routing officer's queue, the
department's queue with accept / transfer / reply, and the public page of replied items.

Every owned item is fetched through ``permissions.get_item_for_user`` (404 when not the
viewer's); every write is one service call. The public pages show ``selectors.public_view``
only: no filer, contact, address or precise point.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.feedback import permissions, photos, selectors, services
from yiwang.feedback.errors import FeedbackError
from yiwang.feedback.models import Category, Item, Photo
from yiwang.identity.models import Department, Region
from yiwang.identity.permissions import forbidden

PAGE_SIZE = 20
MAX_FORM_FILES = photos.MAX_PHOTOS


def _regions():
    """The districts an item can be filed in: cities and counties, grouped by city."""
    return Region.objects.exclude(level=Region.Level.PROVINCE).select_related("parent").order_by("code")


def _own_case(user, number: str):
    if not number:
        return None
    from yiwang.applications.selectors import own_case_by_number

    return own_case_by_number(user, number.strip()[:32])


@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """File a complaint, suggestion or consultation (signed-in accounts); ``?case=<number>``
    links one of the filer's cases (from a case page or its rating)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    source = request.POST if request.method == "POST" else request.GET
    case = _own_case(request.user, source.get("case", ""))
    values = {
        "kind": source.get("kind", Item.Kind.COMPLAINT),
        "text": source.get("text", ""),
        "category": source.get("category", ""),
        "region": source.get("region", ""),
        "address": source.get("address", ""),
        "latitude": source.get("latitude", ""),
        "longitude": source.get("longitude", ""),
        "entity_credit_code": source.get("entity_credit_code", ""),
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        files = request.FILES.getlist("photos")
        uploads = [(f.name, f.read(photos.MAX_BYTES + 1)) for f in files[: MAX_FORM_FILES + 1] if f.size]
        region = Region.objects.filter(code=values["region"][:12]).first() if values["region"] else None
        try:
            item = services.item_file(
                kind=values["kind"],
                text=values["text"],
                region=region,
                category=values["category"],
                address=values["address"],
                latitude=values["latitude"],
                longitude=values["longitude"],
                entity_credit_code=values["entity_credit_code"],
                uploads=uploads,
                case=case,
                actor=request.user,
            )
        except FeedbackError as exc:
            errors, status = exc.errors or {"text": exc.message}, exc.status
        else:
            messages.success(
                request,
                _("Thank you. Your item %(number)s was filed; you can follow it here.")
                % {"number": item.number},
            )
            return redirect("feedback:item", pk=item.pk)
    return render(
        request,
        "feedback/new.html",
        {
            "values": values,
            "errors": errors,
            "kinds": Item.Kind.choices,
            "categories": Category.choices,
            "regions": _regions(),
            "case": case,
            "max_photos": photos.MAX_PHOTOS,
            "max_mb": photos.MAX_BYTES // 1024 // 1024,
        },
        status=status,
    )


@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in account's items, newest first, with their state and deadline."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = Paginator(selectors.my_items(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(item, selectors.is_overdue(item, today)) for item in page]
    return render(request, "feedback/mine.html", {"page": page, "rows": rows})


def _item_context(request, item: Item) -> dict:
    user = request.user
    is_filer = item.filer_id == user.pk
    handles = permissions.handles(user, item.department_id)
    may_route = permissions.may_route(user, item.region)
    context = {
        "item": item,
        "public": selectors.public_view(item),
        "is_filer": is_filer,
        "handles": handles,
        "may_route": may_route and item.status == Item.Status.FILED,
        "overdue": selectors.is_overdue(item),
        "photos": list(item.photos.values_list("pk", flat=True)),
        "transfers": list(item.transfers.select_related("from_department", "to_department")),
        "repeats": list(item.repeats.values_list("number", flat=True)[:20]),
        "may_rate": is_filer and item.status == Item.Status.REPLIED,
        "ratings": Item.Rating.choices,
        "categories": Category.choices,
        # Handlers and the routing officer see the precise location; the filer sees their own.
        "show_location": is_filer or handles or may_route,
    }
    if context["may_route"]:
        context["departments"] = Department.objects.filter(
            region_id__in=permissions.region_chain(item.region)
        )
    if handles and item.status in (Item.Status.ROUTED, Item.Status.TRANSFERRED, Item.Status.ACCEPTED):
        context["transfer_to"] = Department.objects.exclude(pk=item.department_id).filter(
            region_id__in=permissions.region_chain(item.region)
        )
    return context


@require_GET
def item(request: HttpRequest, pk: str) -> HttpResponse:
    """One item as its filer, its department's handlers or its routing officer see it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = permissions.get_item_for_user(request.user, pk)
    return render(request, "feedback/item.html", _item_context(request, found))


@require_GET
def photo(request: HttpRequest, pk: str, photo_pk: str) -> HttpResponse:
    """A photo of an item (re-encoded, no metadata), for those who may see the item."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = permissions.get_item_for_user(request.user, pk)
    if not photo_pk.isdigit():
        raise Http404
    picture = Photo.objects.filter(item=found, pk=int(photo_pk)).first()
    if picture is None:
        raise Http404
    response = HttpResponse(bytes(picture.content), content_type=picture.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _act(request: HttpRequest, pk: str, action) -> HttpResponse:
    """Run one write on an item the viewer may see; refusals go back to the item's page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = permissions.get_item_for_user(request.user, pk)
    try:
        message = action(found)
    except FeedbackError as exc:
        if exc.status == 403:
            return forbidden(request, exc.message)
        context = _item_context(request, found)
        context["errors"] = exc.errors or {"__all__": exc.message}
        context["values"] = request.POST
        return render(request, "feedback/item.html", context, status=exc.status)
    messages.success(request, message)
    return redirect("feedback:item", pk=found.pk)


def _department(value: str) -> Department | None:
    return Department.objects.filter(code=(value or "")[:32]).first() if value else None


@require_POST
def route(request: HttpRequest, pk: str) -> HttpResponse:
    def action(found):
        department = _department(request.POST.get("department", ""))
        services.item_route(
            item=found, department=department, category=request.POST.get("category", ""), actor=request.user
        )
        return _("Routed to %(dept)s.") % {"dept": department.name}

    return _act(request, pk, action)


@require_POST
def accept(request: HttpRequest, pk: str) -> HttpResponse:
    def action(found):
        services.item_accept(item=found, actor=request.user)
        return _("Accepted: reply by the due date.")

    return _act(request, pk, action)


@require_POST
def transfer(request: HttpRequest, pk: str) -> HttpResponse:
    def action(found):
        department = _department(request.POST.get("department", ""))
        services.item_transfer(
            item=found, to_department=department, reason=request.POST.get("reason", ""), actor=request.user
        )
        return _("Transferred to %(dept)s.") % {"dept": department.name}

    return _act(request, pk, action)


@require_POST
def reply(request: HttpRequest, pk: str) -> HttpResponse:
    def action(found):
        services.item_reply(item=found, reply=request.POST.get("reply", ""), actor=request.user)
        return _("Your reply is published (without the filer's name or address).")

    return _act(request, pk, action)


@require_POST
def rate(request: HttpRequest, pk: str) -> HttpResponse:
    def action(found):
        services.item_rate(
            item=found,
            rating=request.POST.get("rating"),
            comment=request.POST.get("comment", ""),
            actor=request.user,
        )
        return _("Thank you for rating the reply.")

    return _act(request, pk, action)


@require_GET
def routing(request: HttpRequest) -> HttpResponse:
    """The routing officer's queue: filed items of their area, oldest first, with the
    classifier's suggestion."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.is_router(request.user):
        return forbidden(request, _("This queue is for the 12345 routing officers."))
    page = Paginator(selectors.routing_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/routing.html", {"page": page, "labels": dict(Category.choices)})


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The department's queue: items routed to it, soonest due first, overdue ones flagged."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.is_handler(request.user):
        return forbidden(request, _("This queue is for the departments' clerks and leaders."))
    page = Paginator(selectors.department_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(i, selectors.is_overdue(i, today)) for i in page]
    return render(
        request,
        "feedback/queue.html",
        {"page": page, "rows": rows, "done": selectors.department_done(request.user)},
    )


@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    """The routing rules that name the departments an administrator keeps, and a form to set one
    (category + region → one of those departments)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    kept = selectors.rule_departments(request.user)
    if not kept.exists():
        return forbidden(request, _("The routing rules are kept by the departments' administrators."))
    errors, values = {}, {"category": "", "region": "", "department": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:32] for k in values}
        region = Region.objects.filter(code=values["region"]).first()
        department = kept.filter(code=values["department"]).first()
        if region is None:
            errors["region"] = _("Choose the region.")
        if department is None:
            errors["department"] = _("Choose one of your departments.")
        if not errors:
            try:
                services.rule_set(
                    category=values["category"], region=region, department=department, actor=request.user
                )
            except FeedbackError as exc:
                if exc.status == 403:
                    return forbidden(request, exc.message)
                errors = exc.errors or {"category": exc.message}
            else:
                messages.success(request, _("The rule is saved: new items follow it."))
                return redirect("feedback:rules")
    page = Paginator(selectors.rules_of(kept), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/rules.html",
        {
            "page": page,
            "errors": errors,
            "values": values,
            "categories": Category.choices,
            "regions": _regions(),
            "departments": kept,
        },
        status=422 if errors else 200,
    )


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """Replied items for everyone: no name, phone, account or precise location."""
    category = request.GET.get("category", "")
    category = category if category in Category.values else ""
    page = Paginator(selectors.public_items(category=category), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/public.html",
        {
            "page": page,
            "items": [selectors.public_view(i) for i in page],
            "categories": Category.choices,
            "category": category,
        },
    )


@require_GET
def public_item(request: HttpRequest, pk: str) -> HttpResponse:
    found = selectors.public_item(pk)
    if found is None:
        raise Http404(_("No such replied item."))
    return render(request, "feedback/public_item.html", {"public": selectors.public_view(found)})
