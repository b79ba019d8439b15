import base64
import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.audit import merkle, selectors, services, signing
from yiwang.audit.forms import EntryLookupForm
from yiwang.audit.models import AuditEntry


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


def masked_actor(entry: AuditEntry) -> str:
    """Who acted, without personal data: people are shown by kind and a masked name only."""
    if entry.actor_type == AuditEntry.ActorType.SYSTEM:
        return entry.actor_label
    if entry.actor_type == AuditEntry.ActorType.ANONYMOUS:
        return _("anonymous visitor")
    # Labels of people are pseudonyms ("user#12"); the page shows the kind only.
    if entry.actor_type == AuditEntry.ActorType.USER:
        return _("user %(name)s") % {"name": "#" + entry.actor_id}
    return f"{entry.actor_type} #{entry.actor_id}"


def _row(entry: AuditEntry) -> dict:
    return {
        "leaf_index": entry.leaf_index,
        "event": entry.event,
        "target": f"{entry.target_type} #{entry.target_id}" if entry.target_type else "—",
        "created_at": entry.created_at,
        "actor": masked_actor(entry),
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
