import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from yiwang.audit.models import AuditEntry
from yiwang.feedback import services, workflow
from yiwang.feedback.errors import InvalidInput, NotAllowed, TooLarge, WrongState
from yiwang.feedback.models import Category, Item
from yiwang.lib import workdays

pytestmark = pytest.mark.django_db


def test_filing_stores_the_item_with_the_classifiers_suggestion(citizen, file_item, department_x):
    item = file_item(citizen)
    assert item.status == Item.Status.FILED
    assert item.number.startswith("FB") and item.number.endswith(f"{item.pk:06d}")
    assert item.suggested_category == Category.MARKET
    assert item.suggested_department == department_x
    assert item.suggestion_words
    assert item.filer == citizen


def test_the_audit_entry_of_a_filing_never_names_the_filer(citizen, file_item):
    item = file_item(citizen, address="新城区某某路12号3单元", latitude="34.265432", longitude="108.953210")
    entry = AuditEntry.objects.get(event="feedback:item:file", target_id=str(item.pk))
    public = entry.leaf_input.decode("utf-8", "replace")
    for secret in ("张三", "citizen", "某某路", "34.265432", "13800001111"):
        assert secret not in public
        assert secret not in str(entry.data)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"text": "短"}, "text"),
        ({"text": "字" * 2001}, "text"),
        ({"kind": "praise"}, "kind"),
        ({"category": "weather"}, "category"),
        ({"region": None}, "region"),
        ({"latitude": "91", "longitude": "108"}, "latitude"),
        ({"latitude": "34.2"}, "longitude"),
        ({"latitude": "north", "longitude": "108"}, "latitude"),
        ({"entity_credit_code": "123"}, "entity_credit_code"),
    ],
)
def test_bad_input_is_refused_with_the_field_to_fix_and_nothing_saved(citizen, file_item, extra, field):
    with pytest.raises(InvalidInput) as refused:
        file_item(citizen, **extra)
    assert field in refused.value.errors
    assert not Item.objects.exists()


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "FakeCam"  # Make
    gps = {1: "N", 2: (34.0, 15.0, 30.0), 3: "E", 4: (108.0, 57.0, 10.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_photos_are_stored_without_exif_or_gps(citizen, file_item):
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x010F) == "FakeCam"
    item = file_item(citizen, uploads=[("photo.jpg", raw)])
    photo = item.photos.get()
    stored = Image.open(io.BytesIO(bytes(photo.content)))
    assert not stored.getexif()
    assert b"FakeCam" not in bytes(photo.content)
    assert (photo.width, photo.height) == (64, 48)


def test_a_file_that_is_not_a_photo_is_refused(citizen, file_item):
    with pytest.raises(InvalidInput) as refused:
        file_item(citizen, uploads=[("a.jpg", b"%PDF-1.7 not an image at all")])
    assert "photos" in refused.value.errors
    assert not Item.objects.exists()


def test_an_oversized_photo_is_refused_as_too_large(citizen, file_item, monkeypatch):
    from yiwang.feedback import photos

    monkeypatch.setattr(photos, "MAX_BYTES", 100)
    with pytest.raises(TooLarge):
        file_item(citizen, uploads=[("big.jpg", _jpeg_with_gps())])
    assert not Item.objects.exists()


def test_too_many_photos_are_refused(citizen, file_item):
    raw = _jpeg_with_gps()
    with pytest.raises(InvalidInput):
        file_item(citizen, uploads=[("p.jpg", raw)] * 5)


def test_a_second_complaint_of_the_same_filer_and_category_is_linked_as_a_repeat(citizen, file_item):
    first = file_item(citizen, category=Category.MARKET)
    second = file_item(citizen, category=Category.MARKET, text="那家超市又在卖过期的牛奶了")
    third = file_item(citizen, category=Category.MARKET, text="超市过期食品的问题第三次反映")
    assert second.repeat_of == first
    assert third.repeat_of == first


def test_complaints_at_the_same_place_are_linked_whoever_files_them(citizen, other_citizen, file_item):
    first = file_item(citizen, category=Category.MARKET, latitude="34.260000", longitude="108.940000")
    near = file_item(other_citizen, category=Category.MARKET, latitude="34.260500", longitude="108.940500")
    far = file_item(other_citizen, category=Category.HEALTH, latitude="34.260500", longitude="108.940500")
    assert near.repeat_of == first
    assert far.repeat_of is None


def test_the_routing_officer_routes_and_the_deadline_counts_working_days(
    router, citizen, file_item, department_x
):
    item = file_item(citizen)
    routed = services.item_route(item=item, department=department_x, category=Category.MARKET, actor=router)
    assert routed.status == Item.Status.ROUTED
    expected = workdays.add_workdays(timezone.localdate(), workflow.REPLY_WORKDAYS[Item.Kind.COMPLAINT])
    assert routed.due_date == expected
    entry = AuditEntry.objects.get(event="feedback:item:route")
    assert entry.data["followed_suggestion"] is True


def test_only_a_routing_officer_of_the_area_routes(official_x, citizen, file_item, department_x):
    item = file_item(citizen)
    with pytest.raises(NotAllowed):
        services.item_route(item=item, department=department_x, category=Category.MARKET, actor=official_x)
    assert Item.objects.get(pk=item.pk).status == Item.Status.FILED


def test_a_routing_officer_elsewhere_cannot_route(citizen, file_item, department_x, department_y):
    from yiwang.conftest import _department, make_official
    from yiwang.identity.models import Role

    office = _department("610200-SJJ", "铜川市数据和政务服务局", department_y.region)
    elsewhere = make_official("router_y", office, [Role.CLERK])
    with pytest.raises(NotAllowed):
        services.item_route(
            item=file_item(citizen), department=department_x, category="market", actor=elsewhere
        )


def _routed(router, citizen, file_item, department):
    return services.item_route(
        item=file_item(citizen), department=department, category="market", actor=router
    )


def test_the_whole_lifecycle_from_filing_to_closing(router, citizen, file_item, department_x, official_x):
    item = _routed(router, citizen, file_item, department_x)
    item = services.item_accept(item=item, actor=official_x)
    item = services.item_reply(item=item, reply="经查，该超市已下架过期商品并被立案调查。", actor=official_x)
    assert item.status == Item.Status.REPLIED and not item.replied_late
    item = services.item_rate(item=item, rating=5, comment="处理及时", actor=citizen)
    item = services.item_close(item=item, actor="system:feedback")
    assert item.status == Item.Status.CLOSED
    events = list(
        AuditEntry.objects.filter(event__startswith="feedback:item:").values_list("event", flat=True)
    )
    assert events == [
        "feedback:item:file",
        "feedback:item:route",
        "feedback:item:accept",
        "feedback:item:reply",
        "feedback:item:rate",
        "feedback:item:close",
    ]


def test_another_department_cannot_act_on_an_item(router, citizen, file_item, department_x, official_y):
    item = _routed(router, citizen, file_item, department_x)
    with pytest.raises(NotAllowed):
        services.item_accept(item=item, actor=official_y)
    with pytest.raises(NotAllowed):
        services.item_reply(item=item, reply="这不是我们的事情吗？", actor=official_y)


def test_a_misrouted_item_is_transferred_with_a_reason(
    router, citizen, file_item, department_x, department_y, official_x, official_y
):
    item = _routed(router, citizen, file_item, department_x)
    with pytest.raises(InvalidInput) as refused:
        services.item_transfer(item=item, to_department=department_y, reason="", actor=official_x)
    assert "reason" in refused.value.errors
    due = item.due_date
    item = services.item_transfer(
        item=item, to_department=department_y, reason="发生地在铜川市", actor=official_x
    )
    assert item.status == Item.Status.TRANSFERRED and item.department == department_y and item.due_date == due
    assert item.transfers.get().from_department == department_x
    item = services.item_accept(item=item, actor=official_y)
    assert item.status == Item.Status.ACCEPTED


def test_reply_needs_acceptance_first(router, citizen, file_item, department_x, official_x):
    item = _routed(router, citizen, file_item, department_x)
    with pytest.raises(WrongState):
        services.item_reply(item=item, reply="已经处理完毕，谢谢反映。", actor=official_x)


def test_a_late_reply_is_marked_late(router, citizen, file_item, department_x, official_x):
    item = _routed(router, citizen, file_item, department_x)
    item = services.item_accept(item=item, actor=official_x)
    Item.objects.filter(pk=item.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    item = services.item_reply(item=item, reply="经查，已责令整改。", actor=official_x)
    assert item.replied_late


def test_only_the_filer_rates_and_only_on_the_five_levels(
    router, citizen, other_citizen, file_item, department_x, official_x
):
    item = _routed(router, citizen, file_item, department_x)
    item = services.item_accept(item=item, actor=official_x)
    item = services.item_reply(item=item, reply="经查，已责令整改。", actor=official_x)
    with pytest.raises(NotAllowed):
        services.item_rate(item=item, rating=1, actor=other_citizen)
    with pytest.raises(InvalidInput):
        services.item_rate(item=item, rating=6, actor=citizen)
    with pytest.raises(InvalidInput):
        services.item_rate(item=item, rating="很好", actor=citizen)
    assert services.item_rate(item=item, rating=2, actor=citizen).rating == 2


def test_a_replied_item_closes_unrated_only_after_the_rating_window(
    router, citizen, file_item, department_x, official_x
):
    item = _routed(router, citizen, file_item, department_x)
    item = services.item_accept(item=item, actor=official_x)
    item = services.item_reply(item=item, reply="经查，已责令整改。", actor=official_x)
    with pytest.raises(WrongState):
        services.item_close(item=item, actor="system:feedback")
    Item.objects.filter(pk=item.pk).update(
        replied_at=timezone.now() - dt.timedelta(days=workflow.RATING_DAYS + 1)
    )
    assert services.items_close_due() == 1
    assert Item.objects.get(pk=item.pk).status == Item.Status.CLOSED


def test_routing_rules_are_kept_by_the_departments_administrators(
    dept_admin, official_x, department_x, region
):
    rule = services.rule_set(
        category=Category.HEALTH, region=region, department=department_x, actor=dept_admin
    )
    assert rule.department == department_x
    with pytest.raises(NotAllowed):
        services.rule_set(category=Category.HOUSING, region=region, department=department_x, actor=official_x)


def test_a_rule_of_the_region_above_applies_below(department_x, region, department_x_child):
    from yiwang.feedback import selectors

    county = department_x_child.region
    assert selectors.department_for("market", county) is None
    from yiwang.feedback.models import RoutingRule

    RoutingRule.objects.create(category="market", region=region, department=department_x)
    assert selectors.department_for("market", county) == department_x
    RoutingRule.objects.create(category="market", region=county, department=department_x_child)
    assert selectors.department_for("market", county) == department_x_child
