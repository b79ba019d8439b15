"""The one throttle: normalised keys, separate scopes, check-and-count in one atomic step,
sliding windows, give-backs, and real parallel guesses on PostgreSQL."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from yiwang.core import throttle
from yiwang.core.models import ThrottleCounter

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
RULE = throttle.Rule(scope="test", limit=3, window=600)


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_800_000_000.0}  # the start of a period of 600 s
    monkeypatch.setattr(throttle, "_now", lambda: now["t"])
    return now


def tries(n, *checks):
    return [throttle.attempt(*checks).allowed for _ in range(n)]


@pytest.mark.django_db
def test_the_limit_is_reached_and_then_refused_with_a_wait(clock):
    assert tries(4, (RULE, "k")) == [True, True, True, False]
    refused = throttle.attempt((RULE, "k"))
    assert not refused.allowed and 0 < refused.retry_after <= 2 * RULE.window and refused.minutes >= 1


@pytest.mark.django_db
def test_keys_differing_in_case_width_or_whitespace_share_one_counter(clock):
    for typed in [" Admin", "ADMIN\t", "ａｄｍｉｎ"]:
        throttle.attempt((RULE, throttle.normalise(typed)))
    assert not throttle.attempt((RULE, throttle.normalise("ad min"))).allowed


@pytest.mark.django_db
def test_scopes_never_share_counters(clock):
    other = throttle.Rule(scope="other", limit=3, window=600)
    tries(3, (RULE, "track:1"))
    assert throttle.attempt((other, "track:1")).allowed
    assert not throttle.attempt((RULE, "track:1")).allowed


@pytest.mark.django_db
def test_keys_are_stored_only_as_hmacs(clock):
    throttle.attempt((RULE, "citizen"))
    row = ThrottleCounter.objects.get()
    assert "citizen" not in row.key_hash and len(row.key_hash) == 64


@pytest.mark.django_db
def test_a_refused_attempt_is_not_counted_on_the_other_keys(clock):
    tight = throttle.Rule(scope="tight", limit=1, window=600)
    throttle.attempt((tight, "a"))
    assert not throttle.attempt((tight, "a"), (RULE, "shared")).allowed
    assert tries(3, (RULE, "shared")) == [True, True, True]


@pytest.mark.django_db
def test_given_back_attempts_do_not_count(clock):
    for _ in range(10):
        throttle.attempt((RULE, "k")).give_back()
    assert throttle.attempt((RULE, "k")).allowed


@pytest.mark.django_db
def test_clear_forgets_a_key(clock):
    tries(3, (RULE, "k"))
    throttle.clear(RULE, "k")
    assert throttle.attempt((RULE, "k")).allowed


@pytest.mark.django_db
def test_a_period_boundary_does_not_double_the_limit(clock):
    clock["t"] += RULE.window - 1  # the last second of a period
    assert tries(3, (RULE, "k")) == [True, True, True]
    clock["t"] += 2  # a new period has begun, but the window still holds the three
    assert not throttle.attempt((RULE, "k")).allowed
    clock["t"] += RULE.window  # the three left the window
    assert throttle.attempt((RULE, "k")).allowed


@pytest.mark.django_db
def test_old_periods_are_pruned(clock):
    throttle.attempt((RULE, "a"))
    clock["t"] += 3 * RULE.window
    throttle.attempt((RULE, "b"))
    assert ThrottleCounter.objects.count() == 1


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("", "-"),
        ("not an address", "-"),
    ],
)
def test_addresses_are_normalised(address, key):
    assert throttle.normalise_address(address) == key


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="parallel writers need PostgreSQL; SQLite serialises them")
def test_forty_parallel_guesses_try_no_more_than_the_attempts_left():
    rule = throttle.Rule(scope="parallel", limit=5, window=600)
    for _ in range(3):
        throttle.attempt((rule, "victim"))  # 2 attempts remain
    barrier = threading.Barrier(40)
    allowed = []

    def guess():
        try:
            barrier.wait(timeout=20)
            if throttle.attempt((rule, "victim")).allowed:
                allowed.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(allowed) == 2


@pytest.mark.django_db
def test_the_last_allowed_attempt_says_so_and_how_long_to_wait(clock):
    first = throttle.attempt((RULE, "k"))
    assert first.remaining == 2 and first.retry_after == 0
    throttle.attempt((RULE, "k"))
    last = throttle.attempt((RULE, "k"))
    assert last.allowed and last.remaining == 0 and last.minutes > 0
