"""Unified social credit codes (统一社会信用代码) as GB 32100-2015 defines them.

Eighteen characters from a 31-character alphabet (digits and capital letters without
I, O, Z, S, V): registration authority (1), organisation kind (1), division code (6),
organisation code (9, GB 11714) and a check character. Position i (0-based) weighs
3^i mod 31; the check character's value is (31 - sum mod 31) mod 31.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# GB 32100 registration authorities (登记管理部门代码): 1 机构编制, 2 外交, 3 司法行政, 4 文化,
# 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管 (工商), A 中央军委改革和编制办公室, N 农业, Y 其他.
AUTHORITIES = frozenset("123456789ANY")

# GB 11714 organisation code: eight characters weighted, check = 11 - sum mod 11 (10 → X, 11 → 0).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """The check character for the first seventeen characters."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return the code normalised (no spaces, upper case) or raise ValidationError saying what
    is wrong: length, characters or check character."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()
    if len(s) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."),
            code="credit_code_length",
            params={"count": len(s)},
        )
    bad = sorted({c for c in s if c not in VALUES})
    if bad:
        raise ValidationError(
            _(
                "A unified social credit code uses digits and capital letters except I, O, Z, S and V; "
                "it contains %(chars)s."
            ),
            code="credit_code_characters",
            params={"chars": " ".join(bad)},
        )
    if s[0] not in AUTHORITIES:
        raise ValidationError(
            _(
                "The first character of a unified social credit code names the registration authority "
                "(1 to 9, A, N or Y); %(char)s is none."
            ),
            code="credit_code_authority",
            params={"char": s[0]},
        )
    if not s[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the region code and must be digits."),
            code="credit_code_region",
        )
    if check_char(s[:17]) != s[17]:
        raise ValidationError(
            _("The last character of the unified social credit code does not match; please check the code."),
            code="credit_code_check",
        )
    return s


def organisation_code(seq: int) -> str:
    """A nine-character GB 11714 organisation code (eight digits + check) for a sequence number."""
    body = f"{seq % 10**8:08d}"
    total = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(region: str, seq: int, *, authority: str = "9", kind: str = "1") -> str:
    """Build a valid code (for demo and test data): authority 9 = market regulation, kind
    1 = company, a six-digit region code and an organisation code derived from ``seq``."""
    code = str(getattr(region, "code", region))
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValueError("region must be a six-digit division code")
    if authority not in VALUES or kind not in VALUES:
        raise ValueError("authority and kind must be characters of the code alphabet")
    first17 = f"{authority}{kind}{code}{organisation_code(seq)}"
    return first17 + check_char(first17)
