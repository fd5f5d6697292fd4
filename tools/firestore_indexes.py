"""Which Firestore queries need a composite index, by Firestore's documented rules, and whether
infra/ declares it (``local.firestore_indexes`` in infra/functions.tf).

One set of rules for both sources of query shapes:
- the queries the test suite really sends (``tests/helpers/query_shapes.py`` records the wire form
  of every query, ``StructuredQuery``, as the client library builds it; checked at session end);
- the query chains written out in shared/ (``tools/infra_check.py``, offline).

The rules (Firestore, "Index types", Standard edition; docs/proof.md cites them): every field gets
an ascending and a descending single-field index automatically, and Firestore merges single-field
indexes for queries with equality filters only. So a query needs no composite index when it has
only equality-like filters (``==``, ``in``; at most one ``array-contains``/``-any`` and nothing
else), or when all its range filters and sorts are on one field with no other filter. Everything
else needs one: equality on one field and a sort or range on another; a range and a sort on
different fields; range filters on several fields; a sort on two fields. Its fields are the
equality fields (any order), then the sort fields in the query's order with their directions,
then the range fields the query does not sort by (Firestore orders by them implicitly, by name);
the implicit final ``__name__`` ascending needs nothing. An array filter with anything else takes
an ``CONTAINS`` entry in the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EQUALITY = frozenset({"==", "in", "EQUAL", "IN"})
ARRAY = frozenset({"array_contains", "array_contains_any", "ARRAY_CONTAINS", "ARRAY_CONTAINS_ANY"})
RANGE = frozenset({"<", "<=", ">", ">=", "!=", "not-in", "LESS_THAN", "LESS_THAN_OR_EQUAL", "GREATER_THAN",
                   "GREATER_THAN_OR_EQUAL", "NOT_EQUAL", "NOT_IN", "IS_NOT_NAN", "IS_NOT_NULL"})
UNARY_EQUALITY = frozenset({"IS_NAN", "IS_NULL"})
NAME = "__name__"
Field = tuple[str, str]  # (field path, "ASCENDING" | "DESCENDING" | "CONTAINS")


@dataclass(frozen=True, order=True)
class Shape:
    """What decides a query's index: its collection and which field is filtered or sorted how."""

    collection: str
    equality: tuple[str, ...] = ()  # sorted field paths with ==/in
    array: tuple[str, ...] = ()  # fields with array-contains(-any)
    ranges: tuple[str, ...] = ()  # sorted field paths with range/inequality filters
    orders: tuple[Field, ...] = ()  # explicit sorts, in order
    collection_group: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"collection": self.collection, "equality": list(self.equality), "array": list(self.array),
                "ranges": list(self.ranges), "orders": [list(o) for o in self.orders],
                "collection_group": self.collection_group}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Shape:
        return cls(str(doc["collection"]), tuple(doc.get("equality") or ()), tuple(doc.get("array") or ()),
                   tuple(doc.get("ranges") or ()), tuple((str(f), str(d)) for f, d in doc.get("orders") or ()),
                   bool(doc.get("collection_group")))

    def describe(self) -> str:
        parts = [f"{f} ==" for f in self.equality] + [f"{f} array-contains" for f in self.array]
        parts += [f"{f} range" for f in self.ranges] + [f"order by {f} {d.lower()}" for f, d in self.orders]
        return f"{self.collection}: " + (", ".join(parts) or "no filter")


def shape(collection: str, filters: Iterable[tuple[str, str]], orders: Iterable[Field] = (),
          collection_group: bool = False) -> Shape:
    """A shape from (field, operator) filters (the client's operators or the wire enum names)."""
    eq, arr, rng = set(), set(), set()
    for fld, op in filters:
        if op in EQUALITY or op in UNARY_EQUALITY:
            eq.add(fld)
        elif op in ARRAY:
            arr.add(fld)
        elif op in RANGE:
            rng.add(fld)
        else:
            raise ValueError(f"unknown Firestore operator {op!r}")
    return Shape(collection, tuple(sorted(eq)), tuple(sorted(arr)), tuple(sorted(rng)), tuple(orders), collection_group)


def from_structured_query(pb: Any) -> Shape:
    """The shape of a ``google.cloud.firestore_v1.types.StructuredQuery`` (what goes on the wire)."""
    filters: list[tuple[str, str]] = []

    def walk(flt: Any) -> None:
        kind = type(flt).pb(flt).WhichOneof("filter_type") if flt is not None else None
        if kind == "composite_filter":
            for sub in flt.composite_filter.filters:
                walk(sub)
        elif kind == "field_filter":
            filters.append((flt.field_filter.field.field_path, flt.field_filter.op.name))
        elif kind == "unary_filter":
            filters.append((flt.unary_filter.field.field_path, flt.unary_filter.op.name))

    if "where" in pb:
        walk(pb.where)
    orders = tuple((o.field.field_path, o.direction.name) for o in pb.order_by)
    selector = pb.from_[0]
    return shape(selector.collection_id, filters, orders, bool(selector.all_descendants))


def required_index(q: Shape) -> tuple[Field, ...] | None:
    """The composite index ``q`` needs (fields in index order), or None when single-field indexes serve it."""
    orders = list(q.orders)
    if orders and orders[-1] == (NAME, "ASCENDING"):
        orders.pop()  # every index entry ends with the document name, ascending
    sorted_fields = [f for f, _ in orders]
    implicit = [(f, "ASCENDING") for f in q.ranges if f not in sorted_fields]
    ordered = orders + implicit
    fields = set(q.equality) | set(q.array) | {f for f, _ in ordered}
    if not ordered:
        if len(q.array) <= 1 and not (q.array and q.equality):
            return None  # equality-only: Firestore merges single-field indexes
    elif len(fields) == 1:
        return None  # range and sort on one field (or the name), nothing else: its single-field index
    return tuple([(f, "ASCENDING") for f in q.equality] + [(f, "CONTAINS") for f in q.array] + ordered)


def serves(declared: tuple[Field, ...] | list[Field], needed: tuple[Field, ...], q: Shape) -> bool:
    """Whether a declared composite index serves the query: the equality fields first (any order and
    direction), then exactly the sorted and ranged fields with their directions."""
    declared = [tuple(f) for f in declared]  # type: ignore[misc]
    n = len(q.equality)
    head, tail = declared[:n], declared[n:]
    return {f for f, _ in head} == set(q.equality) and tuple(tail) == needed[n:]


def declared_indexes(root: Path) -> list[tuple[str, tuple[Field, ...]]]:
    from tools.infra_check import load_infra

    out = []
    for i in load_infra(root / "infra").locals.get("firestore_indexes") or []:
        out.append((str(i.get("collection", "")), tuple((str(f[0]), str(f[1])) for f in i.get("fields", []))))
    return out


def terraform_entry(q: Shape, needed: tuple[Field, ...]) -> str:
    fields = ", ".join(f'["{f}", "{d}"]' for f, d in needed)
    return f'{{ collection = "{q.collection}", fields = [{fields}] }}'


def missing(shapes: Iterable[Shape], declared: list[tuple[str, tuple[Field, ...]]],
            where: Mapping[Shape, str] | None = None) -> list[str]:
    """A sentence per query shape whose composite index infra/ does not declare (``shapes`` may be a
    mapping of shape -> where it was seen)."""
    if where is None and isinstance(shapes, Mapping):
        where = shapes
    problems = []
    for q in sorted(set(shapes)):
        needed = required_index(q)
        if needed is None:
            continue
        if not any(c == q.collection and serves(f, needed, q) for c, f in declared):
            at = f" (at {where[q]})" if where and q in where else ""
            problems.append(f"the query {q.describe()}{at} needs a composite index in production (the emulator never "
                            f"asks): add {terraform_entry(q, needed)} to local.firestore_indexes in infra/functions.tf")
    return problems


def unused(shapes: Iterable[Shape], declared: list[tuple[str, tuple[Field, ...]]]) -> list[str]:
    """A sentence per declared index that no query shape needs."""
    needed = [(q, n) for q in set(shapes) if (n := required_index(q)) is not None]
    return [f"local.firestore_indexes declares {c} {json.dumps([list(x) for x in f])}, which no query needs "
            "(remove it, or the query changed)"
            for c, f in declared if not any(q.collection == c and serves(f, n, q) for q, n in needed)]


def read_shapes(path: Path) -> dict[Shape, str]:
    """Recorded shapes: {shape: where it was first seen}."""
    if not path.is_file():
        return {}
    return {Shape.from_json(d): str(d.get("where", "")) for d in json.loads(path.read_text(encoding="utf-8"))}


def write_shapes(path: Path, shapes: Mapping[Shape, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{**q.to_json(), "where": w} for q, w in sorted(shapes.items())], indent=1,
                               ensure_ascii=False) + "\n", encoding="utf-8")
