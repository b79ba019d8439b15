import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from yiwang.lib import filetypes
from yiwang.lib.filetypes import ALLOWED, sniff, sniff_file


def tiny_png() -> bytes:
    """A valid 1×1 grey PNG, built chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def tiny_pdf() -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def tiny_jpeg() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def tiny_webp() -> bytes:
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tiny_ofd() -> bytes:
    return zip_bytes(
        {
            "OFD.xml": b'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>',
            "Doc_0/Document.xml": b"<ofd:Document/>",
        }
    )


SAMPLES = {"pdf": tiny_pdf, "png": tiny_png, "jpeg": tiny_jpeg, "webp": tiny_webp, "ofd": tiny_ofd}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_allowed_kind_is_recognised_from_its_bytes(kind):
    content = SAMPLES[kind]()
    upload = SimpleUploadedFile("anything.bin", content, content_type="text/plain")
    assert sniff_file(upload) == kind
    assert kind in ALLOWED


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, id="exe"),
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", id="truncated-png"),
        pytest.param(b"%PD", id="truncated-pdf"),
        pytest.param(b"\xff\xd8\xff", id="truncated-jpeg"),
        pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt ", id="riff-wave"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif"),
        pytest.param(b"  %PDF-1.7\n", id="pdf-not-at-start"),
    ],
)
def test_other_content_is_not_recognised(content):
    assert sniff(content) is None
    assert sniff_file(SimpleUploadedFile("report.pdf", content, content_type="application/pdf")) is None


def test_html_renamed_pdf_with_pdf_content_type_is_refused():
    upload = SimpleUploadedFile("licence.pdf", b"<html><body>%PDF-1.7</body></html>", "application/pdf")
    assert sniff_file(upload) is None


def test_zip_without_ofd_xml_is_not_an_ofd():
    content = zip_bytes({"Doc_0/OFD.xml": b"<x/>", "readme.txt": b"hello"})
    assert sniff_file(SimpleUploadedFile("a.ofd", content)) is None


def test_truncated_ofd_zip_is_not_recognised():
    content = tiny_ofd()[:-30]  # the central directory is cut off
    assert sniff_file(SimpleUploadedFile("a.ofd", content)) is None


def test_zip_is_only_an_ofd_when_its_names_are_checked():
    head = tiny_ofd()[:32]
    assert sniff(head) is None
    assert sniff(head, zip_names=lambda: ["OFD.xml"]) == "ofd"
    assert sniff(head, zip_names=lambda: ["Doc_0/Document.xml"]) is None


def test_a_failing_name_lister_means_not_recognised():
    def broken():
        raise zipfile.BadZipFile("bad")

    assert sniff(b"PK\x03\x04" + b"\x00" * 28, zip_names=broken) is None


@pytest.mark.parametrize("kind", ["pdf", "ofd"])
def test_sniff_file_leaves_the_file_at_the_start(kind):
    content = SAMPLES[kind]()
    upload = SimpleUploadedFile("x", content)
    upload.read(5)
    assert sniff_file(upload) == kind
    assert upload.tell() == 0
    assert upload.read() == content


def test_sniff_file_reads_a_temporary_upload_on_disk(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    upload = TemporaryUploadedFile("doc.ofd", "application/octet-stream", 0, None)
    try:
        upload.write(tiny_ofd())
        upload.flush()
        assert sniff_file(upload) == "ofd"
        assert upload.tell() == 0
    finally:
        upload.close()


# --- the name a file is kept and served under -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("x.html", "pdf", "x.pdf"),
        ("x.hta", "pdf", "x.pdf"),
        ("照片.PNG", "jpeg", "照片.jpg"),
        ("report.pdf.exe", "pdf", "report.pdf.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\a\\evil.svg", "png", "evil.png"),
        ("", "ofd", "file.ofd"),
        (".htaccess", "webp", "file.webp"),
        ('a<b>:"c|d?*.pdf', "pdf", "abcd.pdf"),
    ],
)
def test_safe_name_takes_the_extension_from_the_detected_kind(name, kind, expected):
    assert filetypes.safe_name(name, kind) == expected


@given(st.text(max_size=400), st.sampled_from(sorted(filetypes.ALLOWED)))
def test_safe_name_always_ends_in_the_kinds_extension_and_stays_in_one_folder(name, kind):
    safe = filetypes.safe_name(name, kind)
    assert safe.endswith("." + filetypes.EXTENSIONS[kind]) and len(safe) <= 200
    assert not any(c in safe for c in '/\\\x00\n\r"')
    assert safe.rsplit(".", 1)[0].strip(" .")
