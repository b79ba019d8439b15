import base64
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from yiwang.audit import signing


def test_signed_bytes_follow_the_documented_layout():
    raw = signing.tree_head_bytes(timestamp=0x0102030405060708, tree_size=5, root_hash=b"\xaa" * 32)
    assert raw == b"\x00\x01" + bytes.fromhex("0102030405060708") + (5).to_bytes(8, "big") + b"\xaa" * 32
    assert len(raw) == 50


def test_development_creates_a_private_key_file_readable_only_by_its_owner(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "new" / "dir" / "key.pem"
    key = signing.load_key()
    assert settings.AUDIT_SIGNING_KEY_FILE.exists()
    assert stat.S_IMODE(settings.AUDIT_SIGNING_KEY_FILE.stat().st_mode) == 0o600
    assert signing.load_key().key_id == key.key_id  # loaded again, not replaced


def test_production_refuses_clearly_when_the_key_is_missing(settings, tmp_path):
    settings.DEV = False
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "missing.pem"
    with pytest.raises(ImproperlyConfigured, match="audit-keygen"):
        signing.load_key()
    assert not settings.AUDIT_SIGNING_KEY_FILE.exists()


def test_key_id_is_base64_of_the_sha256_of_the_raw_public_key(settings, tmp_path):
    import hashlib

    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "k.pem"
    key = signing.load_key()
    assert key.key_id == base64.b64encode(hashlib.sha256(key.public_raw).digest()).decode()


def test_audit_keygen_creates_a_key_and_refuses_to_overwrite_it(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "audit.pem"
    call_command("audit_keygen")
    before = settings.AUDIT_SIGNING_KEY_FILE.read_bytes()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("audit_keygen")
    assert settings.AUDIT_SIGNING_KEY_FILE.read_bytes() == before


def test_a_signature_verifies_with_any_ed25519_library_given_the_raw_public_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "k.pem"
    key = signing.load_key()
    message = signing.tree_head_bytes(timestamp=1, tree_size=2, root_hash=b"\x01" * 32)
    Ed25519PublicKey.from_public_bytes(key.public_raw).verify(key.sign(message), message)  # raises if bad
