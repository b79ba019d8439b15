"""The sealed PDF of a licence (licence_pdf.py, pdf_views.py): who gets it, what it says, the
seal, and the refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import subprocess
import zlib

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from yiwang.audit.models import AuditEntry
from yiwang.identity import pii
from yiwang.licences import licence_pdf, seals, services
from yiwang.licences.models import Licence

pytestmark = pytest.mark.django_db
EVENT = licence_pdf.EVENT


def text_of(data: bytes) -> str:
    """Every content stream of the PDF, inflated (the Chinese is subset-encoded: checked through
    the builder; this finds the Latin parts and would find a number in clear)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def pdftotext(data: bytes) -> str:
    """The page's text as poppler's pdftotext reads it (so the embedded font maps back to text)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    args = [tool, "-layout", "-", "-"]
    done = subprocess.run(args, input=data, capture_output=True, check=True, timeout=30)  # noqa: S603
    return done.stdout.decode()


def url(licence: Licence) -> str:
    return f"/wallet/{licence.pk}/licence.pdf"


def fields_of(document) -> dict:
    return {f.label: f.value for f in document.fields}


def test_the_holder_downloads_a_sealed_pdf_that_validates(login, citizen, dog_licence):
    response = login(citizen).get(url(dog_licence))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert f"{dog_licence.number}.pdf" in response["Content-Disposition"]
    verdict = seals.validate_pdf(response.content)
    assert verdict.intact and verdict.bottom_line and verdict.ok, verdict.error
    assert verdict.fingerprint == seals.seal_for(dog_licence.department).fingerprint
    reader = PdfFileReader(io.BytesIO(response.content))
    assert len(reader.root["/Pages"]["/Kids"]) == 1  # one page
    entry = AuditEntry.objects.get(event=EVENT)
    assert entry.data["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert entry.data["full_id_numbers"] is False and entry.data["language"] == "zh-hans"
    assert entry.data["seal_fingerprint"] == verdict.fingerprint


def test_the_font_is_embedded(citizen, dog_licence):
    issued = licence_pdf.issue(licence=dog_licence, actor=citizen)
    reader = PdfFileReader(io.BytesIO(issued.pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    fonts = page["/Resources"].get_object()["/Font"].get_object()
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert re.match(r"/[A-Z]{6}\+WenQuanYi", str(font["/BaseFont"])), font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_the_document_says_type_number_holder_claims_validity_department_and_state(dog_licence):
    built = licence_pdf.build(dog_licence, english=False)
    fields = fields_of(built)
    assert built.title == "养犬登记证" and not built.english
    assert fields["证照编号"] == dog_licence.number
    assert fields["持证人"].startswith("张三")
    assert fields["犬主姓名"] == "张三"
    assert fields["犬只信息"] == "中华田园犬，黄色"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日至\d{4}年\d{1,2}月\d{1,2}日", fields["有效期限"])
    assert fields["发证机关"] == dog_licence.department.name == built.issuer
    assert fields["状态"].startswith("有效")


def test_identity_numbers_are_masked_unless_the_holder_asks(login, citizen, dog_licence):
    full = pii.id_number_of(citizen.person)
    masked = licence_pdf.build(dog_licence, english=False)
    assert all(full not in f.value for f in masked.fields)
    assert fields_of(masked)["犬主身份证号码"] == citizen.person.id_number_masked
    assert citizen.person.id_number_masked in fields_of(masked)["持证人"]
    issued = licence_pdf.issue(licence=dog_licence, actor=citizen)
    assert full.encode() not in issued.pdf and full not in text_of(issued.pdf)
    text = pdftotext(issued.pdf)
    assert full not in text and citizen.person.id_number_masked in text
    # the holder asks from the licence page (POST): the numbers in full, audited as such
    revealed = licence_pdf.build(dog_licence, english=False, full=True)
    assert fields_of(revealed)["犬主身份证号码"] == full and full in fields_of(revealed)["持证人"]
    response = login(citizen).post(url(dog_licence), {"full": "1"})
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    assert full in pdftotext(response.content)
    assert AuditEntry.objects.filter(event=EVENT).latest("pk").data["full_id_numbers"] is True


def test_an_english_reader_gets_english_lines_under_the_chinese(login, citizen, dog_licence):
    response = login(citizen).get(url(dog_licence), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    assert AuditEntry.objects.get(event=EVENT).data["language"] == "en"
    built = licence_pdf.build(dog_licence, english=True)
    assert built.english and built.title_en == dog_licence.type.name_en
    labels = {f.label: f.label_en for f in built.fields}
    assert labels["犬主姓名"] == "Owner" and labels["发证机关"] == "Issued by"
    assert any("prevails" in p.text_en for p in built.paragraphs)
    text = pdftotext(response.content)
    assert "犬主姓名" in text and "Owner" in text and "Dog registration certificate" in text
    assert "养犬登记证" in text and "张三" in text


def test_an_agent_downloads_the_enterprises_licence(login, agent, business_licence):
    response = login(agent).get(url(business_licence))
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    fields = fields_of(licence_pdf.build(business_licence, english=False))
    assert fields["持证主体"] == business_licence.holder_enterprise.name
    assert fields["统一社会信用代码"] == business_licence.holder_enterprise.credit_code


def test_another_citizen_gets_404_and_nothing_is_issued(
    login, other_citizen, agent, dog_licence, business_licence
):
    assert login(other_citizen).get(url(dog_licence)).status_code == 404
    assert login(other_citizen).post(url(dog_licence), {"full": "1"}).status_code == 404
    assert login(agent).get(url(dog_licence)).status_code == 404  # 张三's own licence, not the enterprise's
    assert login(other_citizen).get(url(business_licence)).status_code == 404
    assert not AuditEntry.objects.filter(event=EVENT).exists()


def test_anonymous_is_sent_to_sign_in(login, dog_licence):
    response = login(None).get(url(dog_licence))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "9" * 30, "1.5", "%20", "１", "999999"])
def test_a_bad_pk_is_404_never_500(login, citizen, dog_licence, pk):
    assert login(citizen).get(f"/wallet/{pk}/licence.pdf").status_code == 404
    assert not AuditEntry.objects.filter(event=EVENT).exists()


def test_other_methods_are_not_allowed(login, citizen, dog_licence):
    assert login(citizen).put(url(dog_licence)).status_code == 405


@pytest.mark.parametrize("change", ["suspend", "revoke"])
def test_a_suspended_or_revoked_licence_is_refused_with_its_state(login, citizen, dog_licence, change):
    action = {"suspend": services.licence_suspend, "revoke": services.licence_revoke}[change]
    action(licence=dog_licence, actor="system:test", reason="违反养犬管理规定")
    response = login(citizen).get(url(dog_licence), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    page = response.content.decode()
    assert ("suspended" if change == "suspend" else "revoked") in page and "违反养犬管理规定" in page
    assert "no-store" in response["Cache-Control"]
    assert not AuditEntry.objects.filter(event=EVENT).exists()
    # and the licence page offers no download
    assert url(dog_licence) not in login(citizen).get(f"/wallet/{dog_licence.pk}/").content.decode()


def test_an_expired_licence_is_refused(login, citizen, dog_licence):
    from django.utils import timezone

    Licence.objects.filter(pk=dog_licence.pk).update(valid_until=timezone.now())
    response = login(citizen).get(url(dog_licence), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "expired" in response.content.decode()


def test_a_missing_font_is_a_clear_503_and_nothing_is_issued(login, citizen, dog_licence, settings, tmp_path):
    settings.DOCUMENT_FONT_FILE = tmp_path / "gone.ttc"
    response = login(citizen).get(url(dog_licence), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "fonts-wqy-zenhei" in response.content.decode()
    assert not AuditEntry.objects.filter(event=EVENT).exists()
    assert not AuditEntry.objects.filter(event__startswith="licences:seal").exists()


def test_a_changed_byte_is_caught(citizen, dog_licence):
    issued = licence_pdf.issue(licence=dog_licence, actor=citizen)
    at = issued.pdf.index(b"stream", 200) + 40
    changed = bytearray(issued.pdf)
    changed[at] ^= 1
    assert not seals.validate_pdf(bytes(changed)).intact


def test_the_wallet_page_links_the_pdf(login, citizen, dog_licence):
    page = login(citizen).get(f"/wallet/{dog_licence.pk}/")
    assert page.context["pdf_url"] == url(dog_licence)
    assert url(dog_licence) in page.content.decode()
    revealed = login(citizen).post(f"/wallet/{dog_licence.pk}/", {"reveal": "1"}).content.decode()
    assert f'action="{url(dog_licence)}"' in revealed and 'name="full"' in revealed


def _pages(data: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Kids"])


def _values_text(data: bytes) -> str:
    """The PDF's text without spaces, line breaks and the English labels beside the values (which
    pdftotext puts on the values' lines), so a wrapped value reads as one string."""
    return re.sub(r"[\sA-Za-z'()]", "", pdftotext(data))


ADDRESS = "陕西省西安市雁塔区小寨东路九号附十二号楼三单元十七层一千七百零八室（临街商铺后门进）" * 5
DOG = "中华田园犬，黄色，公，三岁，体重十二公斤，左耳有白色斑点，已接种狂犬疫苗（2026年度）；" * 5
SHORTENED = licence_pdf.pdf.SHORTENED[0]


@pytest.mark.parametrize("english", [False, True])
def test_long_claims_wrap_and_shrink_onto_one_sealed_page(citizen, types, department_gat, english):
    claims = {"keeping_address": ADDRESS, "dog": DOG}
    assert all(200 < len(v) <= services.MAX_CLAIM_LENGTH for v in claims.values())
    licence = services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims=claims,
        actor="system:test",
    )
    issued = licence_pdf.issue(licence=licence, actor=citizen, english=english)
    assert _pages(issued.pdf) == 1
    verdict = seals.validate_pdf(issued.pdf)
    assert verdict.intact and verdict.ok, verdict.error
    text = _values_text(issued.pdf)
    assert ADDRESS in text and DOG in text  # wrapped, in full
    assert SHORTENED not in text


@pytest.mark.parametrize("english", [False, True])
def test_every_claim_at_its_longest_still_makes_one_sealed_page(
    agent, enterprise, types, department_x, english
):
    longest = services.MAX_CLAIM_LENGTH
    claims = {
        "name": ("西安市雁塔区某某餐饮管理有限责任公司" * 30)[:longest],
        "legal_representative": ("欧阳" * 300)[:longest],
        "address": (ADDRESS * 3)[:longest],
        "business_scope": ("餐饮服务；食品销售；预包装食品零售；散装食品零售；" * 30)[:longest],
    }
    licence = services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x,
        claims=claims,
        actor="system:test",
    )
    issued = licence_pdf.issue(licence=licence, actor=agent, english=english)
    assert _pages(issued.pdf) == 1
    verdict = seals.validate_pdf(issued.pdf)
    assert verdict.intact and verdict.ok, verdict.error
    text = _values_text(issued.pdf)
    for value in claims.values():  # in full, or its start and the mark saying where the rest is
        assert value in text or (value[:24] in text and SHORTENED in text), value[:24]


def test_a_one_page_document_still_too_long_in_small_type_shortens_only_its_longest_values():
    pdf = licence_pdf.pdf
    fields = [
        pdf.Field("证照编号", "610100-2026-00100001"),
        pdf.Field("发证机关", "西安市市场监督管理局"),
    ]
    fields += [pdf.Field(f"事项{n}", f"第{n}项：" + "经营场所与经营范围的说明文字" * 40) for n in range(10)]
    document = pdf.Document(
        title="营业执照", issuer="西安市市场监督管理局", date="2026年12月1日", fields=fields
    )
    assert _pages(pdf.render(document)[0]) > 1  # as a decision document: it runs on
    body, place = pdf.render(dataclasses.replace(document, one_page=True))
    assert _pages(body) == 1 and place.page == 0
    text = _values_text(body)
    assert "610100-2026-00100001" in text and "西安市市场监督管理局" in text  # short ones intact
    assert text.count(SHORTENED) == 10
    assert all(f"第{n}项：经营场所" in text for n in range(10))
