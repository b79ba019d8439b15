"""Identity API: who the signed-in caller is (masked), for the other apps' front ends.

Mount with ``api.add_router("/identity/", router)``. Session authentication; anonymous
callers get 401 in the project's error shape.
"""

from ninja import Router, Schema
from ninja.security import django_auth

from yiwang.identity import permissions, selectors
from yiwang.lib.masking import mask_phone

router = Router(tags=["identity"])


class EnterpriseOut(Schema):
    id: int
    name: str
    credit_code: str
    role: str
    scope: str
    valid_until: str | None


class OfficialOut(Schema):
    department_code: str
    department_name: str
    roles: list[str]


class MeOut(Schema):
    username: str
    name: str
    id_number_masked: str | None
    realname_level: int | None
    realname_level_label: str | None
    phone_masked: str
    two_factor: bool
    enterprises: list[EnterpriseOut]
    acting_enterprise_id: int | None
    official: OfficialOut | None


@router.get("/me", response=MeOut, auth=django_auth, summary="The signed-in account, masked")
def me(request):
    user = request.user
    person = selectors.person_of(user)
    official = permissions.official_of(user)
    acting = permissions.acting_enterprise(request)
    return {
        "username": user.username,
        "name": person.name if person else (user.display_name or user.username),
        "id_number_masked": person.id_number_masked if person else None,
        "realname_level": person.realname_level if person else None,
        "realname_level_label": str(person.get_realname_level_display()) if person else None,
        "phone_masked": mask_phone(person.phone if person else user.phone),
        "two_factor": user.totp_enabled,
        "enterprises": [
            {
                "id": a.enterprise.pk,
                "name": a.enterprise.name,
                "credit_code": a.enterprise.credit_code,
                "role": a.role,
                "scope": a.scope,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            }
            for a in permissions.agencies_of(user)
        ],
        "acting_enterprise_id": acting.pk if acting else None,
        "official": {
            "department_code": official.department.code,
            "department_name": official.department.name,
            "roles": sorted(permissions.roles_of(user)),
        }
        if official
        else None,
    }
