"""RFC 9162 Merkle functions against a naive recursive reference written from the RFC's definitions."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.audit import merkle


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def _leaves(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


entries = st.lists(st.binary(max_size=40), min_size=1, max_size=80)


@given(entries)
def test_root_equals_the_recursive_definition(d):
    assert merkle.root_from_leaf_hashes(merkle.leaf_hash(x) for x in d) == ref_mth(d)


def test_empty_tree_root_is_the_hash_of_nothing():
    assert merkle.root_from_leaf_hashes([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


@given(entries, st.data())
def test_inclusion_path_equals_the_rfc_path_and_verifies(d, data):
    m = data.draw(st.integers(0, len(d) - 1))
    hashes = [merkle.leaf_hash(x) for x in d]
    path = merkle.inclusion_path(m, hashes)
    assert path == ref_path(m, d)
    assert merkle.verify_inclusion(m, len(d), hashes[m], path, ref_mth(d))


@given(entries, st.data())
def test_consistency_proof_equals_the_rfc_proof_and_verifies(d, data):
    m = data.draw(st.integers(1, len(d)))
    hashes = [merkle.leaf_hash(x) for x in d]
    proof = merkle.consistency_proof(m, hashes)
    assert proof == (ref_subproof(m, d, True) if m < len(d) else [])
    assert merkle.verify_consistency(m, len(d), ref_mth(d[:m]), ref_mth(d), proof)


def test_every_proof_of_every_small_tree_verifies_and_a_wrong_one_does_not():
    for n in range(1, 33):
        d = _leaves(n)
        hashes = [merkle.leaf_hash(x) for x in d]
        root = ref_mth(d)
        for m in range(n):
            path = merkle.inclusion_path(m, hashes)
            assert merkle.verify_inclusion(m, n, hashes[m], path, root)
            assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"forged"), path, root)
            if path:
                assert not merkle.verify_inclusion(m, n, hashes[m], path[:-1], root)
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, hashes)
            old_root = ref_mth(d[:m])
            assert merkle.verify_consistency(m, n, old_root, root, proof)
            assert not merkle.verify_consistency(m, n, merkle.leaf_hash(b"forged"), root, proof)
            if m < n:
                assert not merkle.verify_consistency(m, n, old_root, ref_mth(d[:-1] + [b"x"]), proof)


@settings(max_examples=200)
@given(st.integers(0, 2**40), st.integers(1, 2**40))
def test_perfect_pieces_tile_the_range_with_aligned_subtrees(start, length):
    end = start + length
    position = start
    for level, index in merkle.perfect_pieces(start, end):
        assert index << level == position
        position += 1 << level
    assert position == end


def test_node_keys_follow_the_order_in_which_appends_complete_subtrees():
    keys = [
        merkle.node_key(level, index) for c in range(300) for level, index in merkle.nodes_completed_by(c)
    ]
    assert keys == list(range(len(keys)))


@given(st.integers(0, 2**30))
def test_appending_needs_one_left_sibling_per_completed_parent(n):
    assert len(merkle.left_siblings_for_append(n)) == len(merkle.nodes_completed_by(n)) - 1


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=64), st.data())
def test_rfc_shaped_ranges_composed_from_stored_pieces_match_the_recursive_hash(d, data):
    # Every range the RFC recursion visits starts at a multiple of the power of two covering its length.
    length = data.draw(st.integers(1, len(d)))
    span = 1 << (length - 1).bit_length()
    start = span * data.draw(st.integers(0, (len(d) - length) // span))
    stored = {}
    for level in range(8):
        for index in range(len(d) >> level):
            stored[(level, index)] = ref_mth(d[index << level : (index + 1) << level])
    got = merkle.range_hash(start, start + length, lambda lv, ix: stored[(lv, ix)])
    assert got == ref_mth(d[start : start + length])
