"""The catalog admin writes items through the catalog services: the same rules as item_publish
and the API, the same audit entries, the status only through the publish and retire actions."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from yiwang.audit.models import AuditEntry
from yiwang.catalog import selectors, services
from yiwang.catalog.models import Material, ServiceItem
from yiwang.conftest import force_sign_in, with_two_factor
from yiwang.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = User.objects.create_user(username="editor", password="x-password-123", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_serviceitem",
                "change_serviceitem",
                "add_serviceitem",
                "add_material",
                "change_material",
                "delete_material",
            ]
        )
    )
    force_sign_in(client, with_two_factor(user))
    return user


def form_data(department, materials=(), **overrides):
    data = {
        "code": "ADM-1",
        "name": "烧烤摊点登记",
        "item_type": "licensing",
        "department": department.pk,
        "region": department.region_id,
        "level": "city",
        "basic_item": "",
        "legal_basis": "《测试条例》第一条",
        "conditions": "有固定场所",
        "process_steps": '[{"name": "申请", "description": ""}]',
        "statutory_limit_days": 10,
        "promised_limit_days": 5,
        "fee_description": "",
        "is_free": "on",
        "visits_needed": 0,
        "online_depth": 4,
        "channels": "[]",
        "consult_phone": "029-1",
        "complaint_phone": "",
        "service_object": "personal",
        "realname_level": 2,
        "address": "",
        "hours": "",
        "aliases": "",
        "description": "",
        "popularity": 0,
        "materials-TOTAL_FORMS": len(materials),
        "materials-INITIAL_FORMS": sum(1 for m in materials if m.get("id")),
        "materials-MIN_NUM_FORMS": 0,
        "materials-MAX_NUM_FORMS": 1000,
    }
    for n, material in enumerate(materials):
        row = {"source": "applicant", "form": "original", "copies": 1, "required": "on", "order": n + 1}
        row.update(material)
        data.update({f"materials-{n}-{k}": v for k, v in row.items()})
        data[f"materials-{n}-item"] = material.get("item", "")
    data.update(overrides)
    return data


def department_of(places):
    return places["610100"].departments.get(code="610100-SCJG")


def test_admin_create_goes_through_the_service(client, editor, places):
    department = department_of(places)
    response = client.post(
        reverse("admin:catalog_serviceitem_add"), form_data(department, [{"name": "申请书"}])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = ServiceItem.objects.get(code="ADM-1")
    assert item.status == ServiceItem.Status.DRAFT  # published only by the publish action
    assert [m.name for m in item.materials.all()] == ["申请书"]
    assert AuditEntry.objects.filter(event="catalog:item:create", target_id=str(item.pk)).exists()
    services.item_publish(item=item, actor="system:test")
    assert selectors.search_items(q="烧烤摊点").items == [item]  # indexed by the service


def test_admin_refuses_a_promise_longer_than_the_law(client, editor, places):
    department = department_of(places)
    data = form_data(department, statutory_limit_days=10, promised_limit_days=30)
    response = client.post(reverse("admin:catalog_serviceitem_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The promised time limit cannot be longer than the statutory one." in response.content.decode()
    assert not ServiceItem.objects.exists()


def test_admin_cannot_publish_through_the_form(client, editor, places):
    department = department_of(places)
    data = form_data(department, status="published", legal_basis="", consult_phone="")
    assert client.post(reverse("admin:catalog_serviceitem_add"), data).status_code == 302
    item = ServiceItem.objects.get(code="ADM-1")
    assert item.status == ServiceItem.Status.DRAFT
    # the publish action refuses it as item_publish does
    client.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "publish_selected", "_selected_action": [item.pk]},
    )
    item.refresh_from_db()
    assert item.status == ServiceItem.Status.DRAFT


def test_admin_change_of_a_published_item_keeps_it_publishable(client, editor, places):
    department = department_of(places)
    item = services.item_create(
        actor="system:test",
        **{k: v for k, v in form_data(department).items() if k in ("code", "name", "item_type", "level")},
        department=department,
        region=department.region,
        legal_basis="《测试条例》第一条",
        conditions="有固定场所",
        consult_phone="029-1",
        process_steps=[{"name": "申请", "description": ""}],
    )
    services.item_publish(item=item, actor="system:test")
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    response = client.post(url, form_data(department, legal_basis=""), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Fill in these elements before publishing: legal basis" in response.content.decode()
    item.refresh_from_db()
    assert item.legal_basis and item.version == 1
    response = client.post(url, form_data(department, aliases="夜市摊位"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.aliases == "夜市摊位" and item.version == 2
    assert AuditEntry.objects.filter(event="catalog:item:update", target_id=str(item.pk)).exists()


def test_admin_numbers_are_checked_against_the_portable_column_range(client, editor, places):
    department = department_of(places)
    data = form_data(department, popularity=2**31)
    response = client.post(reverse("admin:catalog_serviceitem_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "2147483647" in response.content.decode()
    assert not ServiceItem.objects.exists()


def test_materials_are_changed_in_place(client, editor, places):
    department = department_of(places)
    client.post(reverse("admin:catalog_serviceitem_add"), form_data(department, [{"name": "申请书"}]))
    item = ServiceItem.objects.get(code="ADM-1")
    material = item.materials.get()
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    rows = [{"id": material.pk, "item": item.pk, "name": "申请书（签字）"}, {"name": "平面图"}]
    assert client.post(url, form_data(department, rows)).status_code == 302
    names = list(item.materials.values_list("pk", "name"))
    assert names[0] == (material.pk, "申请书（签字）") and names[1][1] == "平面图"
    assert Material.objects.filter(item=item).count() == 2


def test_admin_delete_goes_through_the_service(client, editor, places):
    editor.user_permissions.add(Permission.objects.get(codename="delete_serviceitem"))
    department = department_of(places)
    client.post(reverse("admin:catalog_serviceitem_add"), form_data(department))
    item = ServiceItem.objects.get(code="ADM-1")
    services.item_publish(item=item, actor="system:test")
    url = reverse("admin:catalog_serviceitem_delete", args=[item.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not ServiceItem.objects.exists()
    assert AuditEntry.objects.filter(event="catalog:item:delete", target_id=str(item.pk)).exists()
    assert selectors.search_items(q="烧烤摊点").count == 0


def test_admin_keeps_a_material_that_applications_used(client, editor, places):
    from yiwang.applications.models import Attachment, Blob, Case

    department = department_of(places)
    client.post(reverse("admin:catalog_serviceitem_add"), form_data(department, [{"name": "申请书"}]))
    item = ServiceItem.objects.get(code="ADM-1")
    material = item.materials.get()
    case = Case.objects.create(item=item, department=department, applicant=editor)
    blob = Blob.objects.create(sha256="1" * 64, size=1, kind="pdf")
    Attachment.objects.create(case=case, material=material, blob=blob, filename="a.pdf")
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    rows = [{"id": material.pk, "item": item.pk, "name": "申请书", "DELETE": "on"}]
    response = client.post(url, form_data(department, rows), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert item.materials.get().pk == material.pk
