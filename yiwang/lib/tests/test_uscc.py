import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yiwang.lib.uscc import ALPHABET, check_char, make_credit_code, organisation_code, validate_credit_code

valid_codes = st.builds(
    make_credit_code,
    st.integers(min_value=110000, max_value=659999).map(str),
    st.integers(min_value=0, max_value=10**8 - 1),
    authority=st.sampled_from("123456789ANY"),
    kind=st.sampled_from("123459"),
)


@given(valid_codes)
def test_any_generated_code_is_valid(code):
    assert validate_credit_code(code) == code


@given(valid_codes, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_any_single_character_change_is_rejected(code, position, replacement):
    if code[position] == replacement:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % len(ALPHABET)]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationError):
        validate_credit_code(changed)


def test_published_sample_codes_are_valid():
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert validate_credit_code("91110000 600037341l".upper()) == "91110000600037341L"


def test_the_alphabet_has_31_characters_without_i_o_z_s_v():
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100I43", "credit_code_characters"),
        ("913501O0M000100Y43", "credit_code_characters"),
        ("91A50100M000100Y43", "credit_code_region"),
        ("91350100M000100Y44", "credit_code_check"),
    ],
)
def test_each_kind_of_mistake_gets_its_own_message(value, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(value)
    assert excinfo.value.code == code


def test_the_organisation_code_carries_a_gb_11714_check_character():
    # D2143569-X style: the published example organisation code.
    assert organisation_code(12345678)[:8] == "12345678"
    assert len(organisation_code(1)) == 9


def test_the_check_character_makes_the_weighted_sum_a_multiple_of_31():
    first17 = "91610100000000001"
    values = [ALPHABET.index(c) for c in first17 + check_char(first17)]
    weights = [pow(3, i, 31) for i in range(17)] + [1]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) % 31 == 0
