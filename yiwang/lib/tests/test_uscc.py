import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.lib.uscc import (
    ALPHABET,
    AUTHORITIES,
    check_char,
    make_credit_code,
    organisation_code,
    validate_credit_code,
)

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


# --- issue 9 §7: compared with python-stdnum ---------------------------------------------------


def test_a_first_character_that_names_no_registration_authority_is_refused():
    body = make_credit_code("610100", 7)[1:17]
    for authority in "0BCX":
        first17 = authority + body
        with pytest.raises(ValidationError) as excinfo:
            validate_credit_code(first17 + check_char(first17))
        assert excinfo.value.code == "credit_code_authority"
    for authority in "159Y":
        first17 = authority + body
        assert validate_credit_code(first17 + check_char(first17))


def test_full_width_characters_are_accepted():
    code = make_credit_code("610100", 7)
    typed = "".join(chr(ord(c) + 0xFEE0) for c in code)  # the full-width forms of ASCII
    assert validate_credit_code(typed) == code


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(AUTHORITIES) + ["0", "B"]),
    st.sampled_from(["1", "2", "3", "9"]),
    st.sampled_from(["110101", "610100", "610113", "440305"]),
    st.integers(min_value=0, max_value=10**8 - 1),
)
def test_where_python_stdnum_and_the_standard_agree_so_do_we(authority, kind, region, seq):
    # stdnum accepts any digit as the authority (GB 32100 has no authority 0) and refuses the
    # letter authorities A, N and Y; elsewhere the two must agree.
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError as StdnumError

    code = make_credit_code(region, seq, authority=authority, kind=kind)
    try:
        uscc.validate(code)
        stdnum_ok = True
    except StdnumError:
        stdnum_ok = False
    try:
        validate_credit_code(code)
        ours_ok = True
    except ValidationError:
        ours_ok = False
    if authority in AUTHORITIES and authority.isdigit():
        assert ours_ok == stdnum_ok
    else:
        assert ours_ok == (authority in AUTHORITIES)
