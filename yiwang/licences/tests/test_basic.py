from yiwang.licences import services, verify


def test_an_issued_business_licence_verifies(business_licence, trust):
    text = services.licence_credential(business_licence)
    result = verify.verify(text, trust)
    assert result.verdict == "valid", result.message
    assert result.claims["name"] == business_licence.holder_enterprise.name
    assert result.claims["business_scope"] == "餐饮服务"


def test_a_presentation_reveals_only_the_chosen_claims(dog_licence, trust, citizen):
    text = services.licence_present(licence=dog_licence, disclose=["owner"], actor=citizen)
    result = verify.verify(text, trust)
    assert result.verdict == "valid", result.message
    assert result.claims["owner"] == citizen.person.name
    assert "owner_id_number" not in result.claims
    assert "licence_number" in result.claims


def test_suspend_reinstate_revoke_show_in_the_verdict(business_licence, trust, approver_x):
    text = services.licence_credential(business_licence)
    services.licence_suspend(licence=business_licence, actor=approver_x, reason="停业整顿")
    assert verify.verify(text, trust).verdict == "suspended"
    services.licence_reinstate(licence=business_licence, actor=approver_x, reason="整改完成")
    assert verify.verify(text, trust).verdict == "valid"
    services.licence_revoke(licence=business_licence, actor=approver_x, reason="吊销")
    assert verify.verify(text, trust).verdict == "revoked"


def test_licences_signed_before_a_key_rotation_still_verify(
    business_licence, trust, department_x, types, enterprise
):
    old_kid = business_licence.issuer_key.kid
    key = services.issuer_key_rotate(department=department_x, actor="system:test", reason="定期轮换")
    assert key.kid != old_kid
    assert verify.verify(services.licence_credential(business_licence), trust).verdict == "valid"
    again = services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x,
        claims={},
        actor="system:test",
    )
    assert again.issuer_key_id == key.pk
    assert verify.verify(services.licence_credential(again), trust).verdict == "valid"
