import base64
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.audit import disclosure, hooks, leaf, merkle, selectors, services, signing
from yiwang.audit.forms import EntryLookupForm, RecordFilterForm
from yiwang.audit.models import AuditEntry


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


def public_actor_label(published: dict) -> str:
    """Who acted, as the public leaf tells it: a kind, and for officials their department and role."""
    actor = published.get("actor") or {}
    kind = actor.get("kind", "")
    labels = {
        "official": _("official"),
        "person": _("citizen or enterprise"),
        "administrator": _("platform administrator"),
        "system": _("the platform"),
        "anonymous": _("anonymous visitor"),
        "": "—",
    }
    text = labels.get(kind, kind)
    details = " · ".join(part for part in (actor.get("department", ""), actor.get("role", "")) if part)
    return f"{text} ({details})" if details else text


def _row(entry: AuditEntry) -> dict:
    """An entry as the public page shows it: read from the public leaf only, never the record."""
    published = leaf.decode_leaf_input(entry.leaf_input)
    obj = published.get("object")
    return {
        "leaf_index": entry.leaf_index,
        "event": published["event"],
        "target": (f"{obj['type']} #{obj['id']}" if obj["id"] else obj["type"]) if obj else "—",
        "created_at": leaf.parse_ts(published["ts"]),
        "actor": public_actor_label(published),
        "commitment": published["commitment"],
    }


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    """The public page: what the log is, its signed head, its key, the latest entries, and a proof lookup."""
    head = services.tree_head_sign(persist=True)
    key = signing.load_key()
    form = EntryLookupForm(request.GET if "leaf_index" in request.GET else None)
    lookup = None
    if form.is_bound and form.is_valid():
        index = form.cleaned_data["leaf_index"]
        entry = selectors.entry(index) if index < head.tree_size else None
        if entry is None:
            form.add_error(
                "leaf_index",
                _("There is no entry number %(index)s. The log holds entries 0 to %(last)s.")
                % {"index": index, "last": max(head.tree_size - 1, 0)},
            )
        else:
            path = selectors.inclusion_proof(leaf_index=index, size=head.tree_size)
            leaf = merkle.leaf_hash(bytes(entry.leaf_input))
            lookup = {
                "entry": _row(entry),
                "leaf_input": bytes(entry.leaf_input).decode("utf-8"),
                "leaf_hash": _b64(leaf),
                "audit_path": [_b64(h) for h in path],
                "verified": merkle.verify_inclusion(index, head.tree_size, leaf, path, head.root_hash),
            }
    context = {
        "head": {
            "tree_size": head.tree_size,
            "root_hash": _b64(head.root_hash),
            "timestamp": head.timestamp,
            "signed_at": dt.datetime.fromtimestamp(head.timestamp / 1000, tz=dt.UTC),
            "signature": _b64(head.signature),
            "key_id": head.key_id,
        },
        "public_key": _b64(key.public_raw),
        "public_pem": key.public_pem,
        "latest": [_row(e) for e in selectors.latest_entries(20)],
        "form": form,
        "lookup": lookup,
    }
    return render(request, "audit/transparency.html", context)


def _records_page(request: HttpRequest, queryset, *, full_for) -> dict:
    page = Paginator(queryset, selectors.RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": page,
        "query": query.urlencode(),
        "records": [disclosure.record_out(e, full=full_for(e)) for e in page.object_list],
    }


@require_GET
@login_required
def my_records(request: HttpRequest) -> HttpResponse:
    """我的留痕: every entry a person acted in or that was recorded about them, with what they need to
    check it against the public leaf."""
    context = _records_page(
        request,
        selectors.records_of_user(request.user.pk),
        full_for=lambda e: disclosure.is_own_action(e, request.user),
    )
    return render(request, "audit/my_records.html", context)  # no-store: PrivateNoStoreMiddleware


@require_GET
@login_required
def records(request: HttpRequest) -> HttpResponse:
    """Auditors search the restricted records; each search is itself an audit entry."""
    if not hooks.may_read_all_records(request.user):
        message = _("Only auditors may read the restricted records of the log.")
        return render(request, "identity/403.html", {"message": message}, status=403)
    form = RecordFilterForm(request.GET or None)
    context: dict = {"form": form, "page": None, "records": []}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
        services.record(
            actor=request.user,
            event="audit:record:read",
            data={"filters": filters, "page": request.GET.get("page", "1")[:12], "via": "page"},
            role="auditor",
        )
        context.update(_records_page(request, selectors.records(**filters), full_for=lambda e: True))
    return render(request, "audit/records.html", context)
