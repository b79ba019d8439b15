"""免证办 on a life event's combined form (一件事一次办): a licence replaces a material the bundle's
items share once for all of them, with the consent recorded on each case."""

from __future__ import annotations

import pytest

from yiwang.applications import licence_materials, services
from yiwang.applications.models import BundleCase, Case, CaseLicence
from yiwang.applications.tests.conftest import VALID_DATA, pdf_upload
from yiwang.audit.models import AuditEntry
from yiwang.catalog.models import BundleItem, LifeEvent, Material, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.licences import services as licence_services
from yiwang.licences.models import LicenceType

pytestmark = pytest.mark.django_db

LICENCE = "个体工商户营业执照"


@pytest.fixture
def types(db):
    licence_services.licence_types_sync(actor="system:test")
    return {lt.code: lt for lt in LicenceType.objects.all()}


def _item(code, name, department):
    return make_item(
        code=code,
        name=name,
        department=department,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
        statutory_limit_days=10,
        materials=[
            {"name": "申请书", "source": Material.Source.APPLICANT},
            {
                "name": LICENCE,
                "source": Material.Source.APPLICANT,
                "licence_replaceable": True,
                "licence_type": LICENCE,
            },
        ],
    )


@pytest.fixture
def bundle(department_x) -> LifeEvent:
    """Two items that both ask for the application form and the individual business licence."""
    event = LifeEvent.objects.create(code="open-stall", name="我要摆摊", audience="personal")
    for order, (code, name) in enumerate(
        (("610100-SCJG-XK-0011", "便民摊点登记"), ("610100-SCJG-XK-0012", "户外广告登记"))
    ):
        BundleItem.objects.create(bundle=event, item=_item(code, name, department_x), order=order)
    return event


def _licence(types, user, department):
    return licence_services.licence_issue(
        licence_type=types["individual-business-licence"],
        holder=user.person,
        department=department,
        claims={"business_address": "西安市雁塔区演示路8号", "business_scope": "日用百货"},
        actor="system:test",
    )


@pytest.fixture
def my_licence(types, citizen, department_x):
    return _licence(types, citizen, department_x)


def _bundle_draft(bundle, citizen) -> BundleCase:
    """The bundle filled in and its application form uploaded once: only the licence is missing."""
    bundle_case = services.bundle_start(actor=citizen, bundle=bundle)
    drafts = services.bundle_drafts(bundle_case)
    services.bundle_save(actor=citizen, bundle_case=bundle_case, data={c.pk: VALID_DATA for c in drafts})
    form = drafts[0].item.materials.get(name="申请书")
    services.bundle_attachment_add(
        actor=citizen, bundle_case=bundle_case, material_id=form.pk, upload=pdf_upload()
    )
    return bundle_case


def _licence_materials(bundle_case) -> dict[int, Material]:
    return {c.pk: c.item.materials.get(name=LICENCE) for c in bundle_case.cases.order_by("pk")}


def test_with_consent_a_shared_material_is_satisfied_once_and_each_case_records_the_licence(
    bundle, citizen, my_licence
):
    bundle_case = _bundle_draft(bundle, citizen)
    wanted = _licence_materials(bundle_case)
    errors = services.bundle_prereview(bundle_case)
    assert len(errors) == 1 and LICENCE in next(iter(errors.values()))  # asked once, for both
    offers = licence_materials.bundle_offers(services.bundle_drafts(bundle_case)).rows
    assert len(offers) == 1 and [lic.pk for lic in offers[0].licences] == [my_licence.pk]
    assert {m.pk for _c, m in offers[0].targets} == {m.pk for m in wanted.values()}

    rows = services.bundle_licence_use(
        actor=citizen,
        bundle_case=bundle_case,
        material_id=next(iter(wanted.values())).pk,
        licence_id=my_licence.pk,
        consent=True,
    )
    assert len(rows) == 2
    drafts = services.bundle_drafts(bundle_case)
    assert [g["name"] for g in services.bundle_materials(drafts)] == ["申请书"]  # no upload asked
    assert services.bundle_prereview(bundle_case) == {}
    services.bundle_submit(actor=citizen, bundle_case=bundle_case)
    cases = list(bundle_case.cases.order_by("pk"))
    assert all(c.status == Case.Status.SUBMITTED for c in cases)
    assert not any(c.attachments.filter(material__name=LICENCE).exists() for c in cases)
    used = CaseLicence.objects.order_by("case_id")
    assert [(r.case_id, r.material_id, r.licence_number, r.consented_by_id) for r in used] == [
        (c.pk, wanted[c.pk].pk, my_licence.number, citizen.pk) for c in cases
    ]
    entries = AuditEntry.objects.filter(event=licence_materials.USE_EVENT).order_by("target_id")
    assert sorted((e.target_type, e.target_id) for e in entries) == [
        ("applications.case", str(c.pk)) for c in cases
    ]


def test_without_consent_the_upload_is_asked_and_nothing_is_recorded(bundle, citizen, my_licence):
    bundle_case = _bundle_draft(bundle, citizen)
    material = next(iter(_licence_materials(bundle_case).values()))
    with pytest.raises(services.InvalidInput):
        services.bundle_licence_use(
            actor=citizen,
            bundle_case=bundle_case,
            material_id=material.pk,
            licence_id=my_licence.pk,
            consent=False,
        )
    assert not CaseLicence.objects.exists()
    assert not AuditEntry.objects.filter(event=licence_materials.USE_EVENT).exists()
    assert f"bm-{material.pk}" in services.bundle_prereview(bundle_case)
    with pytest.raises(services.InvalidInput):
        services.bundle_submit(actor=citizen, bundle_case=bundle_case)
    assert all(c.is_draft and c.number is None for c in bundle_case.cases.all())


def test_a_licence_of_another_person_never_satisfies(bundle, citizen, other_citizen, types, department_x):
    theirs = _licence(types, other_citizen, department_x)
    bundle_case = _bundle_draft(bundle, citizen)
    material = next(iter(_licence_materials(bundle_case).values()))
    assert licence_materials.bundle_offers(services.bundle_drafts(bundle_case)).rows == []
    with pytest.raises(services.InvalidInput):
        services.bundle_licence_use(
            actor=citizen,
            bundle_case=bundle_case,
            material_id=material.pk,
            licence_id=theirs.pk,
            consent=True,
        )
    assert not CaseLicence.objects.exists()
    other_bundle = services.bundle_start(actor=other_citizen, bundle=bundle)
    with pytest.raises(services.PermissionDenied):  # nor may another person act on my bundle
        services.bundle_licence_use(
            actor=other_citizen,
            bundle_case=bundle_case,
            material_id=material.pk,
            licence_id=theirs.pk,
            consent=True,
        )
    assert other_bundle.pk != bundle_case.pk and not CaseLicence.objects.exists()


def test_the_combined_form_offers_the_licence_records_consent_and_takes_it_back(
    login, bundle, citizen, other_citizen, my_licence
):
    bundle_case = _bundle_draft(bundle, citizen)
    wanted = _licence_materials(bundle_case)
    material = next(iter(wanted.values()))
    client = login(citizen)
    page = client.get(f"/bundle-cases/{bundle_case.pk}/").content.decode()
    assert my_licence.number in page and 'name="consent"' in page
    assert f'action="/bundle-cases/{bundle_case.pk}/licences/"' in page
    url = f"/bundle-cases/{bundle_case.pk}/licences/"
    refused = client.post(url, {"material": material.pk, "licence": my_licence.pk})
    assert refused.status_code == 302 and not CaseLicence.objects.exists()
    assert client.post(url, {"material": "x", "licence": "1", "consent": "1"}).status_code == 302
    stranger = login(other_citizen).post(
        url, {"material": material.pk, "licence": my_licence.pk, "consent": "1"}
    )
    assert stranger.status_code == 404 and not CaseLicence.objects.exists()
    client = login(citizen)
    done = client.post(url, {"material": material.pk, "licence": my_licence.pk, "consent": "1"})
    assert done.status_code == 302 and done["Location"].endswith("#licences")
    assert set(CaseLicence.objects.values_list("case_id", "material_id")) == {
        (c, m.pk) for c, m in wanted.items()
    }
    page = client.get(f"/bundle-cases/{bundle_case.pk}/")
    assert [g["name"] for g in page.context["groups"]] == ["申请书"]
    assert page.context["prereview"] == {}
    withdraw = client.post(f"/bundle-cases/{bundle_case.pk}/licences/{material.pk}/withdraw/")
    assert withdraw.status_code == 302 and not CaseLicence.objects.exists()
    assert AuditEntry.objects.filter(event=licence_materials.WITHDRAW_EVENT).count() == 2
    assert f"bm-{material.pk}" in client.get(f"/bundle-cases/{bundle_case.pk}/").context["prereview"]


def test_a_material_one_item_asks_as_a_plain_upload_is_not_offered(bundle, citizen, my_licence):
    """Asked once for all items, it can be satisfied only for all: if one item does not accept the
    licence for it, the upload is asked and the licence is not offered."""
    second = bundle.entries.order_by("order").last().item
    Material.objects.filter(item=second, name=LICENCE).update(licence_replaceable=False)
    bundle_case = _bundle_draft(bundle, citizen)
    assert licence_materials.bundle_offers(services.bundle_drafts(bundle_case)).rows == []
    material = next(iter(_licence_materials(bundle_case).values()))
    with pytest.raises(services.InvalidInput):
        services.bundle_licence_use(
            actor=citizen,
            bundle_case=bundle_case,
            material_id=material.pk,
            licence_id=my_licence.pk,
            consent=True,
        )
    assert not CaseLicence.objects.exists()
