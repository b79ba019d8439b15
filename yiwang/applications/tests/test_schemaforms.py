import copy
import datetime as dt
import re
import time

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.applications import schemaforms as sf
from yiwang.identity.models import Enterprise
from yiwang.lib.uscc import make_credit_code

KITCHEN = {
    "type": "object",
    "properties": {
        "shop_name": {"type": "string", "title": "Shop name", "minLength": 2, "maxLength": 20},
        "seats": {"type": "integer", "title": "Seats", "minimum": 1, "maximum": 500},
        "area": {"type": "number", "title": "Area (m²)", "minimum": 0.5},
        "kind": {
            "type": "string",
            "title": "Kind",
            "enum": ["canteen", "restaurant"],
            "x-enum-titles": ["Canteen", "Restaurant"],
        },
        "email": {"type": "string", "title": "Email", "format": "email"},
        "opening": {"type": "string", "title": "Opening day", "format": "date"},
        "code": {"type": "string", "title": "Code", "pattern": "^[A-Z]{3}$"},
        "consent": {"type": "boolean", "title": "I confirm the above is true"},
        "company": {"type": "string", "title": "Company", "x-source": "enterprise.name"},
    },
    "required": ["shop_name", "seats", "kind", "consent", "company"],
}


@pytest.fixture(autouse=True)
def _english():
    """The messages are asserted in English; the site's default language is zh-Hans."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def messages_of(schema) -> list[str]:
    with pytest.raises(sf.SchemaError) as caught:
        sf.check_schema(schema)
    return caught.value.messages


def one_property(**prop) -> dict:
    return {"type": "object", "properties": {"field": {"type": "string", "title": "Field", **prop}}}


# --- check_schema ----------------------------------------------------------------------------------


def test_default_and_example_schemas_are_supported():
    sf.check_schema(sf.DEFAULT_SCHEMA)
    sf.check_schema(KITCHEN)


def test_default_schema_binds_identity_and_asks_for_the_rest():
    assert sf.bound_fields(sf.DEFAULT_SCHEMA) == {"applicant_name", "id_number"}
    props = sf.DEFAULT_SCHEMA["properties"]
    assert re.search(props["phone"]["pattern"], "13800001111")
    assert not re.search(props["phone"]["pattern"], "12800001111")
    assert props["purpose"]["x-widget"] == "textarea"
    assert "preferred_date" not in sf.DEFAULT_SCHEMA["required"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ([], "must be a JSON object"),
        ({"type": "array", "properties": {"a": {"type": "string", "title": "A"}}}, '"type": "object"'),
        ({"type": "object", "properties": {}}, "at least one field"),
        ({"type": "object", "properties": {"a": {"type": "string", "title": "A"}}, "allOf": []}, "“allOf”"),
        ({"type": "object", "properties": {"Name": {"type": "string", "title": "A"}}}, "Rename field “Name”"),
        ({"type": "object", "properties": {"a" * 41: {"type": "string", "title": "A"}}}, "Rename field"),
        ({"type": "object", "properties": {"a": "text"}}, "Field “a” must be a JSON object"),
        ({"type": "object", "properties": {"a": {"type": "array", "title": "A"}}}, 'Field “a”: "type"'),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, 'Field “a” needs a "title"'),
        (one_property(items={}), "remove “items”"),
        (one_property(format="uri"), '"format" must be'),
        (one_property(minLength=5, maxLength=2), "“minLength” is greater than “maxLength”"),
        (one_property(maxLength=-1), "“maxLength” must be a whole number"),
        (one_property(maxLength=True), "“maxLength” must be a whole number"),
        (one_property(minimum=1), "“minimum” is only for number fields"),
        (one_property(pattern="([a-z]"), '"pattern" must be a valid regular expression'),
        (one_property(pattern="a" * 501), '"pattern" must be a valid regular expression'),
        (one_property(pattern=r"^(a)\1$"), "Back-references"),
        (one_property(pattern=r"^(?=.*\d).+$"), "look-arounds"),
        (one_property(pattern=r"^(?<!x)y$"), "cannot be used"),
        (one_property(pattern=r"^(a{1000}){1000}$"), "cannot be used"),
        (one_property(enum=[]), '"enum" must be'),
        (one_property(enum=["a", 1]), '"enum" must be'),
        (one_property(enum=["a", "a"]), '"enum" must be'),
        (one_property(enum=["a", "b"], **{"x-enum-titles": ["A"]}), '"x-enum-titles" must list'),
        (one_property(**{"x-enum-titles": ["A"]}), '"x-enum-titles" needs an "enum"'),
        (one_property(**{"x-source": "person.salary"}), '"x-source" must be one of'),
        (one_property(**{"x-widget": "slider"}), '"x-widget" can only be'),
        (one_property(default=3), '"default" does not fit'),
        (one_property(format="date", default="2026-02-30"), '"default" does not fit'),
        ({**one_property(), "required": ["other"]}, "“other”, which is not a field"),
        ({**one_property(), "required": "field"}, '"required" must be a list'),
        ({**one_property(), "$schema": 5}, "Not a valid JSON Schema"),
    ],
)
def test_unsupported_schemas_are_refused_with_a_clear_message(schema, expected):
    assert any(expected in message for message in messages_of(schema)), messages_of(schema)


def test_number_limits_must_be_numbers_and_ordered():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "title": "N", "minimum": "1"}}}
    assert any("“minimum” must be a number" in m for m in messages_of(schema))
    schema["properties"]["n"]["minimum"] = 9
    schema["properties"]["n"]["maximum"] = 3
    assert any("“minimum” is greater than “maximum”" in m for m in messages_of(schema))


@pytest.mark.parametrize(
    "pattern",
    [
        r"^1[3-9]\d{9}$",
        r"^([A-Z]{2}-)?[0-9]+$",
        r"^(\d{3}-)+\d$",
        r"^[^()]+$",
        r"^\p{Han}{2,20}$",
        # Nested repetitions are harmless on RE2 (linear time), so they are no longer refused.
        r"^((\w+)\s?)*$",
        r"^(a+)+$",
    ],
)
def test_ordinary_patterns_are_accepted(pattern):
    sf.check_schema(one_property(pattern=pattern))


@pytest.mark.parametrize("pattern", [r"^((\w+)\s?)*$", r"^(a+)+$", r"^([0-9]*,?)*$", r"^(\w{2,})+$"])
def test_a_catastrophic_pattern_answers_in_milliseconds(pattern):
    """Python's re took 14.7 s on the first of these with a 26-character value (ReDoS)."""
    schema = one_property(pattern=pattern)
    sf.check_schema(schema)
    began = time.perf_counter()
    errors = sf.validate(schema, {"field": "a" * 25 + "!"})
    assert time.perf_counter() - began < 0.05
    assert errors == {"field": "Enter Field in the format described."}


def test_form_patterns_are_evaluated_by_re2_not_python_re():
    """The two differ on \\d: Python's re also matches other scripts' digits, RE2 (and JSON
    Schema's ECMA-262 regular expressions) only 0-9."""
    schema = one_property(pattern=r"^\d+$")
    assert re.search(r"^\d+$", "١٢٣")
    assert sf.validate(schema, {"field": "١٢٣"}) == {"field": "Enter Field in the format described."}
    assert sf.validate(schema, {"field": "123"}) == {}


def test_a_refused_pattern_is_explained_in_chinese():
    with translation.override("zh-hans"):
        messages = messages_of(one_property(pattern=r"^(a)\1$"))
    assert any("反向引用" in m for m in messages), messages


def test_at_most_sixty_fields():
    props = {f"f{i}": {"type": "string", "title": f"F{i}"} for i in range(61)}
    assert any("at most 60 fields" in m for m in messages_of({"type": "object", "properties": props}))
    del props["f60"]
    sf.check_schema({"type": "object", "properties": props})


def test_every_problem_is_reported_at_once():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string", "title": "B", "x-widget": "x"}},
    }
    assert len(messages_of(schema)) == 2


# --- gov_sources, prefill, bound_fields ------------------------------------------------------------


@pytest.mark.django_db
def test_gov_sources_gives_the_persons_identity(citizen):
    sources = sf.gov_sources(user=citizen)
    assert sources["person.name"] == "张三"
    assert "person.phone" not in sources  # typed at registration: no register confirms it
    assert sources["person.id_number_masked"] == citizen.person.id_number_masked
    assert not any(key.startswith("enterprise.") for key in sources)


@pytest.mark.django_db
def test_gov_sources_gives_the_enterprise_the_person_acts_for(agent, enterprise):
    sources = sf.gov_sources(user=agent, enterprise=enterprise)
    assert sources["enterprise.name"] == "演示餐饮有限公司"
    assert sources["enterprise.credit_code"] == enterprise.credit_code
    assert sources["enterprise.legal_representative"] == "王五"
    assert "enterprise.address" not in sources  # empty in the registration: simply absent


@pytest.mark.django_db
def test_gov_sources_ignores_an_enterprise_the_person_does_not_act_for(citizen, enterprise):
    sources = sf.gov_sources(user=citizen, enterprise=enterprise)
    assert sources["person.name"] == "张三"
    assert not any(key.startswith("enterprise.") for key in sources)


@pytest.mark.django_db
def test_gov_sources_is_empty_without_a_person(official_x, region):
    other = Enterprise.objects.create(name="X", credit_code=make_credit_code("610100", 2), region=region)
    assert sf.gov_sources(user=official_x, enterprise=other) == {}


def test_prefill_fills_bound_properties_whose_source_is_known():
    sources = {"person.name": "张三", "enterprise.name": "演示餐饮有限公司"}
    assert sf.prefill(sf.DEFAULT_SCHEMA, sources) == {"applicant_name": "张三"}
    assert sf.prefill(KITCHEN, sources) == {"company": "演示餐饮有限公司"}
    assert sf.bound_fields(KITCHEN) == {"company"}


# --- parse_post ------------------------------------------------------------------------------------


def test_parse_post_coerces_each_type_and_drops_empty_values():
    post = QueryDict(
        "shop_name=+Noodles+&seats=12&area=30.5&kind=canteen&email=&consent=on&opening=2026-03-27"
        "&csrfmiddlewaretoken=x"
    )
    assert sf.parse_post(KITCHEN, post) == {
        "shop_name": "Noodles",
        "seats": 12,
        "area": 30.5,
        "kind": "canteen",
        "consent": True,
        "opening": "2026-03-27",
    }


def test_parse_post_never_takes_a_bound_property_from_the_user():
    post = QueryDict("company=Someone+else+Ltd&applicant_name=Mallory&id_number=1")
    assert sf.parse_post(KITCHEN, post) == {}
    assert sf.parse_post(sf.DEFAULT_SCHEMA, post) == {}


def test_parse_post_keeps_unparsable_numbers_raw_for_validation_to_report():
    post = QueryDict("seats=twelve&area=1,5")
    data = sf.parse_post(KITCHEN, post)
    assert data == {"seats": "twelve", "area": "1,5"}
    errors = sf.validate(KITCHEN, data, partial=True)
    assert errors == {"seats": "Enter a whole number, like 12.", "area": "Enter a number, like 12 or 12.5."}


def test_parse_post_accepts_full_width_digits_and_textarea_line_breaks():
    data = sf.parse_post(sf.DEFAULT_SCHEMA, {"phone": "１３８００００１１１１", "purpose": "a\r\nb"})
    assert data == {"phone": "13800001111", "purpose": "a\nb"}
    assert sf.parse_post(KITCHEN, {"seats": "１２", "area": "7"}) == {"seats": 12, "area": 7}


# --- validate --------------------------------------------------------------------------------------


def good() -> dict:
    return {"shop_name": "Noodles", "seats": 12, "kind": "canteen", "consent": True, "company": "演示"}


def test_valid_data_has_no_errors():
    assert sf.validate(KITCHEN, good()) == {}
    assert (
        sf.validate(KITCHEN, {**good(), "email": "a@example.org", "opening": "2026-03-27", "code": "ABC"})
        == {}
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"shop_name": None}, "shop_name", "Enter Shop name."),
        ({"kind": None}, "kind", "Choose Kind."),
        ({"consent": None}, "consent", "Tick “I confirm the above is true” to continue."),
        ({"consent": False}, "consent", "Tick “I confirm the above is true” to continue."),
        ({"company": None}, "company", "Company is not on record for you; it cannot be typed in here."),
        ({"seats": "12"}, "seats", "Enter a whole number, like 12."),
        ({"seats": True}, "seats", "Enter a whole number, like 12."),
        ({"seats": 0}, "seats", "Enter a number of 1 or more."),
        ({"seats": 501}, "seats", "Enter a number of 500 or less."),
        ({"area": 0.1}, "area", "Enter a number of 0.5 or more."),
        ({"area": float("nan")}, "area", "Enter a number, like 12 or 12.5."),
        ({"kind": "bar"}, "kind", "Choose one of the options listed."),
        ({"shop_name": "N"}, "shop_name", "Enter at least 2 characters."),
        ({"shop_name": "N" * 21}, "shop_name", "Enter at most 20 characters (you entered 21)."),
        ({"email": "not-an-email"}, "email", "Enter an email address like name@example.org."),
        (
            {"opening": "2026-02-30"},
            "opening",
            "Enter a real date in the form YYYY-MM-DD, for example 2026-03-27.",
        ),
        (
            {"opening": "20260327"},
            "opening",
            "Enter a real date in the form YYYY-MM-DD, for example 2026-03-27.",
        ),
        ({"code": "abc"}, "code", "Enter Code in the format described."),
        ({"shop_name": ["a", "b"]}, "shop_name", "Enter text."),
        ({"shop_name": {"a": 1}}, "shop_name", "Enter text."),
        ({"shop_name": "No\x00odles"}, "shop_name", "Remove the control characters from this text."),
        ({"consent": "yes"}, "consent", "Answer yes or no."),
        ({"colour": "red"}, "colour", "This field is not part of the form."),
    ],
)
def test_each_problem_is_reported_under_its_property(change, field, message):
    data = good()
    for key, value in change.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    errors = sf.validate(KITCHEN, data)
    assert errors == {field: message}


def test_partial_validation_skips_required_but_not_the_rest():
    assert sf.validate(KITCHEN, {}, partial=True) == {}
    assert sf.validate(KITCHEN, {"consent": False}, partial=True) == {}
    assert sf.validate(KITCHEN, {"seats": 0}, partial=True) == {"seats": "Enter a number of 1 or more."}
    assert set(sf.validate(KITCHEN, {})) == {"shop_name", "seats", "kind", "consent", "company"}


def test_huge_strings_are_refused_before_any_pattern_runs():
    schema = {"type": "object", "properties": {"a": {"type": "string", "title": "A", "pattern": "^(a+)+$"}}}
    errors = sf.validate(schema, {"a": "a" * 50_000 + "!"})
    assert errors == {"a": "Enter at most 10000 characters (you entered 50001)."}


def test_data_that_is_not_an_object_is_reported_as_a_whole():
    assert sf.validate(KITCHEN, ["a"]) == {sf.NON_FORM: "Send the form as an object of field values."}
    assert sf.validate(KITCHEN, None) == {sf.NON_FORM: "Send the form as an object of field values."}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*KITCHEN["properties"], "other", ""]), json_values, max_size=8))
def test_validate_never_raises_and_only_names_known_or_sent_keys(data):
    errors = sf.validate(KITCHEN, data)
    assert set(errors) <= set(KITCHEN["properties"]) | set(data)
    assert all(isinstance(message, str) and message for message in errors.values())


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(list(KITCHEN["properties"])), st.text(max_size=30), max_size=8))
def test_whatever_is_posted_parses_and_validates(post):
    sf.validate(KITCHEN, sf.parse_post(KITCHEN, post), partial=True)


# --- fields and templates --------------------------------------------------------------------------


def by_name(schema, data=None, errors=None) -> dict[str, sf.Field]:
    return {f.name: f for f in sf.fields(schema, data or {}, errors or {})}


def test_fields_choose_widgets_and_attributes_from_the_schema():
    f = by_name(KITCHEN, {"seats": 12, "kind": "restaurant", "consent": True, "company": "演示"})
    assert [x.name for x in sf.fields(KITCHEN, {}, {})] == list(KITCHEN["properties"])
    assert (f["shop_name"].widget, f["shop_name"].maxlength, f["shop_name"].required) == ("text", 20, True)
    assert (f["seats"].widget, f["seats"].min, f["seats"].max, f["seats"].value) == ("number", 1, 500, "12")
    assert (f["seats"].step, f["seats"].inputmode) == ("1", "numeric")
    assert (f["area"].step, f["area"].inputmode) == ("any", "decimal")
    assert f["kind"].widget == "select"
    assert f["kind"].choices == [("canteen", "Canteen"), ("restaurant", "Restaurant")]
    assert f["kind"].display == "Restaurant"
    assert (f["email"].widget, f["opening"].widget) == ("email", "date")
    assert (f["code"].pattern, f["code"].inputmode) == ("^[A-Z]{3}$", "")
    assert (f["consent"].widget, f["consent"].value) == ("checkbox", "on")
    assert f["company"].provided and not f["shop_name"].provided
    assert f["company"].id == "f-company"
    phone = by_name(sf.DEFAULT_SCHEMA)["phone"]
    assert (phone.pattern, phone.inputmode) == ("^1[3-9][0-9]{9}$", "numeric")
    assert by_name(sf.DEFAULT_SCHEMA)["purpose"].widget == "textarea"


def test_unanchored_patterns_are_not_passed_to_the_browser():
    schema = one_property(pattern="[0-9]")
    assert by_name(schema)["field"].pattern == ""


def test_empty_titles_never_show_the_translation_catalogs_header():
    schema = one_property(enum=["a", "b"], **{"x-enum-titles": ["", "B"]})
    schema["properties"]["field"]["description"] = ""
    field = by_name(schema)["field"]
    assert field.choices == [("a", "a"), ("b", "B")]
    assert field.hint == ""


def test_defaults_fill_empty_fields_only():
    schema = one_property(default="x")
    assert by_name(schema)["field"].value == "x"
    assert by_name(schema, {"field": "y"})["field"].value == "y"


def render(schema, data=None, errors=None) -> str:
    return render_to_string(
        "applications/_schema_fields.html", {"fields": sf.fields(schema, data or {}, errors or {})}
    )


def test_every_input_has_a_label_and_hints_are_linked():
    html = render(sf.DEFAULT_SCHEMA)
    for name in ("phone", "address", "purpose", "preferred_date"):
        assert f'<label for="f-{name}">' in html
        assert f'id="f-{name}"' in html
    assert 'id="f-phone-hint"' in html
    assert re.search(r'<input type="text" id="f-phone"[^>]*aria-describedby="f-phone-hint"', html)
    assert re.search(r'<input type="text" id="f-phone"[^>]*\brequired\b', html)
    assert not re.search(r'<input type="date" id="f-preferred_date"[^>]*\brequired\b', html)
    assert "(optional)" in html
    assert '<textarea id="f-purpose" name="purpose" rows="6" maxlength="2000" required' in html


def test_errors_are_linked_and_marked_invalid():
    html = render(
        sf.DEFAULT_SCHEMA, {"phone": "12"}, {"phone": "Enter Contact phone in the format described."}
    )
    assert 'id="f-phone-error"' in html
    assert re.search(
        r'<input type="text" id="f-phone" name="phone" value="12"[^>]*'
        r'aria-describedby="f-phone-hint f-phone-error" aria-invalid="true"',
        html,
    )
    assert html.count('aria-invalid="true"') == 1


def test_provided_fields_are_shown_as_text_and_never_posted_back():
    html = render(sf.DEFAULT_SCHEMA, {"applicant_name": "张三", "id_number": "6101**********0011"})
    assert "张三" in html and "6101**********0011" in html
    assert 'name="applicant_name"' not in html and 'name="id_number"' not in html
    assert html.count("provided by the government") == 2


def test_select_has_a_blank_choice_and_keeps_the_selection():
    html = render(KITCHEN, {"kind": "restaurant"})
    assert '<option value="">Please choose</option>' in html
    assert '<option value="restaurant" selected>Restaurant</option>' in html
    assert '<option value="canteen">Canteen</option>' in html


def test_checkbox_comes_before_its_label():
    html = render(KITCHEN, {"consent": True})
    box = html.index('<input type="checkbox" id="f-consent"')
    assert box < html.index('<label for="f-consent">')
    assert re.search(
        r'<input type="checkbox" id="f-consent" name="consent" value="on" checked required', html
    )


def test_values_are_escaped():
    html = render(KITCHEN, {"shop_name": '"><script>x</script>'})
    assert "<script>" not in html


def test_error_summary_links_to_each_field_with_an_error():
    errors = {"seats": "Enter a whole number, like 12.", "kind": "Choose Kind."}
    html = render_to_string("applications/_error_summary.html", {"fields": sf.fields(KITCHEN, {}, errors)})
    assert 'role="alert"' in html and 'tabindex="-1"' in html
    assert "There is a problem" in html
    assert '<a href="#f-seats">Seats: Enter a whole number, like 12.</a>' in html
    assert '<a href="#f-kind">Kind: Choose Kind.</a>' in html
    assert "#f-shop_name" not in html


def test_error_summary_is_absent_without_errors():
    html = render_to_string("applications/_error_summary.html", {"fields": sf.fields(KITCHEN, {}, {})})
    assert 'role="alert"' not in html


def test_schema_is_not_changed_by_use():
    before = copy.deepcopy(KITCHEN)
    sf.validate(KITCHEN, {}, partial=True)
    sf.fields(KITCHEN, good(), {})
    sf.parse_post(KITCHEN, QueryDict("seats=1"))
    assert before == KITCHEN


@pytest.mark.django_db
def test_age_comes_from_the_identity_number_and_binds_only_integers(citizen, monkeypatch):
    # The persona is born 1990-01-01 (conftest.make_person).
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2026, 1, 1))
    assert sf.gov_sources(user=citizen)["person.age"] == 36
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2025, 12, 31))
    assert sf.gov_sources(user=citizen)["person.age"] == 35
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer", "title": "年龄", "x-source": "person.age"}},
    }
    sf.check_schema(schema)
    assert sf.prefill(schema, sf.gov_sources(user=citizen)) == {"age": 35}
    assert sf.bound_fields(schema) == {"age"}
    schema["properties"]["age"]["type"] = "string"
    with pytest.raises(sf.SchemaError):
        sf.check_schema(schema)
