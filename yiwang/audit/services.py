"""Writes to the audit log. ``record`` is the only way in for the other apps.

from yiwang.audit import services as audit
audit.record(actor=user, event="identity:user:register", target=user, data={"via": "form"})
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.utils import timezone

from yiwang.audit import hooks, leaf, merkle, selectors, signing
from yiwang.audit.models import ENTRY_COLUMNS, AuditEntry, AuditHead, AuditNode, SignedTreeHead
from yiwang.core import context, prepared
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


def public_actor(actor, role: str = "") -> tuple[str, str, str]:
    """(kind, department, role) as the public leaf shows the actor: what accountability needs and
    nothing that identifies a person or links two entries to one."""
    if actor is None:
        return "system", "", "system"
    if isinstance(actor, str):
        return "system", "", _clean(actor.strip(), 64, "actor")
    if isinstance(actor, AnonymousUser):
        return "anonymous", "", ""
    if isinstance(actor, AbstractBaseUser):
        profile = hooks.actor_profile(actor)
        return profile.kind, profile.department, _clean(role or "+".join(profile.roles), 64, "role")
    return actor._meta.label_lower, "", _clean(role, 64, "role")


def describe_subject(subject) -> str:
    """The user id a record belongs to when somebody else acted: a User, a user pk or None."""
    if subject is None:
        return ""
    if isinstance(subject, models.Model):
        if subject.pk is None:
            raise ValueError("a subject must be saved before it is recorded")
        return _clean(str(subject.pk), _MAX_ID, "subject")
    if isinstance(subject, int) and not isinstance(subject, bool):
        return str(subject)
    raise TypeError("subject must be a user, a user id or None")


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


# The append path runs on every audited write, so it uses three or four statements built once instead of
# the ORM's per-call query building (which costs more than the database work here), prepared on
# PostgreSQL (``core.prepared``), where the entry and its nodes are one statement. bulk_load and all
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
    with prepared.cursor() as cursor:
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
        opts.get_field(name).get_db_prep_save(getattr(entry, name), connection)
        if name in ("created_at", "data")
        else getattr(entry, name)
        for name in ENTRY_COLUMNS
    ]
    nodes = sql["node_rows"] + ", ".join(["(%s, %s, %s, %s)"] * len(node_rows))
    node_params = [value for row in node_rows for value in row]
    with prepared.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one round trip: the entry's insert as a data-modifying WITH of the nodes' insert
            cursor.execute(f"WITH entry AS ({sql['entry']}) {nodes}", params + node_params)
        else:
            cursor.execute(sql["entry"], params)
            cursor.execute(nodes, node_params)
    entry._state.adding = False
    entry._state.db = connection.alias


def _fetch_nodes(coords: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    coords = list(coords)
    if not coords:
        return {}
    keys = {merkle.node_key(level, index): (level, index) for level, index in coords}
    with prepared.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["nodes"] + f"({', '.join(['%s'] * len(keys))})", list(keys)
        )
        found = {keys[key]: bytes(h) for key, h in cursor.fetchall()}
    missing = [c for c in coords if c not in found]
    if missing:
        raise LogCorruptedError(f"audit tree node(s) {missing} are missing; run `yiwang verify-log`")
    return found


def _new_entry(*, actor, event: str, target, data, subject, role: str, request_id: str, client_ip: str):
    """An unsaved AuditEntry with every column but leaf_index and created_at, and its commitment."""
    _check_event(event)
    actor_type, actor_id, actor_label = describe_actor(actor)
    kind, department, public_role = public_actor(actor, role)
    target_type, target_id = describe_target(target)
    data = leaf.normalise_data(data)
    entry = AuditEntry(
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label,
        event=event,
        target_type=target_type,
        target_id=target_id,
        data=data,
        request_id=_clean(request_id or "", 64, "request id"),
        client_ip=_clean(client_ip or "", 45, "client address"),
        subject_id=describe_subject(subject),
        actor_kind=kind,
        actor_department=_clean(department, 32, "department"),
        actor_role=public_role,
        salt=os.urandom(leaf.SALT_BYTES),
    )
    return entry, leaf.commitment(entry.salt, leaf.record_of(entry))


def _leaf_input(entry: AuditEntry, commitment: str) -> bytes:
    return leaf.build_leaf_input(
        ts=leaf.format_ts(entry.created_at),
        event=entry.event,
        actor_kind=entry.actor_kind,
        actor_department=entry.actor_department,
        actor_role=entry.actor_role,
        target_type=entry.target_type,
        target_id=entry.target_id,
        commitment=commitment,
    )


def record(
    *, actor, event: str, target=None, data: Mapping | None = None, subject=None, role: str = ""
) -> AuditEntry:
    """Append one entry to the log inside the caller's transaction and return it.

    actor: a User, None (the system), a label such as "system:demo", or another saved model instance.
    target: a saved model instance, a (type, id) pair, or None. data: JSON-serialisable details.
    subject: the user the record belongs to when somebody else acts (the applicant of a case an
    official decides), so that person can read it; role: the role the actor acts in (default: the
    official's roles). Request id and client address come from the current request context.

    The public leaf gets the event, time, object type and the actor's kind, department and role, and a
    salted commitment to the rest (see ``leaf``); security events publish only that they exist.
    Raises ValueError/TypeError for bad arguments before touching the database. Cost: a constant number
    of queries (claim the index, fetch O(log n) left siblings in one query, two inserts: one
    statement on PostgreSQL).
    """
    ctx = context.current()
    entry, commitment = _new_entry(
        actor=actor,
        event=event,
        target=target,
        data=data,
        subject=subject,
        role=role,
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
    )
    # In the caller's transaction, without a savepoint of its own (two statements less per
    # entry): an append that fails fails the caller's whole transaction, as it must.
    with transaction.atomic(savepoint=False):
        size = _claim_next_index()
        entry.leaf_index, entry.created_at = size, timezone.now()
        entry.leaf_input = _leaf_input(entry, commitment)
        acc = merkle.leaf_hash(entry.leaf_input)
        node_rows = [(merkle.node_key(0, size), 0, size, acc)]
        siblings = merkle.left_siblings_for_append(size)
        stored = _fetch_nodes(siblings)
        for level, index in siblings:
            acc = merkle.node_hash(stored[(level, index)], acc)
            parent_level, parent_index = level + 1, index >> 1
            node_rows.append((merkle.node_key(parent_level, parent_index), parent_level, parent_index, acc))
        _insert_entry_and_nodes(entry, node_rows)
    return entry


# --- bulk loading (benchmarks, large demo) ----------------------------------------------


_NODE_FIELDS = ["key", "level", "index", "hash"]


def bulk_load(entries: Iterable[Mapping], *, batch_size: int = 20_000) -> int:
    """Append many entries fast (benchmarks, ``demo --scale large``); returns how many were added.

    Each entry is a mapping with ``actor``, ``event`` and optionally ``target``, ``data``, ``subject``,
    ``role``, ``created_at``, ``request_id`` and ``client_ip``, described as for :func:`record`. Node
    hashes are computed in memory and rows are written in batches (COPY on PostgreSQL), all in one
    transaction holding the head lock.
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
            entry, commitment = _new_entry(
                actor=spec.get("actor"),
                event=spec["event"],
                target=spec.get("target"),
                data=spec.get("data"),
                subject=spec.get("subject"),
                role=spec.get("role", ""),
                request_id=spec.get("request_id", ""),
                client_ip=spec.get("client_ip", ""),
            )
            entry.created_at = spec.get("created_at") or now
            entry.leaf_index = size + added
            leaf_input = entry.leaf_input = _leaf_input(entry, commitment)
            index = size + added
            entry_rows.append([getattr(entry, name) for name in ENTRY_COLUMNS])
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
