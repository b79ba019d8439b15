"""Writes to the audit log. ``record`` is the only way in for the other apps.

from yiwang.audit import services as audit
audit.record(actor=user, event="identity:user:register", target=user, data={"via": "form"})
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.utils import timezone

from yiwang.audit import leaf, merkle, selectors, signing
from yiwang.audit.models import ENTRY_COLUMNS, AuditEntry, AuditHead, AuditNode, SignedTreeHead
from yiwang.core import context
from yiwang.core.bulk import insert_rows

EVENT_PATTERN = re.compile(r"^[a-z_]+:[a-z_]+:[a-z_]+$")
_MAX_LABEL = 150
_MAX_ID = 64
_MAX_TARGET = 100


class LogCorruptedError(RuntimeError):
    """The stored tree lacks a node an append needs: run ``yiwang verify-log``."""


# --- describing actors and targets -----------------------------------------------------


def _clean(value: str, limit: int, what: str) -> str:
    if "\x00" in value:
        raise ValueError(f"audit {what} must not contain NUL characters")
    return value[:limit]


def pseudonymous_address(address: str) -> str:
    """A keyed pseudonym of a client address: the public log must not publish addresses, yet an
    auditor holding the key can still tell whether an entry came from a given address."""
    if not address:
        return ""
    digest = hmac.new(settings.BLIND_INDEX_KEY, b"audit-ip:" + address.encode(), hashlib.sha256)
    return "h:" + digest.hexdigest()[:40]


def describe_actor(actor) -> tuple[str, str, str]:
    """(type, id, label) for a User, None (the system), a label string or another model instance."""
    if actor is None:
        return AuditEntry.ActorType.SYSTEM.value, "", "system"
    if isinstance(actor, str):
        if not actor.strip():
            raise ValueError("an actor label must not be empty")
        return AuditEntry.ActorType.SYSTEM.value, "", _clean(actor, _MAX_LABEL, "actor")
    if isinstance(actor, AnonymousUser):
        return AuditEntry.ActorType.ANONYMOUS.value, "", "anonymous"
    if isinstance(actor, models.Model):
        if actor.pk is None:
            raise ValueError("an actor must be saved before it can act")
        kind = (
            AuditEntry.ActorType.USER.value
            if isinstance(actor, AbstractBaseUser)
            else actor._meta.label_lower
        )
        # The log is public: label people by a pseudonym, never by name (names stay in their own app).
        actor_id = _clean(str(actor.pk), _MAX_ID, "actor id")
        return kind, actor_id, f"{kind}#{actor_id}"
    raise TypeError(f"actor must be a user, a model instance, a label or None, not {type(actor).__name__}")


def describe_target(target) -> tuple[str, str]:
    """(type, id) for a model instance, a (type, id) pair or None."""
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        if target.pk is None:
            raise ValueError("a target must be saved before it is recorded")
        return target._meta.label_lower, _clean(str(target.pk), _MAX_TARGET, "target id")
    if isinstance(target, tuple) and len(target) == 2:
        kind, ident = str(target[0]), str(target[1])
        if not kind:
            raise ValueError("a target type must not be empty")
        return _clean(kind, _MAX_TARGET, "target type"), _clean(ident, _MAX_TARGET, "target id")
    raise TypeError("target must be a model instance, a (type, id) pair or None")


def _check_event(event: str) -> str:
    if not isinstance(event, str) or len(event) > 100 or not EVENT_PATTERN.match(event):
        raise ValueError(f"audit event {event!r} must look like 'app:subject:verb' (lowercase letters and _)")
    return event


# --- appending -------------------------------------------------------------------------


def _lock_head() -> int:
    """Lock the head row (created on first use) and return the current tree size."""
    for _attempt in range(2):
        size = AuditHead.objects.select_for_update().filter(pk=1).values_list("tree_size", flat=True).first()
        if size is not None:
            return size
        AuditHead.objects.bulk_create([AuditHead(id=1, tree_size=0)], ignore_conflicts=True)
    raise LogCorruptedError("the audit log head row cannot be created")


# The append path runs on every audited write, so it uses three or four prepared statements instead of
# the ORM's per-call query building (which costs more than the database work here). bulk_load and all
# reads use the ORM.


@functools.cache
def _statements(vendor: str) -> dict[str, str]:
    q = connection.ops.quote_name
    head, node, entry = (q(m._meta.db_table) for m in (AuditHead, AuditNode, AuditEntry))
    size, key = q("tree_size"), q("key")
    entry_columns = ", ".join(q(AuditEntry._meta.get_field(f).column) for f in ENTRY_COLUMNS)
    return {
        # one statement both locks the head row until commit and claims the next index
        "claim": f"UPDATE {head} SET {size} = {size} + 1 WHERE {q('id')} = 1 RETURNING {size}",  # noqa: S608
        "nodes": f"SELECT {key}, {q('hash')} FROM {node} WHERE {key} IN ",  # noqa: S608
        "entry": f"INSERT INTO {entry} ({entry_columns}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})",  # noqa: S608
        "node_rows": f"INSERT INTO {node} ({key}, {q('level')}, {q('index')}, {q('hash')}) VALUES ",  # noqa: S608
    }


def _claim_next_index() -> int:
    """Lock the head row (created on first use), advance the tree size and return the new leaf's index."""
    sql = _statements(connection.vendor)["claim"]
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(sql)
            row = cursor.fetchone()
            if row is not None:
                return row[0] - 1
            AuditHead.objects.bulk_create([AuditHead(id=1, tree_size=0)], ignore_conflicts=True)
    raise LogCorruptedError("the audit log head row cannot be created")


def _insert_entry_and_nodes(entry: AuditEntry, node_rows: list[tuple[int, int, int, bytes]]) -> None:
    sql = _statements(connection.vendor)
    opts = AuditEntry._meta
    params = [
        entry.leaf_index,
        opts.get_field("created_at").get_db_prep_save(entry.created_at, connection),
        entry.actor_type,
        entry.actor_id,
        entry.actor_label,
        entry.event,
        entry.target_type,
        entry.target_id,
        opts.get_field("data").get_db_prep_save(entry.data, connection),
        entry.request_id,
        entry.client_ip,
        entry.leaf_input,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql["entry"], params)
        cursor.execute(
            sql["node_rows"] + ", ".join(["(%s, %s, %s, %s)"] * len(node_rows)),
            [value for row in node_rows for value in row],
        )
    entry._state.adding = False
    entry._state.db = connection.alias


def _fetch_nodes(coords: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    coords = list(coords)
    if not coords:
        return {}
    keys = {merkle.node_key(level, index): (level, index) for level, index in coords}
    with connection.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["nodes"] + f"({', '.join(['%s'] * len(keys))})", list(keys)
        )
        found = {keys[key]: bytes(h) for key, h in cursor.fetchall()}
    missing = [c for c in coords if c not in found]
    if missing:
        raise LogCorruptedError(f"audit tree node(s) {missing} are missing; run `yiwang verify-log`")
    return found


def record(*, actor, event: str, target=None, data: Mapping | None = None) -> AuditEntry:
    """Append one entry to the log inside the caller's transaction and return it.

    actor: a User, None (the system), a label such as "system:demo", or another saved model instance.
    target: a saved model instance, a (type, id) pair, or None. data: JSON-serialisable details (kept
    beside the leaf; the leaf commits to their SHA-256). Request id and client address come from the
    current request context. Raises ValueError/TypeError for bad arguments before touching the database.
    Cost: a constant number of queries (lock head, fetch O(log n) left siblings in one query, two inserts,
    one update).
    """
    _check_event(event)
    actor_type, actor_id, actor_label = describe_actor(actor)
    target_type, target_id = describe_target(target)
    data = leaf.normalise_data(data)
    digest = leaf.data_digest(data)
    ctx = context.current()
    request_id = _clean(ctx.request_id or "", 64, "request id")
    client_ip = pseudonymous_address(ctx.client_ip or "")

    with transaction.atomic():
        size = _claim_next_index()
        created_at = timezone.now()
        leaf_input = leaf.build_leaf_input(
            ts=leaf.format_ts(created_at),
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label,
            event=event,
            target_type=target_type,
            target_id=target_id,
            data_sha256=digest,
            request_id=request_id,
            client_ip=client_ip,
        )
        acc = merkle.leaf_hash(leaf_input)
        node_rows = [(merkle.node_key(0, size), 0, size, acc)]
        siblings = merkle.left_siblings_for_append(size)
        stored = _fetch_nodes(siblings)
        for level, index in siblings:
            acc = merkle.node_hash(stored[(level, index)], acc)
            parent_level, parent_index = level + 1, index >> 1
            node_rows.append((merkle.node_key(parent_level, parent_index), parent_level, parent_index, acc))
        entry = AuditEntry(
            leaf_index=size,
            created_at=created_at,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label,
            event=event,
            target_type=target_type,
            target_id=target_id,
            data=data,
            request_id=request_id,
            client_ip=client_ip,
            leaf_input=leaf_input,
        )
        _insert_entry_and_nodes(entry, node_rows)
    return entry


# --- bulk loading (benchmarks, large demo) ----------------------------------------------


_NODE_FIELDS = ["key", "level", "index", "hash"]


def bulk_load(entries: Iterable[Mapping], *, batch_size: int = 20_000) -> int:
    """Append many entries fast (benchmarks, ``demo --scale large``); returns how many were added.

    Each entry is a mapping with ``actor``, ``event`` and optionally ``target``, ``data``, ``created_at``,
    ``request_id`` and ``client_ip``, described as for :func:`record`. Node hashes are computed in memory
    and rows are written in batches (COPY on PostgreSQL), all in one transaction holding the head lock.
    """
    added = 0
    with transaction.atomic():
        size = _lock_head()
        stack = [(lv, ix, h) for (lv, ix), h in _fetch_nodes(merkle.root_pieces(size)).items()]
        stack.sort(key=lambda item: -item[0])  # left to right = largest first
        entry_rows: list[list] = []
        node_rows: list[list] = []
        now = timezone.now()
        for spec in entries:
            event = _check_event(spec["event"])
            actor_type, actor_id, actor_label = describe_actor(spec.get("actor"))
            target_type, target_id = describe_target(spec.get("target"))
            data = leaf.normalise_data(spec.get("data"))
            created_at = spec.get("created_at") or now
            request_id = spec.get("request_id", "")
            client_ip = pseudonymous_address(spec.get("client_ip", ""))
            leaf_input = leaf.build_leaf_input(
                ts=leaf.format_ts(created_at),
                actor_type=actor_type,
                actor_id=actor_id,
                actor_label=actor_label,
                event=event,
                target_type=target_type,
                target_id=target_id,
                data_sha256=leaf.data_digest(data),
                request_id=request_id,
                client_ip=client_ip,
            )
            index = size + added
            entry_rows.append(
                [index, created_at, actor_type, actor_id, actor_label, event]
                + [target_type, target_id, data, request_id, client_ip, leaf_input]
            )
            level, h = 0, merkle.leaf_hash(leaf_input)
            node_rows.append([merkle.node_key(0, index), 0, index, h])
            node_index = index
            while stack and stack[-1][0] == level:
                _, _, left = stack.pop()
                h = merkle.node_hash(left, h)
                level, node_index = level + 1, node_index >> 1
                node_rows.append([merkle.node_key(level, node_index), level, node_index, h])
            stack.append((level, node_index, h))
            added += 1
            if len(entry_rows) >= batch_size:
                insert_rows(AuditEntry, ENTRY_COLUMNS, entry_rows)
                insert_rows(AuditNode, _NODE_FIELDS, node_rows)
                entry_rows, node_rows = [], []
        insert_rows(AuditEntry, ENTRY_COLUMNS, entry_rows)
        insert_rows(AuditNode, _NODE_FIELDS, node_rows)
        AuditHead.objects.filter(pk=1).update(tree_size=size + added)
    return added


# --- signed tree heads -----------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: int
    signature: bytes
    key_id: str


def tree_head_sign(*, persist: bool = True) -> TreeHead:
    """Sign the current tree head. With ``persist``, keep it as a SignedTreeHead when the last kept one is
    at least AUDIT_STH_INTERVAL_SECONDS old (so ``verify_log`` can later check the log against it)."""
    key = signing.load_key()
    size = selectors.tree_size()
    root = selectors.root_hash(size)
    timestamp = int(time.time() * 1000)
    signature = key.sign(signing.tree_head_bytes(timestamp=timestamp, tree_size=size, root_hash=root))
    head = TreeHead(
        tree_size=size, root_hash=root, timestamp=timestamp, signature=signature, key_id=key.key_id
    )
    if persist:
        last = SignedTreeHead.objects.order_by("-timestamp").values_list("timestamp", flat=True).first()
        if last is None or timestamp - last >= settings.AUDIT_STH_INTERVAL_SECONDS * 1000:
            SignedTreeHead.objects.create(
                tree_size=size, root_hash=root, timestamp=timestamp, signature=signature, key_id=key.key_id
            )
    return head
