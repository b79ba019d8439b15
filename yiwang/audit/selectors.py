"""Reads of the audit log: tree size and root, entries, inclusion and consistency proofs.

Every proof reads its O(log n) stored subtree hashes in one query.
"""

from __future__ import annotations

from yiwang.audit import merkle
from yiwang.audit.models import AuditEntry, AuditHead, AuditNode, SignedTreeHead

MAX_ENTRIES_PER_CALL = 1000


class ProofRangeError(ValueError):
    """A proof or entry range outside the current tree (``field`` names the bad parameter)."""

    def __init__(self, field: str, low: int, high: int | None = None):
        super().__init__(
            f"{field} must be between {low} and {high}" if high is not None else f"{field} >= {low}"
        )
        self.field, self.low, self.high = field, low, high


def tree_size() -> int:
    size = AuditHead.objects.filter(pk=1).values_list("tree_size", flat=True).first()
    return size or 0


def node_hashes(coords) -> dict[tuple[int, int], bytes]:
    """The stored hashes of the given (level, index) subtrees, in one query."""
    keys = {merkle.node_key(level, index): (level, index) for level, index in coords}
    if not keys:
        return {}
    rows = AuditNode.objects.filter(key__in=list(keys)).values_list("key", "hash")
    found = {keys[k]: bytes(h) for k, h in rows}
    if len(found) != len(keys):
        from yiwang.audit.services import LogCorruptedError

        missing = sorted(set(keys.values()) - set(found))
        raise LogCorruptedError(f"audit tree node(s) {missing} are missing; run `yiwang verify-log`")
    return found


def _ranges_hashes(ranges: list[tuple[int, int]]) -> list[bytes]:
    pieces = [merkle.perfect_pieces(a, b) for a, b in ranges]
    stored = node_hashes({c for group in pieces for c in group})
    return [merkle.compose([stored[c] for c in group]) for group in pieces]


def root_hash(size: int) -> bytes:
    """MTH of the first ``size`` leaves (needs size <= the tree size)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _ranges_hashes([(0, size)])[0]


def inclusion_proof(*, leaf_index: int, size: int) -> list[bytes]:
    current = tree_size()
    if not 1 <= size <= current:
        raise ProofRangeError("tree_size", 1, current)
    if not 0 <= leaf_index < size:
        raise ProofRangeError("leaf_index", 0, size - 1)
    return _ranges_hashes(merkle.inclusion_ranges(leaf_index, size))


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    current = tree_size()
    if not 1 <= second <= current:
        raise ProofRangeError("second", 1, current)
    if not 1 <= first <= second:
        raise ProofRangeError("first", 1, second)
    return _ranges_hashes(merkle.consistency_ranges(first, second))


def entries(*, start: int, end: int):
    """Entries start..end inclusive, clipped to the tree and to MAX_ENTRIES_PER_CALL."""
    current = tree_size()
    if not 0 <= start < current:
        raise ProofRangeError("start", 0, current - 1)
    if end < start:
        raise ProofRangeError("end", start)
    end = min(end, current - 1, start + MAX_ENTRIES_PER_CALL - 1)
    return AuditEntry.objects.filter(leaf_index__gte=start, leaf_index__lte=end).order_by("leaf_index")


def entry(leaf_index: int) -> AuditEntry | None:
    return AuditEntry.objects.filter(leaf_index=leaf_index).first()


def latest_entries(limit: int = 20) -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("-leaf_index")[:limit])


def latest_signed_tree_head() -> SignedTreeHead | None:
    return SignedTreeHead.objects.order_by("-timestamp").first()


# --- restricted records (auditors; a person's own) --------------------------------------

RECORDS_PER_PAGE = 50


def records(
    *,
    event: str = "",
    target_type: str = "",
    target_id: str = "",
    actor_user_id: str = "",
    subject_id: str = "",
):
    """Entries with their restricted records, newest first, filtered by any of the given columns.
    For auditors only: the caller checks ``hooks.may_read_all_records``."""
    queryset = AuditEntry.objects.order_by("-leaf_index")
    if event:
        queryset = queryset.filter(event=event)
    if target_type:
        queryset = queryset.filter(target_type=target_type)
    if target_id:
        queryset = queryset.filter(target_id=target_id)
    if actor_user_id:
        queryset = queryset.filter(actor_type="user", actor_id=actor_user_id)
    if subject_id:
        queryset = queryset.filter(subject_id=subject_id)
    return queryset


def records_of_user(user_pk) -> object:
    """The entries a person may read: those they acted in and those recorded about them, newest first."""
    from django.db.models import Q

    key = str(user_pk)
    return AuditEntry.objects.filter(Q(actor_type="user", actor_id=key) | Q(subject_id=key)).order_by(
        "-leaf_index"
    )
