"""Issuing and managing licences: who may, what is refused, what the audit log shows."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_person
from yiwang.identity.models import Enterprise, RealNameLevel
from yiwang.lib.uscc import make_credit_code
from yiwang.licences import jose, services, status, vault
from yiwang.licences.models import IssuerKey, Licence, StatusList


def _events(prefix="licences:"):
    return list(AuditEntry.objects.filter(event__startswith=prefix).order_by("leaf_index"))


def test_the_shipped_types_have_bilingual_labels_and_personal_claims_are_disclosures(types):
    assert {
        "business-licence",
        "individual-business-licence",
        "food-business-licence",
        "resident-identity",
        "drug-business-licence",
        "dog-registration",
    } <= set(types)
    for lt in types.values():
        assert lt.vct == f"urn:yiwang:licence:{lt.code}"
        for claim in lt.claims:
            assert claim["zh"] and claim["en"]
            assert claim["sd"] or not claim["personal"]
    assert services.licence_types_sync(actor="system:test") == 0  # idempotent


def test_issuing_records_an_audit_entry_without_personal_data(dog_licence, citizen):
    entry = AuditEntry.objects.get(event="licences:licence:issue", target_id=str(dog_licence.pk))
    assert entry.data["number"] == dog_licence.number and entry.data["kid"] == dog_licence.issuer_key.kid
    assert citizen.person.name not in str(entry.data)
    assert entry.subject_id == str(citizen.pk)


def test_claims_are_encrypted_at_rest(dog_licence, citizen):
    stored = Licence.objects.get(pk=dog_licence.pk)
    assert citizen.person.name.encode() not in bytes(stored.claims_ciphertext)
    assert citizen.person.name.encode() not in bytes(stored.credential_ciphertext)
    assert services.licence_claims(stored)["owner"] == citizen.person.name
    with pytest.raises(Exception):  # noqa: B017, PT011 — bound to its purpose
        vault.unseal(stored.claims_ciphertext, vault.CREDENTIAL_PURPOSE)


def test_an_unverified_person_gets_no_licence(types, department_gat):
    newcomer = make_person("newcomer", "孙小明", seq=77, level=RealNameLevel.SELF_DECLARED)
    with pytest.raises(services.InvalidInput) as caught:
        services.licence_issue(
            licence_type=types["dog-registration"],
            holder=newcomer,
            department=department_gat,
            claims={},
            actor="t",
        )
    assert "L2" in caught.value.message
    assert not Licence.objects.exists()


def test_a_declared_enterprise_gets_no_licence(types, department_x, region):
    declared = Enterprise.objects.create(
        name="自称公司", credit_code=make_credit_code("610100", 99), region=region
    )
    with pytest.raises(services.InvalidInput):
        services.licence_issue(
            licence_type=types["business-licence"],
            holder=declared,
            department=department_x,
            claims={},
            actor="t",
        )


def test_holder_kind_and_issuing_department_are_checked(
    types, citizen, enterprise, department_x, department_gat
):
    with pytest.raises(services.InvalidInput):
        services.licence_issue(
            licence_type=types["business-licence"],
            holder=citizen.person,
            department=department_x,
            claims={},
            actor="t",
        )
    with pytest.raises(services.InvalidInput) as caught:
        services.licence_issue(
            licence_type=types["business-licence"],
            holder=enterprise,
            department=department_gat,
            claims={},
            actor="t",
        )
    assert "不签发" in caught.value.message


def test_unknown_and_overlong_claims_are_refused(types, enterprise, department_x):
    with pytest.raises(services.InvalidInput) as caught:
        services.licence_issue(
            licence_type=types["business-licence"],
            holder=enterprise,
            department=department_x,
            claims={"colour": "red", "business_scope": "x" * 501},
            actor="t",
        )
    assert set(caught.value.errors) == {"colour", "business_scope"}
    assert not Licence.objects.exists()


def test_manual_issue_needs_an_approver_and_a_reason(types, enterprise, approver_x, official_y, inspector):
    lt = types["business-licence"]
    for outsider in (inspector,):
        with pytest.raises(PermissionDenied):
            services.licence_issue_manual(
                licence_type=lt, holder=enterprise, claims={}, reason="补发", actor=outsider
            )
    with pytest.raises(services.InvalidInput):
        services.licence_issue_manual(
            licence_type=lt, holder=enterprise, claims={}, reason=" ", actor=approver_x
        )
    licence = services.licence_issue_manual(
        licence_type=lt, holder=enterprise, claims={}, reason="纸质证照电子化", actor=approver_x
    )
    assert licence.department == approver_x.official.department and licence.issued_by == approver_x
    entry = AuditEntry.objects.get(event="licences:licence:issue", target_id=str(licence.pk))
    assert entry.data["manual"] is True


def test_only_approvers_of_the_issuing_department_change_a_licence(
    business_licence, approver_y, inspector, citizen
):
    for outsider in (approver_y, inspector, citizen):
        with pytest.raises(PermissionDenied):
            services.licence_suspend(licence=business_licence, actor=outsider, reason="x")
    business_licence.refresh_from_db()
    assert business_licence.state == "valid"


def test_a_parent_departments_approver_may_act_on_a_child_departments_licence(
    types, enterprise, department_x_child, approver_x
):
    licence = services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x_child,
        claims={},
        actor="t",
    )
    services.licence_suspend(licence=licence, actor=approver_x, reason="核查")


STATES = ["valid", "suspended", "revoked"]
VERBS = {
    "suspended": services.licence_suspend,
    "valid": services.licence_reinstate,
    "revoked": services.licence_revoke,
}


@pytest.mark.parametrize(("start", "to"), list(itertools.product(STATES, STATES)))
def test_the_transition_table(business_licence, approver_x, start, to):
    Licence.objects.filter(pk=business_licence.pk).update(state=start)
    business_licence.refresh_from_db()
    if (start, to) in services.TRANSITIONS:
        changed = VERBS[to](licence=business_licence, actor=approver_x, reason="依法处理")
        assert changed.state == to
        lst = StatusList.objects.get(pk=business_licence.status_list_id)
        assert status.get(bytes(lst.bits), business_licence.status_index) == services.STATUS_VALUE[to]
    else:
        with pytest.raises(services.WrongState):
            VERBS[to](licence=business_licence, actor=approver_x, reason="依法处理")


def test_state_changes_need_a_reason_and_are_audited(business_licence, approver_x):
    with pytest.raises(services.InvalidInput):
        services.licence_revoke(licence=business_licence, actor=approver_x, reason="")
    services.licence_revoke(licence=business_licence, actor=approver_x, reason="以欺骗手段取得")
    entry = AuditEntry.objects.get(event="licences:licence:revoke")
    assert entry.data == {
        "number": business_licence.number,
        "from": "valid",
        "to": "revoked",
        "reason": "以欺骗手段取得",
    }
    assert entry.actor_id == str(approver_x.pk)


def test_renewal_issues_a_new_licence_and_revokes_the_old(business_licence, approver_x, trust):
    from yiwang.licences import verify

    new = services.licence_renew(licence=business_licence, actor=approver_x)
    business_licence.refresh_from_db()
    assert new.replaces == business_licence and new.number != business_licence.number
    assert business_licence.state == "revoked" and new.number in business_licence.state_reason
    assert services.licence_claims(new)["business_scope"] == "餐饮服务"
    assert verify.verify(services.licence_credential(new), trust).ok
    assert verify.verify(services.licence_credential(business_licence), trust).verdict == "revoked"
    assert AuditEntry.objects.filter(event="licences:licence:renew").count() == 1


def test_key_creation_and_rotation_publish_the_thumbprint(
    business_licence, department_x, dept_admin, approver_x
):
    created = AuditEntry.objects.get(event="licences:issuer_key:create")
    key = business_licence.issuer_key
    assert created.data["thumbprint"] == key.kid == jose.thumbprint(created.data["x"])
    with pytest.raises(PermissionDenied):
        services.issuer_key_rotate(department=department_x, actor=approver_x)
    new = services.issuer_key_rotate(department=department_x, actor=dept_admin, reason="年度轮换")
    rotated = AuditEntry.objects.get(event="licences:issuer_key:rotate")
    assert rotated.data["retired_kid"] == key.kid and rotated.data["thumbprint"] == new.kid
    assert jose.thumbprint(rotated.data["x"]) == new.kid
    key.refresh_from_db()
    assert key.state == IssuerKey.State.RETIRED
    jwks = services.department_jwks(department_x)
    assert {k["kid"] for k in jwks["keys"]} == {key.kid, new.kid}


def test_status_list_tokens_are_signed_again_after_a_change_or_a_rotation(
    business_licence, approver_x, dept_admin
):
    lst = business_licence.status_list
    first = services.status_list_token(lst)
    assert services.status_list_token(lst) == first  # cached
    services.licence_suspend(licence=business_licence, actor=approver_x, reason="核查")
    lst.refresh_from_db()
    second = services.status_list_token(lst)
    assert second != first
    services.issuer_key_rotate(department=business_licence.department, actor=dept_admin)
    lst.refresh_from_db()
    third = services.status_list_token(lst)
    assert jose.Compact(third).header["kid"] != jose.Compact(second).header["kid"]


def test_holder_keys_are_public_ed25519_keys_of_the_users_own(citizen, other_citizen):
    with pytest.raises(services.InvalidInput):
        services.holder_key_register(
            user=citizen, jwk={"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, actor=citizen
        )
    with pytest.raises(services.InvalidInput):
        services.holder_key_register(
            user=citizen, jwk={"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "B" * 43}, actor=citizen
        )
    with pytest.raises(PermissionDenied):
        services.holder_key_register(
            user=citizen, jwk={"kty": "OKP", "crv": "Ed25519", "x": "A" * 43}, actor=other_citizen
        )
    first = services.holder_key_register(
        user=citizen, jwk={"kty": "OKP", "crv": "Ed25519", "x": "A" * 43}, actor=citizen
    )
    second = services.holder_key_register(
        user=citizen, jwk={"kty": "OKP", "crv": "Ed25519", "x": "B" * 43}, actor=citizen
    )
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None


def test_a_full_status_list_opens_the_next(types, enterprise, department_x, monkeypatch):
    monkeypatch.setattr(services, "STATUS_LIST_SIZE", 2)
    made = [
        services.licence_issue(
            licence_type=types["business-licence"],
            holder=enterprise,
            department=department_x,
            claims={},
            actor="t",
        )
        for _ in range(3)
    ]
    assert [(m.status_list.number, m.status_index) for m in made] == [(1, 0), (1, 1), (2, 0)]


def test_presenting_an_unknown_claim_is_refused_and_presenting_is_audited(dog_licence, citizen):
    with pytest.raises(services.InvalidInput):
        services.licence_present(licence=dog_licence, disclose=["colour"], actor=citizen)
    services.licence_present(licence=dog_licence, disclose=["owner"], actor=citizen)
    entry = AuditEntry.objects.get(event="licences:licence:present")
    assert entry.data == {"disclosed": ["owner"], "key_binding": False}


def test_the_resident_identity_credential_discloses_age_without_birth_date(
    types, citizen, department_gat, trust
):
    from yiwang.licences import verify

    licence = services.licence_issue(
        licence_type=types["resident-identity"],
        holder=citizen.person,
        department=department_gat,
        claims={},
        actor="t",
    )
    claims = services.licence_claims(licence)
    assert claims["age_over_18"] is True and claims["birth_date"] == "1990-01-01"
    text = services.licence_present(licence=licence, disclose=["age_over_18"], actor=citizen)
    result = verify.verify(text, trust)
    assert result.ok and result.claims["age_over_18"] is True and "birth_date" not in result.claims


def test_licence_types_stand_in_for_the_catalog_materials_they_replace(types):
    from yiwang.licences.selectors import licence_types_replacing

    assert [lt.code for lt in licence_types_replacing("居民身份证")] == ["resident-identity"]
    assert {lt.code for lt in licence_types_replacing("营业执照")} == {
        "business-licence",
        "individual-business-licence",
    }
    assert [lt.code for lt in licence_types_replacing("食品经营许可证")] == ["food-business-licence"]
    assert licence_types_replacing("不动产权证书") == [] and licence_types_replacing("") == []
