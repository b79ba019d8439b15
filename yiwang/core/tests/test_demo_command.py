"""`yiwang demo` builds once per fingerprint of its inputs; a second run returns at once."""

import contextlib
from unittest import mock

import pytest
from django.core.management import call_command

from yiwang import cli
from yiwang.audit.models import AuditEntry
from yiwang.core.management.commands import demo as demo_command

BUILDERS = [
    "yiwang.identity.demo.build",
    "yiwang.catalog.demo.build",
    "yiwang.applications.demo.build",
]
# Built too, but not counted here: they need what the builders above would have made.
QUIET = [
    "yiwang.exchange.demo.build",
    "yiwang.exchange.tracker_demo.build",
    "yiwang.opendata.demo.build",
    "yiwang.supervision.demo.build",
    "yiwang.feedback.demo.build",
]


@pytest.fixture
def builders():
    with contextlib.ExitStack() as stack:
        for name in QUIET:
            stack.enter_context(mock.patch(name))
        yield [stack.enter_context(mock.patch(name)) for name in BUILDERS]


def _calls(builders) -> list[int]:
    return [b.call_count for b in builders]


@pytest.mark.django_db
def test_a_second_demo_run_skips_the_builders(builders, capsys):
    call_command("demo")
    assert _calls(builders) == [1, 1, 1]
    entry = AuditEntry.objects.get(event=demo_command.READY_EVENT)
    assert entry.data["fingerprint"] == demo_command.fingerprint()

    call_command("demo")
    assert _calls(builders) == [1, 1, 1]  # nothing rebuilt
    assert "up to date" in capsys.readouterr().out
    assert AuditEntry.objects.filter(event=demo_command.READY_EVENT).count() == 1


@pytest.mark.django_db
def test_changed_inputs_or_force_run_the_builders_again(builders):
    call_command("demo")
    with mock.patch.object(demo_command, "fingerprint", return_value="changed"):
        call_command("demo")
    assert _calls(builders) == [2, 2, 2]
    call_command("demo", force=True)
    assert _calls(builders) == [3, 3, 3]


@pytest.mark.django_db
def test_the_builders_run_again_after_a_failed_build(builders):
    builders[2].side_effect = RuntimeError("half way")
    with pytest.raises(RuntimeError):
        call_command("demo")
    assert not AuditEntry.objects.filter(event=demo_command.READY_EVENT).exists()
    builders[2].side_effect = None
    call_command("demo")
    assert _calls(builders) == [2, 2, 2]


def test_the_fingerprint_follows_the_demo_inputs_and_the_scale(tmp_path, monkeypatch, django_db_blocker):
    (tmp_path / "catalog" / "data").mkdir(parents=True)
    builder = tmp_path / "catalog" / "demo.py"
    builder.write_text("ITEMS = 1\n")
    (tmp_path / "catalog" / "data" / "items.json").write_text("[]")
    (tmp_path / "catalog" / "views.py").write_text("# not a demo input\n")
    monkeypatch.setattr(demo_command, "PACKAGE", tmp_path)
    with django_db_blocker.unblock():
        first = demo_command.fingerprint()
        assert demo_command.fingerprint() == first
        (tmp_path / "catalog" / "views.py").write_text("# changed, still not a demo input\n")
        assert demo_command.fingerprint() == first
        builder.write_text("ITEMS = 2\n")
        second = demo_command.fingerprint()
        (tmp_path / "catalog" / "data" / "items.json").write_text("[{}]")
        third = demo_command.fingerprint()
        large = demo_command.fingerprint("large")
    assert len({first, second, third, large}) == 4


@pytest.mark.django_db
def test_the_large_demo_adds_a_million_market_entities(builders):
    large = [
        "yiwang.catalog.demo.build_large",
        "yiwang.identity.demo.build_large",
        "yiwang.audit.demo.build_large",
        "yiwang.supervision.demo.build_entities",
    ]
    with contextlib.ExitStack() as stack:
        mocks = {name: stack.enter_context(mock.patch(name)) for name in large}
        call_command("demo", scale="large")
    mocks["yiwang.supervision.demo.build_entities"].assert_called_once_with(1_000_000, stdout=mock.ANY)
    assert all(m.call_count == 1 for m in mocks.values())


def test_serve_demo_refuses_outside_development(settings, capsys):
    settings.DEV = False
    with mock.patch("os.execv") as execv:
        assert cli._serve(["--demo"]) == 2
    execv.assert_not_called()
    assert "development only" in capsys.readouterr().err


def test_serve_demo_migrates_loads_the_demo_then_becomes_the_server(settings):
    settings.DEV = True
    with mock.patch("django.core.management.call_command") as call, mock.patch("os.execv") as execv:
        cli._serve(["--demo", "127.0.0.1:8123"])
    assert [c.args[0] for c in call.call_args_list] == ["migrate", "demo"]
    gunicorn_args = execv.call_args.args[1]
    assert "config.wsgi:application" in gunicorn_args
    assert gunicorn_args[gunicorn_args.index("--bind") + 1] == "127.0.0.1:8123"
