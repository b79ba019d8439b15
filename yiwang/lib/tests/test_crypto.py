import pytest
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
    settings.FIELD_ENCRYPTION_KEY = bytes(32)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, "p")


def test_the_stored_form_is_a_12_byte_nonce_then_ciphertext_and_tag():
    blob = crypto.encrypt("abc", "p")
    assert len(blob) == 12 + 3 + 16


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
