"""verify_log against a clean log and against rows changed behind the log's back with raw SQL."""

import base64
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from yiwang.audit import services, verify
from yiwang.audit.models import AuditEntry, AuditHead, AuditNode, SignedTreeHead

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(settings):
    settings.AUDIT_STH_INTERVAL_SECONDS = 0
    for i in range(9):
        services.record(actor="system:test", event="audit:test:run", target=("audit.thing", i), data={"i": i})
    services.tree_head_sign(persist=True)  # kept at size 9
    for i in range(9, 20):
        services.record(actor="system:test", event="audit:test:run", data={"i": i})
    return 20


def sql(statement: str, params=()) -> None:
    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    with connection.cursor() as cursor:
        cursor.execute(
            statement.format(
                entry=table(AuditEntry),
                node=table(AuditNode),
                head=table(AuditHead),
                key=connection.ops.quote_name("key"),
            ),
            params,
        )


def test_a_clean_log_passes_with_a_one_line_summary(log, capsys):
    result = verify.verify_log()
    assert result.ok, result.problem
    assert (result.entries_checked, result.tree_size) == (20, 20)
    assert result.nodes_checked == 2 * 20 - (20).bit_count()
    assert result.tree_heads_checked == 1
    call_command("verify_log")
    out = capsys.readouterr().out
    assert out.startswith("audit log intact: 20 entries") and out.count("\n") == 1


def test_an_empty_log_passes():
    assert verify.verify_log().ok


def test_small_chunks_give_the_same_answer(log):
    assert verify.verify_log(chunk_size=3).ok


def test_a_public_column_edited_with_sql_is_caught_and_the_entry_named(log):
    sql("UPDATE {entry} SET actor_department = %s WHERE leaf_index = 7", ["610200-SCJG"])
    result = verify.verify_log()
    assert not result.ok
    assert result.bad_index == 7
    assert result.problem.startswith("entry #7 was altered:")
    assert "actor_department" in result.problem


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event", "audit:test:forged"),
        ("actor_id", "99"),
        ("target_id", "99"),
        ("client_ip", "192.0.2.1"),
        ("request_id", "forged"),
        ("subject_id", "5"),
    ],
)
def test_a_restricted_column_edited_with_sql_is_caught_by_the_commitment(log, column, value):
    sql(f"UPDATE {{entry}} SET {column} = %s WHERE leaf_index = 7", [value])  # noqa: S608 — test columns
    result = verify.verify_log()
    assert result.bad_index == 7
    assert result.problem == (
        "entry #7 was altered: its restricted record (actor, target, data, request id, address or salt) "
        "no longer matches the commitment its leaf publishes"
    )


def test_data_edited_with_sql_is_caught_by_the_commitment(log):
    sql("UPDATE {entry} SET data = %s WHERE leaf_index = 12", [json.dumps({"i": 999})])
    result = verify.verify_log()
    assert result.bad_index == 12
    assert "no longer matches the commitment its leaf publishes" in result.problem


def test_a_replaced_salt_is_caught_by_the_commitment(log):
    sql("UPDATE {entry} SET salt = %s WHERE leaf_index = 3", [b"\x00" * 16])
    result = verify.verify_log()
    assert result.bad_index == 3
    assert "commitment" in result.problem


def _forge(index: int, event: str) -> bytes:
    """Rewrite entry ``index`` as a careful attacker would: new event, matching commitment and leaf."""
    from yiwang.audit import leaf

    entry = AuditEntry.objects.get(leaf_index=index)
    entry.event = event
    forged = leaf.build_leaf_input(
        ts=leaf.format_ts(entry.created_at),
        event=event,
        actor_kind=entry.actor_kind,
        actor_department=entry.actor_department,
        actor_role=entry.actor_role,
        target_type=entry.target_type,
        target_id=entry.target_id,
        commitment=leaf.commitment(entry.salt, leaf.record_of(entry)),
    )
    sql("UPDATE {entry} SET leaf_input = %s, event = %s WHERE leaf_index = %s", [forged, event, index])
    return forged


def test_a_deleted_row_is_named_as_removed(log):
    sql("DELETE FROM {entry} WHERE leaf_index = 5")
    result = verify.verify_log()
    assert result.bad_index == 5
    assert result.problem == "entry #5 was removed: the log jumps from #4 to #6"


def test_deleting_the_last_row_is_caught_too(log):
    sql("DELETE FROM {entry} WHERE leaf_index = 19")
    result = verify.verify_log()
    assert result.bad_index == 19
    assert result.problem.startswith("entry #19 was removed:")


def test_two_rows_with_swapped_leaf_input_are_caught_at_the_first(log):
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        cursor.execute(f"SELECT leaf_input FROM {table} WHERE leaf_index IN (3, 14) ORDER BY leaf_index")  # noqa: S608
        three, fourteen = (bytes(row[0]) for row in cursor.fetchall())
    sql("UPDATE {entry} SET leaf_input = %s WHERE leaf_index = 3", [fourteen])
    sql("UPDATE {entry} SET leaf_input = %s WHERE leaf_index = 14", [three])
    result = verify.verify_log()
    assert result.bad_index == 3
    assert result.problem.startswith("entry #3 was altered:")


def test_a_row_rewritten_consistently_is_caught_by_the_stored_leaf_hash(log):
    _forge(2, "audit:test:own")
    result = verify.verify_log()
    assert result.problem == "entry #2 was altered: its leaf_input does not hash to the stored leaf hash"


def test_a_rewrite_of_the_whole_tree_is_caught_by_the_signed_tree_head(log):
    from yiwang.audit import merkle

    _forge(2, "audit:test:own")
    # recompute every stored node from the forged leaves, as a careful attacker with SQL access would
    leaves = [
        bytes(x) for x in AuditEntry.objects.order_by("leaf_index").values_list("leaf_input", flat=True)
    ]
    stack = []
    for index, raw in enumerate(leaves):
        h, level, node_index = merkle.leaf_hash(raw), 0, index
        sql(
            "UPDATE {node} SET hash = %s WHERE {key} = %s",
            [h, merkle.node_key(0, index)],
        )
        while stack and stack[-1][0] == level:
            h = merkle.node_hash(stack.pop()[1], h)
            level, node_index = level + 1, node_index >> 1
            sql(
                "UPDATE {node} SET hash = %s WHERE {key} = %s",
                [h, merkle.node_key(level, node_index)],
            )
        stack.append((level, h))
    result = verify.verify_log()
    assert not result.ok
    assert result.problem.startswith("entries below #9 were rewritten")


def test_a_stored_internal_node_that_was_changed_is_caught(log):
    from yiwang.audit import merkle

    sql("UPDATE {node} SET hash = %s WHERE {key} = %s", [b"\x00" * 32, merkle.node_key(2, 1)])
    result = verify.verify_log()
    assert result.bad_index == 4
    assert "entries #4-#7" in result.problem


def test_a_head_that_claims_fewer_entries_than_a_signed_tree_head_fails(log):
    sql("UPDATE {head} SET tree_size = 5")
    result = verify.verify_log()
    assert not result.ok
    assert "size 9" in result.problem


def test_an_outside_auditors_tree_head_is_checked_and_a_forged_one_refused(log, client, tmp_path, capsys):
    saved = tmp_path / "sth.json"
    saved.write_text(client.get("/api/audit/sth").content.decode())
    call_command("verify_log", "--sth", str(saved))
    assert (
        "3 signed tree heads" in capsys.readouterr().out
    )  # size 9 kept, size 20 kept by the GET, and the file

    forged = json.loads(saved.read_text())
    forged["root_hash"] = base64.b64encode(b"\x01" * 32).decode()
    saved.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="invalid signature"):
        call_command("verify_log", "--sth", str(saved))


def test_verify_log_command_exits_non_zero_naming_the_first_bad_entry(log):
    sql("DELETE FROM {entry} WHERE leaf_index IN (4, 10)")
    with pytest.raises(CommandError, match=r"^entry #4 was removed") as caught:
        call_command("verify_log")
    assert caught.value.returncode == 2


def test_verify_log_reads_a_bad_sth_file_with_a_clear_error(tmp_path):
    bad = tmp_path / "sth.json"
    bad.write_text("{}")
    with pytest.raises(CommandError, match="not a tree head"):
        call_command("verify_log", "--sth", str(bad))


def test_a_kept_tree_head_with_a_bad_signature_fails(log):
    sth = SignedTreeHead.objects.get()
    table = connection.ops.quote_name(SignedTreeHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET signature = %s WHERE id = %s", [b"\x00" * 64, sth.pk])  # noqa: S608
    result = verify.verify_log()
    assert "invalid signature" in result.problem


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-23 08:00:00",
        "2026-11-23 08:00:00.000123",
        "2026-11-23T08:00:00.5+00:00",
        "2026-11-23 08:00:00.000123+00",
        "2026-11-23 08:00:00+00",
        "2026-11-23 16:00:00.25+08",
    ],
)
def test_timestamps_read_raw_from_either_database_rebuild_the_leafs_ts(value):
    import datetime as dt

    from yiwang.audit import leaf

    moment = dt.datetime.fromisoformat(value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    expected = leaf.format_ts(moment)
    assert verify._ts(value) == expected
    assert verify._ts(moment) == expected
    assert verify._ts(moment.astimezone(dt.timezone(dt.timedelta(hours=8)))) == expected
