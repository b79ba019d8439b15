"""Security regressions of the signed-out progress query (issue 8, section 6).

Each test replays an attack that once worked: bypassing the per-case limit with whitespace,
locking a case by signing in as ``track:<number>``, a stranger or a kiosk visitor locking
other people out, the last four characters in a URL, parallel guesses past the limit."""

import contextlib
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from yiwang.applications import services
from yiwang.identity import services as identity_services

from .conftest import complete_draft

ON_POSTGRES = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
CASE_LIMIT = django_settings.THROTTLES["track-case"][0]


@pytest.fixture
def last4(citizen):
    return citizen.person.id_number_masked[-4:]


@pytest.fixture
def wrong(last4):
    return "0000" if last4 != "0000" else "1111"


def lookup(number, last4, ip):
    return services.track_lookup(number=number, id_last4=last4, client_ip=ip)


@pytest.mark.django_db
def test_whitespace_width_and_case_do_not_bypass_the_per_case_limit(submitted, wrong, last4):
    typed = [f" {submitted.number}", f"{submitted.number}\t", f"\u3000{submitted.number}"]
    typed += [submitted.number.replace("-", "－"), f" {submitted.number} "]  # full-width hyphens
    for number in typed[:CASE_LIMIT]:
        assert lookup(number, wrong.lower(), "198.51.100.1") is None
    with pytest.raises(services.Throttled):
        lookup(f"  {submitted.number}", last4, "198.51.100.1")


@pytest.mark.django_db
def test_the_normalised_number_still_finds_the_case(submitted, last4):
    assert (
        lookup(f" {submitted.number.replace('-', '－')} ", f" {last4.lower()}", "198.51.100.1") == submitted
    )


@pytest.mark.django_db
def test_signing_in_as_track_number_does_not_lock_the_case(submitted, last4):
    for _ in range(20):
        identity_services.login_attempt(username=f"track:{submitted.number}", client_ip="203.0.113.1")
    assert lookup(submitted.number, last4, "198.51.100.2") == submitted


@pytest.mark.django_db
def test_a_strangers_guesses_never_stop_the_owners_correct_lookup(submitted, wrong, last4):
    for i in range(40):
        with pytest.raises(services.Throttled) if i >= CASE_LIMIT else contextlib.nullcontext():
            lookup(submitted.number, wrong, "203.0.113.66")
    assert lookup(submitted.number, last4, "198.51.100.3") == submitted


@pytest.mark.django_db
def test_five_wrong_guesses_at_a_kiosk_do_not_lock_the_next_visitor(submitted, wrong, other_submitted, item):
    kiosk = "203.0.113.80"
    for _ in range(CASE_LIMIT):
        assert lookup(submitted.number, wrong, kiosk) is None
    other, other_last4 = other_submitted
    assert lookup(other.number, other_last4, kiosk) == other  # the next visitor's own case
    # Signing in at the kiosk is untouched too: separate scopes.
    assert identity_services.login_attempt(username="other_citizen", client_ip=kiosk).allowed


@pytest.fixture
def other_submitted(item, applicant_material, other_citizen):
    draft = complete_draft(
        services.case_start(actor=other_citizen, item=item), applicant_material, other_citizen
    )
    return services.case_submit(actor=other_citizen, case=draft), other_citizen.person.id_number_masked[-4:]


@pytest.mark.django_db
def test_right_answers_do_not_count(submitted, last4):
    for _ in range(3 * CASE_LIMIT):
        assert lookup(submitted.number, last4, "198.51.100.4") == submitted


@pytest.mark.django_db
def test_the_page_asks_by_post_so_the_four_characters_stay_out_of_urls(login, submitted, last4):
    page = login(None).get(reverse("applications:track")).content.decode()
    assert 'method="post"' in page and 'method="get"' not in page.split("<main", 1)[-1]


@pytest.mark.django_db
def test_the_signed_in_owner_always_reaches_their_own_case(login, submitted, citizen, wrong):
    for _ in range(CASE_LIMIT + 1):
        login(None).post(reverse("applications:track"), {"number": submitted.number, "id_last4": wrong})
    owner = login(citizen)
    response = owner.post(reverse("applications:track"), {"number": f" {submitted.number}", "id_last4": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:case", kwargs={"number": submitted.number})
    assert reverse("applications:my_cases") in owner.get(reverse("applications:track")).content.decode()


@pytest.mark.django_db
def test_at_the_client_limit_the_kiosk_waits_and_is_told_to_sign_in_but_owners_still_get_through(
    login, settings, submitted, citizen, wrong
):
    settings.THROTTLES = {**settings.THROTTLES, "track-client": (3, 900)}
    kiosk = login(None)
    for n in range(3):  # a visitor guessing at three different case numbers
        kiosk.post(reverse("applications:track"), {"number": f"{submitted.number}{n}", "id_last4": wrong})
    refused = kiosk.post(
        reverse("applications:track"),
        {"number": submitted.number, "id_last4": wrong},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 429
    assert "sign in" in refused.content.decode()
    owner = login(citizen)  # the same address (the test client's), signed in
    response = owner.post(reverse("applications:track"), {"number": submitted.number, "id_last4": ""})
    assert response.status_code == 302


@pytest.mark.django_db
def test_someone_elses_number_takes_the_ordinary_path_for_a_signed_in_user(
    login, submitted, other_citizen, wrong
):
    response = login(other_citizen).post(
        reverse("applications:track"), {"number": submitted.number, "id_last4": wrong}
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="parallel writers need PostgreSQL; SQLite serialises them")
def test_forty_parallel_guesses_check_no_more_answers_than_the_limit(submitted, wrong):
    barrier = threading.Barrier(40)
    outcomes = []

    def guess():
        try:
            barrier.wait(timeout=20)
            outcomes.append("checked" if lookup(submitted.number, wrong, "203.0.113.99") is None else "found")
        except services.Throttled:
            outcomes.append("throttled")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("checked") == CASE_LIMIT and outcomes.count("throttled") == 40 - CASE_LIMIT
