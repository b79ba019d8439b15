from hypothesis import given
from hypothesis import strategies as st

from yiwang.lib.masking import mask_id_number, mask_name, mask_phone


def test_identity_numbers_keep_the_first_and_last_four():
    assert mask_id_number("610102199001011234") == "6101**********1234"


@given(st.text(alphabet="0123456789X", min_size=9, max_size=18))
def test_a_masked_number_never_shows_its_middle(value):
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    assert set(masked[4:-4]) == {"*"}


def test_short_values_are_fully_hidden():
    assert mask_id_number("1234") == "****"
    assert mask_phone("123") == "***"


def test_phones_keep_the_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("029-12345678") == "********5678"


def test_names_keep_the_surname_only():
    assert mask_name("张三") == "张*"
    assert mask_name("王小明") == "王**"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("欧阳") == "欧*"
    assert mask_name("") == ""
