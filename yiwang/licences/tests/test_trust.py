"""Trusting another deployment's issuer: each published key must be in that deployment's public
audit log (its creation entry, in a signed tree head), and the log must only ever grow."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import translation

from yiwang.audit.models import AuditEntry
from yiwang.licences import jose, services
from yiwang.licences.models import TrustedIssuer
from yiwang.licences.tests.conftest import served_issuer

ISS = "https://other.example.org/licences/issuers/610200-SCJG"
LOG = "https://other.example.org/api/audit"


def _key(kid: str) -> dict:
    return jose.public_jwk(jose.public_x(Ed25519PrivateKey.generate()), kid)


def _add(served):
    return services.trusted_issuer_add(issuer=ISS, name="铜川", actor="system:test", fetch=served.__getitem__)


def test_keys_found_in_the_issuers_log_are_trusted_and_the_tree_head_is_kept(db):
    trusted = _add(served_issuer(ISS, {"keys": [_key("k1"), _key("k2")]}))
    assert [k["kid"] for k in trusted.jwks["keys"]] == ["k1", "k2"]
    assert trusted.jwks["audit_log"]["url"] == LOG and trusted.jwks["audit_log"]["tree_size"] == 2


def test_a_key_without_an_entry_in_the_log_is_refused_by_name(db):
    served = served_issuer(ISS, {"keys": [_key("k1"), _key("swapped")]}, swapped={"swapped"})
    with pytest.raises(services.InvalidInput, match="swapped") as refused:
        _add(served)
    assert "不在签发方的审计日志中" in refused.value.message  # in the user's language
    assert not TrustedIssuer.objects.exists()
    assert not AuditEntry.objects.filter(event="licences:trusted_issuer:add").exists()


def test_a_key_pointing_at_another_keys_entry_is_refused(db):
    served = served_issuer(ISS, {"keys": [_key("k1"), _key("k2")]})
    url = services.metadata_url(ISS)
    metadata = json.loads(served[url])
    metadata["audit_log"]["keys"]["k2"] = 0  # k1's entry
    served[url] = json.dumps(metadata).encode()
    with pytest.raises(services.InvalidInput, match="k2"):
        _add(served)


@pytest.mark.parametrize("broken", ["no log", "log elsewhere", "bad signature"])
def test_metadata_without_a_checkable_log_is_refused(db, broken):
    served = served_issuer(ISS, {"keys": [_key("k1")]})
    url = services.metadata_url(ISS)
    metadata = json.loads(served[url])
    if broken == "no log":
        del metadata["audit_log"]
    elif broken == "log elsewhere":
        metadata["audit_log"]["url"] = "https://evil.example.net/api/audit"
    else:
        sth = json.loads(served[f"{LOG}/sth"])
        served[f"{LOG}/sth"] = json.dumps({**sth, "tree_size": sth["tree_size"] + 1}).encode()
    served[url] = json.dumps(metadata).encode()
    with pytest.raises(services.InvalidInput):
        _add(served)


def test_a_refresh_refuses_a_new_log_key_or_a_rewritten_log_and_keeps_the_checked_keys(db):
    log_key = Ed25519PrivateKey.generate()
    k1, k2 = _key("k1"), _key("k2")
    served = served_issuer(ISS, {"keys": [k1, k2]}, log_key=log_key)
    trusted = _add(served)
    # another log key signs the same tree: refused
    served.update(served_issuer(ISS, {"keys": [k1, k2]}))
    with translation.override("en"), pytest.raises(services.InvalidInput, match="another key"):
        services.trusted_issuer_refresh(trusted=trusted, actor="system:test", fetch=served.__getitem__)
    # the same key signs a log whose history differs (k2's entry replaced): not an extension
    served.update(served_issuer(ISS, {"keys": [k2, k1, _key("k3")]}, log_key=log_key))
    with translation.override("en"), pytest.raises(services.InvalidInput, match="rewritten"):
        services.trusted_issuer_refresh(trusted=trusted, actor="system:test", fetch=served.__getitem__)
    trusted.refresh_from_db()
    assert [k["kid"] for k in trusted.jwks["keys"]] == ["k1", "k2"]
    # the log grew (a rotation): accepted, the new tree head kept
    served.update(served_issuer(ISS, {"keys": [k1, k2, _key("k3")]}, log_key=log_key))
    trusted = services.trusted_issuer_refresh(trusted=trusted, actor="system:test", fetch=served.__getitem__)
    assert [k["kid"] for k in trusted.jwks["keys"]] == ["k1", "k2", "k3"]
    assert trusted.jwks["audit_log"]["tree_size"] == 3


def test_this_deployments_metadata_points_each_key_at_its_entry_in_the_public_log(
    department_x, dept_admin, login
):
    services.issuer_key_create(department=department_x, actor="system:test")
    services.issuer_key_rotate(department=department_x, actor=dept_admin, reason="轮换")
    body = login(None).get(f"/.well-known/jwt-vc-issuer/licences/issuers/{department_x.code}").json()
    index = body["audit_log"]["keys"]
    assert set(index) == {k["kid"] for k in body["jwks"]["keys"]} and len(index) == 2
    for kid, leaf_index in index.items():
        published = json.loads(bytes(AuditEntry.objects.get(leaf_index=leaf_index).leaf_input))
        assert published["object"] == {"type": "licences.issuerkey", "id": kid}
        assert published["event"] in services.KEY_EVENTS


def test_a_status_list_past_its_ttl_is_fetched_again_or_gives_status_unknown(db):
    import time

    from yiwang.licences import status
    from yiwang.licences.selectors import DatabaseTrust

    signer = Ed25519PrivateKey.generate()
    jwk = jose.public_jwk(jose.public_x(signer), "k1")
    served = served_issuer(ISS, {"keys": [jwk]})
    trusted = _add(served)
    uri, now = "https://other.example.org/licences/status/610200-SCJG/1", int(time.time())

    def token(value, ttl=60):
        bits = status.put(status.empty(16), 3, value)
        return status.token(
            uri=uri, bits=bits, kid="k1", key=signer, iat=now, exp=now + 3600, ttl=ttl
        ).encode()

    served[uri] = token(status.VALID)
    assert DatabaseTrust().status_of(uri, 3, ISS) is None  # nothing fetched, no client: unknown
    assert DatabaseTrust(fetch=served.__getitem__).status_of(uri, 3, ISS) == status.VALID
    served[uri] = token(status.INVALID)
    assert DatabaseTrust(fetch=served.__getitem__).status_of(uri, 3, ISS) == status.VALID  # within ttl
    TrustedIssuer.objects.filter(pk=trusted.pk).update(status_fetched={uri: now - 61})
    assert DatabaseTrust().status_of(uri, 3, ISS) is None  # stale and no client: never "valid"
    assert DatabaseTrust(fetch=served.__getitem__).status_of(uri, 3, ISS) == status.INVALID
    TrustedIssuer.objects.filter(pk=trusted.pk).update(status_fetched={uri: now - 61})

    def down(url):
        raise OSError("connection refused")

    assert DatabaseTrust(fetch=down).status_of(uri, 3, ISS) is None


def test_a_status_list_token_without_an_expiry_is_refused():
    from yiwang.licences import status

    signer = Ed25519PrivateKey.generate()
    uri = "https://a.example/s/1"
    forever = jose.sign_compact(
        {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": "k"},
        {"sub": uri, "iat": 1, "status_list": {"bits": 2, "lst": status.encode(status.empty(8))}},
        signer,
    )
    with pytest.raises(jose.JoseError, match="no expiry"):
        status.read_token(forever, uri=uri, key_for=lambda kid: signer.public_key(), now=2)
