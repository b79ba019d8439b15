"""Two verifiers reading the same QR code at the same moment: one gets the presentation, the
other is told it was used. Real threads and transactions on PostgreSQL (where the row lock
decides); SQLite serialises writers and is covered by the sequential replay tests."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from yiwang.licences import presentations

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is PostgreSQL's; SQLite serialises writers"),
]


def test_one_of_two_simultaneous_reads_gets_the_presentation(citizen, dog_licence):
    shown = presentations.presentation_create(licence=dog_licence, disclose=["owner"], actor=citizen)
    barrier = threading.Barrier(2)
    outcomes = []

    def read():
        try:
            barrier.wait(timeout=10)
            taken = presentations.presentation_take(token=shown.token, actor=None, via="link")
            outcomes.append("text" if taken.text else "empty")
        except presentations.Gone as exc:
            outcomes.append(exc.verdict)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == sorted(["text", presentations.Verdict.USED])
