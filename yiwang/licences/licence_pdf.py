"""A licence as a sealed one-page PDF (the holder's 下载电子证照): the type, number, holder, the
claims with their Chinese labels (and English lines under them for an English reader), the
validity, the issuing department and the state, sealed by the issuing department's e-seal
(PAdES, ``seals.seal_pdf``) with the layout of the decision documents (``pdf.render``).

Decisions (docs/licences.md, "The sealed PDF of a licence"):

- **Identity numbers are masked** (the holder's and any claim that is an identity number, as
  the wallet masks them) unless the holder asks for them in full: a POST from the licence page
  after "Show personal information in full" (never in an address or the history). Names and
  the other claims are printed as they are: the PDF is the holder's own copy of the licence.
- **Only a licence that is valid now gets a sealed PDF.** A suspended, revoked or expired licence
  is refused with its state and reason (409): a sealed paper copy of a licence that is not in
  force would look like one that is, and the seal cannot be withdrawn later. The PDF prints the
  state as "有效" with the day it was made, and says the current state is checked on the
  verify page (the credential's status list), which a printed copy cannot follow.
- **Always one page** (``pdf.Document.one_page``): long values wrap and the type shrinks to fit;
  past the smallest type the longest values are cut, with a mark that the credential has them.
- Every issuance is an audit entry (``licences:licence:pdf``) with the language, whether the
  identity numbers are in full, the PDF's SHA-256 and the seal certificate's fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib

from django.db import transaction
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.identity import selectors as identity_selectors
from yiwang.lib.masking import mask_id_number
from yiwang.licences import pdf, seals, services
from yiwang.licences.models import Licence

EVENT = "licences:licence:pdf"
STATE_ZH = {
    "valid": ("有效", "Valid"),
    "expired": ("已过期", "Expired"),
    "suspended": ("已暂停", "Suspended"),
    "revoked": ("已撤销", "Revoked"),
}
FOOTER = (
    "本电子证照由%(department)s签发，加盖电子印章（PAdES），可用 PDF 阅读器或 yiwang seal-verify 核验印章；"
    "证照当前状态以一网“证照核验”（%(verify)s）为准。印章证书指纹（SHA-256）：%(fingerprint)s。",
    "Issued by the department and sealed electronically (PAdES): check the seal in a PDF reader or with "
    "yiwang seal-verify. The licence's current state is the one the yiwang verify page (%(verify)s) "
    "shows. Seal certificate fingerprint (SHA-256): %(fingerprint)s.",
)
PREVAILS = ("", "The Chinese text of this document prevails; the English lines are a courtesy translation.")


class NotInForce(seals.SealError):  # noqa: N818 - named for what is wrong
    """The licence is suspended, revoked or expired: no sealed copy is made."""

    def __init__(self, state: str, reason: str = ""):
        self.state, self.reason = state, reason
        super().__init__(state)


@dataclasses.dataclass(frozen=True)
class Issued:
    pdf: bytes
    filename: str
    sha256: str


def _is_id_number(licence: Licence, spec: dict) -> bool:
    """A claim holding a person's identity number (an enterprise's identifier is its public
    credit code)."""
    source = spec.get("from", "")
    return source == "person.id_number" or (source == "holder.identifier" and licence.holder_person_id)


def _value(value) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    return "" if value is None else str(value)


def _holder(licence: Licence, *, full: bool) -> list[pdf.Field]:
    if licence.holder_enterprise_id:
        enterprise = licence.holder_enterprise
        fields = [pdf.Field("持证主体", enterprise.name, "Holder")]
        if not any(spec["name"] == "credit_code" for spec in licence.type.claims):
            fields.append(pdf.Field("统一社会信用代码", enterprise.credit_code, "Unified social credit code"))
        return fields
    person = licence.holder_person
    number = identity_selectors.id_number_for_credential(person) if full else person.id_number_masked
    return [pdf.Field("持证人", f"{person.name}（身份证号 {number}）" if number else person.name, "Holder")]


def claim_fields(licence: Licence, *, full: bool) -> list[pdf.Field]:
    """The licence's claims in its type's order (the number and the holder are printed above)."""
    claims = services.licence_claims(licence)
    fields = []
    for spec in licence.type.claims:
        name = spec["name"]
        if name not in claims or name == "licence_number":
            continue
        text = _value(claims[name])
        if not full and _is_id_number(licence, spec):
            text = mask_id_number(text)
        fields.append(pdf.Field(spec["zh"], text, spec["en"]))
    return fields


def _validity(licence: Licence) -> str:
    start = timezone.localdate(licence.valid_from)
    if licence.valid_until is None:
        return f"自{pdf.date_zh(start)}起长期有效"
    return f"{pdf.date_zh(start)}至{pdf.date_zh(timezone.localdate(licence.valid_until))}"


def build(
    licence: Licence, *, english: bool, full: bool = False, fingerprint: str = "", verify_url: str = ""
):
    """The licence's document (raises NotInForce when it is not valid now)."""
    state = licence.effective_state
    if state != Licence.State.VALID:
        raise NotInForce(state, licence.state_reason)
    today = timezone.localdate()
    state_zh, state_en = STATE_ZH[state]
    fields = [
        pdf.Field("证照编号", licence.number, "Licence number"),
        *_holder(licence, full=full),
        *claim_fields(licence, full=full),
        pdf.Field("有效期限", _validity(licence), "Validity"),
        pdf.Field("发证机关", licence.department.name, "Issued by"),
        pdf.Field("发证日期", pdf.date_zh(timezone.localdate(licence.issued_at)), "Date of issue"),
        pdf.Field(
            "状态", f"{state_zh}（截至{pdf.date_zh(today)}）", f"State ({state_en} on the day printed)"
        ),
    ]
    paragraphs = [
        pdf.Paragraph(
            "本件为电子证照的版式文件，与电子证照具有同等效力；证照的当前状态以一网证照核验结果为准。",
            "This is the printable form of the electronic licence. Its current state is the one the "
            "yiwang verify page shows.",
        )
    ]
    if english:
        paragraphs.append(pdf.Paragraph(*PREVAILS))
    values = {"department": licence.department.name, "fingerprint": fingerprint, "verify": verify_url}
    return pdf.Document(
        title=licence.type.name_zh,
        title_en=licence.type.name_en,
        reference=f"证照编号：{licence.number}",
        issuer=licence.department.name,
        date=pdf.date_zh(today),
        date_en=pdf.date_en(today),
        fields=fields,
        paragraphs=paragraphs,
        english=english,
        footer=FOOTER[0] % values,
        footer_en=FOOTER[1] % values,
        one_page=True,
    )


def issue(
    *, licence: Licence, actor, english: bool = False, full: bool = False, verify_url: str = ""
) -> Issued:
    """Render and seal ``licence`` with its issuing department's seal, and record the issuance.
    The caller has checked the holder may have it (``permissions.get_licence_for_user``).
    Raises NotInForce for a licence not valid now, and seals.SealError (pdf.FontMissing) when it
    cannot be sealed; nothing is recorded then."""
    if licence.effective_state != Licence.State.VALID:
        raise NotInForce(licence.effective_state, licence.state_reason)
    pdf.ensure_font()  # before anything is made: a missing font refuses with nothing recorded
    department = licence.department
    seal = seals.seal_for(department)
    document = build(licence, english=english, full=full, fingerprint=seal.fingerprint, verify_url=verify_url)
    body, place = pdf.render(document)
    signed = seals.seal_pdf(
        body,
        seal=seal,
        place=place,
        stamp_pdf=pdf.seal_stamp(department.name),
        reason=document.title,
        location=department.region.name if department.region_id else "",
    )
    digest = hashlib.sha256(signed).hexdigest()
    holder_user = licence.holder_person.user if licence.holder_person_id else None
    with transaction.atomic():
        audit.record(
            actor=actor,
            event=EVENT,
            target=licence,
            subject=holder_user if holder_user is not None and holder_user != actor else None,
            data={
                "number": licence.number,
                "language": "en" if english else "zh-hans",
                "full_id_numbers": full,
                "sha256": digest,
                "seal_fingerprint": seal.fingerprint,
            },
        )
    return Issued(pdf=signed, filename=f"{licence.number}.pdf", sha256=digest)
