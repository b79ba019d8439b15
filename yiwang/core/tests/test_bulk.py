"""``core.bulk.insert_rows`` stores what the ORM stores, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import models

from yiwang.applications.models import Notice
from yiwang.core import bulk

pytestmark = pytest.mark.django_db

FIELDS = ("user", "case", "subject", "body", "message_key", "params", "created_at", "read_at")


def _values(notice: Notice) -> tuple:
    return tuple(
        getattr(notice, "user_id" if f == "user" else "case_id" if f == "case" else f) for f in FIELDS
    )


def test_insert_rows_stores_what_the_orm_stores():
    user = get_user_model().objects.create_user(username="bulk-test", password="x")  # noqa: S106
    at = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)
    rows = [
        (
            user.pk,
            None,
            "主题 | subject",
            "正文\n第二行",
            "status",
            {"number": "610100-1", "n": 2, "ok": True},
            at,
            None,
        ),
        (user.pk, None, "", "", "", {}, at + dt.timedelta(days=1), at + dt.timedelta(days=2)),
        (user.pk, None, "S" * 200, "'; DROP TABLE x; --", "k", [1, "二", None], at, at),
    ]
    bulk.insert_rows(Notice, FIELDS, rows)
    stored = [_values(n) for n in Notice.objects.order_by("pk")]
    assert stored == [tuple(r) for r in rows]
    # The same rows through the ORM read back the same.
    Notice.objects.bulk_create(
        [
            Notice(
                **{
                    ("user_id" if f == "user" else "case_id" if f == "case" else f): v
                    for f, v in zip(FIELDS, r, strict=True)
                }
            )
            for r in rows
        ]
    )
    orm = [_values(n) for n in Notice.objects.order_by("pk")][len(rows) :]
    assert orm == stored


def test_only_plain_fields_take_values_unprepared():
    assert bulk._plain_type(Notice._meta.get_field("subject")) is str
    assert bulk._plain_type(Notice._meta.get_field("body")) is str
    assert bulk._plain_type(Notice._meta.get_field("user")) is int  # a foreign key: its target's type
    assert bulk._plain_type(Notice._meta.get_field("params")) is None
    assert bulk._plain_type(Notice._meta.get_field("created_at")) is None

    class Shouting(models.CharField):  # a subclass may change the value: always prepared
        def get_prep_value(self, value):
            return str(value).upper()

    assert bulk._plain_type(Shouting(max_length=5)) is None
    assert bulk._plain_type(models.BooleanField()) is None
