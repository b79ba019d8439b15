"""The exchange's masking rules (masking.py), by personal kind, grade and the grant."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.exchange import masking
from yiwang.exchange.models import ResourceField


def spec(personal="", grade=3, name="f", type="string"):
    return ResourceField(name=name, label_zh=name, personal=personal, grade=grade, type=type)


@pytest.mark.parametrize(
    ("personal", "value", "masked"),
    [
        ("id_number", "61010219900101001X", "6101**********001X"),
        ("phone", "13800001111", "138****1111"),
        ("phone", "029-88886666", "********6666"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("address", "陕西省西安市新城区解放路100号", "陕西省西安市新城区****"),
        ("address", "北京市朝阳区建国路1号", "北京市朝阳区****"),
        ("address", "内蒙古自治区呼和浩特市新城区中山路", "内蒙古自治区呼和浩特市新城区****"),
        ("address", "解放路100号", "****"),
        ("other", "1990-01-01", masking.MASK),
    ],
)
def test_each_kind_of_personal_information_has_its_mask(personal, value, masked):
    assert masking.mask_value(spec(personal), value) == masked


def test_fields_that_are_not_personal_are_handed_over_as_they_are():
    for grade in (1, 2, 3, 4):
        assert masking.mask_value(spec("", grade), "610102") == "610102"
    assert masking.mask_value(spec("", 2, type="integer"), 12) == 12


@pytest.mark.parametrize("personal", ["id_number", "phone", "name", "address", "other"])
def test_grade_4_personal_fields_are_withheld_even_when_the_grant_unmasks_them(personal):
    field = spec(personal, grade=4)
    assert masking.mask_value(field, "61010219900101001X") == masking.MASK
    assert masking.mask_value(field, "61010219900101001X", unmasked=True) == masking.MASK
    assert not masking.may_unmask(field)
    assert masking.is_masked(field, {"f"})


def test_the_grant_hands_over_in_clear_only_the_fields_it_names():
    fields = [spec("name", name="name"), spec("id_number", name="id_number"), spec("", 2, name="region")]
    row = {"name": "张三", "id_number": "61010219900101001X", "region": "610102", "phone": "13800001111"}
    assert masking.mask_row(row, fields, {"name"}) == {
        "name": "张三",
        "id_number": "6101**********001X",
        "region": "610102",
    }
    assert masking.mask_row(row, fields) == {
        "name": "张*",
        "id_number": "6101**********001X",
        "region": "610102",
    }
    assert [f.name for f in fields if masking.is_masked(f, {"name"})] == ["id_number"]


def test_missing_values_stay_missing():
    for personal in ("id_number", "phone", "name", "address", "other"):
        assert masking.mask_value(spec(personal), None) is None
        assert masking.mask_value(spec(personal), "") == ""


@given(st.text(min_size=9, max_size=30, alphabet="0123456789X"))
def test_a_masked_identity_number_never_shows_its_middle(value):
    masked = masking.mask_value(spec("id_number"), value)
    assert len(masked) == len(value)
    assert masked[4:-4] == "*" * (len(value) - 8)


@given(st.text(min_size=1, max_size=60))
def test_an_address_mask_never_keeps_the_whole_address(value):
    masked = masking.mask_value(spec("address"), value)
    if value.strip():
        assert masked.endswith("****")
        assert masked[:-4] != value.strip()
