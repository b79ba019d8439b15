"""PDF documents for sealing: reportlab with an embedded Chinese TrueType font, and the visible
seal stamp (red ring, five-pointed star, the department's name on the arc) drawn as vector
graphics.

The font is a TrueType-outline font embedded as a subset (reportlab cannot embed the PostScript
outlines of Noto CJK; the built-in ``STSong-Light`` embeds nothing, which is no good for an
archived document). The default is WenQuanYi Zen Hei from the Debian package
``fonts-wqy-zenhei``; ``DOCUMENT_FONT_FILE`` points elsewhere (a .ttf, or a .ttc with
``DOCUMENT_FONT_INDEX``). When the file is missing, rendering refuses with FontMissing, whose
message names the package, instead of producing a document without its text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus import Paragraph as RLParagraph

from .seals import SealError, StampPlace

FONT_NAME = "YiwangSans"
FONT_PACKAGE = "fonts-wqy-zenhei"
DEFAULT_FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
SEAL_RED = (0.84, 0.09, 0.11)
STAMP_SIZE = 118.0  # points (about 42 mm, the usual diameter of an official seal)
_font_lock = threading.Lock()


class FontMissing(SealError):  # noqa: N818 - named for what is wrong
    """The document font is not installed; the message says which package provides it."""


def font_file() -> Path:
    return Path(getattr(settings, "DOCUMENT_FONT_FILE", "") or DEFAULT_FONT_FILE)


@functools.cache
def _registered(path: str, index: int) -> str:
    try:
        font = TTFont(FONT_NAME, path, subfontIndex=index)
    except (OSError, TTFError) as exc:
        raise FontMissing(
            _(
                "The font for sealed documents cannot be loaded from %(path)s (%(error)s). Install the "
                "Debian package %(package)s, or set DOCUMENT_FONT_FILE to a TrueType font with "
                "Chinese characters."
            )
            % {"path": path, "error": exc, "package": FONT_PACKAGE}
        ) from exc
    pdfmetrics.registerFont(font)
    return FONT_NAME


def ensure_font() -> str:
    """Register the document font once per process; raise FontMissing when it is absent."""
    path = font_file()
    if not path.is_file():
        raise FontMissing(
            _(
                "The font for sealed documents is not installed (%(path)s is missing). Install the "
                "Debian package %(package)s, or set DOCUMENT_FONT_FILE to a TrueType font with "
                "Chinese characters."
            )
            % {"path": str(path), "package": FONT_PACKAGE}
        )
    with _font_lock:
        return _registered(str(path), int(getattr(settings, "DOCUMENT_FONT_INDEX", 0) or 0))


# --- the seal stamp --------------------------------------------------------------------------------


def _star_path(canvas, cx: float, cy: float, outer: float):
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    path = canvas.beginPath()
    for i in range(10):
        angle = math.pi / 2 + i * math.pi / 5
        radius = outer if i % 2 == 0 else inner
        point = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
        path.moveTo(*point) if i == 0 else path.lineTo(*point)
    path.close()
    return path


@functools.lru_cache(maxsize=128)
def seal_stamp(name: str, caption: str = "电子印章") -> bytes:
    """A one-page PDF of the seal: a red ring, a star in the middle, ``name`` along the upper
    arc and ``caption`` below the star. Cached per name (the same bytes for every document)."""
    font = ensure_font()
    size = STAMP_SIZE
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(size, size), initialFontName=font, invariant=1)
    canvas.setStrokeColorRGB(*SEAL_RED)
    canvas.setFillColorRGB(*SEAL_RED)
    cx = cy = size / 2
    radius = size / 2 - 2.5
    canvas.setLineWidth(3.2)
    canvas.circle(cx, cy, radius, stroke=1, fill=0)
    canvas.drawPath(_star_path(canvas, cx, cy + 2, radius * 0.27), stroke=0, fill=1)
    chars = list(name.strip())[:24] or ["?"]
    font_size = 14.0 if len(chars) <= 9 else max(8.5, 14.0 * 9 / len(chars) ** 0.9)
    canvas.setFont(font, font_size)
    span = math.radians(min(250.0, 26.0 * len(chars) + 20))
    start = math.pi / 2 + span / 2
    text_radius = radius - 5 - font_size * 0.85
    for i, ch in enumerate(chars):
        angle = start - span * (i + 0.5) / len(chars)
        canvas.saveState()
        canvas.translate(cx + text_radius * math.cos(angle), cy + text_radius * math.sin(angle))
        canvas.rotate(math.degrees(angle) - 90)
        canvas.drawCentredString(0, 0, ch)
        canvas.restoreState()
    canvas.setFont(font, 9)
    canvas.drawCentredString(cx, cy - radius * 0.58, caption)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


# --- documents ------------------------------------------------------------------------------------


def date_zh(day: dt.date) -> str:
    """A date as a document prints it: 2026年12月1日."""
    return f"{day.year}年{day.month}月{day.day}日"


def date_en(day: dt.date) -> str:
    """The English line under it: 1 December 2026."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def reader_wants_english(language: str | None = None) -> bool:
    """Whether the reader gets the English lines under the Chinese (their language is English)."""
    return (language or get_language() or "zh-hans").lower().startswith("en")


@dataclasses.dataclass(frozen=True)
class Field:
    label: str  # Chinese
    value: str
    label_en: str = ""


@dataclasses.dataclass(frozen=True)
class Paragraph:
    text: str  # Chinese
    text_en: str = ""
    heading: bool = False


@dataclasses.dataclass(frozen=True)
class Document:
    """What a sealed document says. The Chinese text is the document; with ``english`` each
    title, label and paragraph is followed by its English rendering (``*_en``), and a line says
    the Chinese text prevails."""

    title: str
    issuer: str  # the sealing department's name, printed above the seal
    date: str  # as printed: 2026年12月1日
    reference: str = ""  # 文书编号
    fields: Sequence[Field] = ()
    paragraphs: Sequence[Paragraph] = ()
    title_en: str = ""
    date_en: str = ""
    english: bool = False
    footer: str = ""
    footer_en: str = ""
    # Always one page (a licence): long values wrap, the type shrinks to fit (``FIT_SCALES``),
    # and when even the smallest does not fit, the longest values are shortened (``SHORTENED``).
    one_page: bool = False


# The type size, as a share of the normal one (11.5 pt for the text and the fields), tried in turn
# for a one-page document: down to about 6.3 pt, which still prints legibly. The closing (the
# department's name and the date, under the seal) keeps its size.
FIT_SCALES = (1.0, 0.88, 0.77, 0.67, 0.6, 0.55)
SHORTENED = ("……（全文见电子证照）", "… (in full in the electronic licence)")
SHORTEST = 24  # characters a shortened value keeps at least


def _styles(font: str, scale: float = 1.0) -> dict:
    base = ParagraphStyle("base", fontName=font, fontSize=11.5, leading=19, wordWrap="CJK")
    grey = (0.33, 0.33, 0.33)
    styles = {
        "title": ParagraphStyle("title", parent=base, fontSize=21, leading=30, alignment=1, spaceAfter=2),
        "title_en": ParagraphStyle("title_en", parent=base, fontSize=11, alignment=1, textColor=grey),
        "reference": ParagraphStyle("reference", parent=base, fontSize=10.5, alignment=1, spaceBefore=6),
        "body": ParagraphStyle("body", parent=base, firstLineIndent=23, spaceBefore=6),
        "heading": ParagraphStyle("heading", parent=base, spaceBefore=8),
        "en": ParagraphStyle("en", parent=base, fontSize=9.5, leading=13, textColor=grey, wordWrap=None),
        "field": ParagraphStyle("field", parent=base, leading=17),
        "footer": ParagraphStyle("footer", parent=base, fontSize=8.5, leading=12, textColor=grey),
    }
    if scale == 1.0:
        return styles
    return {
        name: ParagraphStyle(
            name,
            parent=style,
            fontSize=style.fontSize * scale,
            leading=style.leading * scale,
            spaceBefore=style.spaceBefore * scale,
            spaceAfter=style.spaceAfter * scale,
            firstLineIndent=style.firstLineIndent * scale,
        )
        for name, style in styles.items()
    }


def _escape(text: str) -> str:
    return escape(str(text)).replace("\n", "<br/>")


class _Closing(Flowable):
    """The issuer and date at the foot of the text; remembers where it was drawn, so the seal
    goes over it (as a paper seal covers the department's name and the date)."""

    def __init__(self, font: str, issuer: str, date: str, date_en: str, where: dict):
        super().__init__()
        self.font, self.issuer, self.date, self.date_en, self.where = font, issuer, date, date_en, where
        self.height = 120 if date_en else 106

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.height

    def draw(self):
        c = self.canv
        right = self.width - 24
        c.setFont(self.font, 12.5)
        c.drawRightString(right, 70, self.issuer)
        c.drawRightString(right, 50, self.date)
        if self.date_en:
            c.setFont(self.font, 9)
            c.setFillColorRGB(0.33, 0.33, 0.33)
            c.drawRightString(right, 36, self.date_en)
        centre = right - 0.5 * max(c.stringWidth(self.issuer, self.font, 12.5), 90)
        x, y = c.absolutePosition(centre, 60)
        self.where.update(page=c.getPageNumber() - 1, x=x, y=y)


def render(document: Document) -> tuple[bytes, StampPlace]:
    """The document as a PDF (A4) and where its seal goes. A ``one_page`` document is made to fit
    one page: the type shrinks step by step (``FIT_SCALES``); at the smallest, the values
    longer than the longest that fits are shortened, with a mark saying the electronic licence
    has them in full (``SHORTENED``)."""
    font = ensure_font()
    if not document.one_page:
        body, place, _pages = _render(document, font)
        return body, place
    for scale in FIT_SCALES:
        body, place, pages = _render(document, font, scale)
        if pages == 1:
            return body, place
    # Still too long at the smallest type: the longest cap on every value's length that fits.
    low, high = SHORTEST, max(len(f.value) for f in document.fields)
    best = _render(_shortened(document, low), font, FIT_SCALES[-1])
    while low < high:
        cap = (low + high + 1) // 2
        attempt = _render(_shortened(document, cap), font, FIT_SCALES[-1])
        if attempt[2] == 1:
            low, best = cap, attempt
        else:
            high = cap - 1
    return best[0], best[1]


def _shortened(document: Document, cap: int) -> Document:
    mark = SHORTENED[0] + (SHORTENED[1] if document.english else "")
    fields = [
        dataclasses.replace(f, value=f.value[:cap].rstrip() + mark) if len(f.value) > cap else f
        for f in document.fields
    ]
    return dataclasses.replace(document, fields=fields)


def _render(document: Document, font: str, scale: float = 1.0) -> tuple[bytes, StampPlace, int]:
    """The PDF, where its seal goes, and how many pages it has."""
    styles = _styles(font, scale)
    story: list = [RLParagraph(_escape(document.title), styles["title"])]
    if document.english and document.title_en:
        story.append(RLParagraph(_escape(document.title_en), styles["title_en"]))
    if document.reference:
        story.append(RLParagraph(_escape(document.reference), styles["reference"]))
    story.append(Spacer(1, 10 * scale))
    if document.fields:
        rows = []
        for f in document.fields:
            label = _escape(f.label) + (
                f'<br/><font size="{8.5 * scale:.2f}" color="#555555">{_escape(f.label_en)}</font>'
                if document.english and f.label_en
                else ""
            )
            rows.append([RLParagraph(label, styles["field"]), RLParagraph(_escape(f.value), styles["field"])])
        table = Table(rows, colWidths=[42 * mm, None], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),  # else Helvetica, not embedded
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, (0.75, 0.75, 0.75)),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5 * scale),
                    ("TOPPADDING", (0, 0), (-1, -1), 4 * scale),
                ]
            )
        )
        story += [table, Spacer(1, 8 * scale)]
    body: list = []
    for p in document.paragraphs:
        part = [RLParagraph(_escape(p.text), styles["heading" if p.heading else "body"])]
        if document.english and p.text_en:
            part.append(RLParagraph(_escape(p.text_en), styles["en"]))
        body.append(part)
    where: dict = {}
    closing = [
        Spacer(1, 18 * scale),
        _Closing(font, document.issuer, document.date, document.date_en if document.english else "", where),
    ]
    # the closing (and the seal over it) never stands alone on a page: it keeps the last paragraph
    for part in body[:-1]:
        story += part
    story.append(KeepTogether([*(body[-1] if body else []), *closing]))
    if document.footer:
        story += [Spacer(1, 14 * scale), RLParagraph(_escape(document.footer), styles["footer"])]
        if document.english and document.footer_en:
            story.append(RLParagraph(_escape(document.footer_en), styles["footer"]))
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=30 * mm,
        bottomMargin=24 * mm,
        title=document.title,
        author=document.issuer,
        subject=document.reference,
        creator="yiwang",
        lang="zh-CN",
        initialFontName=font,  # else the page names Helvetica, which is not embedded
    )
    template.build(story)
    half = STAMP_SIZE / 2
    x, y = where.get("x", A4[0] - 160), where.get("y", 160)
    place = StampPlace(page=where.get("page", 0), box=(x - half, y - half, x + half, y + half))
    return out.getvalue(), place, template.page
