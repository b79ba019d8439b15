"""Fixtures of the licences tests: the shipped licence types, a GAT department of 西安市, and
helpers to issue and present licences."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiwang.conftest import _department, make_official
from yiwang.identity.models import Role
from yiwang.licences import jose, services
from yiwang.licences.models import LicenceType
from yiwang.licences.selectors import DatabaseTrust


@pytest.fixture
def types(db):
    services.licence_types_sync(actor="system:test")
    return {lt.code: lt for lt in LicenceType.objects.all()}


@pytest.fixture
def department_gat(region):
    return _department("610100-GAT", "西安市公安局", region)


@pytest.fixture
def approver_x(department_x):
    return make_official("approver_x", department_x, [Role.APPROVER])


@pytest.fixture
def approver_y(department_y):
    return make_official("approver_y", department_y, [Role.APPROVER])


@pytest.fixture
def trust():
    return DatabaseTrust()


@pytest.fixture
def holder_key(citizen):
    private = Ed25519PrivateKey.generate()
    services.holder_key_register(user=citizen, jwk=jose.public_jwk(jose.public_x(private)), actor=citizen)
    return private


@pytest.fixture
def business_licence(types, enterprise, department_x):
    return services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x,
        claims={"business_scope": "餐饮服务"},
        actor="system:test",
    )


@pytest.fixture
def dog_licence(types, citizen, department_gat):
    return services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={"dog": "中华田园犬，黄色"},
        actor="system:test",
    )


def served_issuer(
    iss: str, jwks: dict, *, log_key: Ed25519PrivateKey | None = None, swapped: set[str] = ()
) -> dict:
    """What another deployment serves for issuer ``iss`` (``{url: bytes}``, to pass as ``fetch``
    via ``__getitem__``): its metadata with ``jwks``, and a genuine public audit log holding each
    key's creation entry, with a signed tree head, inclusion and consistency proofs. Keys named in
    ``swapped`` are in the JWKS but not in the log (what a swapped key looks like)."""
    import base64

    from yiwang.audit import leaf, merkle, signing

    log_key = log_key or Ed25519PrivateKey.generate()
    origin = iss.split("/licences/")[0]
    base = origin + "/api/audit"
    leaves, index = [], {}
    for jwk in jwks["keys"]:
        if jwk["kid"] not in swapped:
            index[jwk["kid"]] = len(leaves)
        leaves.append(
            leaf.build_leaf_input(
                ts="2026-12-01T08:00:00.000000Z",
                event="licences:issuer_key:create",
                actor_kind="system",
                actor_department="",
                actor_role="system:test",
                target_type="licences.issuerkey",
                target_id=jwk["kid"] if jwk["kid"] not in swapped else "another",
                commitment="0" * 64,
            )
        )
    hashes = [merkle.leaf_hash(x) for x in leaves]
    root, size, ts = merkle.root_from_leaf_hashes(hashes), len(leaves), 1_764_576_000_000
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    public = log_key.public_key()
    dump = lambda value: json.dumps(value).encode()  # noqa: E731
    served = {
        services.metadata_url(iss): dump(
            {
                "issuer": iss,
                "jwks": jwks,
                "audit_log": {
                    "url": base,
                    "keys": {k: index.get(k) for k in (j["kid"] for j in jwks["keys"])},
                },
            }
        ),
        f"{base}/public-key": dump(
            {"key_id": signing.key_id_for(public), "public_key": b64(public.public_bytes_raw())}
        ),
        f"{base}/sth": dump(
            {
                "tree_size": size,
                "timestamp": ts,
                "root_hash": b64(root),
                "signature": b64(
                    log_key.sign(signing.tree_head_bytes(timestamp=ts, tree_size=size, root_hash=root))
                ),
            }
        ),
    }
    for i, raw in enumerate(leaves):
        served[f"{base}/entries?start={i}&end={i}"] = dump({"entries": [{"leaf_input": b64(raw)}]})
        served[f"{base}/proof/inclusion?leaf_index={i}&tree_size={size}"] = dump(
            {"audit_path": [b64(h) for h in merkle.inclusion_path(i, hashes)]}
        )
    for first in range(1, size + 1):
        served[f"{base}/proof/consistency?first={first}&second={size}"] = dump(
            {"consistency": [b64(h) for h in merkle.consistency_proof(first, hashes)]}
        )
    return served
