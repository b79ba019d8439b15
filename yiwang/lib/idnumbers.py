"""Resident identity numbers (公民身份号码) as GB 11643-1999 defines them.

Eighteen characters: a six-digit administrative division code (GB/T 2260), the birth date
as YYYYMMDD, a three-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2
check character, ``X`` standing for ten.
"""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Weight of position i (0-based, left to right) is 2^(17-i) mod 11.
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_CHARS = "10X98765432"  # indexed by (sum of weighted digits) mod 11

# First two digits of GB/T 2260 division codes (provinces, autonomous regions,
# municipalities, Taiwan, Hong Kong, Macao; 83 is used by residence permits).
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
# 港澳台居民居住证 numbers carry the whole-region code of Hong Kong, Macao or Taiwan.
RESIDENCE_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
EARLIEST_BIRTH_YEAR = 1900

_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def check_char(first17: str) -> str:
    """The check character for the first seventeen digits."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def validate_id_number(value: str) -> str:
    """Return the identity number normalised (no spaces, upper-case X) or raise ValidationError
    with a message saying what is wrong: length, characters, region, date or check digit."""
    # NFKC turns the full-width digits and Ｘ a Chinese input method types into ASCII.
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()
    if len(s) != 18:
        raise ValidationError(
            _("An identity number has 18 characters; this one has %(count)d."),
            code="id_number_length",
            params={"count": len(s)},
        )
    if not _SHAPE.match(s):
        raise ValidationError(
            _("An identity number is 17 digits followed by a digit or the letter X."),
            code="id_number_characters",
        )
    if s[:2] not in PROVINCE_PREFIXES or (s[2:6] == "0000" and s[:6] not in RESIDENCE_PERMIT_REGIONS):
        raise ValidationError(
            _("The first six digits of the identity number are not a known region code."),
            code="id_number_region",
        )
    try:
        birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR or birth > timezone.localdate():
        raise ValidationError(
            _("Digits 7 to 14 of the identity number are not a valid date of birth."),
            code="id_number_date",
        )
    if check_char(s[:17]) != s[17]:
        raise ValidationError(
            _("The last character of the identity number does not match; please check the number."),
            code="id_number_check",
        )
    return s


def birth_date_of(id_number: str) -> dt.date:
    """The birth date encoded in a valid identity number."""
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def make_id_number(region: str, birth_date: dt.date, seq: int) -> str:
    """Build a valid identity number (for demo and test data) from a six-digit region code,
    a birth date and a sequence number 0-999."""
    code = str(getattr(region, "code", region))
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValueError("region must be a six-digit division code")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    first17 = f"{code}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
