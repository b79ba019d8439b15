"""The portal's test world: the demo departments and people, and the open data demo (105
datasets) built once per module."""

import pytest


@pytest.fixture(scope="module")
def portal(django_db_setup, django_db_blocker):
    """The demo (identity + open data) in a transaction rolled back after the module."""
    from django.db import transaction

    from yiwang.identity import demo as identity_demo
    from yiwang.opendata import demo

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            identity_demo.build()
            demo.build()
            yield demo
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
