import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.lib.idnumbers import PROVINCE_PREFIXES, birth_date_of, make_id_number, validate_id_number

regions = st.builds(
    lambda prefix, rest: prefix + f"{rest:04d}",
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.integers(min_value=1, max_value=9999),
)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))
seqs = st.integers(min_value=0, max_value=999)
valid_numbers = st.builds(make_id_number, regions, births, seqs)


@given(valid_numbers)
def test_any_generated_number_is_valid(number):
    assert validate_id_number(number) == number


@given(regions, births, seqs)
def test_the_birth_date_round_trips(region, birth, seq):
    assert birth_date_of(make_id_number(region, birth, seq)) == birth


@given(valid_numbers, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_rejected(number, position, replacement):
    if number[position] == replacement:
        replacement = "0" if replacement != "0" else "1"
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(changed)


def test_a_published_sample_number_is_valid_and_lower_case_x_is_normalised():
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "id_number_length"),
        ("1101051949123100X2", "id_number_characters"),
        ("11010519491231A02X", "id_number_characters"),
        ("990105194912310021", "id_number_region"),
        ("110105194902300021", "id_number_date"),
        ("110105189912310021", "id_number_date"),
        ("110105194912310021", "id_number_check"),
    ],
)
def test_each_kind_of_mistake_gets_its_own_message(value, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(value)
    assert excinfo.value.code == code


def test_a_future_birth_date_is_rejected():
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(make_id_number("610102", tomorrow, 1))
    assert excinfo.value.code == "id_number_date"


def test_the_message_is_translated_to_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as excinfo:
            validate_id_number("123")
        message = excinfo.value.messages[0]  # lazy: evaluate while Chinese is active
    assert "18" in message and "3" in message
    assert "公民身份号码" in message


def test_make_id_number_refuses_bad_arguments():
    with pytest.raises(ValueError):
        make_id_number("6101", dt.date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id_number("610102", dt.date(1990, 1, 1), 1000)


# --- issue 9 §7: compared with python-stdnum ---------------------------------------------------


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted(region):
    number = make_id_number(region, dt.date(1990, 5, 17), 12)
    assert validate_id_number(number) == number


def test_full_width_digits_from_a_chinese_input_method_are_accepted():
    number = make_id_number("610102", dt.date(1990, 5, 17), 12)
    typed = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert validate_id_number(typed) == number


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["110101", "310115", "440305", "610102", "610113", "650102", "810000", "830000"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["", "corrupt-check", "corrupt-date"]),
)
def test_whatever_python_stdnum_accepts_is_accepted(region, birth, seq, damage):
    # stdnum is the reference where it is right; it is wrong on county codes newer than the birth
    # year (its table dates them), so only one direction is compared.
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as StdnumError

    number = make_id_number(region, birth, seq)
    if damage == "corrupt-check":
        number = number[:17] + ("0" if number[17] != "0" else "1")
    elif damage == "corrupt-date":
        number = number[:10] + "13" + number[12:]
    try:
        ric.validate(number)
    except StdnumError:
        return
    assert validate_id_number(number) == number
