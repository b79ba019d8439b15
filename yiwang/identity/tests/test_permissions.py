import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from yiwang.identity import permissions
from yiwang.identity.models import Role
from yiwang.identity.permissions import can_see_full_id_number, ensure_role, has_role, require_role

CASE_ROLES = [Role.CLERK, Role.REVIEWER, Role.APPROVER]


@pytest.mark.django_db
@pytest.mark.parametrize("role", CASE_ROLES)
def test_an_officials_roles_reach_their_department_and_those_under_it_only(
    role, official_x, department_x, department_x_child, department_y
):
    assert has_role(official_x, role)
    assert has_role(official_x, role, department_x)
    assert has_role(official_x, role, department_x_child)
    assert has_role(official_x, role, department_x_child.pk)
    assert not has_role(official_x, role, department_y)


@pytest.mark.django_db
def test_a_department_above_is_not_reached_from_below(official_x, department_x, department_x_child):
    from yiwang.conftest import make_official

    county_clerk = make_official("county_clerk", department_x_child, [Role.CLERK])
    assert has_role(county_clerk, Role.CLERK, department_x_child)
    assert not has_role(county_clerk, Role.CLERK, department_x)


@pytest.mark.django_db
def test_roles_not_held_are_refused_everywhere(official_x, department_x, inspector, auditor):
    assert not has_role(official_x, Role.INSPECTOR, department_x)
    assert not has_role(official_x, Role.ADMIN)
    assert has_role(inspector, Role.INSPECTOR, department_x)
    assert not has_role(inspector, Role.CLERK, department_x)
    assert has_role(auditor, Role.AUDITOR)
    assert not has_role(auditor, Role.AUDITOR, department_x)  # another branch of the tree


@pytest.mark.django_db
def test_anonymous_citizens_and_agents_hold_no_role(citizen, agent, department_x):
    for user in (None, AnonymousUser(), citizen, agent):
        for role in Role.values:
            assert not has_role(user, role)
            assert not has_role(user, role, department_x)


@pytest.mark.django_db
def test_superusers_pass_every_role_check(superuser, department_y):
    assert all(has_role(superuser, role, department_y) for role in Role.values)
    assert permissions.departments_for(superuser, Role.CLERK) is None


@pytest.mark.django_db
def test_inactive_accounts_and_officials_lose_their_roles(official_x, department_x):
    official = official_x.official
    official.is_active = False
    official.save()
    official_x.refresh_from_db()
    assert not has_role(official_x, Role.CLERK, department_x)
    official.is_active = True
    official.save()
    official_x.refresh_from_db()
    official_x.is_active = False
    assert not has_role(official_x, Role.CLERK, department_x)


@pytest.mark.django_db
def test_departments_for_lists_the_subtree(
    official_x, department_x, department_x_child, department_y, citizen
):
    assert permissions.departments_for(official_x, Role.CLERK) == {department_x.pk, department_x_child.pk}
    assert permissions.departments_for(official_x, Role.ADMIN) == set()
    assert permissions.departments_for(citizen, Role.CLERK) == set()


@pytest.mark.django_db
def test_ensure_role_raises_permission_denied(official_x, department_x, department_y):
    ensure_role(official_x, Role.APPROVER, department_x)
    with pytest.raises(PermissionDenied):
        ensure_role(official_x, Role.APPROVER, department_y)


@pytest.mark.django_db
def test_require_role_sends_anonymous_users_to_sign_in_and_refuses_wrong_roles(
    citizen, official_x, inspector
):
    @require_role(Role.CLERK, Role.REVIEWER)
    def view(request):
        return HttpResponse("ok")

    factory = RequestFactory()

    def call(user):
        request = factory.get("/workbench")
        request.user = user
        request.session = {}
        return view(request)

    anonymous = call(AnonymousUser())
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login?next=/workbench")
    assert call(citizen).status_code == 403
    assert call(inspector).status_code == 403
    assert call(official_x).content == b"ok"


def test_require_role_needs_a_role():
    with pytest.raises(ValueError):
        require_role()


@pytest.mark.django_db
def test_only_case_officials_with_a_purpose_see_full_identity_numbers(
    official_x, official_y, inspector, auditor, dept_admin, superuser, citizen
):
    assert can_see_full_id_number(official_x, "case 12 acceptance")
    assert can_see_full_id_number(official_y, "case 13 review")
    assert not can_see_full_id_number(official_x, "")
    assert not can_see_full_id_number(official_x, "   ")
    for user in (inspector, auditor, dept_admin, superuser, citizen, AnonymousUser()):
        assert not can_see_full_id_number(user, "curiosity")


@pytest.mark.django_db
def test_only_agents_get_their_enterprises(agent, enterprise, citizen):
    assert permissions.get_enterprise_for_user(agent, enterprise.pk) == enterprise
    for user, pk in (
        (citizen, enterprise.pk),
        (AnonymousUser(), enterprise.pk),
        (agent, "x"),
        (agent, 10**9),
    ):
        with pytest.raises(Http404):
            permissions.get_enterprise_for_user(user, pk)


@pytest.mark.django_db
def test_acting_enterprise_drops_a_choice_that_is_no_longer_allowed(agent, enterprise):
    request = RequestFactory().get("/")
    request.user = agent
    request.session = {permissions.ACTING_ENTERPRISE_SESSION_KEY: enterprise.pk}
    assert permissions.acting_enterprise(request) == enterprise
    enterprise.agents.all().delete()
    assert permissions.acting_enterprise(request) is None
    assert permissions.ACTING_ENTERPRISE_SESSION_KEY not in request.session
