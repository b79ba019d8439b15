import re

import pytest
from django.urls import reverse

from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_item(places):
    department = places["610100"].departments.get(code="610100-SCJG")
    return make_item(
        code="FULL-1",
        name="食品经营许可（新办）",
        department=department,
        level="city",
        item_type=ServiceItem.ItemType.LICENSING,
        legal_basis="《中华人民共和国食品安全法》第三十五条",
        conditions="具有与经营的食品品种相适应的经营场所",
        process_steps=[
            {"name": "申请", "description": "在线提交"},
            {"name": "受理", "description": "当场受理"},
            {"name": "决定", "description": "作出决定"},
        ],
        statutory_limit_days=20,
        promised_limit_days=7,
        fee_description="不收费",
        is_free=True,
        visits_needed=1,
        online_depth=4,
        channels=["一网政务服务平台（网页）", "政务服务中心综合窗口"],
        consult_phone="029-86000001",
        complaint_phone="12345",
        service_object="both",
        address="西安市政务服务中心二楼",
        hours="法定工作日 9:00—17:30",
        aliases="餐饮许可,开餐馆许可",
        description="从事餐饮服务应取得许可",
        materials=[
            {
                "name": "营业执照",
                "source": "government",
                "form": "original",
                "licence_replaceable": True,
                "licence_type": "营业执照",
            },
            {"name": "经营场所平面布局图", "source": "applicant", "form": "original"},
        ],
    )


def test_item_guide_shows_every_standard_element(client, full_item):
    html = client.get(full_item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    elements = re.search(r'<dl class="elements".*?</dl>', html, re.S).group(0)
    for label in (
        "Item name",
        "Item code",
        "Item type",
        "Implementing department",
        "Region",
        "Level",
        "Basic catalog item",
        "Service object",
        "Legal basis",
        "Conditions",
        "Statutory time limit",
        "Promised time limit",
        "Fees",
        "Visits needed",
        "Online depth",
        "Channels",
        "Address",
        "Office hours",
        "Consulting phone",
        "Complaint phone",
        "Also known as",
        "Themes",
        "Version",
        "Last updated",
    ):
        assert f"<dt>{label}</dt>" in elements, label
    for value in (
        "FULL-1",
        "食品安全法",
        "029-86000001",
        "12345",
        "西安市政务服务中心二楼",
        "20 working days",
        "7 working days",
        "Fully online",
        "餐饮许可",
    ):
        assert value in elements, value


def test_item_guide_lists_materials_in_a_table_marking_what_the_government_provides(client, full_item):
    html = client.get(full_item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = re.search(r'<table class="materials">.*?</table>', html, re.S).group(0)
    assert "<caption>" in table and '<th scope="col">' in table
    assert "Not needed: the issuing department provides it" in table
    assert table.count("<tr>") == 3
    # Issue 9 §5: nothing is promised that applying does not keep — electronic licences are not in
    # use yet, so "replaced by an electronic licence" is never shown.
    assert "electronic licence" not in table


def test_the_guide_and_the_application_agree_on_what_the_applicant_submits(client, department_x):
    item = make_item(
        department=department_x,
        code="AGREE-1",
        name="场所登记",
        materials=[{"name": "租赁合同", "source": "applicant", "licence_replaceable": True}],
    )
    html = client.get(item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = re.search(r'<table class="materials">.*?</table>', html, re.S).group(0)
    assert "Submit it" in table and "Not needed" not in table
    assert item.materials.get().applicant_submits


def test_item_guide_orders_the_steps_and_can_be_printed(client, full_item):
    html = client.get(full_item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    steps = re.search(r'<ol class="steps".*?</ol>', html, re.S).group(0)
    assert steps.index("申请") < steps.index("受理") < steps.index("决定")
    assert "data-print" in html and "core/site.js" in html and "no-print" in html  # site.js prints
    css_url = re.search(r'href="([^"]*catalog/catalog\.css)"', html).group(1)
    css = b"".join(client.get(css_url).streaming_content).decode()
    assert "@media print" in css and ".no-print" in css and "display: none" in css


def test_unpublished_and_unknown_items_are_404(client, full_item):
    full_item.status = ServiceItem.Status.RETIRED
    full_item.save()
    assert client.get(full_item.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:item", kwargs={"code": "nope"})).status_code == 404


def test_search_page_has_labelled_fields_and_announces_the_count(client, catalog):
    html = client.get(reverse("catalog:search"), {"q": "开餐馆"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in ("q", "department", "theme", "item_type", "audience"):
        assert f'<label for="id_{name}">' in html, name
    assert 'role="status"' in html and "services found" in html
    assert "开办餐饮店" in html
    assert "食品经营许可" in html


def test_search_page_works_without_a_query(client, places):
    response = client.get(reverse("catalog:search"))
    assert response.status_code == 200
    assert 'role="status"' not in response.content.decode()


def test_a_too_long_query_is_a_form_error_linked_from_the_summary(client, places):
    html = client.get(
        reverse("catalog:search"), {"q": "社" * 101}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_q"' in html
    assert 'class="errorlist"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"*NEAR('},
        {"page": "abc"},
        {"page": "-1"},
        {"department": "x"},
        {"theme": "x"},
        {"item_type": "bad"},
    ],
)
def test_bad_search_input_never_gives_a_server_error(client, places, params):
    assert client.get(reverse("catalog:search"), params).status_code == 200


def test_a_nul_character_in_the_search_is_refused_with_400(client, places):
    assert client.get(reverse("catalog:search"), {"q": "\x00"}).status_code == 400


def test_no_results_offers_suggestions(client, catalog):
    html = client.get(
        reverse("catalog:search"), {"q": "量子纠缠"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "0 services found" in html
    assert "Popular life events" in html


def test_search_results_paginate(client, catalog):
    html = client.get(
        reverse("catalog:search"), {"q": "登记", "page": 2}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Page 2 of" in html and 'rel="prev"' in html


def test_bundle_page_lists_items_in_order_and_deduplicates_materials(client, catalog):
    html = client.get(reverse("catalog:bundle", kwargs={"code": "open-restaurant"})).content.decode()
    positions = [html.index(name) for name in ("个体工商户设立登记", "食品经营许可（新办）")]
    assert positions == sorted(positions)
    table = re.search(r'<table class="materials">.*?</table>', html, re.S).group(0)
    rows = re.findall(r'<th scope="row">(.*?)</th>', table)
    assert rows and len(rows) == len(set(rows))


@pytest.mark.parametrize("name", ["bundles", "departments", "themes", "guide", "search"])
def test_list_pages_render(client, catalog, name):
    assert client.get(reverse(f"catalog:{name}")).status_code == 200


def test_department_page_lists_its_items(client, catalog):
    html = client.get(reverse("catalog:department", kwargs={"code": "610100-SCJG"})).content.decode()
    assert "西安市市场监督管理局" in html and "个体工商户设立登记" in html
    assert client.get(reverse("catalog:department", kwargs={"code": "nope"})).status_code == 404


def test_guide_page_shows_bundles_first_then_items(client, catalog):
    html = client.get(reverse("catalog:guide"), {"q": "孩子出生了要办什么"}).content.decode()
    assert '<label for="id_q">' in html
    assert html.index("新生儿出生") < html.index("出生医学证明")


def test_guide_page_requires_words(client, places):
    html = client.get(reverse("catalog:guide"), {"q": ""}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="error-summary"' in html


def test_home_shows_bundles_and_themes(client, catalog):
    html = client.get("/").content.decode()
    assert "开办餐饮店" in html and "?theme=birth" in html


def test_search_and_item_pages_use_a_bounded_number_of_queries(
    client, catalog, django_assert_max_num_queries
):
    # 18: the search (tiers, ranking, one item per service: its item and count; on PostgreSQL
    # the planner setting and its reset) and, since issue 9 §4, the visitor's region with its
    # ancestors and the region switcher's list; none grows with results.
    with django_assert_max_num_queries(18):
        client.get(reverse("catalog:search"), {"q": "营业执照", "department": "610100-SCJG"})
    item = ServiceItem.objects.filter(status="published").first()
    with django_assert_max_num_queries(8):
        client.get(item.get_absolute_url())
    with django_assert_max_num_queries(8):
        client.get(reverse("catalog:bundle", kwargs={"code": "open-restaurant"}))


def test_item_guide_gives_the_decision_date_in_working_days_if_accepted_today(client, full_item, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    # Accepted on the eve of the 2025 National Day holiday: 3 working days skip 1–8 October.
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 9, 30))
    ServiceItem.objects.filter(pk=full_item.pk).update(promised_limit_days=3)
    html = client.get(full_item.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Decided by 2025-10-11 at the latest" in html
    assert "Provisional" not in html


# --- issue 9 §4: region switcher and a usable department filter
def test_the_region_switcher_is_on_home_and_search_and_is_remembered(client, catalog):
    for url in ("/", reverse("catalog:search")):
        html = client.get(url).content.decode()
        assert 'action="/services/region/"' in html and "陕西省" in html
    response = client.post(reverse("catalog:region"), {"region": "610100", "next": "/services/?q=开餐馆"})
    assert response.status_code == 302 and response["Location"] == "/services/?q=%E5%BC%80%E9%A4%90%E9%A6%86"
    html = client.get("/services/", {"q": "开餐馆"}).content.decode()
    assert '<option value="610100" selected>' in html
    first = html.split('<ol class="result-list"', 1)[1].split("</li>", 1)[0]
    assert "西安市" in first and "?basic=" in first  # the city's own item, the others grouped behind a link


def test_a_bad_region_is_refused_with_a_message_and_changes_nothing(client, catalog):
    client.post(reverse("catalog:region"), {"region": "610100", "next": "/"})
    response = client.post(
        reverse("catalog:region"), {"region": "nope", "next": "https://evil.example/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert (
        "Choose a region from the list." in response.content.decode()
        or "请从列表中选择地区" in response.content.decode()
    )
    assert client.session["catalog_region"] == "610100"


def test_the_department_filter_lists_the_visitors_departments_by_region(client, catalog):
    html = client.get(reverse("catalog:search")).content.decode()
    select = html.split('name="department"', 1)[1].split("</select>", 1)[0]
    assert "<optgroup" in select and "610100-" not in select  # the province's own departments only
    client.post(reverse("catalog:region"), {"region": "610100", "next": "/"})
    select = client.get(reverse("catalog:search")).content.decode().split('name="department"', 1)[1]
    select = select.split("</select>", 1)[0]
    assert "610100-SCJG" in select and "610000-SCJG" in select
    # a department chosen elsewhere (its page links to the search) stays valid
    client.post(reverse("catalog:region"), {"region": "610000", "next": "/"})
    response = client.get(reverse("catalog:search"), {"q": "许可", "department": "610100-SCJG"})
    assert response.status_code == 200 and "has-error" not in response.content.decode()
    assert "食品经营许可" in response.content.decode()


def test_an_unknown_service_code_is_a_form_error(client, catalog):
    response = client.get(reverse("catalog:search"), {"basic": "nope"})
    assert response.status_code == 200 and 'class="error-summary"' in response.content.decode()
    assert 'class="result-list"' not in response.content.decode()
