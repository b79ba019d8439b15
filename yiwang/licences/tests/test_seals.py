"""E-seals: the deployment's CA, departments' seal certificates, PAdES signing and validation
(pyHanko and poppler's pdfsig), the visible stamp and the embedded font."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader

from yiwang.audit.models import AuditEntry
from yiwang.core import encrypted_fields
from yiwang.lib import crypto
from yiwang.licences import pdf, seals
from yiwang.licences.models import SealAuthority, SealCertificate

pytestmark = pytest.mark.django_db

needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None,
    reason="pdfsig (poppler-utils) and certutil (libnss3-tools) are needed",
)


def a_document(**extra) -> pdf.Document:
    values = {
        "title": "准予行政许可决定书",
        "title_en": "Decision to grant an administrative licence",
        "reference": "西市监许〔2026〕610100-20261201-0001号",
        "issuer": "西安市市场监督管理局",
        "date": "2026年12月1日",
        "date_en": "1 December 2026",
        "fields": [
            pdf.Field("申请人", "张三", "Applicant"),
            pdf.Field("事项", "食品经营许可（新办）", "Service"),
        ],
        "paragraphs": [
            pdf.Paragraph("经审查，决定准予行政许可。", "Having examined the application, we grant it.")
        ],
    }
    return pdf.Document(**(values | extra))


def sealed(department, document: pdf.Document | None = None) -> bytes:
    body, place = pdf.render(document or a_document())
    return seals.seal_pdf(
        body,
        seal=seals.seal_for(department),
        place=place,
        stamp_pdf=pdf.seal_stamp(department.name),
        reason="准予许可决定",
    )


def flip_a_signed_byte(data: bytes) -> bytes:
    """Change one byte inside the signed range (in the first content stream), not the signature."""
    at = data.index(b"stream", 200) + 40
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


# --- the CA and the seal certificates ---------------------------------------------------------


def test_the_root_is_made_once_p256_encrypted_at_rest_and_audited():
    root = seals.authority()
    assert seals.authority().pk == root.pk
    assert SealAuthority.objects.count() == 1
    cert = x509.load_pem_x509_certificate(root.certificate_pem.encode())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" not in bytes(root.private_key_ciphertext)
    assert "PRIVATE KEY" in crypto.decrypt(root.private_key_ciphertext, seals.AUTHORITY_KEY_PURPOSE)
    entry = AuditEntry.objects.get(event="licences:seal_authority:create")
    assert entry.data["fingerprint"] == root.fingerprint


def test_key_rotation_covers_the_seal_keys():
    registered = set(encrypted_fields.registered())
    assert ("licences.SealAuthority", "private_key_ciphertext", seals.AUTHORITY_KEY_PURPOSE) in registered
    assert ("licences.SealCertificate", "private_key_ciphertext", seals.SEAL_KEY_PURPOSE) in registered


def test_a_department_seal_has_its_chinese_name_and_seal_key_usage(department_x):
    seal = seals.seal_for(department_x)
    assert seals.seal_for(department_x).pk == seal.pk
    cert = x509.load_pem_x509_certificate(seal.certificate_pem.encode())
    common_name = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    assert common_name == "西安市市场监督管理局"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.issuer == x509.load_pem_x509_certificate(seal.authority.certificate_pem.encode()).subject
    entry = AuditEntry.objects.get(event="licences:seal:create")
    assert entry.data["fingerprint"] == seal.fingerprint
    assert entry.data["department"] == department_x.code


def test_rotation_retires_the_old_seal_audits_both_and_old_documents_still_validate(department_x, official_x):
    before = sealed(department_x)
    old = seals.seal_for(department_x)
    new = seals.seal_rotate(department=department_x, actor=official_x, reason="scheduled")
    old.refresh_from_db()
    assert old.retired_at is not None and new.retired_at is None and new.fingerprint != old.fingerprint
    assert seals.seal_for(department_x).pk == new.pk
    entry = AuditEntry.objects.get(event="licences:seal:rotate")
    assert entry.data["previous_fingerprint"] == old.fingerprint
    assert entry.data["fingerprint"] == new.fingerprint
    assert seals.validate_pdf(before).ok
    after = seals.validate_pdf(sealed(department_x))
    assert after.ok and after.fingerprint == new.fingerprint


def test_a_key_copied_from_another_row_is_refused(department_x, department_y):
    x, y = seals.seal_for(department_x), seals.seal_for(department_y)
    SealCertificate.objects.filter(pk=x.pk).update(private_key_ciphertext=y.private_key_ciphertext)
    x.refresh_from_db()
    seals._signers.pop(x.fingerprint, None)
    with pytest.raises(seals.SealError):
        seals.seal_pdf(pdf.render(a_document())[0], seal=x, place=None)


# --- signing and validation ---------------------------------------------------------------------


def test_a_sealed_document_validates_in_pyhanko(department_x):
    verdict = seals.validate_pdf(sealed(department_x))
    assert verdict.intact and verdict.bottom_line and verdict.whole_file and verdict.ok
    assert verdict.signer == "西安市市场监督管理局"
    assert verdict.fingerprint == seals.seal_for(department_x).fingerprint


def test_one_changed_byte_is_caught(department_x):
    verdict = seals.validate_pdf(flip_a_signed_byte(sealed(department_x)))
    assert not verdict.intact and not verdict.ok


def test_another_root_is_not_trusted(department_x):
    other_cert, _key = seals._make_root(seals.timezone.now())
    from cryptography.hazmat.primitives import serialization

    other = other_cert.public_bytes(serialization.Encoding.PEM).decode()
    verdict = seals.validate_pdf(sealed(department_x), trust_root_pem=other)
    assert verdict.intact and not verdict.bottom_line and not verdict.ok


@pytest.mark.parametrize(
    "data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF\n", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"]
)
def test_bad_files_get_a_verdict_not_an_exception(data):
    verdict = seals.validate_pdf(data)
    assert not verdict.ok and verdict.error


def test_an_unsigned_pdf_is_not_ok(department_x):
    verdict = seals.validate_pdf(pdf.render(a_document())[0])
    assert not verdict.ok and "no signature" in verdict.error


def test_sealing_a_broken_pdf_is_a_seal_error(department_x):
    with pytest.raises(seals.SealError):
        seals.seal_pdf(b"%PDF-1.7 broken", seal=seals.seal_for(department_x), place=None)


def tool(name: str, *args: str, check: bool = True) -> str:
    """Run one of the fixed command-line tools (certutil, pdfsig) on the test's own files."""
    done = subprocess.run([name, *args], capture_output=True, text=True, check=check)  # noqa: S603
    return done.stdout


@needs_pdfsig
def test_pdfsig_trusts_the_seal_and_catches_a_changed_byte(department_x, tmp_path):
    document = sealed(department_x)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(document)
    bad.write_bytes(flip_a_signed_byte(document))
    root = tmp_path / "root.pem"
    call_command("seal_ca", "--out", str(root))
    db = tmp_path / "nss"
    db.mkdir()
    tool("certutil", "-N", "-d", f"sql:{db}", "--empty-password")
    tool("certutil", "-A", "-d", f"sql:{db}", "-n", "yiwang-seal-root", "-t", "CT,C,C", "-i", str(root))

    def pdfsig(path: Path) -> str:
        return tool("pdfsig", "-nssdir", f"sql:{db}", str(path), check=False)

    report = pdfsig(good)
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." in report
    assert "西安市市场监督管理局" in report
    assert "Total document signed" in report
    assert "Digest Mismatch." in pdfsig(bad)


# --- the document itself ------------------------------------------------------------------------


def font_names(data: bytes) -> list[tuple[str, bool]]:
    """(base font name, embedded) for every font of every page and of the seal's appearance."""
    reader = PdfFileReader(__import__("io").BytesIO(data))
    found = []

    def walk(resources):
        fonts = resources.get("/Font")
        for font in (fonts.get_object() if fonts is not None else {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            found.append((str(font["/BaseFont"]), embedded))
        xobjects = resources.get("/XObject")
        for xobject in (xobjects.get_object() if xobjects is not None else {}).values():
            xobject = xobject.get_object()
            if "/Resources" in xobject:
                walk(xobject["/Resources"].get_object())

    for page in range(len(reader.root["/Pages"]["/Kids"])):
        page_obj = reader.root["/Pages"]["/Kids"][page].get_object()
        walk(page_obj["/Resources"].get_object())
        for annot in page_obj.get("/Annots") or []:
            appearance = annot.get_object().get("/AP")
            if appearance is not None:
                normal = appearance.get_object()["/N"].get_object()
                if "/Resources" in normal:
                    walk(normal["/Resources"].get_object())
    return found


def test_the_chinese_font_is_embedded_as_a_subset_and_no_font_is_left_out(department_x):
    fonts = font_names(sealed(department_x))
    assert fonts, "no fonts found"
    assert all(embedded for _name, embedded in fonts), fonts
    assert all(re.match(r"/[A-Z]{6}\+", name) for name, _ in fonts), fonts  # subsets
    assert any("WenQuanYi" in name for name, _ in fonts)


def test_the_seal_is_a_visible_signature_over_the_issuer(department_x):
    document = sealed(department_x)
    reader = PdfFileReader(__import__("io").BytesIO(document))
    annots = reader.root["/Pages"]["/Kids"][0].get_object()["/Annots"]
    widget = next(a.get_object() for a in annots if a.get_object().get("/FT") == "/Sig")
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert x2 - x1 > 100 and y2 - y1 > 100  # the stamp's size, not an invisible field
    assert "/AP" in widget


def test_the_stamp_is_red_vector_graphics_with_the_name():
    stamp = pdf.seal_stamp("西安市市场监督管理局")
    assert stamp.startswith(b"%PDF")
    assert pdf.seal_stamp("西安市市场监督管理局") is stamp  # cached
    page = PdfFileReader(__import__("io").BytesIO(stamp)).root["/Pages"]["/Kids"][0].get_object()
    content = page["/Contents"].get_object().data
    assert b".84 .09 .11 RG" in content  # the red ring's stroke colour
    assert content.count(b"Tj") >= len("西安市市场监督管理局")  # one glyph at a time along the arc


def test_a_missing_font_is_refused_with_the_debian_package_named(settings, tmp_path):
    settings.DOCUMENT_FONT_FILE = tmp_path / "absent.ttc"
    with pytest.raises(pdf.FontMissing) as refused:
        pdf.render(a_document())
    assert "fonts-wqy-zenhei" in str(refused.value)


def test_a_file_that_is_no_font_is_refused_too(settings, tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all")
    settings.DOCUMENT_FONT_FILE = bogus
    with pytest.raises(pdf.FontMissing):
        pdf.ensure_font()


def test_long_and_odd_text_renders(department_x):
    document = a_document(
        paragraphs=[pdf.Paragraph("理由：" + "材料不齐全<script>&" * 200, "Reason " * 300)], english=True
    )
    assert seals.validate_pdf(sealed(department_x, document)).ok


# --- the command --------------------------------------------------------------------------------


def test_seal_ca_prints_the_root(capsys):
    call_command("seal_ca")
    out = capsys.readouterr().out
    assert out.startswith("-----BEGIN CERTIFICATE-----")
    assert out.strip() == seals.root_certificate_pem().strip()


def test_seal_rotate_command_rotates_and_refuses_an_unknown_code(department_x):
    from io import StringIO

    from django.core.management.base import CommandError

    old = seals.seal_for(department_x)
    out = StringIO()
    call_command("seal_rotate", department_x.code, "--reason", "yearly", stdout=out)
    new = seals.current_seal(department_x)
    assert new.pk != old.pk and new.fingerprint in out.getvalue()
    with pytest.raises(CommandError, match="No department"):
        call_command("seal_rotate", "no-such-department")


def test_seal_verify_command(department_x, tmp_path):
    from io import StringIO

    from django.core.management.base import CommandError

    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    document = sealed(department_x)
    good.write_bytes(document)
    bad.write_bytes(flip_a_signed_byte(document))
    out = StringIO()
    call_command("seal_verify", str(good), stdout=out)
    assert "The seal is valid." in out.getvalue()
    with pytest.raises(CommandError, match="does not validate"):
        call_command("seal_verify", str(bad), stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("seal_verify", str(tmp_path / "absent.pdf"))
