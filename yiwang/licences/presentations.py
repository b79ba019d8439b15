"""亮证: a holder shows a licence as a QR code, and a verifier checks what the code points to.

A presentation of three claims is 1.1–1.4 KB, past what a QR code a phone scans at arm's length
holds, so the code carries a short link and the presentation's SHA-256 instead::

    https://<platform>/p/<token>#<sha-256, base64url>

(about 90 bytes: QR version 6 or less at error correction level M while LICENCES_PUBLIC_URL
has at most ``MAX_BASE_LENGTH``, 43, characters). The token is 12 random
bytes (96 bits, 16 characters), lives ``LIFETIME`` and is **fetched once**: the first fetch
(the public link, or this platform's verify page reading its own database) takes the
presentation and clears it, so a photographed or replayed code shows nothing more. The verifier
compares the SHA-256 of what it fetched with the one in the code (the fragment is never sent to
the server, so the link's host cannot swap the presentation unnoticed) and then verifies the
presentation offline like any other (``verify.verify``).

Holder binding: the web wallet makes presentations on the server and the platform keeps no
private key of its holders, so these presentations carry no key-binding JWT (``licence_present``
without ``holder_key``). A licence bound to a wallet app's key (``cnf``) still verifies; a
verifier that needs proof of possession asks the holder's own wallet app, not this page.
The one-time token and the short lifetime are what stop a copied code from being reused.

The stored text is encrypted like the licence's credential (``vault``, the credential purpose:
it is a subset of that credential) and cleared on fetch and on expiry.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.licences import selectors, services, vault, verify
from yiwang.licences.models import Licence, Presentation

LIFETIME = dt.timedelta(minutes=5)
TOKEN_BYTES = 12  # 96 bits: 16 base64url characters
TOKEN_LENGTH = 16
HASH_LENGTH = 43  # SHA-256, base64url without padding
QR_ERROR = "m"
QR_MAX_VERSION = 6
QR_MAX_BYTES = 106  # byte mode, version 6, level M
# The longest LICENCES_PUBLIC_URL whose links still fit: "/p/", the token, "#", the hash.
MAX_BASE_LENGTH = QR_MAX_BYTES - len("/p/") - TOKEN_LENGTH - 1 - HASH_LENGTH
MAX_DISCLOSE = 40
# Claims shown by default when the holder opens 亮证: who the holder is (names), never numbers
# that identify a person, dates of birth or addresses; validity is always in the credential.
NAME_SOURCES = frozenset({"person.name", "holder.name", "enterprise.name"})
PURPOSE = vault.CREDENTIAL_PURPOSE
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16}$")
HASH_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class Verdict:
    """The outcomes of a QR link that are not a licence's verdict (``verify.Verdict``)."""

    USED = "presentation_used"
    EXPIRED = "presentation_expired"
    UNKNOWN = "presentation_unknown"


TITLES = {
    Verdict.USED: gettext_lazy("This QR code was used already"),
    Verdict.EXPIRED: gettext_lazy("This QR code has expired"),
    Verdict.UNKNOWN: gettext_lazy("No such QR code"),
}


@dataclass
class QrResult(verify.Result):
    """A ``verify.Result`` that may also carry one of this module's verdicts."""

    from_link: bool = False  # the presentation came through a QR link (and its hash matched)

    @property
    def title(self) -> str:
        if self.verdict in TITLES:
            return str(TITLES[self.verdict])
        return super().title


class Gone(Exception):  # noqa: N818 — named for what happened
    """The token is unknown, used or expired (``verdict`` says which; ``message`` for people)."""

    def __init__(self, verdict: str, message: str):
        super().__init__(message)
        self.verdict, self.message = verdict, message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256_b64(text: str) -> str:
    return _b64(hashlib.sha256(text.encode("ascii")).digest())


def default_disclosure(licence_type) -> list[str]:
    """The claims ticked when the holder opens 亮证: the selectively disclosable names."""
    return [c["name"] for c in licence_type.claims if c.get("sd") and c.get("from") in NAME_SOURCES]


def link_for(token: str) -> str:
    return services.public_url() + reverse("wallet:presentation", kwargs={"token": token})


def payload_for(presentation: Presentation) -> str:
    """What the QR code holds: the short link and, after ``#``, the presentation's SHA-256."""
    return f"{link_for(presentation.token)}#{presentation.sha256}"


def qr_svg(payload: str, *, label: str) -> tuple[str, int]:
    """The QR code as inline SVG (no external resources) and its version (≤ 6 at level M)."""
    qr = segno.make(payload, error=QR_ERROR, boost_error=False, mode="byte")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True, svgclass="qr", lineclass=None)
    svg = out.getvalue().decode("ascii")
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{safe_label}" ', 1)
    return svg, qr.version


def _purge(now: dt.datetime) -> None:
    """Clear the text of every expired presentation (the rows stay as the record)."""
    Presentation.objects.filter(expires_at__lte=now, text_ciphertext__isnull=False).update(
        text_ciphertext=None
    )


def presentation_create(*, licence: Licence, disclose, actor) -> Presentation:
    """Make a presentation of ``licence`` revealing only ``disclose`` (claim names) and keep it
    under a new one-time token for ``LIFETIME``. The actor must hold the licence (their own or
    their enterprise's) and the licence must be in force. Audited by ``licence_present``
    (``licences:licence:present``, the names disclosed) in the same transaction."""
    if not selectors.licences_for_user(actor).filter(pk=licence.pk).exists():
        raise PermissionDenied("not the holder")
    if licence.effective_state != Licence.State.VALID:
        raise services.WrongState(
            _("This licence is %(state)s: it cannot be shown.") % {"state": _state_label(licence)}
        )
    names = list(dict.fromkeys(str(n)[:60] for n in disclose))
    if len(names) > MAX_DISCLOSE:
        raise services.InvalidInput(_("Choose fewer fields."))
    now = timezone.now()
    with transaction.atomic():
        text = services.licence_present(licence=licence, disclose=names, actor=actor)
        _purge(now)
        presentation = Presentation.objects.create(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            sha256=sha256_b64(text),
            licence=licence,
            user=actor,
            disclosed=names,
            text_ciphertext=vault.seal(text, PURPOSE),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    return presentation


def _state_label(licence: Licence) -> str:
    if licence.effective_state == Licence.EXPIRED:
        return _("expired")
    return str(Licence.State(licence.state).label).lower()


def presentation_take(*, token: str, actor, via: str) -> Presentation:
    """Fetch the presentation of ``token`` once: returns it with ``text`` set, marks it used and
    clears the stored copy; raises ``Gone`` for a token unknown, used or expired (an expired
    one's copy is cleared too). Audited as ``licences:presentation:fetch`` (``via``: ``link``
    or ``verify_page``)."""
    if not TOKEN_RE.match(token or ""):
        raise Gone(Verdict.UNKNOWN, _("The code in the link is damaged: scan the QR code again."))
    with transaction.atomic():
        presentation, gone = _take(token, actor, via)
    if gone is not None:
        raise gone
    return presentation


def _take(token: str, actor, via: str) -> tuple[Presentation | None, Gone | None]:
    presentation = Presentation.objects.select_for_update().filter(token=token).first()
    now = timezone.now()
    if presentation is None:
        return None, Gone(Verdict.UNKNOWN, _("This platform made no QR code with this link."))
    if presentation.used_at is not None:
        return None, Gone(
            Verdict.USED,
            _("It was read at %(time)s and can be read only once: ask the holder to show the licence again.")
            % {"time": timezone.localtime(presentation.used_at).strftime("%H:%M:%S")},
        )
    if presentation.expires_at <= now or presentation.text_ciphertext is None:
        if presentation.text_ciphertext is not None:
            presentation.text_ciphertext = None
            presentation.save(update_fields=["text_ciphertext"])
        return None, Gone(
            Verdict.EXPIRED,
            _("A QR code is valid for %(minutes)s minutes: ask the holder to show the licence again.")
            % {"minutes": int(LIFETIME.total_seconds() // 60)},
        )
    presentation.text = vault.unseal(presentation.text_ciphertext, PURPOSE)
    presentation.used_at, presentation.text_ciphertext = now, None
    presentation.save(update_fields=["used_at", "text_ciphertext"])
    audit.record(
        actor=actor if actor is not None else AnonymousUser(),
        event="licences:presentation:fetch",
        target=presentation.licence,
        data={"via": via, "disclosed": presentation.disclosed},
    )
    return presentation, None


# --- the verifier's side -------------------------------------------------------------------


class BadPayload(Exception):  # noqa: N818 — named for what happened
    pass


def looks_like_link(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def parse_payload(text: str) -> tuple[str, str]:
    """(token, sha256) of a QR payload of this platform; ``BadPayload`` says precisely what is
    wrong with anything else."""
    text = "".join(text.split())
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise BadPayload(_("The QR code's link is not a valid address.")) from exc
    base = urlsplit(services.public_url())
    if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        raise BadPayload(
            _(
                "This QR code points to %(host)s, not to this platform: "
                "check it on the platform that issued it."
            )
            % {"host": parts.netloc[:80] or "?"}
        )
    prefix = reverse("wallet:presentation", kwargs={"token": "X"})[:-1]
    path = parts.path
    if base.path and path.startswith(base.path.rstrip("/")):
        path = path[len(base.path.rstrip("/")) :]
    if not path.startswith(prefix):
        raise BadPayload(_("This link is not a licence QR code of this platform."))
    token = path[len(prefix) :].rstrip("/")
    if not TOKEN_RE.match(token):
        raise BadPayload(_("The code in the link is damaged: scan the QR code again."))
    if not parts.fragment:
        raise BadPayload(_("The text has no fingerprint after the link (#…): scan the whole QR code again."))
    if not HASH_RE.match(parts.fragment):
        raise BadPayload(_("The fingerprint after the link (#…) is damaged: scan the QR code again."))
    return token, parts.fragment


def _result(verdict: str, message: str) -> QrResult:
    return QrResult(verdict=verdict, message=message)


def verify_text(text: str, trust, *, actor=None, now: int | None = None) -> verify.Result:
    """What the verify page checks: a QR payload of this platform (``https://…/p/<token>#<hash>``)
    or a pasted licence or presentation. A payload's presentation is read from this platform's
    own database (once: it is used up), its SHA-256 compared with the payload's, then verified
    like pasted text. Never raises for bad input."""
    if not isinstance(text, str) or not looks_like_link(text):
        return verify.verify(text, trust, now=now)
    try:
        token, digest = parse_payload(text)
    except BadPayload as exc:
        return _result(verify.Verdict.MALFORMED, str(exc))
    try:
        presentation = presentation_take(token=token, actor=actor, via="verify_page")
    except Gone as exc:
        return _result(exc.verdict, exc.message)
    if not secrets.compare_digest(sha256_b64(presentation.text), digest):
        return _result(
            verify.Verdict.TAMPERED,
            _(
                "What the link gave does not match the QR code's fingerprint: "
                "the code or the presentation was altered."
            ),
        )
    inner = verify.verify(presentation.text, trust, now=now)
    return QrResult(**{f: getattr(inner, f) for f in inner.__dataclass_fields__}, from_link=True)
