"""Electronic licences benchmark: verification beside raw Ed25519, issuance, sizes.

    .venv/bin/python bench/bench_licences.py [--n 2000]          # SQLite (temporary file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_licences.py

In a throwaway database (see benchkit): the licence types, a department, a verified person with a
wallet key and a register enterprise. Then, alternating in one loop so machine noise falls on
all alike:

1. verifying a presentation of three claims with a key-binding JWT (two Ed25519 signatures) with
   the offline trust store (keys and a decoded status list in memory: what `yiwang verify-licence`
   and a cached web verifier do), and the same without key binding;
2. one raw Ed25519 signature verification of ``cryptography`` over a message of the credential's size
   (the aim: verification with key binding at least a third of this rate; two signatures make a
   half the ceiling);
3. verification through the database trust store (the public verify page and API: keys and status
   list read from the database for each request).

Then issuance (``licence_issue``: claims, signing, encryption at rest, status index, audit entry,
each its own transaction) and signing alone, and the sizes of a presentation and of a status list
of 1,000,000 licences with 1 % revoked.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated  # noqa: E402 — after the path set-up


def _setup():
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.utils import timezone

    from yiwang.identity import pii
    from yiwang.identity.models import Department, Enterprise, Person, RealNameLevel, Region, User
    from yiwang.lib.idnumbers import make_id_number
    from yiwang.lib.uscc import make_credit_code
    from yiwang.licences import jose, services

    region = Region.objects.create(code="610100", name="西安市", level="city")
    scjg = Department.objects.create(code="610100-SCJG", name="西安市市场监督管理局", region=region)
    gat = Department.objects.create(code="610100-GAT", name="西安市公安局", region=region)
    user = User.objects.create_user(username="holder", password="x" * 12)  # noqa: S106
    person = Person.objects.create(
        user=user,
        name="张三",
        realname_level=RealNameLevel.REGISTER,
        verified_at=timezone.now(),
        **pii.id_number_fields(make_id_number("610102", __import__("datetime").date(1990, 5, 17), 131)),
    )
    enterprise = Enterprise.objects.create(
        name="西安演示餐饮管理有限公司",
        credit_code=make_credit_code("610100", 1),
        legal_representative="王五",
        address="西安市雁塔区演示路1号",
        source=Enterprise.Source.REGISTER,
    )
    services.licence_types_sync(actor="system:bench")
    holder_key = Ed25519PrivateKey.generate()
    services.holder_key_register(user=user, jwk=jose.public_jwk(jose.public_x(holder_key)), actor=user)
    return {"scjg": scjg, "gat": gat, "person": person, "enterprise": enterprise, "holder_key": holder_key}


def _static_trust():
    from yiwang.licences import offline
    from yiwang.licences.verify import StaticTrust

    snap = offline.snapshot()
    return StaticTrust(snap["issuers"], snap["status_lists"])


def run(args) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.db import connection

    from yiwang.licences import jose, services, status, verify
    from yiwang.licences.models import LicenceType
    from yiwang.licences.selectors import DatabaseTrust

    env = _setup()
    lt = {t.code: t for t in LicenceType.objects.all()}
    dog = services.licence_issue(
        licence_type=lt["dog-registration"],
        holder=env["person"],
        department=env["gat"],
        claims={"keeping_address": "西安市雁塔区演示路8号", "dog": "中华田园犬，黄色，2岁"},
        actor="system:bench",
    )
    now = int(time.time())
    kb_text = services.licence_present(
        licence=dog,
        disclose=["owner", "dog", "keeping_address"],
        actor="system:bench",
        aud="https://verifier.example",
        nonce="n-1",
        holder_key=env["holder_key"],
    )
    plain_text = kb_text[: kb_text.rindex("~") + 1]
    trust = _static_trust()
    assert verify.verify(kb_text, trust, expected_nonce="n-1", now=now).key_binding
    assert verify.verify(plain_text, trust, now=now).ok
    assert verify.verify(kb_text, DatabaseTrust(), expected_nonce="n-1", now=now).ok

    raw_key = Ed25519PrivateKey.generate()
    raw_pub = raw_key.public_key()
    message = plain_text.split("~")[0].rsplit(".", 1)[0].encode("ascii")
    signature = raw_key.sign(message)

    n = args.n
    times = {"kb": [], "plain": [], "raw": [], "db": []}
    clock = time.perf_counter
    for i in range(n):
        t0 = clock()
        verify.verify(kb_text, trust, expected_nonce="n-1", now=now)
        t1 = clock()
        raw_pub.verify(signature, message)
        t2 = clock()
        verify.verify(plain_text, trust, now=now)
        t3 = clock()
        times["kb"].append(t1 - t0)
        times["raw"].append(t2 - t1)
        times["plain"].append(t3 - t2)
        if i % 4 == 0:  # the database path is slower: a quarter as many samples
            t4 = clock()
            verify.verify(kb_text, DatabaseTrust(), expected_nonce="n-1", now=now)
            times["db"].append(clock() - t4)

    # Issuance: end to end (own transaction each), and signing alone.
    issue_times = []
    for _ in range(args.issue):
        t0 = clock()
        services.licence_issue(
            licence_type=lt["business-licence"],
            holder=env["enterprise"],
            department=env["scjg"],
            claims={"business_scope": "餐饮服务"},
            actor="system:bench",
        )
        issue_times.append(clock() - t0)
    key = dog.issuer_key
    claims = services.licence_claims(dog)
    sign_times = []
    for _ in range(args.issue):
        t0 = clock()
        services._sign(licence=dog, claims=claims, key=key, holder_jwk=dog.holder_jwk)
        sign_times.append(clock() - t0)

    # Sizes.
    size = 1_000_000
    bits = bytearray(status.empty(size))
    import random

    rng = random.Random(7)
    for idx in rng.sample(range(size), size // 100):
        byte, shift = idx * 2 // 8, (idx * 2) % 8
        bits[byte] |= status.INVALID << shift
    lst_len = len(status.encode(bytes(bits)))

    def rate(values):
        return 1 / statistics.median(values)

    def us(values, p95=False):
        text = f"{rate(values):,.0f}/s ({statistics.median(values) * 1e6:.0f} µs"
        return text + (f", p95 {pct(values, 0.95) * 1e6:.0f} µs)" if p95 else ")")

    r_kb, r_plain, r_raw, r_db = (rate(times[k]) for k in ("kb", "plain", "raw", "db"))
    print(  # noqa: T201
        f"\nbench_licences: {platform.python_implementation()} {platform.python_version()}, "
        f"{connection.vendor}, n={n}, issue={args.issue}\n"
    )
    issue_ms = f"{statistics.median(issue_times) * 1e3:.2f} ms, p95 {pct(issue_times, 0.95) * 1e3:.2f} ms"
    rows = [
        (
            "verify presentation, 3 claims + key binding (2 signatures), offline trust store",
            us(times["kb"], p95=True),
            f"**{r_kb / r_raw:.2f}** of raw (aim ≥ 0.33)",
        ),
        (
            "verify presentation, 3 claims, no key binding (1 signature)",
            us(times["plain"]),
            f"{r_plain / r_raw:.2f} of raw",
        ),
        ("raw Ed25519 verify (`cryptography`), same run", us(times["raw"]), "1.00"),
        (
            "verify with key binding, database trust store (verify page / API)",
            us(times["db"], p95=True),
            f"{r_db / r_raw:.2f} of raw",
        ),
        (
            "issue (`licence_issue`: sign, encrypt, status index, audit; own transaction)",
            f"{rate(issue_times):,.0f}/s ({issue_ms})",
            "",
        ),
        ("sign only (SD-JWT VC, 5 disclosures, through the sd-jwt library)", us(sign_times), ""),
        (
            "presentation of 3 claims with key binding",
            f"{len(kb_text):,} bytes",
            f"without key binding {len(plain_text):,} bytes",
        ),
        (
            "status list of 1,000,000 licences, 1 % revoked (2 bits each, ZLIB, base64url)",
            f"{lst_len / 1024:,.1f} KiB",
            f"uncompressed {size * 2 // 8 // 1024:,} KiB",
        ),
    ]
    print("| measure | result | compared with |\n|---|---|---|")  # noqa: T201
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")  # noqa: T201
    _ = jose  # imported for the reader: the verifier's signature checks are jose.Compact.verify
    return 0 if r_kb / r_raw >= 1 / 3 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="verifications of each kind")
    parser.add_argument("--issue", type=int, default=300, help="licences issued")
    args, _unknown = parser.parse_known_args()
    return run_isolated("licences", run, args)


if __name__ == "__main__":
    raise SystemExit(main())
