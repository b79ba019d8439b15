"""One throttle for every guessable door: sign-in, the signed-out progress query, registration.

A *scope* (``login-account``, ``track-client`` …) has a limit of attempts per window of seconds,
configured in ``settings.THROTTLES`` (see docs/configuration.md). Callers name the scope and a
key (a user name, a client address, a case number with the client); the key is normalised
(Unicode NFKC, whitespace removed, case folded; IPv6 addresses grouped by /64) and stored only
as an HMAC, so " Admin" and "admin" share one counter and the table holds no personal data.

Check and count are one step: ``attempt()`` reserves the attempt with a single atomic upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite and PostgreSQL alike) *before* the
caller checks the password or the answer, and allows it only if the count it got back is within
the limit — so 40 parallel guesses with 2 attempts left try 2, whatever the number of app
servers. A refused attempt is given back at once, so hammering a locked key does not keep it
locked longer. Callers give an attempt back when it should not count (a right answer) with
``Attempt.give_back()`` or forget a key altogether with ``clear()`` (a completed sign-in).

Counting uses fixed periods of the scope's window, with the previous period's count weighted by
how much of it still overlaps the sliding window (so the boundary between two periods never
doubles the limit).
"""

import hashlib
import hmac
import ipaddress
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from yiwang.core import prepared
from yiwang.core.models import ThrottleCounter

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Rule:
    """A scope's limit: at most ``limit`` counted attempts per key in any ``window`` seconds."""

    scope: str
    limit: int
    window: int


def rule(scope: str) -> Rule:
    """The configured rule of ``scope``; an unknown scope is a programming error (KeyError)."""
    limit, window = settings.THROTTLES[scope]
    return Rule(scope=scope, limit=int(limit), window=int(window))


def normalise(text: object) -> str:
    """A key as typed by a person: NFKC, every whitespace removed, case folded."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", str(text or ""))).casefold()


def normalise_address(address: str | None) -> str:
    """A client address as a key: IPv4 as is (IPv4-mapped IPv6 unwrapped); IPv6 by its /64,
    which one subscriber usually holds whole; anything else (no address) as "-"."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _key_hash(scope: str, key: str) -> str:
    secret = hashlib.sha256(b"yiwang-throttle:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(secret, f"{scope}\x00{key}".encode(), hashlib.sha256).hexdigest()


def _now() -> float:  # patched by tests to move the clock
    return time.time()


@dataclass
class Attempt:
    """The outcome of ``attempt()``. ``retry_after`` is in seconds: how long until the next
    attempt may be made when this one was refused, or when it used the last one left
    (``remaining == 0``); otherwise 0."""

    allowed: bool
    retry_after: int = 0
    remaining: int = 0
    _slots: list[tuple[str, str, int]] = field(default_factory=list, repr=False)

    @property
    def minutes(self) -> int:
        """``retry_after`` in whole minutes, at least 1 when there is a wait (for messages)."""
        return max(1, math.ceil(self.retry_after / 60)) if self.retry_after else 0

    def give_back(self, scope: str | None = None) -> None:
        """Uncount this attempt (it should not count, e.g. the answer was right), under every
        key or only under ``scope``'s. Idempotent."""
        kept = [slot for slot in self._slots if scope is not None and slot[0] != scope]
        for slot in self._slots:
            if slot not in kept:
                _decrement(*slot)
        self._slots = kept


def _table_sql() -> tuple[str, str, str, str, str]:
    q = connection.ops.quote_name
    opts = ThrottleCounter._meta
    return (
        q(opts.db_table),
        q(opts.get_field("scope").column),
        q(opts.get_field("key_hash").column),
        q(opts.get_field("period").column),
        q(opts.get_field("count").column),
    )


def _increment(scope: str, key_hash: str, period: int) -> tuple[int, int]:
    """Count one attempt in ``period``; return (the count of ``period`` with it, the count of the
    period before). One statement: the upsert, its RETURNING reading the previous period too."""
    table, c_scope, c_key, c_period, c_count = _table_sql()
    sql = (
        f"INSERT INTO {table} ({c_scope}, {c_key}, {c_period}, {c_count}) VALUES (%s, %s, %s, 1) "  # noqa: S608 — model metadata only
        f"ON CONFLICT ({c_scope}, {c_key}, {c_period}) "
        f"DO UPDATE SET {c_count} = {table}.{c_count} + 1 RETURNING {c_count}, "
        f"(SELECT p.{c_count} FROM {table} AS p "
        f"WHERE p.{c_scope} = %s AND p.{c_key} = %s AND p.{c_period} = %s)"
    )
    with prepared.cursor() as cursor:
        cursor.execute(sql, [scope, key_hash, period, scope, key_hash, period - 1])
        count, previous = cursor.fetchone()
    if count == 1:  # the first attempt of a new period: forget periods that no longer matter
        ThrottleCounter.objects.filter(scope=scope, period__lt=period - 1).delete()
    return int(count), int(previous or 0)


def _decrement(scope: str, key_hash: str, period: int) -> None:
    table, c_scope, c_key, c_period, c_count = _table_sql()
    sql = (
        f"UPDATE {table} SET {c_count} = {c_count} - 1 "  # noqa: S608 — model metadata only
        f"WHERE {c_scope} = %s AND {c_key} = %s AND {c_period} = %s AND {c_count} > 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope, key_hash, period])


def _retry_after(rule_: Rule, previous: int, current: int, elapsed: float) -> int:
    """Seconds until one more attempt would fit, if nobody tries meanwhile. ``current`` counts
    the attempts of this period without the refused one."""
    limit, window = rule_.limit, rule_.window
    weight = min(previous, limit)
    if current + 1 <= limit and weight > 0:  # only the previous period is still in the way
        needed = window * (1 - (limit - current - 1) / weight)
        return max(1, math.ceil(needed - elapsed))
    full = min(current, limit)  # this period is full; it becomes the previous one
    later = window * max(0.0, 1 - (limit - 1) / full) if full else 0.0
    return max(1, math.ceil(window - elapsed + later))


def attempt(*checks: tuple[Rule, str]) -> Attempt:
    """Reserve one attempt under every ``(rule, key)`` pair (keys normalised by the caller with
    ``normalise``/``normalise_address`` or as they are). Allowed only when every key stays
    within its limit; otherwise nothing stays counted and ``retry_after`` says how long the
    tightest key needs. Each reservation is one atomic statement (which also reads the previous
    period's count), safe between processes."""
    now = _now()
    reserved: list[tuple[str, str, int]] = []
    refused_waits: list[int] = []
    remaining: list[int] = []
    exhausted_waits: list[int] = [0]
    for rule_, key in checks:
        period, offset = divmod(now, rule_.window)
        period = int(period)
        key_hash = _key_hash(rule_.scope, key)
        count, previous = _increment(rule_.scope, key_hash, period)
        reserved.append((rule_.scope, key_hash, period))
        weighted = min(previous, rule_.limit) * (1 - offset / rule_.window) + count
        if weighted > rule_.limit:
            refused_waits.append(_retry_after(rule_, previous, count - 1, offset))
            break  # the attempt will not happen: don't count it against the remaining keys
        left = math.floor(rule_.limit - weighted)
        remaining.append(left)
        if left <= 0:
            exhausted_waits.append(_retry_after(rule_, previous, count, offset))
    if refused_waits:
        refused = Attempt(allowed=False, retry_after=max(refused_waits), _slots=reserved)
        refused.give_back()
        return refused
    return Attempt(
        allowed=True, retry_after=max(exhausted_waits), remaining=min(remaining, default=0), _slots=reserved
    )


def clear(rule_: Rule, key: str) -> None:
    """Forget every counted attempt of ``key`` in ``rule_``'s scope (e.g. after a sign-in)."""
    ThrottleCounter.objects.filter(scope=rule_.scope, key_hash=_key_hash(rule_.scope, key)).delete()
