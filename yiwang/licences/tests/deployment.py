"""Set-up and actions of one deployment in the two-deployment test (test_two_deployments.py).

Run in a process of its own with that deployment's settings (its own database, public URL and
var folder), never in the test process: ``python -m yiwang.licences.tests.deployment ACTION ...``.
Prints one line of JSON. Writes go through the same services the pages and commands use.

    setup                   a region, two police departments (610100-GAT, 610102-GAT) with an
                            approver each, a verified (L2) holder and the shipped licence types
    issue CODE              department CODE issues a dog registration to the holder, by hand
    revoke NUMBER           the issuing department's approver revokes the licence
    swap-key CODE           replace CODE's signing key in the database behind the platform's back
                            (what an intruder with database access would do): no audit entry
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main(argv: list[str]) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from yiwang.identity import pii
    from yiwang.identity.models import (
        Department,
        Official,
        Person,
        RealNameLevel,
        Region,
        Role,
        RoleGrant,
        User,
    )
    from yiwang.lib.idnumbers import make_id_number
    from yiwang.licences import services
    from yiwang.licences.models import Licence, LicenceType

    action, args = argv[0], argv[1:]
    if action == "setup":
        with transaction.atomic():
            province, _ = Region.objects.get_or_create(
                code="610000", defaults={"name": "陕西省", "level": Region.Level.PROVINCE}
            )
            city, _ = Region.objects.get_or_create(
                code="610100", defaults={"name": "西安市", "level": Region.Level.CITY, "parent": province}
            )
            county, _ = Region.objects.get_or_create(
                code="610102", defaults={"name": "新城区", "level": Region.Level.COUNTY, "parent": city}
            )
            for code, name, region in (
                ("610100-GAT", "西安市公安局", city),
                ("610102-GAT", "西安市公安局新城分局", county),
            ):
                department, _ = Department.objects.get_or_create(
                    code=code, defaults={"name": name, "region": region, "phone": "029-12345"}
                )
                user = User.objects.create_user(
                    username=f"approver-{code}", password=None, email=f"approver-{code.lower()}@example.org"
                )
                official = Official.objects.create(user=user, department=department, title="")
                RoleGrant.objects.create(official=official, role=Role.APPROVER)
            holder = User.objects.create_user(username="holder", password=None, email="holder@example.org")
            Person.objects.create(
                user=holder,
                name="张演示",
                phone="13800001111",
                realname_level=RealNameLevel.REGISTER,
                verified_at=timezone.now(),
                **pii.id_number_fields(make_id_number("610102", dt.date(1990, 1, 1), 11)),
            )
        services.licence_types_sync(actor="system:setup")
        return {"ok": True}
    if action == "issue":
        code = args[0]
        department = Department.objects.get(code=code)
        licence = services.licence_issue_manual(
            licence_type=LicenceType.objects.get(code="dog-registration"),
            holder=Person.objects.get(user__username="holder"),
            claims={"keeping_address": "西安市新城区演示路1号", "dog": "中华田园犬，黄色"},
            reason="两地互认测试",
            actor=User.objects.get(username=f"approver-{department.code}"),
        )
        return {"number": licence.number, "credential": services.licence_credential(licence)}
    if action == "revoke":
        licence = Licence.objects.select_related("department").get(number=args[0])
        services.licence_revoke(
            licence=licence,
            actor=User.objects.get(username=f"approver-{licence.department.code}"),
            reason="测试吊销",
        )
        return {"state": "revoked"}
    if action == "swap-key":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from yiwang.licences import jose, vault
        from yiwang.licences.models import IssuerKey

        private = Ed25519PrivateKey.generate()
        x = jose.public_x(private)
        key = IssuerKey.objects.get(department__code=args[0], state=IssuerKey.State.ACTIVE)
        IssuerKey.objects.filter(pk=key.pk).update(  # behind the services' back: no audit entry
            kid=jose.thumbprint(x),
            public_x=x,
            private_ciphertext=vault.seal(jose.b64e(private.private_bytes_raw()), vault.KEY_PURPOSE),
        )
        return {"kid": jose.thumbprint(x)}
    raise SystemExit(f"unknown action {action!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False))  # noqa: T201
