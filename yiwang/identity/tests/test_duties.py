"""Granting roles that would let one official decide a case alone warns the granter (四眼原则),
and every role's account page opens (``GET /account`` as a leader answered 500)."""

import pytest
from django.urls import reverse

from yiwang.conftest import PERSONA_PASSWORD, make_official
from yiwang.identity import selectors
from yiwang.identity.models import Role, RoleGrant

pytestmark = pytest.mark.django_db

WARNING = "Separation of duties"


def _grant(client, official, role):
    url = reverse("identity:official_roles", args=[official.pk, "grant"])
    return client.post(
        url, {"role": role, "password": PERSONA_PASSWORD}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )


def test_granting_a_second_deciding_role_warns_the_granter(login, dept_admin, department_x):
    reviewer = make_official("reviewer_x", department_x, [Role.REVIEWER]).official
    client = login(dept_admin)
    page = _grant(client, reviewer, Role.APPROVER).content.decode()
    assert RoleGrant.objects.filter(official=reviewer, role=Role.APPROVER).exists()
    assert WARNING in page and "Reviewer + Approver" in page


def test_granting_a_role_that_decides_nothing_gives_no_warning(login, dept_admin, department_x):
    clerk = make_official("clerk_x", department_x, [Role.CLERK]).official
    page = _grant(login(dept_admin), clerk, Role.INSPECTOR).content.decode()
    assert RoleGrant.objects.filter(official=clerk, role=Role.INSPECTOR).exists()
    assert WARNING not in page


def test_the_admin_warns_too(login, superuser, department_x):
    official = make_official("clerk_x", department_x, [Role.CLERK]).official
    grant = official.roles.get()
    data = {
        "user": official.user_id,
        "department": official.department_id,
        "title": "",
        "is_active": "on",
        "roles-TOTAL_FORMS": "2",
        "roles-INITIAL_FORMS": "1",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "roles-0-id": grant.pk,
        "roles-0-official": official.pk,
        "roles-0-role": Role.CLERK,
        "roles-1-official": official.pk,
        "roles-1-role": Role.APPROVER,
    }
    url = reverse("admin:identity_official_change", args=[official.pk])
    page = login(superuser).post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert set(official.roles.values_list("role", flat=True)) == {Role.CLERK, Role.APPROVER}
    assert WARNING in page


def test_the_warning_names_every_pair_of_deciding_roles():
    assert selectors.separation_of_duties_warning([Role.CLERK]) == ""
    assert selectors.separation_of_duties_warning([Role.CLERK, Role.INSPECTOR, Role.ADMIN]) == ""
    for pair in ([Role.CLERK, Role.REVIEWER], [Role.CLERK, Role.APPROVER], [Role.REVIEWER, Role.APPROVER]):
        assert selectors.separation_of_duties_warning(pair)


@pytest.mark.parametrize("role", list(Role))
def test_the_account_page_opens_for_every_role(login, department_x, role):
    official = make_official(f"only_{role.value}", department_x, [role])
    response = login(official).get(reverse("identity:account"))
    assert response.status_code == 200
    assert str(selectors.ROLE_ABILITIES[role]) in response.content.decode()
