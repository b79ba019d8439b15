"""Benchmark of e-seals: sealing a decision document (PAdES B-B, ECDSA P-256) per page.

    python bench/bench_seals.py [--rounds 200]

Measured in one run, side by side: a raw ECDSA P-256 signature of ``cryptography`` (the floor
no PDF signature can beat), rendering alone (reportlab with the embedded Chinese subset),
sealing alone (pyHanko with the kept key and reserved bytes), pyHanko's stock path (its
SimpleSigner parsing the key each time and signing twice to size the signature) for
comparison, the whole issuance (render + seal), a three-page document's sealing time per page,
and validation (intact and bottom line against the deployment's root). The target is under
50 ms a page. A temporary database (SQLite, or a throwaway PostgreSQL database with
DATABASE_URL) holds the CA and the seal. Output is a markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated  # noqa: E402 — after the path set-up

TARGET_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=200, help="samples per measure")
    args, _unknown = parser.parse_known_args()  # run_all.py passes every script the same arguments
    return run_isolated("seals", run, args)


def _samples(fn, n: int) -> list[float]:
    for _ in range(min(10, n)):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(args) -> int:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.core.management import call_command

    from yiwang.identity.models import Department, Region
    from yiwang.licences import pdf, seals

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code="610100", name="西安市", level="city")
    department = Department.objects.create(code="610100-SCJG", name="西安市市场监督管理局", region=region)
    seal = seals.seal_for(department)
    stamp = pdf.seal_stamp(department.name)
    reason = "准予行政许可决定书"

    def document(repeat: int = 1) -> pdf.Document:
        text = (
            "你于2026年12月1日提出的“食品经营许可（新办）”申请（案件编号 610100-20261201-000001），经审查，"
            "符合法定条件、标准，根据《中华人民共和国行政许可法》第三十八条第一款的规定，本机关决定准予行政许可。"
        )
        return pdf.Document(
            title="准予行政许可决定书",
            title_en="Decision to grant an administrative licence",
            reference="文书编号：610100-20261201-000001-ZY",
            issuer=department.name,
            date="2026年12月1日",
            date_en="1 December 2026",
            english=True,
            fields=[
                pdf.Field("案件编号", "610100-20261201-000001", "Case number"),
                pdf.Field("办理事项", "食品经营许可（新办）", "Service"),
                pdf.Field("申请人", "张三（身份证号 610102********0012）", "Applicant"),
                pdf.Field("作出决定机关", department.name, "Deciding department"),
            ],
            paragraphs=[pdf.Paragraph(text, "Having examined your application, we grant it.")] * repeat,
            footer="本文书加盖电子印章，可用 PDF 阅读器核验。",
        )

    one, place = pdf.render(document())
    three, place3 = pdf.render(document(22))
    from pyhanko.pdf_utils.reader import PdfFileReader

    pages3 = int(PdfFileReader(io.BytesIO(three)).root["/Pages"]["/Count"])
    signed = seals.seal_pdf(one, seal=seal, place=place, stamp_pdf=stamp, reason=reason)

    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(b"x" * 4096).digest()
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    n = args.rounds
    raw = _samples(lambda: key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))), n * 5)
    render = _samples(lambda: pdf.render(document()), n)
    sealing = _samples(lambda: seals.seal_pdf(one, seal=seal, place=place, stamp_pdf=stamp, reason=reason), n)
    whole = _samples(
        lambda: seals.seal_pdf(
            pdf.render(document())[0], seal=seal, place=place, stamp_pdf=stamp, reason=reason
        ),
        n,
    )
    three_pages = _samples(
        lambda: seals.seal_pdf(three, seal=seal, place=place3, stamp_pdf=stamp, reason=reason),
        max(20, n // 4),
    )
    validate = _samples(lambda: seals.validate_pdf(signed), n)
    assert seals.validate_pdf(signed).ok

    # pyHanko's stock path: SimpleSigner (the key parsed again per signature), no bytes_reserved
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    stock_signer = signers.SimpleSigner(
        signing_cert=seals._signer_for(seal).signing_cert,
        signing_key=seals._signer_for(seal).signing_key,
        cert_registry=seals._signer_for(seal).cert_registry,
    )

    def stock():
        meta = signers.PdfSignatureMetadata(field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES)
        signers.PdfSigner(
            meta,
            signer=stock_signer,
            stamp_style=StaticStampStyle(background=seals._BytesPdfPage(stamp), border_width=0),
            new_field_spec=fields.SigFieldSpec("Seal", on_page=0, box=place.box),
        ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(one)), output=io.BytesIO())

    stock_ms = _samples(stock, max(20, n // 4))

    def row(name, samples, compared="", per=1):
        med = statistics.median(samples) / per
        digits = 3 if med < 1 else 1
        return (name, f"{med:.{digits}f} ms", f"{pct(samples, 0.95) / per:.{digits}f} ms", compared)

    raw_med = statistics.median(raw)
    seal_med = statistics.median(sealing)
    rows = [
        row("raw ECDSA P-256 sign (cryptography), the floor", raw),
        row("render one page (reportlab, embedded CJK subset)", render),
        row(
            "seal one page (pyHanko PAdES B-B, kept key, reserved bytes)",
            sealing,
            f"{seal_med / raw_med:.0f}× the raw signature; target < {TARGET_MS:.0f} ms",
        ),
        row("pyHanko stock path (key parsed per call, signs twice)", stock_ms, "for comparison"),
        row(
            "render + seal one page (an issuance, without the audit entry)",
            whole,
            f"target < {TARGET_MS:.0f} ms",
        ),
        row(f"seal a {pages3}-page document, per page", three_pages, f"{pages3} pages", per=pages3),
        row("validate (pyHanko: intact, bottom line, whole file)", validate),
    ]
    print(  # noqa: T201
        f"Seals, {os.environ.get('DATABASE_URL', '').split(':')[0] or 'sqlite'}; {n} rounds; "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores; one page {len(signed) // 1024} KB sealed\n"
    )
    print("| measure | median | p95 | compared with |")  # noqa: T201
    print("|---|---|---|---|")  # noqa: T201
    for r in rows:
        print("| " + " | ".join(r) + " |")  # noqa: T201
    return 0 if statistics.median(whole) < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
