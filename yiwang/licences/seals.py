"""E-seals (电子印章): the deployment's own certification authority, one seal certificate per
department, PAdES signing of PDF documents and their validation.

Keys are ECDSA P-256: pyHanko validates Ed25519 seals too, but poppler's ``pdfsig`` and NSS do
not, and RSA is slower. The root is created once, on first use (or by ``yiwang seal-ca``); a
department's seal certificate is created when the department first seals something and can be
rotated (``yiwang seal-rotate``). Private keys are stored encrypted with the platform's field
encryption (``yiwang.lib.crypto``; ``yiwang rotate-keys`` re-encrypts them with everything else).
Creation and rotation are audit entries carrying the certificate's SHA-256 fingerprint, so a key
cannot be swapped silently.

Signing is PAdES B-B (``/ETSI.CAdES.detached``) with pyHanko. The signer keeps the loaded key
(pyHanko's ``SimpleSigner`` parses it again for every signature) and the signature's space is
reserved up front (otherwise pyHanko signs twice to size it). Validation uses the deployment's
root as the only trust root with fetching off, and is judged by ``intact`` and ``bottom_line``
(``valid`` alone stays true after a byte of the document changed).

This module is the licences app's service for seals: other apps (applications' decision
documents, licence PDFs) call ``seal_pdf`` / ``validate_pdf`` and nothing below them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import threading
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.lib import crypto

from .models import SealAuthority, SealCertificate

# Purposes of the encrypted private keys (bound as associated data; ENCRYPTED_FIELDS is
# registered from LicencesConfig.ready() into yiwang.core.encrypted_fields for key rotation).
AUTHORITY_KEY_PURPOSE = "licences.seal_authority.private_key"
SEAL_KEY_PURPOSE = "licences.seal_certificate.private_key"
ENCRYPTED_FIELDS = (
    ("licences.SealAuthority", "private_key_ciphertext", AUTHORITY_KEY_PURPOSE),
    ("licences.SealCertificate", "private_key_ciphertext", SEAL_KEY_PURPOSE),
)

ROOT_VALID_DAYS = 20 * 366
SEAL_VALID_DAYS = 5 * 366
ORGANIZATION = "一网政务服务平台"
ROOT_COMMON_NAME = "一网电子印章根证书"
# Room for the CMS signature (certificate chain, attributes, an ECDSA signature): measured at
# about 1.3 KB; reserved generously so a longer department name never overflows.
SIGNATURE_BYTES_RESERVED = 8192
ACTOR = "system:seals"


class SealError(Exception):
    """Sealing cannot be done; the message is for the user (in the active language)."""


# --- certificates ------------------------------------------------------------------------------


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _root_name() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_COMMON_NAME),
        ]
    )


def _seal_name(department) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, department.name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, department.code[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, department.name[:64]),
        ]
    )


def _make_root(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _root_name()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=ROOT_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_seal(
    department, root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey, now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + dt.timedelta(days=SEAL_VALID_DAYS), root.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_seal_name(department))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    return cert, key


def _certificate_fields(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, purpose: str) -> dict:
    return {
        "certificate_pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "private_key_ciphertext": crypto.encrypt(_private_pem(key), purpose),
        "fingerprint": _fingerprint(cert),
        "serial_number": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
    }


def _load_key(row, purpose: str) -> ec.EllipticCurvePrivateKey:
    """The row's private key, refused unless it belongs to the row's certificate (a ciphertext
    copied from another row decrypts under the same purpose, but does not match)."""
    key = serialization.load_pem_private_key(
        crypto.decrypt(row.private_key_ciphertext, purpose).encode("ascii"), password=None
    )
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise SealError(_("The stored seal key does not match its certificate."))
    return key


def authority() -> SealAuthority:
    """The deployment's root, created (and audited) on first use."""
    found = SealAuthority.objects.first()
    if found is not None:
        return found
    now = timezone.now()
    cert, key = _make_root(now)
    try:
        with transaction.atomic():
            root = SealAuthority.objects.create(
                subject=cert.subject.rfc4514_string(),
                created_at=now,
                **_certificate_fields(cert, key, AUTHORITY_KEY_PURPOSE),
            )
            audit.record(
                actor=ACTOR,
                event="licences:seal_authority:create",
                target=root,
                data={"fingerprint": root.fingerprint, "algorithm": "ECDSA P-256"},
            )
    except IntegrityError:  # another process made it first: use theirs
        return SealAuthority.objects.get()
    return root


def root_certificate_pem() -> str:
    """The root certificate (PEM) verifiers add to their trust store."""
    return authority().certificate_pem


def current_seal(department) -> SealCertificate | None:
    return SealCertificate.objects.filter(department=department, retired_at__isnull=True).first()


def seal_for(department) -> SealCertificate:
    """The department's current seal certificate, created (and audited) when it has none."""
    found = current_seal(department)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return _issue_seal(department, actor=ACTOR, event="licences:seal:create", data={})
    except IntegrityError:  # made at the same moment by another request
        found = current_seal(department)
        if found is None:
            raise
        return found


def seal_rotate(*, department, actor, reason: str = "") -> SealCertificate:
    """Retire the department's current seal certificate (if any) and make a new one; one audit
    entry names both fingerprints. Documents sealed before stay valid."""
    with transaction.atomic():
        old = (
            SealCertificate.objects.select_for_update()
            .filter(department=department, retired_at__isnull=True)
            .first()
        )
        if old is not None:
            old.retired_at = timezone.now()
            old.save(update_fields=["retired_at"])
        return _issue_seal(
            department,
            actor=actor,
            event="licences:seal:rotate",
            data={"previous_fingerprint": old.fingerprint if old else "", "reason": reason[:500]},
        )


def _issue_seal(department, *, actor, event: str, data: dict) -> SealCertificate:
    root_row = authority()
    root = x509.load_pem_x509_certificate(root_row.certificate_pem.encode("ascii"))
    now = timezone.now()
    cert, key = _make_seal(department, root, _load_key(root_row, AUTHORITY_KEY_PURPOSE), now)
    seal = SealCertificate.objects.create(
        department=department,
        authority=root_row,
        subject=cert.subject.rfc4514_string(),
        created_at=now,
        **_certificate_fields(cert, key, SEAL_KEY_PURPOSE),
    )
    audit.record(
        actor=actor,
        event=event,
        target=seal,
        data={
            "department": department.code,
            "fingerprint": seal.fingerprint,
            "authority_fingerprint": root_row.fingerprint,
            "algorithm": "ECDSA P-256",
            **data,
        },
    )
    return seal


# --- signing -------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _asn1_certificate(pem: str) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def _kept_key_signer_class():
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class KeptKeySigner(signers.SimpleSigner):
        """SimpleSigner that signs with a key loaded once (not parsed again per signature)."""

        def __init__(self, *, key: ec.EllipticCurvePrivateKey, **kwargs):
            super().__init__(**kwargs)
            self._key = key

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            return self._key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))

    return KeptKeySigner


_signers: dict[str, object] = {}
_signers_lock = threading.Lock()


def _signer_for(seal: SealCertificate):
    """A pyHanko signer for the seal certificate, kept per process (rows never change: a
    rotation makes a new row with a new fingerprint)."""
    signer = _signers.get(seal.fingerprint)
    if signer is not None:
        return signer
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = _load_key(seal, SEAL_KEY_PURPOSE)
    root = _asn1_certificate(seal.authority.certificate_pem)
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = _kept_key_signer_class()(
        key=key,
        signing_cert=_asn1_certificate(seal.certificate_pem),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([root]),
    )
    with _signers_lock:
        if len(_signers) > 256:
            _signers.clear()
        _signers[seal.fingerprint] = signer
    return signer


@dataclasses.dataclass(frozen=True)
class StampPlace:
    """Where the visible seal goes: page index and box (x1, y1, x2, y2) in PDF points."""

    page: int
    box: tuple[float, float, float, float]


def seal_pdf(
    pdf: bytes,
    *,
    seal: SealCertificate,
    place: StampPlace | None,
    stamp_pdf: bytes | None = None,
    reason: str = "",
    location: str = "",
) -> bytes:
    """Sign ``pdf`` as PAdES B-B with the seal certificate. With ``place`` and ``stamp_pdf``
    (a one-page PDF, see pdf.seal_stamp), the signature is visible: the stamp is its appearance,
    placed in that box. Returns the signed PDF; raises SealError for a PDF it cannot read."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    meta = signers.PdfSignatureMetadata(
        field_name="Seal",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or None,
        location=location or None,
        name=seal.department.name,
    )
    spec = style = None
    if place is not None:
        spec = fields.SigFieldSpec("Seal", on_page=place.page, box=place.box)
        if stamp_pdf is not None:
            style = StaticStampStyle(background=_BytesPdfPage(stamp_pdf), border_width=0)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = signers.PdfSigner(meta, signer=_signer_for(seal), stamp_style=style, new_field_spec=spec)
        out = io.BytesIO()
        pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES_RESERVED)
    except (PdfError, ValueError) as exc:
        raise SealError(_("This PDF cannot be sealed: %(error)s") % {"error": exc}) from exc
    return out.getvalue()


def _BytesPdfPage(data: bytes):  # noqa: N802 - a class factory (pyHanko imported lazily)
    return _bytes_page_class()(data)


@lru_cache(maxsize=1)
def _bytes_page_class():
    import binascii
    import uuid

    from pyhanko.pdf_utils import content
    from pyhanko.pdf_utils.layout import BoxConstraints
    from pyhanko.pdf_utils.reader import PdfFileReader

    class BytesPdfPage(content.PdfContent):
        """The first page of a PDF held in memory, as a form XObject (pyHanko's own
        ImportedPdfPage reads a file)."""

        def __init__(self, data: bytes):
            self.data = data
            super().__init__()

        def render(self) -> bytes:
            writer = self._ensure_writer
            xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self.data)), page_ix=0)
            name = b"/Seal" + binascii.hexlify(uuid.uuid4().bytes)
            self.resources.xobject[name.decode("ascii")] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
            return name + b" Do"

    return BytesPdfPage


# --- validation ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What validation found. ``ok``: the signature is intact, its chain ends at the
    deployment's root (bottom line) and it covers the whole file."""

    intact: bool = False
    bottom_line: bool = False
    whole_file: bool = False
    signer: str = ""
    fingerprint: str = ""
    signed_at: dt.datetime | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.bottom_line and self.whole_file and not self.error


def validate_pdf(pdf: bytes, *, trust_root_pem: str | None = None) -> Verdict:
    """Validate the first (only) signature of ``pdf`` against the deployment's root (or the
    root given), fetching off. Never raises for a bad file: the verdict says what is wrong."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    pem = trust_root_pem if trust_root_pem is not None else root_certificate_pem()
    try:
        root = _asn1_certificate(pem)
    except ValueError:
        return Verdict(error="the trust root is not a PEM certificate")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return Verdict(error="the PDF has no signature")
        embedded = signatures[-1]
        context = ValidationContext(trust_roots=[root], allow_fetching=False)
        status = validate_pdf_signature(embedded, context)
    except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        return Verdict(error=f"the PDF cannot be read: {exc}")
    cert = status.signing_cert
    coverage = getattr(status, "coverage", None)
    return Verdict(
        intact=bool(status.intact),
        bottom_line=bool(status.bottom_line),
        whole_file=coverage is not None and coverage.name == "ENTIRE_FILE",
        signer=cert.subject.native.get("common_name", "") if cert is not None else "",
        fingerprint=hashlib.sha256(cert.dump()).hexdigest() if cert is not None else "",
        signed_at=status.signer_reported_dt,
    )
