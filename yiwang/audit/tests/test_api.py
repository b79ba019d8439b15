import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from yiwang.audit import leaf, merkle, services, signing

pytestmark = pytest.mark.django_db


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.fixture
def log():
    return [services.record(actor="system:test", event="audit:test:run", data={"i": i}) for i in range(11)]


def _leaf_hashes(entries):
    return [merkle.leaf_hash(bytes(e.leaf_input)) for e in entries]


def test_sth_is_signed_over_the_current_root_and_verifies_with_the_published_key(client, log):
    sth = client.get("/api/audit/sth").json()
    key = client.get("/api/audit/public-key").json()
    assert sth["tree_size"] == 11
    assert b64d(sth["root_hash"]) == merkle.root_from_leaf_hashes(_leaf_hashes(log))
    assert key["algorithm"] == "Ed25519"
    assert key["key_id"] == sth["key_id"]
    assert "BEGIN PUBLIC KEY" in key["pem"]
    message = signing.tree_head_bytes(
        timestamp=sth["timestamp"], tree_size=sth["tree_size"], root_hash=b64d(sth["root_hash"])
    )
    Ed25519PublicKey.from_public_bytes(b64d(key["public_key"])).verify(b64d(sth["signature"]), message)


def test_sth_of_an_empty_log_signs_the_hash_of_nothing(client):
    sth = client.get("/api/audit/sth").json()
    assert sth["tree_size"] == 0
    assert b64d(sth["root_hash"]) == merkle.EMPTY_ROOT


def test_entries_returns_the_inclusive_range_with_leaf_input_and_decoded_fields(client, log):
    body = client.get("/api/audit/entries", {"start": 2, "end": 4}).json()
    assert [e["leaf_index"] for e in body["entries"]] == [2, 3, 4]
    first = body["entries"][0]
    assert b64d(first["leaf_input"]) == bytes(log[2].leaf_input)
    assert first["event"] == "audit:test:run"
    assert first["actor"] == {"kind": "system", "department": "", "role": "system:test"}
    assert first["object"] is None
    assert first["commitment"] == leaf.commitment(log[2].salt, leaf.record_of(log[2]))
    assert "data" not in first and "ip" not in first and "request_id" not in first


def test_entries_clips_end_to_the_tree_and_to_a_thousand(client, log, monkeypatch):
    body = client.get("/api/audit/entries", {"start": 9, "end": 10**12}).json()
    assert [e["leaf_index"] for e in body["entries"]] == [9, 10]
    monkeypatch.setattr("yiwang.audit.selectors.MAX_ENTRIES_PER_CALL", 3)
    body = client.get("/api/audit/entries", {"start": 0, "end": 10}).json()
    assert [e["leaf_index"] for e in body["entries"]] == [0, 1, 2]


def test_inclusion_proof_verifies_against_the_root_for_every_leaf_and_older_sizes(client, log):
    hashes = _leaf_hashes(log)
    for size in (1, 6, 8, 11):
        root = merkle.root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            body = client.get("/api/audit/proof/inclusion", {"leaf_index": index, "tree_size": size}).json()
            assert body["leaf_index"] == index and body["tree_size"] == size
            path = [b64d(h) for h in body["audit_path"]]
            assert path == merkle.inclusion_path(index, hashes[:size])
            assert merkle.verify_inclusion(index, size, hashes[index], path, root)


def test_consistency_proof_verifies_between_every_pair_of_sizes(client, log):
    hashes = _leaf_hashes(log)
    for second in range(1, 12):
        for first in range(1, second + 1):
            body = client.get("/api/audit/proof/consistency", {"first": first, "second": second}).json()
            proof = [b64d(h) for h in body["consistency"]]
            assert merkle.verify_consistency(
                first,
                second,
                merkle.root_from_leaf_hashes(hashes[:first]),
                merkle.root_from_leaf_hashes(hashes[:second]),
                proof,
            )


def test_a_proof_reads_its_nodes_in_one_query(client, log, django_assert_max_num_queries):
    services.bulk_load({"actor": None, "event": "audit:test:load"} for _ in range(1000))
    with django_assert_max_num_queries(2):  # the tree size, then every node of the proof at once
        client.get("/api/audit/proof/inclusion", {"leaf_index": 517, "tree_size": 1011})
    with django_assert_max_num_queries(2):
        client.get("/api/audit/proof/consistency", {"first": 333, "second": 1011})


@pytest.mark.parametrize(
    ("url", "params", "field", "status"),
    [
        ("/api/audit/entries", {"start": 11, "end": 12}, "start", 400),
        ("/api/audit/entries", {"start": -1, "end": 2}, "start", 400),
        ("/api/audit/entries", {"start": 5, "end": 4}, "end", 400),
        ("/api/audit/entries", {"start": "x", "end": 4}, "start", 422),
        ("/api/audit/entries", {"end": 4}, "start", 422),
        ("/api/audit/entries", {"start": 0}, "end", 422),
        ("/api/audit/proof/inclusion", {"leaf_index": 11, "tree_size": 11}, "leaf_index", 400),
        ("/api/audit/proof/inclusion", {"leaf_index": -1, "tree_size": 11}, "leaf_index", 400),
        ("/api/audit/proof/inclusion", {"leaf_index": 0, "tree_size": 12}, "tree_size", 400),
        ("/api/audit/proof/inclusion", {"leaf_index": 0, "tree_size": 0}, "tree_size", 400),
        ("/api/audit/proof/inclusion", {"leaf_index": 0, "tree_size": 10**30}, "tree_size", 400),
        ("/api/audit/proof/inclusion", {"leaf_index": "1.5", "tree_size": 3}, "leaf_index", 422),
        ("/api/audit/proof/inclusion", {"tree_size": 3}, "leaf_index", 422),
        ("/api/audit/proof/consistency", {"first": 0, "second": 5}, "first", 400),
        ("/api/audit/proof/consistency", {"first": 6, "second": 5}, "first", 400),
        ("/api/audit/proof/consistency", {"first": 1, "second": 12}, "second", 400),
        ("/api/audit/proof/consistency", {"first": "a", "second": 5}, "first", 422),
        ("/api/audit/proof/consistency", {"first": 1}, "second", 422),
    ],
)
def test_bad_parameters_get_a_client_error_naming_the_field(client, log, url, params, field, status):
    response = client.get(url, params)
    assert response.status_code == status
    body = response.json()
    assert body["detail"]
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["message"]


def test_range_errors_are_translated_for_chinese_clients(client, log):
    response = client.get(
        "/api/audit/proof/inclusion", {"leaf_index": 20, "tree_size": 11}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    message = response.json()["errors"][0]["message"]
    assert "0" in message and "10" in message
    assert "Enter" not in message


def test_entries_of_an_empty_log_say_it_is_empty(client):
    response = client.get("/api/audit/entries", {"start": 0, "end": 0}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "0" in response.json()["errors"][0]["message"]


def test_the_openapi_document_lists_every_audit_endpoint(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("sth", "entries", "proof/inclusion", "proof/consistency", "public-key"):
        assert f"/api/audit/{path}" in paths
