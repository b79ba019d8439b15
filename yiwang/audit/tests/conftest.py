import pytest


@pytest.fixture(autouse=True)
def _audit_signing_key(tmp_path_factory, settings):
    # One throw-away signing key per test session, never the developer's own.
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path_factory.getbasetemp() / "audit-key" / "ed25519.pem"
