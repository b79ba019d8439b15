import subprocess
import sys

from django.conf import settings


def _import_settings(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 — a fixed interpreter and argument list
        [sys.executable, "-c", "import config.settings"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_refuse_to_start_without_a_secret_key_outside_development():
    result = _import_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_settings_refuse_to_start_without_a_field_encryption_key_outside_development():
    result = _import_settings({"SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is required" in result.stderr


def test_settings_reject_a_short_field_encryption_key():
    result = _import_settings({"SECRET_KEY": "x" * 60, "FIELD_ENCRYPTION_KEY": "c2hvcnQ="})
    assert "exactly 32 bytes" in result.stderr


def test_argon2_is_the_first_password_hasher_in_production_settings():
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import config.settings as s; print(s.PASSWORD_HASHERS[0])",
        ],
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60, "FIELD_ENCRYPTION_KEY": "A" * 43 + "="},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_debug_is_off_in_the_test_configuration():
    assert settings.DEBUG is False
