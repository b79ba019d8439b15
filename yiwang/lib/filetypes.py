"""What an uploaded file really is, told by its first bytes.

Never trust a file's name or the content type the browser claims: a page renamed ``.pdf`` must
not be stored and later served as a PDF. Only the kinds in ``ALLOWED`` are recognised.
"""

import re
import zipfile
from collections.abc import Callable, Iterable

ALLOWED: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "ofd": "application/ofd",  # GB/T 33190 electronic documents: a zip with OFD.xml at its root
}

# The extension a file of each kind is stored and served under, whatever its uploaded name said.
EXTENSIONS: dict[str, str] = {"pdf": "pdf", "png": "png", "jpeg": "jpg", "webp": "webp", "ofd": "ofd"}

HEAD_SIZE = 32  # enough for every signature below
_PDF_RE = re.compile(rb"%PDF-[12]\.[0-9]")
_PNG = b"\x89PNG\r\n\x1a\n"
_ZIP = b"PK\x03\x04"


def sniff(head: bytes, *, zip_names: Callable[[], Iterable[str]] | None = None) -> str | None:
    """The kind (a key of ``ALLOWED``) of a file starting with ``head``, or None.

    A zip is only an OFD when ``zip_names`` (called lazily, may raise) lists ``OFD.xml`` at the
    root; without it a zip is not recognised."""
    if _PDF_RE.match(head):
        return "pdf"
    if head.startswith(_PNG) and head[12:16] == b"IHDR":
        return "png"
    # Start of image, then the marker of the first segment (APPn, DQT, SOFn...).
    if len(head) >= 4 and head[:3] == b"\xff\xd8\xff" and 0xC0 <= head[3] <= 0xFE:
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
        return "webp"
    if head.startswith(_ZIP) and zip_names is not None:
        try:
            names = list(zip_names())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
            return None
        if any(isinstance(n, str) and n.lower() == "ofd.xml" for n in names):
            return "ofd"
    return None


def sniff_file(f) -> str | None:
    """``sniff`` for a Django UploadedFile or binary file object; leaves it at position 0.

    For a zip only the central directory is read (nothing is decompressed), and a damaged zip
    is simply not recognised."""

    def zip_names() -> list[str]:
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            return archive.namelist()

    try:
        f.seek(0)
        head = f.read(HEAD_SIZE)
        if not isinstance(head, bytes):
            return None
        return sniff(head, zip_names=zip_names)
    finally:
        f.seek(0)


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(name: str, kind: str, *, max_length: int = 200) -> str:
    """``name`` with its extension replaced by the one of the detected ``kind``.

    A PDF uploaded as ``x.html`` or ``x.hta`` is named ``x.pdf``: a browser or desktop that
    opens a download by its extension then opens what the file really is. Path separators,
    control and reserved characters are dropped; an empty stem becomes ``file``."""
    extension = EXTENSIONS.get(kind, "bin")
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE_NAME.sub("", stem).strip(" .") or "file"
    return f"{stem[: max_length - len(extension) - 1]}.{extension}"
