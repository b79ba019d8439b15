"""Verifying a licence or a presentation of one: the verdict a verifier shows.

Built on the sd-jwt library's verifier (its claim unpacking), closing the gaps its notes list
(../docs/licences.md, "What the platform's verifier checks"):

1. key-binding JWTs are checked as EdDSA with the holder key in ``cnf`` (the library assumes ES256);
2. every disclosure presented must be referenced by a digest of the signed payload (or of another
   disclosure): an altered or added disclosure is rejected as tampered, never silently dropped;
3. ``typ`` (``dc+sd-jwt``), ``alg`` (EdDSA), ``exp``, ``nbf`` and ``iat`` are checked;
4. a key-binding JWT, when present, is always verified (signature, ``typ``, ``sd_hash``, ``iat``),
   and ``aud``/``nonce`` when the verifier expects them — not only when both are given.

Then the issuer must be trusted (this deployment's departments, or a ``TrustedIssuer``) with the
key named by ``kid``, and the status list says whether the licence was suspended or revoked. The
keys and status lists come from a ``Trust`` (the database, or the offline cache file); nothing here
fetches from the network (the database trust store may fetch another deployment's status list past
its ttl, see selectors.DatabaseTrust).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils.translation import gettext_lazy as _
from sd_jwt.verifier import SDJWTVerifier

from yiwang.licences import jose, status

TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
MAX_INPUT = 64 * 1024  # characters: a presentation is 1-3 KB; anything far larger is not one
LEEWAY = 60  # seconds of clock difference tolerated on nbf, iat and exp
KB_MAX_AGE = 600  # a key-binding JWT older than this is stale (a replayed presentation)
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_\-.~]+$")


class Verdict:
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    UNTRUSTED = "untrusted_issuer"
    TAMPERED = "tampered"
    KEY_BINDING = "key_binding_failed"
    STATUS_UNKNOWN = "status_unknown"
    MALFORMED = "malformed"


TITLES = {
    Verdict.VALID: _("Valid"),
    Verdict.EXPIRED: _("Expired"),
    Verdict.NOT_YET_VALID: _("Not yet valid"),
    Verdict.SUSPENDED: _("Suspended"),
    Verdict.REVOKED: _("Revoked"),
    Verdict.UNTRUSTED: _("Not issued by a trusted issuer"),
    Verdict.TAMPERED: _("Tampered"),
    Verdict.KEY_BINDING: _("Not presented by its holder"),
    Verdict.STATUS_UNKNOWN: _("Status unknown"),
    Verdict.MALFORMED: _("Not a licence"),
}


@dataclass
class Result:
    """What verification found. ``claims`` holds only what was disclosed (and what is never
    selectively disclosable); ``message`` says precisely why the verdict is what it is."""

    verdict: str
    message: str
    issuer: str = ""
    issuer_name: str = ""
    vct: str = ""
    claims: dict = field(default_factory=dict)
    holder_bound: bool = False  # the credential names a holder key (cnf)
    key_binding: bool = False  # a key-binding JWT by that key was presented and checked
    exp: int | None = None
    nbf: int | None = None
    iat: int | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.VALID

    @property
    def title(self) -> str:
        return str(TITLES[self.verdict])


class Trust(Protocol):
    """Where verification finds issuer keys and statuses (no network)."""

    def issuer_key(self, iss: str, kid: str) -> Ed25519PublicKey | None: ...

    def issuer_name(self, iss: str) -> str | None:
        """The issuer's display name, or None when the issuer is not trusted at all."""

    def status_of(self, uri: str, idx: int, iss: str) -> int | None:
        """The status value at ``idx`` of the list at ``uri``, None when it is not known."""


class _Unpacker(SDJWTVerifier):
    """The library's verifier used only to rebuild the claims from a payload whose signature and
    disclosures were already checked here (its ``_unpack_disclosed_claims``)."""

    def __init__(self, payload: dict, decoded: dict):  # noqa: D107 — no parsing, no signature check
        self._sd_jwt_payload = payload
        self._hash_to_decoded_disclosure = decoded


class Malformed(Exception):  # noqa: N818
    pass


class Rejected(Exception):  # noqa: N818
    def __init__(self, verdict: str, message):
        super().__init__(str(message))
        self.verdict, self.message = verdict, message


def _referenced_digests(value, found: set[str], decoded: dict, depth: int = 0) -> None:
    """Every digest reachable from ``value``: ``_sd`` arrays, ``...`` array elements, and inside
    the values of disclosures they reference."""
    if depth > 16:
        raise Malformed(_("The credential nests too deeply."))
    if isinstance(value, dict):
        for digest in value.get("_sd", []) if isinstance(value.get("_sd", []), list) else []:
            if isinstance(digest, str) and digest not in found:
                found.add(digest)
                if digest in decoded:
                    _referenced_digests(decoded[digest][-1], found, decoded, depth + 1)
        for key, inner in value.items():
            if key != "_sd" and isinstance(inner, dict | list):
                _referenced_digests(inner, found, decoded, depth + 1)
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, dict) and len(element) == 1 and isinstance(element.get("..."), str):
                digest = element["..."]
                if digest not in found:
                    found.add(digest)
                    if digest in decoded:
                        _referenced_digests(decoded[digest][-1], found, decoded, depth + 1)
            elif isinstance(element, dict | list):
                _referenced_digests(element, found, decoded, depth + 1)


def _decode_disclosures(parts: list[str]) -> dict:
    decoded: dict[str, list] = {}
    for part in parts:
        try:
            value = json.loads(jose.b64d(part).decode("utf-8"))
        except (jose.JoseError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Malformed(_("A disclosure is not base64url-encoded JSON.")) from exc
        if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
            raise Malformed(_("A disclosure is not a [salt, name, value] array."))
        if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...", "_sd_alg")):
            raise Malformed(_("A disclosure names a reserved claim."))
        digest = jose.sd_hash(part)
        if digest in decoded:
            raise Rejected(Verdict.TAMPERED, _("The same disclosure is presented twice."))
        decoded[digest] = value
    return decoded


def _number(payload: dict, name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(_("The claim %(name)s is not a number of seconds.") % {"name": name})
    return int(value)


def verify(
    text: str,
    trust: Trust,
    *,
    now: int | None = None,
    expected_aud: str | None = None,
    expected_nonce: str | None = None,
    require_key_binding: bool = False,
) -> Result:
    """Verify an SD-JWT VC issuance or presentation (``jwt~disclosure~...~[kb-jwt]``) and return
    the verdict. Never raises for bad input: malformed text gets the ``malformed`` verdict."""
    now = int(time.time()) if now is None else now
    result = Result(verdict=Verdict.MALFORMED, message="")
    try:
        _verify(text, trust, now, expected_aud, expected_nonce, require_key_binding, result)
    except Malformed as exc:
        result.verdict, result.message, result.claims = Verdict.MALFORMED, str(exc.args[0]), {}
    except Rejected as exc:
        result.verdict, result.message = exc.verdict, str(exc.message)
        if exc.verdict in (Verdict.TAMPERED, Verdict.UNTRUSTED, Verdict.KEY_BINDING):
            result.claims = {}  # claims of a credential that does not verify are not shown
    return result


def _verify(text, trust, now, expected_aud, expected_nonce, require_kb, result: Result) -> None:  # noqa: C901, PLR0912, PLR0915
    if not isinstance(text, str):
        raise Malformed(_("Paste the licence text."))
    text = "".join(text.split())  # QR readers and copy-paste add line breaks
    if not text:
        raise Malformed(_("Paste the licence text."))
    if len(text) > MAX_INPUT:
        raise Malformed(_("The text is far longer than any licence."))
    if not TOKEN_CHARS.match(text):
        raise Malformed(_("The text has characters no licence contains."))
    if "~" not in text:
        raise Malformed(_("This is not an SD-JWT: it has no '~' separators."))
    parts = text.split("~")
    jwt_text, disclosures, kb_text = parts[0], parts[1:-1], parts[-1]
    try:
        jws = jose.Compact(jwt_text)
    except jose.JoseError as exc:
        raise Malformed(_("The signed part is not a compact JWS.")) from exc
    header, payload = jws.header, jws.payload
    if header.get("typ") != TYP:
        raise Malformed(
            _("The credential's type is %(typ)s, not dc+sd-jwt.") % {"typ": str(header.get("typ"))[:40]}
        )
    if header.get("alg") != "EdDSA":
        raise Malformed(
            _("Only EdDSA-signed licences are accepted (alg %(alg)s).") % {"alg": str(header.get("alg"))[:20]}
        )
    iss, kid, vct = payload.get("iss"), header.get("kid"), payload.get("vct")
    if not isinstance(iss, str) or not iss:
        raise Malformed(_("The credential names no issuer (iss)."))
    if not isinstance(vct, str) or not vct:
        raise Malformed(_("The credential names no type (vct)."))
    if not isinstance(kid, str) or not kid:
        raise Malformed(_("The credential names no key (kid)."))
    result.issuer, result.vct = iss, vct
    name = trust.issuer_name(iss)
    if name is None:
        raise Rejected(
            Verdict.UNTRUSTED, _("%(iss)s is not on this verifier's trust list.") % {"iss": iss[:200]}
        )
    result.issuer_name = name
    key = trust.issuer_key(iss, kid)
    if key is None:
        raise Rejected(Verdict.UNTRUSTED, _("The issuer has no key %(kid)s.") % {"kid": kid[:64]})
    if not jws.verify(key):
        raise Rejected(
            Verdict.TAMPERED, _("The issuer's signature does not match: the credential was altered.")
        )
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise Malformed(
            _("Unsupported digest algorithm %(alg)s.") % {"alg": str(payload.get("_sd_alg"))[:20]}
        )
    decoded = _decode_disclosures(disclosures)
    referenced: set[str] = set()
    _referenced_digests(payload, referenced, decoded)
    stray = [d for d in decoded if d not in referenced]
    if stray:
        raise Rejected(
            Verdict.TAMPERED,
            _("%(count)s disclosure(s) are not part of the signed credential: altered or added.")
            % {"count": len(stray)},
        )
    try:
        claims = _Unpacker(payload, decoded)._extract_sd_claims()
    except ValueError as exc:
        raise Rejected(Verdict.TAMPERED, _("The disclosures contradict the signed credential.")) from exc
    exp, nbf, iat = _number(payload, "exp"), _number(payload, "nbf"), _number(payload, "iat")
    result.exp, result.nbf, result.iat = exp, nbf, iat
    # Key binding, whenever a KB-JWT is there.
    cnf = payload.get("cnf")
    result.holder_bound = isinstance(cnf, Mapping) and isinstance(cnf.get("jwk"), Mapping)
    if kb_text:
        if not result.holder_bound:
            raise Rejected(
                Verdict.KEY_BINDING, _("A key-binding JWT is attached but the licence names no holder key.")
            )
        try:
            holder_key = jose.public_key_from_jwk(dict(cnf["jwk"]))
            kb = jose.Compact(kb_text)
        except jose.JoseError as exc:
            raise Malformed(_("The key-binding JWT or the holder key is malformed.")) from exc
        if kb.header.get("typ") != KB_TYP:
            raise Rejected(Verdict.KEY_BINDING, _("The key-binding JWT's type is not kb+jwt."))
        if not kb.verify(holder_key):
            raise Rejected(Verdict.KEY_BINDING, _("The key-binding JWT is not signed by the holder's key."))
        presented = text[: len(text) - len(kb_text)]
        if kb.payload.get("sd_hash") != jose.sd_hash(presented):
            raise Rejected(Verdict.KEY_BINDING, _("The key-binding JWT was made for other disclosures."))
        kb_iat = kb.payload.get("iat")
        if isinstance(kb_iat, bool) or not isinstance(kb_iat, int | float):
            raise Rejected(Verdict.KEY_BINDING, _("The key-binding JWT has no time (iat)."))
        if kb_iat > now + LEEWAY:
            raise Rejected(Verdict.KEY_BINDING, _("The key-binding JWT is dated in the future."))
        if kb_iat < now - KB_MAX_AGE:
            raise Rejected(
                Verdict.KEY_BINDING, _("The presentation is stale: it was made more than 10 minutes ago.")
            )
        if expected_aud is not None and kb.payload.get("aud") != expected_aud:
            raise Rejected(Verdict.KEY_BINDING, _("The presentation was made for another verifier (aud)."))
        if expected_nonce is not None and kb.payload.get("nonce") != expected_nonce:
            raise Rejected(Verdict.KEY_BINDING, _("The presentation does not answer this verifier's nonce."))
        result.key_binding = True
    elif require_kb or expected_nonce is not None:
        raise Rejected(
            Verdict.KEY_BINDING, _("The holder did not sign this presentation (no key-binding JWT).")
        )
    result.claims = {k: v for k, v in claims.items() if k not in ("cnf", "status", "_sd_alg")}
    # Status (revoked and suspended outrank the time checks: they say more).
    reference = payload.get("status")
    if reference is not None:
        entry = reference.get("status_list") if isinstance(reference, Mapping) else None
        idx, uri = (entry or {}).get("idx"), (entry or {}).get("uri")
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0 or not isinstance(uri, str):
            raise Malformed(_("The credential's status reference is malformed."))
        value = trust.status_of(uri, idx, iss)
        if value is None:
            raise Rejected(
                Verdict.STATUS_UNKNOWN, _("The issuer's status list is not available to this verifier.")
            )
        if value == status.INVALID:
            raise Rejected(Verdict.REVOKED, _("The issuer has revoked this licence."))
        if value == status.SUSPENDED:
            raise Rejected(Verdict.SUSPENDED, _("The issuer has suspended this licence."))
        if value != status.VALID:
            raise Rejected(Verdict.STATUS_UNKNOWN, _("The status list gives an unknown status."))
    if exp is not None and exp + LEEWAY < now:
        raise Rejected(Verdict.EXPIRED, _("The licence expired on %(date)s.") % {"date": _date(exp)})
    if nbf is not None and nbf - LEEWAY > now:
        raise Rejected(
            Verdict.NOT_YET_VALID, _("The licence is valid only from %(date)s.") % {"date": _date(nbf)}
        )
    if iat is not None and iat - LEEWAY > now:
        raise Rejected(Verdict.NOT_YET_VALID, _("The licence is dated in the future."))
    result.verdict = Verdict.VALID
    result.message = str(_("Signed by a trusted issuer, unaltered, and neither suspended nor revoked."))


def _date(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts + 8 * 3600))  # China Standard Time, no DST


# --- trust stores ------------------------------------------------------------------------------


class StaticTrust:
    """Keys and status lists held in memory: the offline cache file, benchmarks, tests.

    ``issuers``: {iss: {"name": ..., "jwks": {"keys": [...]}}}; ``status_lists``: {uri: token}.
    Status list tokens are checked (signature by the issuer's key, ``sub``, ``exp``) when first
    used and their bits kept."""

    def __init__(self, issuers: Mapping, status_lists: Mapping, *, now: int | None = None):
        self._names = {iss: str(v.get("name") or iss) for iss, v in issuers.items()}
        self._keys: dict[tuple[str, str], Ed25519PublicKey] = {}
        for iss, value in issuers.items():
            for jwk in (value.get("jwks") or {}).get("keys", []):
                try:
                    self._keys[(iss, jwk.get("kid") or jose.thumbprint(jwk["x"]))] = jose.public_key_from_jwk(
                        jwk
                    )
                except (jose.JoseError, KeyError):
                    continue
        self._tokens = dict(status_lists)
        self._bits: dict[tuple[str, str], bytes | None] = {}
        self._now = now

    def issuer_name(self, iss: str) -> str | None:
        return self._names.get(iss)

    def issuer_key(self, iss: str, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get((iss, kid))

    def status_of(self, uri: str, idx: int, iss: str) -> int | None:
        if (uri, iss) not in self._bits:
            token = self._tokens.get(uri)
            bits = None
            if token:
                try:
                    bits = status.read_token(
                        token,
                        uri=uri,
                        key_for=lambda kid: self.issuer_key(iss, kid),
                        now=int(time.time()) if self._now is None else self._now,
                    )
                except jose.JoseError:
                    bits = None
            self._bits[(uri, iss)] = bits
        bits = self._bits[(uri, iss)]
        if bits is None:
            return None
        try:
            return status.get(bits, idx)
        except IndexError:
            return None
