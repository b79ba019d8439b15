import pytest

from yiwang.feedback import services
from yiwang.feedback.models import Category, Item

pytestmark = pytest.mark.django_db


def test_a_citizen_files_from_the_form_and_follows_the_item(login, citizen, rules, region):
    client = login(citizen)
    assert client.get("/feedback/new/").status_code == 200
    response = client.post(
        "/feedback/new/",
        {
            "kind": "complaint",
            "text": "超市卖过期酸奶，店员还不承认",
            "region": region.code,
            "address": "某路1号",
        },
    )
    assert response.status_code == 302
    item = Item.objects.get()
    page = client.get(f"/feedback/items/{item.pk}/")
    assert page.status_code == 200
    assert item.number in page.content.decode()
    assert item.number in client.get("/feedback/mine/").content.decode()


def test_the_form_says_what_to_fix_and_keeps_what_was_typed(login, citizen, rules, region):
    response = login(citizen).post(
        "/feedback/new/", {"kind": "complaint", "text": "太短", "region": region.code}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "太短" in body and 'href="#fb-text"' in body
    assert not Item.objects.exists()


def test_filing_needs_an_account(login):
    response = login(None).get("/feedback/new/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_another_citizen_cannot_see_an_item(login, citizen, other_citizen, file_item):
    item = file_item(citizen)
    assert login(other_citizen).get(f"/feedback/items/{item.pk}/").status_code == 404
    assert login(other_citizen).get("/feedback/items/999999/").status_code == 404


def _replied(router, citizen, file_item, department, official):
    item = file_item(citizen, address="新城区某某路12号", latitude="34.265432", longitude="108.953210")
    item = services.item_route(item=item, department=department, category=Category.MARKET, actor=router)
    item = services.item_accept(item=item, actor=official)
    return services.item_reply(item=item, reply="经查，该超市已下架过期商品，已立案。", actor=official)


def test_the_department_replies_through_its_pages(
    login, router, citizen, file_item, department_x, official_x
):
    item = services.item_route(
        item=file_item(citizen), department=department_x, category="market", actor=router
    )
    client = login(official_x)
    assert item.number in client.get("/workbench/feedback/").content.decode()
    assert client.post(f"/feedback/items/{item.pk}/accept").status_code == 302
    response = client.post(f"/feedback/items/{item.pk}/reply", {"reply": "短"})
    assert response.status_code == 422
    assert client.post(f"/feedback/items/{item.pk}/reply", {"reply": "已经责令商家整改。"}).status_code == 302
    assert Item.objects.get(pk=item.pk).status == Item.Status.REPLIED


def test_the_routing_officer_sees_the_suggestion_and_routes(login, router, citizen, file_item, department_x):
    item = file_item(citizen)
    client = login(router)
    page = client.get("/workbench/feedback/routing/").content.decode()
    assert item.number in page and "西安市市场监督管理局" in page
    response = client.post(
        f"/feedback/items/{item.pk}/route", {"category": "market", "department": department_x.code}
    )
    assert response.status_code == 302
    assert Item.objects.get(pk=item.pk).department == department_x


def test_the_queues_refuse_other_officials_and_citizens(login, citizen, inspector):
    assert login(citizen).get("/workbench/feedback/routing/").status_code == 403
    assert login(inspector).get("/workbench/feedback/").status_code == 403


def test_the_filer_rates_the_reply(login, router, citizen, file_item, department_x, official_x):
    item = _replied(router, citizen, file_item, department_x, official_x)
    client = login(citizen)
    assert client.post(f"/feedback/items/{item.pk}/rate", {"rating": "9"}).status_code == 422
    assert client.post(f"/feedback/items/{item.pk}/rate", {"rating": "4"}).status_code == 302
    assert Item.objects.get(pk=item.pk).rating == 4


def test_the_public_page_shows_the_reply_without_personal_data(
    login, router, citizen, file_item, department_x, official_x
):
    item = _replied(router, citizen, file_item, department_x, official_x)
    for url in ("/feedback/", f"/feedback/replies/{item.pk}/"):
        body = login(None).get(url).content.decode()
        assert item.number in body
        for secret in ("张三", "某某路", "34.265432", "108.953210", "citizen"):
            assert secret not in body
    assert "已立案" in login(None).get(f"/feedback/replies/{item.pk}/").content.decode()


def test_an_unreplied_item_is_not_on_the_public_page(login, citizen, file_item):
    item = file_item(citizen)
    assert login(None).get(f"/feedback/replies/{item.pk}/").status_code == 404


def test_photos_are_served_only_to_who_may_see_the_item(login, citizen, other_citizen, file_item):
    from yiwang.feedback.tests.test_services import _jpeg_with_gps

    item = file_item(citizen, uploads=[("p.jpg", _jpeg_with_gps())])
    photo = item.photos.get()
    url = f"/feedback/items/{item.pk}/photos/{photo.pk}"
    response = login(citizen).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert login(other_citizen).get(url).status_code == 404


def test_the_footer_links_to_filing_from_every_page(login):
    body = login(None).get("/").content.decode()
    assert 'href="/feedback/new/"' in body


def test_a_case_page_links_to_filing_about_the_case_and_the_item_keeps_the_link(
    login, citizen, rules, region, department_x
):
    from yiwang.applications.models import Case
    from yiwang.catalog.tests.factories import make_item

    item = make_item(code="610100-SCJG-XK-0001", name="食品经营许可", department=department_x)
    case = Case.objects.create(
        applicant=citizen, item=item, department=department_x, number="610100-T-000001"
    )
    client = login(citizen)
    form = client.get(f"/feedback/new/?case={case.number}").content.decode()
    assert case.number in form
    client.post(
        "/feedback/new/",
        {
            "kind": "complaint",
            "text": "办件审批太慢，超过了承诺时限",
            "region": region.code,
            "case": case.number,
        },
    )
    assert Item.objects.get().case == case


def test_someone_elses_case_number_is_not_linked(login, citizen, other_citizen, rules, region):
    client = login(other_citizen)
    client.post(
        "/feedback/new/",
        {
            "kind": "complaint",
            "text": "办件审批太慢，超过了承诺时限",
            "region": region.code,
            "case": "610100-NOT-MINE",
        },
    )
    assert Item.objects.get().case is None


def test_a_department_administrator_keeps_its_routing_rules(
    login, dept_admin, official_x, region, department_x
):
    from yiwang.feedback.models import RoutingRule

    client = login(dept_admin)
    assert client.get("/workbench/feedback/rules/").status_code == 200
    bad = client.post("/workbench/feedback/rules/", {"category": "health", "region": "", "department": "x"})
    assert bad.status_code == 422
    done = client.post(
        "/workbench/feedback/rules/",
        {"category": "health", "region": region.code, "department": department_x.code},
    )
    assert done.status_code == 302
    assert RoutingRule.objects.get(category="health", region=region).department == department_x
    assert login(official_x).get("/workbench/feedback/rules/").status_code == 403
