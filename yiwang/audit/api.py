"""The public, read-only JSON API of the audit log (mounted at /api/audit/). Hashes, keys and signatures
are standard base64. See docs/audit.md for how an outside auditor uses it."""

from __future__ import annotations

import base64
from typing import Any

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth

from yiwang.audit import disclosure, hooks, leaf, selectors, services, signing
from yiwang.core.api import ApiError, field_error

router = Router(tags=["audit"])


def b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


class TreeHeadOut(Schema):
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    key_id: str


class PublicActorOut(Schema):
    kind: str
    department: str
    role: str


class ObjectOut(Schema):
    type: str
    id: str


class EntryOut(Schema):
    leaf_index: int
    leaf_input: str
    timestamp: str
    event: str
    actor: PublicActorOut
    object: ObjectOut | None
    commitment: str


class RecordActorOut(Schema):
    type: str
    id: str
    label: str


class TargetOut(Schema):
    type: str
    id: str


class RecordOut(Schema):
    leaf_index: int
    timestamp: str
    event: str
    public_leaf: str
    actor: RecordActorOut
    acting: PublicActorOut
    target: TargetOut | None
    subject_id: str
    data: Any
    request_id: str
    ip: str
    commitment: str
    matches_leaf: bool
    complete: bool
    salt: str | None
    record: str | None


class RecordsOut(Schema):
    page: int
    pages: int
    count: int
    records: list[RecordOut]


class RecordsQuery(Schema):
    event: str = Field("", max_length=100)
    target_type: str = Field("", max_length=100)
    target_id: str = Field("", max_length=100)
    actor_user_id: str = Field("", max_length=64)
    subject_id: str = Field("", max_length=64)
    page: int = Field(1, ge=1, le=100_000)


class MyRecordsQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)


class EntriesOut(Schema):
    entries: list[EntryOut]


class InclusionOut(Schema):
    leaf_index: int
    tree_size: int
    audit_path: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    consistency: list[str]


class PublicKeyOut(Schema):
    key_id: str
    algorithm: str
    public_key: str
    pem: str


class EntriesQuery(Schema):
    start: int
    end: int


class InclusionQuery(Schema):
    leaf_index: int
    tree_size: int


class ConsistencyQuery(Schema):
    first: int
    second: int


def _range_error(exc: selectors.ProofRangeError):
    if exc.high is None:
        message = _("Enter a number of at least %(low)s.") % {"low": exc.low}
    elif exc.high < exc.low:
        message = _("The log has no entries for this range yet (it holds %(size)s).") % {
            "size": selectors.tree_size()
        }
    else:
        message = _("Enter a number between %(low)s and %(high)s.") % {"low": exc.low, "high": exc.high}
    return field_error(exc.field, message, status=400)


def entry_out(entry) -> dict:
    """An entry as the public sees it: its leaf and nothing else (the record stays restricted)."""
    raw = bytes(entry.leaf_input)
    decoded = leaf.decode_leaf_input(raw)
    return {
        "leaf_index": entry.leaf_index,
        "leaf_input": b64(raw),
        "timestamp": decoded["ts"],
        "event": decoded["event"],
        "actor": decoded["actor"],
        "object": decoded["object"],
        "commitment": decoded["commitment"],
    }


@router.get("/sth", response=TreeHeadOut, summary="Current signed tree head")
def get_sth(request):
    head = services.tree_head_sign(persist=True)
    return {
        "tree_size": head.tree_size,
        "root_hash": b64(head.root_hash),
        "timestamp": head.timestamp,
        "signature": b64(head.signature),
        "key_id": head.key_id,
    }


@router.get(
    "/entries",
    response=EntriesOut,
    summary="Entries start..end (inclusive), at most 1000 per call",
)
def get_entries(request, params: Query[EntriesQuery]):
    try:
        rows = selectors.entries(start=params.start, end=params.end)
    except selectors.ProofRangeError as exc:
        raise _range_error(exc) from exc
    return {"entries": [entry_out(e) for e in rows]}


@router.get("/proof/inclusion", response=InclusionOut, summary="Inclusion proof (audit path) of one entry")
def get_inclusion_proof(request, params: Query[InclusionQuery]):
    try:
        path = selectors.inclusion_proof(leaf_index=params.leaf_index, size=params.tree_size)
    except selectors.ProofRangeError as exc:
        raise _range_error(exc) from exc
    return {
        "leaf_index": params.leaf_index,
        "tree_size": params.tree_size,
        "audit_path": [b64(h) for h in path],
    }


@router.get("/proof/consistency", response=ConsistencyOut, summary="Consistency proof between two tree sizes")
def get_consistency_proof(request, params: Query[ConsistencyQuery]):
    try:
        proof = selectors.consistency_proof(first=params.first, second=params.second)
    except selectors.ProofRangeError as exc:
        raise _range_error(exc) from exc
    return {"first": params.first, "second": params.second, "consistency": [b64(h) for h in proof]}


@router.get("/public-key", response=PublicKeyOut, summary="The key that signs tree heads")
def get_public_key(request):
    key = signing.load_key()
    return {
        "key_id": key.key_id,
        "algorithm": "Ed25519",
        "public_key": b64(key.public_raw),
        "pem": key.public_pem,
    }


def _page(queryset, number: int, *, full_for) -> dict:
    paginator = Paginator(queryset, selectors.RECORDS_PER_PAGE)
    page = paginator.get_page(number)
    return {
        "page": page.number,
        "pages": paginator.num_pages,
        "count": paginator.count,
        "records": [disclosure.record_out(e, full=full_for(e)) for e in page.object_list],
    }


@router.get(
    "/records",
    response=RecordsOut,
    auth=django_auth,
    summary="Restricted records with filters, newest first (auditors only; the read is itself audited)",
)
def get_records(request, params: Query[RecordsQuery]):
    if not hooks.may_read_all_records(request.user):
        raise ApiError(403, _("Only auditors may read the restricted records of the log."))
    filters = params.dict(exclude={"page"})
    services.record(
        actor=request.user,
        event="audit:record:read",
        data={"filters": {k: v for k, v in filters.items() if v}, "page": params.page, "via": "api"},
        role="auditor",
    )
    return _page(selectors.records(**filters), params.page, full_for=lambda e: True)


@router.get(
    "/my-records",
    response=RecordsOut,
    auth=django_auth,
    summary="Your own records: what you did and what was recorded about you, newest first",
)
def get_my_records(request, params: Query[MyRecordsQuery]):
    return _page(
        selectors.records_of_user(request.user.pk),
        params.page,
        full_for=lambda e: disclosure.is_own_action(e, request.user),
    )
