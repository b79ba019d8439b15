import pytest
from django.urls import reverse

from yiwang.audit.models import AuditEntry
from yiwang.identity import pii
from yiwang.identity.models import Role, RoleGrant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "identity_region_changelist",
        "identity_department_changelist",
        "identity_user_changelist",
        "identity_person_changelist",
        "identity_enterprise_changelist",
        "identity_official_changelist",
    ],
)
def test_superusers_open_every_identity_list(login, superuser, citizen, agent, official_x, name):
    assert login(superuser).get(reverse(f"admin:{name}")).status_code == 200


def test_persons_are_listed_with_masked_numbers_and_found_by_full_number(
    login, superuser, citizen, other_citizen
):
    client = login(superuser)
    number = pii.id_number_of(citizen.person)
    listing = client.get(reverse("admin:identity_person_changelist")).content.decode()
    assert citizen.person.id_number_masked in listing and number not in listing
    found = client.get(reverse("admin:identity_person_changelist"), {"q": number}).content.decode()
    assert "张三" in found and "李四" not in found
    by_name = client.get(reverse("admin:identity_person_changelist"), {"q": "李四"}).content.decode()
    assert "李四" in by_name and "张三" not in by_name
    page = client.get(reverse("admin:identity_person_change", args=[citizen.person.pk])).content.decode()
    assert number not in page


def test_the_user_form_never_shows_a_password_or_totp_secret(login, superuser, citizen):
    page = login(superuser).get(reverse("admin:identity_user_change", args=[citizen.pk])).content.decode()
    assert citizen.password not in page
    assert "totp_secret" not in page


def test_role_changes_in_the_inline_go_through_the_audited_services(login, superuser, inspector):
    official = inspector.official
    grant = official.roles.get()
    data = {
        "user": inspector.pk,
        "department": official.department_id,
        "title": "",
        "is_active": "on",
        "roles-TOTAL_FORMS": "2",
        "roles-INITIAL_FORMS": "1",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "roles-0-id": grant.pk,
        "roles-0-official": official.pk,
        "roles-0-role": Role.INSPECTOR,
        "roles-0-DELETE": "on",
        "roles-1-official": official.pk,
        "roles-1-role": Role.REVIEWER,
    }
    response = login(superuser).post(reverse("admin:identity_official_change", args=[official.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(RoleGrant.objects.filter(official=official).values_list("role", flat=True)) == [Role.REVIEWER]
    events = set(AuditEntry.objects.filter(target_id=str(official.pk)).values_list("event", flat=True))
    assert events == {"identity:role:grant", "identity:role:revoke"}


def test_department_admins_see_the_officials_of_their_departments_only(
    login, dept_admin, official_x, official_y
):
    client = login(dept_admin)
    listing = client.get(reverse("admin:identity_official_changelist")).content.decode()
    assert "official_x" in listing and "official_y" not in listing
    assert (
        client.get(reverse("admin:identity_official_change", args=[official_y.official.pk])).status_code
        != 200
    )
    assert client.get(reverse("admin:identity_person_changelist")).status_code == 403


def test_the_reset_two_factor_action_is_for_superusers(login, superuser, citizen):
    from yiwang.identity import services

    secret = services.totp_begin(user=citizen, actor=citizen)
    import pyotp

    services.totp_enable(user=citizen, code=pyotp.TOTP(secret).now(), actor=citizen)
    response = login(superuser).post(
        reverse("admin:identity_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [citizen.pk]},
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert not citizen.totp_enabled


def test_department_admins_see_account_and_department_as_text_and_still_change_roles(
    login, dept_admin, inspector
):
    official = inspector.official
    grant = official.roles.get()
    client = login(dept_admin)
    url = reverse("admin:identity_official_change", args=[official.pk])
    page = client.get(url).content.decode()
    assert official.department.name in page and "inspector" in page
    for target in ("admin:identity_user_change", "admin:identity_department_change"):
        pk = inspector.pk if "user" in target else official.department_id
        assert reverse(target, args=[pk]) not in page  # pages they may not open are not linked
    data = {
        "title": "科员",
        "is_active": "on",
        "roles-TOTAL_FORMS": "2",
        "roles-INITIAL_FORMS": "1",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "roles-0-id": grant.pk,
        "roles-0-official": official.pk,
        "roles-0-role": Role.INSPECTOR,
        "roles-1-official": official.pk,
        "roles-1-role": Role.REVIEWER,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    official.refresh_from_db()
    assert official.title == "科员" and official.user_id == inspector.pk
    assert set(official.roles.values_list("role", flat=True)) == {Role.INSPECTOR, Role.REVIEWER}
