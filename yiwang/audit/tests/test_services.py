import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.audit import leaf, merkle, selectors, services
from yiwang.audit.models import AuditEntry, AuditNode, ImmutableRowError
from yiwang.core import context

pytestmark = pytest.mark.django_db


def test_record_appends_contiguous_entries_whose_root_matches_a_recomputed_tree():
    entries = [services.record(actor=None, event="audit:test:run", data={"n": i}) for i in range(13)]
    assert [e.leaf_index for e in entries] == list(range(13))
    leaves = [merkle.leaf_hash(bytes(e.leaf_input)) for e in AuditEntry.objects.order_by("leaf_index")]
    assert selectors.root_hash(13) == merkle.root_from_leaf_hashes(leaves)
    assert selectors.tree_size() == 13
    # every complete perfect subtree is stored: 2n - popcount(n) nodes
    assert AuditNode.objects.count() == 2 * 13 - (13).bit_count()


def test_record_keeps_who_and_what_in_the_record_and_publishes_neither(django_user_model):
    user = django_user_model.objects.create(username="citizen-a", display_name="测试甲")
    token = context.bind(context.RequestContext(request_id="req-12345678", client_ip="203.0.113.7"))
    try:
        entry = services.record(actor=user, event="identity:user:register", target=user, data={"via": "form"})
    finally:
        context.reset(token)
    # the restricted record
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == ("user", str(user.pk), f"user#{user.pk}")
    assert (entry.target_type, entry.target_id) == ("identity.user", str(user.pk))
    assert (entry.request_id, entry.client_ip) == ("req-12345678", "203.0.113.7")
    # the public leaf
    raw = bytes(entry.leaf_input).decode()
    for secret in ("测试甲", "citizen-a", f"#{user.pk}", "req-12345678", "203.0.113.7", '"form"'):
        assert secret not in raw
    decoded = leaf.decode_leaf_input(entry.leaf_input)
    assert decoded["actor"] == {"kind": "person", "department": "", "role": ""}
    assert decoded["object"] == {"type": "identity.user", "id": ""}
    assert decoded["event"] == "identity:user:register"
    assert decoded["commitment"] == leaf.commitment(entry.salt, leaf.record_of(entry))
    assert decoded["v"] == 2
    assert leaf.parse_ts(decoded["ts"]) == entry.created_at


def test_two_entries_about_one_person_share_nothing_in_public_but_event_shape(django_user_model):
    user = django_user_model.objects.create(username="citizen-b")
    first = services.record(actor=user, event="applications:case:submit", target=user, data={"n": 1})
    second = services.record(actor=user, event="applications:case:submit", target=user, data={"n": 1})
    one, two = (leaf.decode_leaf_input(e.leaf_input) for e in (first, second))
    # the same record twice still commits differently (salted), so the commitment links nothing
    assert one["commitment"] != two["commitment"]
    assert {k: v for k, v in one.items() if k not in ("commitment", "ts")} == {
        k: v for k, v in two.items() if k not in ("commitment", "ts")
    }


def test_an_official_is_published_by_department_and_role(official_x):
    entry = services.record(
        actor=official_x, event="applications:case:approve", target=official_x, role="approver"
    )
    decoded = leaf.decode_leaf_input(entry.leaf_input)
    assert decoded["actor"] == {"kind": "official", "department": "610100-SCJG", "role": "approver"}
    default = services.record(actor=official_x, event="applications:case:accept")
    assert leaf.decode_leaf_input(default.leaf_input)["actor"]["role"] == "approver+clerk+reviewer"


@pytest.mark.parametrize("event", ["identity:session:login", "identity:totp:enable", "core:throttle:lock"])
def test_security_events_publish_only_that_a_restricted_entry_exists(citizen, event):
    entry = services.record(actor=citizen, event=event, target=citizen, data={"method": "password"})
    decoded = leaf.decode_leaf_input(entry.leaf_input)
    assert decoded["event"] == "restricted"
    assert decoded["actor"] == {"kind": "", "department": "", "role": ""}
    assert decoded["object"] is None
    assert entry.event == event  # the record keeps what happened


def test_ids_of_public_objects_are_published_and_of_personal_ones_not():
    public = services.record(
        actor="system:demo", event="catalog:item:publish", target=("catalog.serviceitem", 7)
    )
    private = services.record(
        actor="system:demo", event="applications:case:submit", target=("applications.case", 7)
    )
    assert leaf.decode_leaf_input(public.leaf_input)["object"] == {"type": "catalog.serviceitem", "id": "7"}
    assert leaf.decode_leaf_input(private.leaf_input)["object"] == {"type": "applications.case", "id": ""}


def test_record_accepts_a_label_actor_and_a_type_id_target():
    entry = services.record(actor="system:demo", event="catalog:item:import", target=("catalog.item", 42))
    assert (entry.actor_type, entry.actor_label, entry.target_type, entry.target_id) == (
        "system",
        "system:demo",
        "catalog.item",
        "42",
    )
    decoded = leaf.decode_leaf_input(entry.leaf_input)
    assert decoded["object"] == {"type": "catalog.item", "id": ""}
    assert decoded["actor"] == {"kind": "system", "department": "", "role": "system:demo"}


def test_leaf_input_is_canonical_json_with_sorted_keys_and_no_spaces():
    entry = services.record(actor=None, event="audit:test:run", data={"b": 1, "a": "中文"})
    raw = bytes(entry.leaf_input)
    assert b" " not in raw
    assert raw.startswith(b'{"actor":')
    assert "中文".encode() not in raw  # the leaf holds the digest of the data, not the data


def test_data_is_normalised_to_json_before_it_is_hashed_and_stored():
    import datetime as dt
    import decimal

    entry = services.record(
        actor=None,
        event="audit:test:run",
        data={"when": dt.date(2026, 1, 2), "fee": decimal.Decimal("1.50"), 3: "x"},
    )
    entry.refresh_from_db()
    assert entry.data == {"when": "2026-01-02", "fee": "1.50", "3": "x"}
    assert leaf.decode_leaf_input(entry.leaf_input)["commitment"] == leaf.commitment(
        entry.salt, leaf.record_of(entry)
    )


@pytest.mark.parametrize("event", ["bad", "a:b", "A:b:c", "a:b:c:d", "a-b:c:d", "a:b:c ", ""])
def test_record_refuses_event_names_outside_the_vocabulary_pattern(event):
    with pytest.raises(ValueError, match="app:subject:verb"):
        services.record(actor=None, event=event)
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"actor": 42}, TypeError),
        ({"actor": ""}, ValueError),
        ({"target": "catalog.item:3"}, TypeError),
        ({"target": ("", "3")}, ValueError),
        ({"data": {"x": float("nan")}}, ValueError),
        ({"data": {"x": object()}}, ValueError),
        ({"data": {"x": "a\x00b"}}, ValueError),
    ],
)
def test_record_refuses_bad_arguments_without_writing(kwargs, error):
    with pytest.raises(error):
        services.record(**{"actor": None, "event": "audit:test:run", **kwargs})
    assert AuditEntry.objects.count() == 0


def test_record_needs_a_constant_number_of_queries_however_large_the_log(django_assert_max_num_queries):
    services.bulk_load({"actor": None, "event": "audit:test:load"} for _ in range(2**12 - 1))
    # leaf 4095 completes 12 parents: the worst case for this size, still one query for all siblings.
    # Savepoint + release (the test runs in a transaction), claim the index, siblings, entry, nodes.
    with django_assert_max_num_queries(6):
        entry = services.record(actor=None, event="audit:test:run")
    assert entry.leaf_index == 4095
    assert AuditNode.objects.filter(level=12).count() == 1


def test_bulk_load_builds_the_same_tree_as_one_record_at_a_time():
    for i in range(5):
        services.record(actor=None, event="audit:test:run", data={"i": i})
    added = services.bulk_load(
        {"actor": "system:bench", "event": "audit:test:load", "data": {"i": i}} for i in range(70)
    )
    services.record(actor=None, event="audit:test:run")
    assert added == 70
    leaves = [merkle.leaf_hash(bytes(raw)) for raw in AuditEntry.objects.values_list("leaf_input", flat=True)]
    assert len(leaves) == 76
    assert selectors.root_hash(76) == merkle.root_from_leaf_hashes(leaves)
    assert AuditNode.objects.count() == 2 * 76 - (76).bit_count()


def test_entries_cannot_be_changed_or_deleted_through_the_orm():
    entry = services.record(actor=None, event="audit:test:run")
    entry.event = "audit:test:forged"
    with pytest.raises(ImmutableRowError):
        entry.save()
    with pytest.raises(ImmutableRowError):
        entry.delete()
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.filter(pk=entry.pk).update(event="audit:test:forged")
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().event == "audit:test:run"


def test_an_entry_recorded_in_a_transaction_that_rolls_back_leaves_no_trace():
    from django.db import transaction

    services.record(actor=None, event="audit:test:run")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record(actor=None, event="audit:test:run")
        raise RuntimeError("the caller's work failed")
    after = services.record(actor=None, event="audit:test:run")
    assert after.leaf_index == 1
    assert selectors.tree_size() == 2


def test_signed_tree_heads_are_kept_at_most_once_per_interval(settings):
    from yiwang.audit.models import SignedTreeHead

    settings.AUDIT_STH_INTERVAL_SECONDS = 3600
    services.record(actor=None, event="audit:test:run")
    services.tree_head_sign(persist=True)
    services.record(actor=None, event="audit:test:run")
    head = services.tree_head_sign(persist=True)
    assert SignedTreeHead.objects.count() == 1
    assert head.tree_size == 2
    settings.AUDIT_STH_INTERVAL_SECONDS = 0
    services.tree_head_sign(persist=True)
    assert SignedTreeHead.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_threads_appending_at_once_get_contiguous_indices():
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    errors = []

    def append(worker: int) -> None:
        try:
            for i in range(15):
                services.record(actor=f"system:worker_{worker}", event="audit:test:run", data={"i": i})
        except Exception as exc:  # noqa: BLE001 — reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(AuditEntry.objects.values_list("leaf_index", flat=True)) == list(range(30))
    from yiwang.audit import verify

    assert verify.verify_log().ok


_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
_LEAF_FIELDS = (
    "ts",
    "actor_kind",
    "actor_department",
    "actor_role",
    "target_type",
    "target_id",
    "commitment",
)
_RECORD_FIELDS = ("actor_type", "actor_id", "actor_label", "target_type", "target_id", "request_id")


@given(
    st.fixed_dictionaries({k: _text for k in _LEAF_FIELDS}),
    st.sampled_from(["applications:case:approve", "identity:session:login", "x:y:z"]),
)
def test_the_hand_written_leaf_encoding_equals_canonical_json_of_the_same_fields(fields, event):
    restricted = leaf.is_restricted(event)
    obj = {
        "type": fields["target_type"],
        "id": leaf.public_object_id(fields["target_type"], fields["target_id"]),
    }
    expected = {
        "v": 2,
        "ts": fields["ts"],
        "event": "restricted" if restricted else event,
        "actor": {
            "kind": "" if restricted else fields["actor_kind"],
            "department": "" if restricted else fields["actor_department"],
            "role": "" if restricted else fields["actor_role"],
        },
        "object": obj if (fields["target_type"] and not restricted) else None,
        "commitment": fields["commitment"],
    }
    assert leaf.build_leaf_input(event=event, **fields) == leaf.canonical_json(expected)


@given(
    st.fixed_dictionaries({k: _text for k in _RECORD_FIELDS}),
    st.dictionaries(_text, st.one_of(_text, st.integers(), st.booleans(), st.none()), max_size=3),
)
def test_the_hand_written_record_encoding_equals_canonical_json_of_the_same_fields(fields, data):
    expected = {
        "actor": {"type": fields["actor_type"], "id": fields["actor_id"], "label": fields["actor_label"]},
        "data": data,
        "event": "a:b:c",
        "ip": "198.51.100.1",
        "request_id": fields["request_id"],
        "subject": "12",
        "target": {"type": fields["target_type"], "id": fields["target_id"]}
        if (fields["target_type"] or fields["target_id"])
        else None,
    }
    built = leaf.build_record(
        event="a:b:c",
        client_ip="198.51.100.1",
        subject_id="12",
        data_json=leaf.canonical_json(data),
        **fields,
    )
    assert built == leaf.canonical_json(expected)


def test_the_large_demo_fills_the_log_to_the_requested_size_and_is_idempotent():
    from yiwang.audit import demo, verify

    services.record(actor=None, event="audit:test:run")
    demo.build_large(size=300)
    demo.build_large(size=300)
    demo.build()
    assert selectors.tree_size() == 300
    assert verify.verify_log().ok


def test_bulk_load_keeps_client_addresses_out_of_the_public_leaf_like_record():
    services.bulk_load([{"actor": "system:bench", "event": "audit:bench:load", "client_ip": "198.51.100.9"}])
    entry = selectors.entry(0)
    assert b"198.51.100.9" not in bytes(entry.leaf_input)
    assert entry.client_ip == "198.51.100.9"
    assert leaf.decode_leaf_input(entry.leaf_input)["commitment"] == leaf.commitment(
        entry.salt, leaf.record_of(entry)
    )


def test_every_public_object_type_names_a_real_model():
    from django.apps import apps

    labels = {model._meta.label_lower for model in apps.get_models()}
    assert labels >= leaf.PUBLIC_OBJECT_TYPES
