"""Merkle tree hashing, proofs and proof verification as RFC 9162 (Certificate Transparency 2.0) defines them.

Pure functions, no Django. Trees are described by leaf ranges ``[start, end)``; every range the RFC's
recursion produces is a *perfect* subtree (a power-of-two number of leaves, aligned) or a right-edge range
whose hash is composed from perfect subtrees right to left. Perfect subtrees are named by
``(level, index)``: level 0 are the leaves, the subtree ``(level, index)`` covers the leaves
``[index << level, (index + 1) << level)``.

The log stores the hash of every complete perfect subtree, so a proof needs only O(log n) stored hashes:
collect the coordinates with :func:`inclusion_ranges` / :func:`consistency_ranges` and
:func:`perfect_pieces`, fetch them in one query, and compose them with :func:`compose`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two k with k < n (n >= 2)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    return 1 << ((n - 1).bit_length() - 1)


def node_key(level: int, index: int) -> int:
    """The position of a perfect subtree in the order the log completes them (post-order).

    Appending leaf c completes the leaf itself and then its parents bottom-up; before leaf c the log has
    completed 2c - popcount(c) subtrees (Legendre's formula). So stored nodes sorted by this key are in
    completion order, new nodes always go at the end of the index, and ``verify_log`` can stream nodes and
    entries side by side.
    """
    last_leaf = ((index + 1) << level) - 1
    return 2 * last_leaf - last_leaf.bit_count() + level


def nodes_completed_by(leaf_index: int) -> list[tuple[int, int]]:
    """The (level, index) of the subtrees that appending leaf ``leaf_index`` completes, bottom-up."""
    out = [(0, leaf_index)]
    level, index = 0, leaf_index
    while index & 1:
        level, index = level + 1, index >> 1
        out.append((level, index))
    return out


def left_siblings_for_append(leaf_index: int) -> list[tuple[int, int]]:
    """The stored subtrees appending leaf ``leaf_index`` must combine with, bottom-up."""
    out = []
    level, index = 0, leaf_index
    while index & 1:
        out.append((level, index - 1))
        level, index = level + 1, index >> 1
    return out


def perfect_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into maximal aligned perfect subtrees, left to right (largest first)."""
    if not 0 <= start < end:
        raise ValueError("empty or negative range")
    pieces = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)
        if start:
            size = min(size, start & -start)
        level = size.bit_length() - 1
        pieces.append((level, start >> level))
        start += size
    return pieces


def compose(hashes: Sequence[bytes]) -> bytes:
    """The RFC hash of a range from its perfect pieces (left to right): fold from the right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_hash(start: int, end: int, get: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) with ``get(level, index)`` returning a stored perfect subtree's hash."""
    return compose([get(level, index) for level, index in perfect_pieces(start, end)])


def root_pieces(tree_size: int) -> list[tuple[int, int]]:
    """The perfect subtrees whose composition is the root of a tree of ``tree_size`` leaves."""
    return perfect_pieces(0, tree_size) if tree_size else []


# --- proofs as leaf ranges -------------------------------------------------------------


def inclusion_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(m, D[0:n]) (RFC 9162 §2.1.3.1), in proof order."""
    if not 0 <= m < n:
        raise ValueError("leaf index must be below the tree size")
    out: list[tuple[int, int]] = []
    start, end = 0, n
    # Walk down from the root; the RFC lists siblings from the leaf upwards, so reverse at the end.
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if m - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start = start + k
    out.reverse()
    return out


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(m, D[0:n]) (RFC 9162 §2.1.4.1), in proof order."""
    if not 0 < m <= n:
        raise ValueError("need 0 < first <= second")
    out: list[tuple[int, int]] = []
    start, end, complete = 0, n, True
    while True:
        size = end - start
        if m == size:
            if not complete:
                out.append((start, end))
            break
        k = largest_power_of_two_below(size)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, complete = start + k, m - k, False
    out.reverse()
    return out


# --- in-memory trees (tests, benchmarks, outside auditors) ------------------------------


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes in O(n) time and O(log n) memory."""
    stack: list[tuple[int, bytes]] = []  # (level, hash) of the right edge's perfect subtrees
    for h in hashes:
        level = 0
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
    return compose([h for _, h in stack])


def _range_from_leaves(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return root_from_leaf_hashes(leaf_hashes[start:end])


def inclusion_path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    return [_range_from_leaves(leaf_hashes, a, b) for a, b in inclusion_ranges(m, len(leaf_hashes))]


def consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    return [_range_from_leaves(leaf_hashes, a, b) for a, b in consistency_ranges(m, len(leaf_hashes))]


# --- verification (what an outside auditor runs) ----------------------------------------


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``leaf`` (a leaf hash) sit at ``leaf_index`` of the tree with ``root``?"""
    if not 0 <= leaf_index < tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``second`` an append-only extension of the one of ``first``?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if not path:
        return False
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
