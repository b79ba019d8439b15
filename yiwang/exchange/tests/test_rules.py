import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.exchange import rules
from yiwang.exchange.tests.conftest import POPULATION_FIELDS, resource_data


def errors(fields=POPULATION_FIELDS, **changes):
    return rules.resource_errors(resource_data(**changes), fields)


def test_a_valid_resource_has_no_errors():
    assert errors() == {}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": "A0100"}, "code"),
        ({"code": "a01001"}, "code"),
        ({"code": "D01001"}, "code"),
        ({"code": "C01001"}, "code"),  # a basic resource's code begins with A
        ({"kind": "theme", "code": "A01001"}, "code"),
        ({"kind": "other"}, "kind"),
        ({"name": ""}, "name"),
        ({"share_class": "conditional", "share_conditions": "  "}, "share_conditions"),
        ({"kind": "department", "code": "C01001", "share_class": "none"}, "no_share_basis"),
        ({"share_class": "none", "no_share_basis": "法律规定"}, "share_class"),  # basic is always shared
        ({"share_class": "sometimes"}, "share_class"),
        (
            {
                "on_negative_list": True,
                "negative_list_basis": "涉密",
                "open_class": "conditional",
                "open_conditions": "x",
            },
            "open_class",
        ),
        ({"on_negative_list": True}, "negative_list_basis"),
        ({"open_class": "unconditional"}, "open_class"),  # personal fields: never open unconditionally
        ({"open_class": "conditional"}, "open_conditions"),
        ({"update_frequency": "hourly"}, "update_frequency"),
        ({"source_kind": "http", "upstream_url": ""}, "upstream_url"),
        ({"source_kind": "http", "upstream_url": "ftp://x.example.org/"}, "upstream_url"),
        ({"source_kind": "http", "upstream_url": "https://x.example.org/api", "key_field": ""}, "key_field"),
        ({"key_field": "nope"}, "key_field"),
        ({"upstream_timeout_ms": 10}, "upstream_timeout_ms"),
        ({"tags": ["", "x"]}, "tags"),
    ],
)
def test_each_rule_names_the_field_to_fix(changes, field):
    found = errors(**changes)
    assert field in found, found
    assert found[field]


def test_a_not_shared_resource_is_not_opened():
    found = errors(
        kind="department",
        code="C01001",
        share_class="none",
        no_share_basis="依法不予共享",
        open_class="conditional",
        open_conditions="申请",
    )
    assert "open_class" in found


def test_a_resource_without_personal_fields_may_be_open_unconditionally():
    fields = [{"name": "station", "label_zh": "站点", "type": "string", "grade": 1}]
    assert errors(fields=fields, open_class="unconditional", key_field="") == {}


def test_an_http_source_with_url_and_key_is_valid():
    assert errors(source_kind="http", upstream_url="https://gat.example.org/api/people") == {}


@pytest.mark.parametrize(
    "fields, key",
    [
        ([], "fields"),
        ([{"name": "1abc", "label_zh": "x", "type": "string", "grade": 1}], "fields.1.name"),
        ([{"name": "Name", "label_zh": "x", "type": "string", "grade": 1}], "fields.1.name"),
        ([{"name": "a-b", "label_zh": "x", "type": "string", "grade": 1}], "fields.1.name"),
        ([{"name": "a", "label_zh": "", "type": "string", "grade": 1}], "fields.1.label_zh"),
        ([{"name": "a", "label_zh": "x", "type": "money", "grade": 1}], "fields.1.type"),
        ([{"name": "a", "label_zh": "x", "type": "string", "grade": 5}], "fields.1.grade"),
        ([{"name": "a", "label_zh": "x", "type": "string", "grade": 0}], "fields.1.grade"),
        ([{"name": "a", "label_zh": "x", "type": "string", "grade": True}], "fields.1.grade"),
        (
            [{"name": "a", "label_zh": "x", "type": "string", "grade": 1, "personal": "dna"}],
            "fields.1.personal",
        ),
        (
            [
                {"name": "a", "label_zh": "x", "type": "string", "grade": 1},
                {"name": "a", "label_zh": "y", "type": "string", "grade": 1},
            ],
            "fields.2.name",
        ),
    ],
)
def test_field_rules(fields, key):
    assert key in rules.field_errors(fields)


@given(st.text(max_size=8))
def test_a_code_is_valid_only_as_letter_and_five_digits(code):
    ok = rules.code_error(code, "basic") is None
    assert ok == (len(code) == 6 and code[0] == "A" and code[1:].isascii() and code[1:].isdigit())


@given(st.text(max_size=70))
def test_field_names_are_identifiers(name):
    found = rules.field_errors([{"name": name, "label_zh": "x", "type": "string", "grade": 1}])
    plain = name.strip()
    ok = (
        bool(plain)
        and plain[0].isascii()
        and plain[0].islower()
        and plain[0].isalpha()
        and len(plain) <= 64
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in plain)
    )
    assert ("fields.1.name" not in found) == ok
