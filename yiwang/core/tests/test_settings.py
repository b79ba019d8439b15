import base64
import hashlib
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
    assert "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEY) is required" in result.stderr


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


KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()
PRINT_KEYS = (
    "import config.settings as s; print(','.join(k for k, _ in s.FIELD_ENCRYPTION_KEYS)); "
    "print(s.BLIND_INDEX_KEY.hex())"
)


def _keys(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 — a fixed interpreter and argument list
        [sys.executable, "-c", PRINT_KEYS],
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_single_field_key_has_key_id_0_and_keys_the_blind_index_as_before():
    result = _keys({"FIELD_ENCRYPTION_KEY": KEY_A})
    ids, blind = result.stdout.split()
    assert ids == "0"
    assert blind == hashlib.sha256(b"yiwang-blind-index:" + bytes(range(32))).hexdigest()


def test_a_new_current_key_leaves_the_single_key_readable_and_the_blind_index_unchanged():
    before = _keys({"FIELD_ENCRYPTION_KEY": KEY_A}).stdout.split()[1]
    result = _keys({"FIELD_ENCRYPTION_KEYS": f"2026a:{KEY_B}", "FIELD_ENCRYPTION_KEY": KEY_A})
    ids, blind = result.stdout.split()
    assert ids == "2026a,0"
    assert blind == before


def test_without_the_single_field_key_the_blind_index_key_must_be_set():
    result = _keys({"FIELD_ENCRYPTION_KEYS": f"2026a:{KEY_B},2025a:{KEY_A}"})
    assert result.returncode != 0
    assert "BLIND_INDEX_KEY is required when FIELD_ENCRYPTION_KEY is not set" in result.stderr
    result = _keys({"FIELD_ENCRYPTION_KEYS": f"2026a:{KEY_B},2025a:{KEY_A}", "BLIND_INDEX_KEY": KEY_A})
    assert result.stdout.split() == ["2026a,2025a", bytes(range(32)).hex()]


def test_malformed_field_key_lists_are_refused():
    cases = {
        f"no-id-{KEY_A}": "must be 'id:base64,id:base64'",
        f"bad id:{KEY_A}": "must be 'id:base64,id:base64'",
        "k1:c2hvcnQ=": "FIELD_ENCRYPTION_KEYS (k1) must be base64 of exactly 32 bytes",
        f"k1:{KEY_A},k1:{KEY_B}": "key id 'k1' is given twice",
        f"k1:{KEY_A},k2:{KEY_A}": "same field encryption key is given under two ids",
    }
    for value, message in cases.items():
        result = _keys({"FIELD_ENCRYPTION_KEYS": value, "BLIND_INDEX_KEY": KEY_A})
        assert result.returncode != 0, value
        assert message in result.stderr, value


def test_the_yiwang_command_reports_a_missing_key_without_a_traceback():
    result = subprocess.run(  # noqa: S603 — a fixed interpreter and argument list
        [sys.executable, "-m", "yiwang.cli", "rotate-keys", "--dry-run"],
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60, "FIELD_ENCRYPTION_KEYS": f"k1:{KEY_A}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("yiwang: BLIND_INDEX_KEY is required")
    assert "Traceback" not in result.stderr
