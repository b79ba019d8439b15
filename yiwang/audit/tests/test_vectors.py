"""The Merkle code anchored to the published Certificate Transparency test vectors.

The eight leaves and the tree heads of sizes 1 to 8, the audit path of leaf 0 in the tree of 8 and the
consistency proofs from sizes 1 and 6 to 8 are the reference values the RFC 6962 implementations test
against (the certificate-transparency project's Merkle tree tests). They are fixed here, not computed,
so a change to the hashing, the splitting of trees or the proof order cannot pass unnoticed.
"""

import pytest

from yiwang.audit import merkle

LEAVES = [bytes.fromhex(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
PATH_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]
CONSISTENCY_TO_8 = {
    1: PATH_0_OF_8,
    6: [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(("size", "root"), sorted(ROOTS.items()))
def test_tree_heads_of_the_reference_trees(size, root):
    assert merkle.root_from_leaf_hashes(HASHES[:size]).hex() == root


def test_the_reference_audit_path_is_built_and_verifies():
    path = merkle.inclusion_path(0, HASHES)
    assert [p.hex() for p in path] == PATH_0_OF_8
    assert merkle.verify_inclusion(0, 8, HASHES[0], path, bytes.fromhex(ROOTS[8]))
    assert not merkle.verify_inclusion(1, 8, HASHES[0], path, bytes.fromhex(ROOTS[8]))


@pytest.mark.parametrize("first", sorted(CONSISTENCY_TO_8))
def test_the_reference_consistency_proofs_are_built_and_verify(first):
    proof = merkle.consistency_proof(first, HASHES)
    assert [p.hex() for p in proof] == CONSISTENCY_TO_8[first]
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[8])
    assert merkle.verify_consistency(first, 8, old, new, proof)
    assert not merkle.verify_consistency(first, 8, new, old, proof)
