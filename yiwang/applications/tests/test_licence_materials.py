"""免证办: an electronic licence the applicant holds replaces a material, with their consent."""

from __future__ import annotations

import pytest

from yiwang.applications import licence_materials, services
from yiwang.applications.models import Case, CaseLicence
from yiwang.applications.tests.conftest import VALID_DATA, open_task, pdf_upload
from yiwang.audit.models import AuditEntry
from yiwang.catalog.models import Material, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import _department, make_official
from yiwang.identity.models import Role
from yiwang.licences import services as licence_services
from yiwang.licences.models import LicenceType

pytestmark = pytest.mark.django_db


@pytest.fixture
def types(db):
    licence_services.licence_types_sync(actor="system:test")
    return {lt.code: lt for lt in LicenceType.objects.all()}


@pytest.fixture
def department_gat(region):
    return _department("610100-GAT", "西安市公安局", region)


@pytest.fixture
def stall_item(department_x) -> ServiceItem:
    """An item asking for an upload a licence the platform issues replaces."""
    return make_item(
        code="610100-SCJG-XK-0009",
        name="便民摊点登记",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
        statutory_limit_days=10,
        materials=[
            {"name": "申请书", "source": Material.Source.APPLICANT},
            {
                "name": "个体工商户营业执照",
                "source": Material.Source.APPLICANT,
                "licence_replaceable": True,
                "licence_type": "个体工商户营业执照",
            },
        ],
    )


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


def _materials(item):
    return {m.name: m for m in item.materials.all()}


def _draft(item, citizen):
    case = services.case_start(actor=citizen, item=item)
    services.case_save(actor=citizen, case=case, data=VALID_DATA)
    services.attachment_add(
        actor=citizen, case=case, material_id=_materials(item)["申请书"].pk, upload=pdf_upload()
    )
    return Case.objects.get(pk=case.pk)


def test_with_consent_the_material_is_neither_asked_nor_pre_reviewed(stall_item, citizen, my_licence):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    assert f"material-{licence_material.pk}" in services.prereview(case)
    offers = licence_materials.offers(case)
    assert [(o.material.pk, [lic.pk for lic in o.licences]) for o in offers.rows] == [
        (licence_material.pk, [my_licence.pk])
    ]
    row = licence_materials.case_licence_use(
        actor=citizen, case=case, material_id=licence_material.pk, licence_id=my_licence.pk, consent=True
    )
    assert licence_material not in services.required_materials(case)
    assert services.prereview(case) == {}
    case = services.case_submit(actor=citizen, case=case)
    assert case.status == Case.Status.SUBMITTED
    stored = CaseLicence.objects.get(case=case)
    assert stored == row and stored.licence_number == my_licence.number
    assert stored.licence_type == "个体工商户营业执照 | Individual business licence"
    entry = AuditEntry.objects.filter(event=licence_materials.USE_EVENT).get()
    assert (entry.target_type, entry.target_id) == ("applications.case", str(case.pk))


def test_without_consent_the_upload_is_asked_as_before(stall_item, citizen, my_licence):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    with pytest.raises(services.InvalidInput):
        licence_materials.case_licence_use(
            actor=citizen, case=case, material_id=licence_material.pk, licence_id=my_licence.pk, consent=False
        )
    assert not CaseLicence.objects.exists()
    assert not AuditEntry.objects.filter(event=licence_materials.USE_EVENT).exists()
    assert licence_material in services.required_materials(case)
    assert f"material-{licence_material.pk}" in services.prereview(case)
    with pytest.raises(services.InvalidInput):
        services.case_submit(actor=citizen, case=case)


def test_a_licence_of_another_person_never_satisfies(stall_item, citizen, other_citizen, types, department_x):
    theirs = _licence(types, other_citizen, department_x)
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    assert licence_materials.offers(case).rows == []
    with pytest.raises(services.InvalidInput):
        licence_materials.case_licence_use(
            actor=citizen, case=case, material_id=licence_material.pk, licence_id=theirs.pk, consent=True
        )
    assert not CaseLicence.objects.exists()


def test_only_the_applicant_may_use_a_licence_on_the_case(stall_item, citizen, other_citizen, my_licence):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    with pytest.raises(services.PermissionDenied):
        licence_materials.case_licence_use(
            actor=other_citizen,
            case=case,
            material_id=licence_material.pk,
            licence_id=my_licence.pk,
            consent=True,
        )


def test_a_licence_no_longer_in_force_asks_for_the_upload_again(
    stall_item, citizen, my_licence, department_x
):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    licence_materials.case_licence_use(
        actor=citizen, case=case, material_id=licence_material.pk, licence_id=my_licence.pk, consent=True
    )
    approver = make_official("approver_lic", department_x, [Role.APPROVER])
    licence_services.licence_suspend(licence=my_licence, actor=approver, reason="暂停")
    assert f"material-{licence_material.pk}" in services.prereview(case)
    offer = licence_materials.offers(case).rows[0]
    assert offer.used is not None and not offer.in_force


def test_the_form_offers_the_licence_and_records_consent(login, stall_item, citizen, my_licence):
    client = login(citizen)
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    page = client.get(f"/cases/draft-{case.pk}/edit/").content.decode()
    assert "个体工商户营业执照" in page and my_licence.number in page and 'name="consent"' in page
    url = f"/cases/draft-{case.pk}/licences/"
    refused = client.post(url, {"material": licence_material.pk, "licence": my_licence.pk})
    assert refused.status_code == 302 and not CaseLicence.objects.exists()
    done = client.post(url, {"material": licence_material.pk, "licence": my_licence.pk, "consent": "1"})
    assert done.status_code == 302 and CaseLicence.objects.filter(case=case).exists()
    page = client.get(f"/cases/draft-{case.pk}/edit/")
    assert licence_material not in page.context["materials"]
    assert client.post(url, {"material": "x", "licence": "1", "consent": "1"}).status_code == 302
    withdraw = client.post(f"/cases/draft-{case.pk}/licences/{licence_material.pk}/withdraw/")
    assert withdraw.status_code == 302 and not CaseLicence.objects.exists()
    assert AuditEntry.objects.filter(event=licence_materials.WITHDRAW_EVENT).count() == 1


def test_another_citizen_cannot_post_to_the_case(login, stall_item, citizen, other_citizen, my_licence):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    client = login(other_citizen)
    url = f"/cases/draft-{case.pk}/licences/"
    assert (
        client.post(
            url, {"material": licence_material.pk, "licence": my_licence.pk, "consent": "1"}
        ).status_code
        == 404
    )
    assert not CaseLicence.objects.exists()


def test_the_official_sees_and_verifies_the_licence_instead(
    login, stall_item, citizen, my_licence, department_x
):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    licence_materials.case_licence_use(
        actor=citizen, case=case, material_id=licence_material.pk, licence_id=my_licence.pk, consent=True
    )
    case = services.case_submit(actor=citizen, case=case)
    clerk = make_official("clerk_lic", department_x, [Role.CLERK])
    task = open_task(case)
    page = login(clerk).get(f"/workbench/tasks/{task.pk}/")
    assert page.status_code == 200
    rows = page.context["case_licences"].rows
    assert [(r.licence_number, r.verdict) for r in rows] == [(my_licence.number, "valid")]
    assert my_licence.number in page.content.decode()


def test_a_held_government_material_may_be_replaced_too(item, agent, enterprise, types, department_x):
    business = licence_services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x,
        claims={},
        actor="t",
    )
    Material.objects.filter(item=item, name="营业执照").update(licence_type="营业执照")
    case = services.case_start(actor=agent, item=item, enterprise=enterprise)
    offers = licence_materials.offers(case)
    assert [[lic.pk for lic in o.licences] for o in offers.rows] == [[business.pk]]
    personal = services.case_start(actor=agent, item=item)
    assert licence_materials.offers(personal).rows == []  # the enterprise's licence is for its cases


def test_the_guide_promises_a_licence_exactly_when_the_platform_issues_its_type(client, stall_item, types):
    Material.objects.create(
        item=stall_item,
        name="不动产权证书",
        source=Material.Source.APPLICANT,
        licence_replaceable=True,
        licence_type="不动产权证书",  # not a type this platform issues
        order=9,
    )
    page = client.get(f"/services/items/{stall_item.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    rows = {m.name: m for m in page.context["materials"]}
    issued = page.context["licence_types"]
    assert "个体工商户营业执照" in issued and "不动产权证书" not in issued
    assert page.content.decode().count("免提交：以电子证照替代") == 1
    LicenceType.objects.update(is_active=False)
    again = client.get(f"/services/items/{stall_item.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "免提交：以电子证照替代" not in again.content.decode()
    assert rows


def test_the_applicant_sees_on_the_case_which_licence_was_used(login, stall_item, citizen, my_licence):
    case = _draft(stall_item, citizen)
    licence_material = _materials(stall_item)["个体工商户营业执照"]
    licence_materials.case_licence_use(
        actor=citizen, case=case, material_id=licence_material.pk, licence_id=my_licence.pk, consent=True
    )
    case = services.case_submit(actor=citizen, case=case)
    page = login(citizen).get(f"/cases/{case.number}/")
    assert page.status_code == 200
    assert my_licence.number in page.content.decode()
