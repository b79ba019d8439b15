"""`yiwang licences-cache` and `yiwang verify-licence`: offline verification with cached keys and lists."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from yiwang.licences import services


def _verify(path, cache, *extra):
    out = io.StringIO()
    try:
        call_command("verify_licence", str(path), "--cache", str(cache), "--json", *extra, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_offline_verification_uses_the_cache_until_it_is_refreshed(business_licence, approver_x, tmp_path):
    cache = tmp_path / "cache.json"
    call_command("licences_cache", "--file", str(cache), stdout=io.StringIO())
    data = json.loads(cache.read_text())
    assert services.issuer_url(business_licence.department) in data["issuers"]
    licence_file = tmp_path / "licence.txt"
    licence_file.write_text(services.licence_credential(business_licence))
    code, result = _verify(licence_file, cache)
    assert code == 0 and result["verdict"] == "valid"
    assert result["claims"]["name"] == business_licence.holder_enterprise.name
    services.licence_revoke(licence=business_licence, actor=approver_x, reason="吊销")
    code, result = _verify(licence_file, cache)
    assert code == 0  # offline: what the cache knew
    call_command("licences_cache", "--file", str(cache), stdout=io.StringIO())
    code, result = _verify(licence_file, cache)
    assert code == 1 and result["verdict"] == "revoked"


def test_offline_verification_needs_a_cache(tmp_path):
    licence_file = tmp_path / "licence.txt"
    licence_file.write_text("x")
    with pytest.raises(CommandError, match="licences-cache"):
        call_command("verify_licence", str(licence_file), "--cache", str(tmp_path / "none.json"))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CommandError, match="not a licences cache"):
        call_command("verify_licence", str(licence_file), "--cache", str(tmp_path / "bad.json"))


def test_a_tampered_licence_fails_offline(business_licence, tmp_path):
    cache = tmp_path / "cache.json"
    call_command("licences_cache", "--file", str(cache), stdout=io.StringIO())
    text = services.licence_credential(business_licence)
    licence_file = tmp_path / "licence.txt"
    licence_file.write_text(text[:40] + ("A" if text[40] != "A" else "B") + text[41:])
    code, result = _verify(licence_file, cache)
    assert code == 1 and result["verdict"] in {"tampered", "malformed"}


def test_the_cache_command_refreshes_trusted_issuers(db, superuser, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from yiwang.licences import fetch, jose
    from yiwang.licences.models import TrustedIssuer
    from yiwang.licences.tests.conftest import served_issuer

    iss = "https://other.example.org/licences/issuers/610200-SCJG"
    keys = [jose.public_jwk(jose.public_x(Ed25519PrivateKey.generate()), "k1")]
    log_key = Ed25519PrivateKey.generate()
    served = served_issuer(iss, {"keys": keys}, log_key=log_key)
    monkeypatch.setattr(fetch, "http_get", lambda url: served[url])
    services.trusted_issuer_add(issuer=iss, name="铜川", actor=superuser, fetch=fetch.http_get)
    keys.append(jose.public_jwk(jose.public_x(Ed25519PrivateKey.generate()), "k2"))
    served.update(served_issuer(iss, {"keys": keys}, log_key=log_key))
    cache = tmp_path / "cache.json"
    call_command("licences_cache", "--file", str(cache), "--refresh", stdout=io.StringIO())
    assert len(TrustedIssuer.objects.get().jwks["keys"]) == 2
    assert len(json.loads(cache.read_text())["issuers"][iss]["jwks"]["keys"]) == 2
