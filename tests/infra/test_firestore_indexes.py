"""Composite indexes as Firestore documents them, for the queries the code really sends.

The rules (tools/firestore_indexes.py) on the query shapes of Firestore's "Index types" page; the
recorder (tests/helpers/query_shapes.py) on real queries through the adapters against the emulator;
and infra/ declaring what the recorded queries need (the whole suite checks that at its end too)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.helpers import query_shapes
from tools import firestore_indexes as fi

ROOT = Path(__file__).resolve().parents[2]
ASC, DESC = "ASCENDING", "DESCENDING"


@pytest.mark.parametrize(("filters", "orders", "index"), [
    ([("a", "==")], [], None),  # equality on one field
    ([("a", "=="), ("b", "==")], [], None),  # several equalities: single-field indexes are merged
    ([("a", "in")], [("__name__", ASC)], None),  # the implicit order by name costs nothing
    ([("a", ">=")], [], None),  # a range on one field
    ([("a", ">="), ("a", "<")], [("a", DESC)], None),  # range and sort on the same field
    ([], [("a", DESC)], None),  # one sort
    ([("a", "array_contains")], [], None),
    ([("status", "==")], [("received_at", ASC)], (("status", ASC), ("received_at", ASC))),  # the digest's query
    ([("a", "=="), ("b", ">")], [], (("a", ASC), ("b", ASC))),  # equality + range on another field
    ([("a", ">")], [("b", DESC)], (("b", DESC), ("a", ASC))),  # range + sort on different fields
    ([("a", ">"), ("b", "<")], [], (("a", ASC), ("b", ASC))),  # range filters on two fields
    ([], [("a", ASC), ("b", DESC)], (("a", ASC), ("b", DESC))),  # two sorts
    ([("a", "==")], [("__name__", DESC)], (("a", ASC), ("__name__", DESC))),
    ([("tags", "array_contains"), ("a", "==")], [], (("a", ASC), ("tags", "CONTAINS"))),
])
def test_which_shapes_need_a_composite_index(filters, orders, index) -> None:
    assert fi.required_index(fi.shape("c", filters, orders)) == index


def test_a_declared_index_serves_a_query_with_the_equality_fields_in_any_order() -> None:
    q = fi.shape("c", [("b", "=="), ("a", "=="), ("t", ">=")], [("t", DESC)])
    needed = fi.required_index(q)
    assert needed == (("a", ASC), ("b", ASC), ("t", DESC))
    assert fi.serves((("b", DESC), ("a", ASC), ("t", DESC)), needed, q)
    assert not fi.serves((("a", ASC), ("b", ASC), ("t", ASC)), needed, q)  # the sort's direction matters
    assert not fi.serves((("a", ASC), ("t", DESC)), needed, q)


@pytest.fixture
def recorded():
    """What the recorder sees during one test, apart from the rest of the session."""
    saved = dict(query_shapes.SHAPES)
    query_shapes.SHAPES.clear()
    yield query_shapes.SHAPES
    query_shapes.SHAPES.clear()
    query_shapes.SHAPES.update(saved)


def test_the_digest_query_is_recorded_from_the_wire_and_infra_declares_its_index(project, recorded) -> None:
    """The emulator answers this query without any index; production would refuse it (FAILED_PRECONDITION)
    unless infra/ declares (status ASC, received_at ASC)."""
    from shared.adapters.documents import FirestoreDocStore
    from shared.adapters.firestore import FirestoreSlotStore
    from shared.usecases.rhythm import digest_content
    from tests.helpers.configs import config

    store = FirestoreDocStore()
    store.set("applications", "a1", {"status": "needs_review", "received_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                                     "fields": {"name": "山田　花子", "affiliation": "ソニー"}})
    digest_content(config(), FirestoreSlotStore(), store, dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    digest = fi.shape("applications", [("status", "==")], [("received_at", ASC)])
    assert digest in recorded and recorded[digest].startswith("shared/usecases/rhythm.py:")
    assert fi.shape("applications", [("status", "==")]) in recorded  # its count aggregation, recorded too
    assert fi.missing(recorded, fi.declared_indexes(ROOT)) == []


def test_a_missing_index_is_named_with_the_entry_to_add(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "infra", tmp_path / "infra", ignore=shutil.ignore_patterns(".terraform*"))
    tf = tmp_path / "infra" / "functions.tf"
    text = tf.read_text(encoding="utf-8")
    entry = '{ collection = "applications", fields = [["status", "ASCENDING"], ["received_at", "ASCENDING"]] },'
    assert entry in text
    tf.write_text(text.replace(entry, ""), encoding="utf-8")
    digest = fi.shape("applications", [("status", "==")], [("received_at", ASC)])
    (problem,) = fi.missing({digest: "shared/usecases/rhythm.py:381"}, fi.declared_indexes(tmp_path))
    assert "shared/usecases/rhythm.py:381" in problem and entry.rstrip(",") in problem and "local.firestore_indexes" in problem
    assert fi.unused({digest: ""}, fi.declared_indexes(ROOT)) == []
    assert fi.unused({}, fi.declared_indexes(ROOT)) == [
        'local.firestore_indexes declares applications [["status", "ASCENDING"], ["received_at", "ASCENDING"]], '
        "which no query needs (remove it, or the query changed)"]


def test_queries_a_test_sends_itself_are_not_production_shapes(project, recorded) -> None:
    from google.cloud import firestore

    list(firestore.Client(project=project).collection("x").where(filter=firestore.FieldFilter("a", "==", 1))
         .order_by("b").stream())
    assert recorded == {}
