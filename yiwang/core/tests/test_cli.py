import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from yiwang import cli


def test_yiwang_without_arguments_prints_the_operator_commands(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "demo", "verify-log"):
        assert command in out


def test_dashed_names_map_to_management_commands():
    assert cli.COMMAND_ALIASES["verify-log"] == "verify_log"
    assert cli.COMMAND_ALIASES["audit-keygen"] == "audit_keygen"


@pytest.mark.django_db
def test_verify_log_runs_through_the_operator_command(capsys):
    assert cli.main(["verify-log"]) == 0
    assert "audit log intact" in capsys.readouterr().out


@override_settings(DEV=False)
def test_demo_refuses_to_run_outside_development():
    with pytest.raises(CommandError, match="development only"):
        call_command("demo")
