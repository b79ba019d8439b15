import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from yiwang.lib import crypto


@given(st.text(max_size=200))
def test_encrypt_then_decrypt_gives_the_value_back(value):
    assert crypto.decrypt(crypto.encrypt(value, "test.purpose"), "test.purpose") == value


def test_the_same_value_encrypts_differently_each_time():
    assert crypto.encrypt("610102199001011234", "p") != crypto.encrypt("610102199001011234", "p")


def test_a_value_encrypted_for_one_purpose_does_not_decrypt_for_another():
    blob = crypto.encrypt("secret", "person.id_number")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, "user.totp")


def test_a_tampered_value_is_refused():
    blob = bytearray(crypto.encrypt("secret", "p"))
    blob[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(blob), "p")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(b"short", "p")


def test_a_value_encrypted_under_another_key_is_refused(settings):
    blob = crypto.encrypt("secret", "p")
    settings.FIELD_ENCRYPTION_KEYS = (("0", bytes(32)),)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, "p")


def test_the_stored_form_names_its_key_then_a_12_byte_nonce_then_ciphertext_and_tag(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("2026a", bytes(range(32))),)
    blob = crypto.encrypt("abc", "p")
    assert blob[:7] == b"\x01\x052026a"
    assert len(blob) == 7 + 12 + 3 + 16
    assert crypto.open_value(blob, "p") == ("abc", "2026a", False)


def test_blind_index_is_deterministic_keyed_and_purpose_bound(settings):
    a = crypto.blind_index("610102199001011234", "p")
    assert a == crypto.blind_index("610102199001011234", "p")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != crypto.blind_index("610102199001011234", "q")
    settings.BLIND_INDEX_KEY = bytes(32)
    assert a != crypto.blind_index("610102199001011234", "p")


def test_bulk_helpers_match_the_single_value_ones():
    values = ["a", "bb", "ccc"]
    assert crypto.blind_index_many(values, "p") == [crypto.blind_index(v, "p") for v in values]
    assert [crypto.decrypt(b, "p") for b in crypto.encrypt_many(values, "p")] == values


KEY_A, KEY_B = bytes(range(32)), bytes(range(100, 132))


def _legacy(value: str, purpose: str, key: bytes, nonce: bytes) -> bytes:
    """A value as stored before key ids: nonce, then ciphertext and tag."""
    return nonce + AESGCM(key).encrypt(nonce, value.encode(), purpose.encode())


def test_a_value_is_read_with_the_key_it_names_while_the_first_key_encrypts(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A),)
    old = crypto.encrypt("secret", "p")
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    assert crypto.open_value(old, "p") == ("secret", "A", False)
    assert crypto.open_value(crypto.encrypt("new", "p"), "p") == ("new", "B", False)
    assert crypto.current_key_id() == "B"


def test_a_value_under_a_key_that_is_not_configured_names_the_missing_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A),)
    blob = crypto.encrypt("secret", "p")
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)
    with pytest.raises(crypto.MissingKeyError) as excinfo:
        crypto.decrypt(blob, "p")
    assert excinfo.value.key_id == "A"
    assert "'A'" in str(excinfo.value) and "not configured" in str(excinfo.value)


def test_the_key_id_is_authenticated_with_the_value(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A), ("Z", KEY_B))
    blob = bytearray(crypto.encrypt("secret", "p"))
    blob[2:3] = b"Z"  # name the other configured key
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(blob), "p")


@given(st.text(max_size=50), st.binary(min_size=12, max_size=12))
def test_values_stored_before_key_ids_are_read_with_whichever_key_opens_them(value, nonce):
    with override_settings(FIELD_ENCRYPTION_KEYS=(("B", KEY_B), ("A", KEY_A))):
        assert crypto.open_value(_legacy(value, "p", KEY_A, nonce), "p") == (value, "A", True)
        assert crypto.open_value(_legacy(value, "p", KEY_B, nonce), "p") == (value, "B", True)


def test_a_legacy_value_whose_nonce_looks_like_a_key_id_header_is_still_read(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A),)
    for nonce in (b"\x01\x01A" + bytes(9), b"\x01\x01Q" + bytes(9)):  # a configured id, an unknown one
        assert crypto.open_value(_legacy("secret", "p", KEY_A, nonce), "p") == ("secret", "A", True)


def test_a_legacy_value_under_no_configured_key_is_refused(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(_legacy("secret", "p", KEY_A, bytes(12)), "p")
