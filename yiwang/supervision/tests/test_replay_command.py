import io
import json

import pytest
from django.core.management import CommandError, call_command

from yiwang.supervision import services
from yiwang.supervision.tests.test_services import _drawn

pytestmark = pytest.mark.django_db


def test_replay_draw_says_identical(department_x, dept_admin):
    plan, _rows, _pool = _drawn(department_x, dept_admin)
    out = io.StringIO()
    call_command("replay_draw", str(plan.pk), stdout=out)
    assert f"draw {plan.pk}: identical" in out.getvalue() and "checked" in out.getvalue()


def test_replay_draw_from_a_published_bundle_notices_a_changed_result(department_x, dept_admin, tmp_path):
    plan, _rows, _pool = _drawn(department_x, dept_admin)
    bundle = services.replay_bundle(plan)
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    out = io.StringIO()
    call_command("replay_draw", file=str(path), stdout=out)
    assert "identical" in out.getvalue()
    bundle["result"][0][2].reverse()
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(CommandError, match="NOT identical"):
        call_command("replay_draw", file=str(path))


def test_replay_draw_of_an_unknown_draw_is_refused():
    with pytest.raises(CommandError, match="no drawn plan"):
        call_command("replay_draw", "999")
