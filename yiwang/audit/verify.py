"""Recompute the whole log and report the first thing that does not add up.

``verify_log()`` streams entries and stored tree nodes side by side, both in primary-key order (nodes are
keyed in the order the log completes them, see ``merkle.node_key``), so memory stays O(log n):

1. leaf indices run 0, 1, 2, ... with no gap (a gap names the first removed entry);
2. each row's restricted record (actor, target, data, request id, address, with its salt) hashes to the
   commitment its leaf publishes, and ``leaf_input`` is exactly what the row's columns re-encode to (a
   column edited behind the log's back shows here);
3. each leaf hash and every completed subtree hash equals the stored node;
4. at the size of every signed tree head kept by the log (and of an outside auditor's ``--sth`` file) the
   recomputed root equals the signed root, and the signature verifies with the log's key;
5. the head's tree size equals the number of entries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import time
from dataclasses import dataclass, field

from django.db import connection

from yiwang.audit import leaf, merkle, selectors, signing
from yiwang.audit.models import ENTRY_COLUMNS, AuditEntry, AuditNode, SignedTreeHead

CHUNK = 10_000
_LEAF_KEY_TO_COLUMN = {
    "ts": "created_at",
    "actor": "actor_kind/actor_department/actor_role",
    "event": "event",
    "object": "target_type/target_id",
    "v": "leaf_input",
    "commitment": "actor, target, data, request_id, client_ip, subject_id or salt",
}


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    timestamp: int
    signature: bytes
    key_id: str
    source: str  # "stored" or the file name


@dataclass
class VerifyResult:
    ok: bool
    tree_size: int = 0
    entries_checked: int = 0
    nodes_checked: int = 0
    tree_heads_checked: int = 0
    root_hash: bytes = b""
    seconds: float = 0.0
    bad_index: int | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit log intact: {self.entries_checked} entries, {self.nodes_checked} tree nodes, "
                f"{self.tree_heads_checked} signed tree heads checked; root "
                f"{base64.b64encode(self.root_hash).decode()} in {self.seconds:.2f} s"
            )
        return self.problem


class _VerifyFailedError(Exception):
    def __init__(self, problem: str, bad_index: int | None = None):
        super().__init__(problem)
        self.problem, self.bad_index = problem, bad_index


def _entry_problem(index: int, kind: str, why: str) -> _VerifyFailedError:
    return _VerifyFailedError(f"entry #{index} was {kind}: {why}", index)


def load_sth_file(path: str) -> Checkpoint:
    """Read a tree head saved from GET /api/audit/sth (JSON with base64 hashes)."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    try:
        return Checkpoint(
            tree_size=int(raw["tree_size"]),
            root_hash=base64.b64decode(raw["root_hash"], validate=True),
            timestamp=int(raw["timestamp"]),
            signature=base64.b64decode(raw["signature"], validate=True),
            key_id=str(raw["key_id"]),
            source=str(path),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"{path} is not a tree head saved from /api/audit/sth: {exc}") from exc


def _check_signatures(checkpoints: list[Checkpoint], key: signing.SigningKey) -> None:
    for cp in checkpoints:
        if cp.key_id != key.key_id:
            raise _VerifyFailedError(
                f"the tree head of size {cp.tree_size} ({cp.source}, {cp.timestamp}) names key {cp.key_id}, "
                f"not the log's key {key.key_id}"
            )
        message = signing.tree_head_bytes(
            timestamp=cp.timestamp, tree_size=cp.tree_size, root_hash=cp.root_hash
        )
        if len(cp.root_hash) != merkle.HASH_SIZE or not key.verify(cp.signature, message):
            raise _VerifyFailedError(
                f"the tree head of size {cp.tree_size} ({cp.source}, {cp.timestamp}) has an invalid signature"
            )


def _diff_leaf(stored: bytes, rebuilt: bytes) -> str:
    try:
        old = leaf.decode_leaf_input(stored)
    except (ValueError, UnicodeDecodeError):
        return "its leaf_input is not valid JSON"
    new = json.loads(rebuilt)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    columns = ", ".join(_LEAF_KEY_TO_COLUMN.get(k, k) for k in changed) or "encoding"
    return f"its columns ({columns}) no longer match the leaf_input the log hashed"


def _stream(model, columns, order_by: str, below: int, chunk_size: int):
    """Rows of ``model`` with ``order_by < below`` in order, straight from a (server-side) cursor.

    Raw rows skip the ORM's per-value converters, which would cost more than the hashing: JSON and
    datetimes come as text on both databases; the caller handles both forms."""
    opts = model._meta
    q = connection.ops.quote_name
    names = []
    for name in columns:
        field = opts.get_field(name)
        column = q(field.column)
        if field.get_internal_type() == "DateTimeField":
            column = f"CAST({column} AS TEXT)"  # skips the drivers' slow per-row datetime converters
        names.append(column)
    names = ", ".join(names)
    order = q(opts.get_field(order_by).column)
    sql = f"SELECT {names} FROM {q(opts.db_table)} WHERE {order} < %s ORDER BY {order}"  # noqa: S608
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [below])
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def _ts(value) -> str:
    """The leaf's "ts" from the created_at column read as text: "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC on
    SQLite (as Django stores it), the same with "+00" on PostgreSQL (Django's sessions use UTC)."""
    if isinstance(value, str):
        if value.endswith("+00"):
            value = value[:-3]
        if len(value) == 19:
            value += ".000000"
        if len(value) == 26 and value[10] in " T":
            return f"{value[:10]}T{value[11:]}Z"
        return leaf.format_ts(_parse_text_ts(value))
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    text = value.isoformat()  # "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"
    return f"{text[:19]}.000000Z" if len(text) == 25 else f"{text[:26]}Z"


def _parse_text_ts(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def verify_log(*, extra_tree_heads: list[Checkpoint] | None = None, chunk_size: int = CHUNK) -> VerifyResult:
    started = time.perf_counter()
    result = VerifyResult(ok=False)
    try:
        _verify(result, extra_tree_heads or [], chunk_size)
    except _VerifyFailedError as failure:
        result.problem, result.bad_index = failure.problem, failure.bad_index
    else:
        result.ok = True
    result.seconds = time.perf_counter() - started
    return result


def _verify(result: VerifyResult, extra: list[Checkpoint], chunk_size: int) -> None:
    stored = [
        Checkpoint(size, bytes(root), ts, bytes(sig), kid, "stored")
        for size, root, ts, sig, kid in SignedTreeHead.objects.order_by("tree_size", "timestamp").values_list(
            "tree_size", "root_hash", "timestamp", "signature", "key_id"
        )
    ]
    # Read after the kept tree heads, so every honest one is within this size; appends made while the
    # check runs are beyond it and ignored.
    head_size = selectors.tree_size()
    result.tree_size = head_size
    checkpoints = sorted(stored + list(extra), key=lambda cp: cp.tree_size)
    if checkpoints:
        _check_signatures(checkpoints, signing.load_key())
    by_size: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_size.setdefault(cp.tree_size, []).append(cp)
    for cp in by_size.get(0, []):
        if cp.root_hash != merkle.EMPTY_ROOT:
            raise _VerifyFailedError(f"the tree head of size 0 ({cp.source}) does not sign the empty root")

    node_count = 2 * head_size - head_size.bit_count()
    entries = _stream(AuditEntry, ENTRY_COLUMNS, "leaf_index", head_size, chunk_size)
    nodes = _stream(AuditNode, ("key", "hash"), "key", node_count, chunk_size)
    next_node = nodes.__next__

    leaf_hash, node_hash, node_key = merkle.leaf_hash, merkle.node_hash, merkle.node_key
    build, build_record, commit = leaf.build_leaf_input, leaf.build_record, leaf.commitment
    canonical, loads = leaf.canonical_json, json.loads
    stack: list[tuple[int, bytes]] = []
    expected = 0
    nodes_checked = 0

    def expect_node(level: int, index: int, value: bytes, entry_index: int) -> None:
        nonlocal nodes_checked
        want = node_key(level, index)
        try:
            key, stored_hash = next_node()
        except StopIteration:
            raise _entry_problem(
                entry_index, "removed", f"its tree node (level {level}) is missing"
            ) from None
        if key != want:
            raise _entry_problem(
                entry_index,
                "removed or reordered",
                f"the stored tree node {key} is where node {want} belongs",
            )
        if bytes(stored_hash) != value:
            if level == 0:
                raise _entry_problem(
                    entry_index, "altered", "its leaf_input does not hash to the stored leaf hash"
                )
            first = index << level
            raise _entry_problem(
                first,
                "altered or reordered",
                f"the stored hash of entries #{first}-#{((index + 1) << level) - 1} (level {level}) differs "
                "from the recomputed one",
            )
        nodes_checked += 1

    for row in entries:
        (index, created_at, a_type, a_id, a_label, event, t_type, t_id, data, request_id, ip) = row[:11]
        (subject_id, a_kind, a_department, a_role, salt, stored_leaf) = row[11:]
        if index != expected:
            raise _entry_problem(
                expected,
                "removed",
                f"the log jumps from #{expected - 1} to #{index}" if expected else "it is missing",
            )
        stored_leaf = bytes(stored_leaf)
        record = build_record(
            event=event,
            actor_type=a_type,
            actor_id=a_id,
            actor_label=a_label,
            target_type=t_type,
            target_id=t_id,
            data_json=canonical(loads(data) if isinstance(data, str) else data),
            request_id=request_id,
            client_ip=ip,
            subject_id=subject_id,
        )
        committed = commit(salt, record)
        rebuilt = build(
            ts=_ts(created_at),
            event=event,
            actor_kind=a_kind,
            actor_department=a_department,
            actor_role=a_role,
            target_type=t_type,
            target_id=t_id,
            commitment=committed,
        )
        if rebuilt != stored_leaf:
            try:
                published = leaf.decode_leaf_input(stored_leaf).get("commitment")
            except (ValueError, UnicodeDecodeError, AttributeError):
                published = None
            if published is not None and published != committed:
                raise _entry_problem(
                    index,
                    "altered",
                    "its restricted record (actor, target, data, request id, address or salt) no longer "
                    "matches the commitment its leaf publishes",
                )
            raise _entry_problem(index, "altered", _diff_leaf(stored_leaf, rebuilt))
        h = leaf_hash(stored_leaf)
        expect_node(0, index, h, index)
        level, node_index = 0, index
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level, node_index = level + 1, node_index >> 1
            expect_node(level, node_index, h, index)
        stack.append((level, h))
        expected += 1
        for cp in by_size.get(expected, ()):
            root = merkle.compose([x for _, x in stack])
            if root != cp.root_hash:
                raise _VerifyFailedError(
                    f"entries below #{expected} were rewritten: their root differs from the tree head "
                    f"of size {expected} signed at {cp.timestamp} ({cp.source})",
                    None,
                )
            result.tree_heads_checked += 1

    if expected != head_size:
        if expected < head_size:
            raise _entry_problem(
                expected, "removed", f"the log head says {head_size} entries but only {expected} remain"
            )
        raise _VerifyFailedError(f"the log holds {expected} entries but its head says {head_size}")
    try:
        key, _ = next_node()
    except StopIteration:
        pass
    else:
        raise _VerifyFailedError(
            f"the stored tree has a node (key {key}) beyond the last entry #{expected - 1}"
        )
    late = [cp for cp in checkpoints if cp.tree_size > expected]
    if late:
        raise _entry_problem(
            expected,
            "removed",
            f"a tree head signed the log at size {late[0].tree_size} but it has {expected} entries",
        )
    result.tree_heads_checked += len(by_size.get(0, []))
    result.entries_checked = expected
    result.nodes_checked = nodes_checked
    result.root_hash = merkle.compose([x for _, x in stack])
