"""What every ``shared/config*.py`` section is built from: frozen msgspec Structs, value types that
read the YAML shorthands (weekday names, ``20:00``, zone names), range checks, and the converter
that reports every problem it can find, each with its field path.

Why msgspec: every function loads this config on its cold start, which has a budget of the bare
framework plus the Firestore client's import, plus 10 % (docs/benchmarks.md). pydantic cost ~90 ms there (its
import and building 40 model classes); msgspec costs ~5 ms, and defining a Struct costs microseconds.

How a config is read: :func:`convert` first converts the whole document in one msgspec call (the
path every valid config takes). Only when that fails does :func:`problems` walk the schema and
convert field by field, so that a file with three mistakes reports all three, not just the first.

Conventions shared with the section modules:

* a ``check()`` method on a Struct runs after its fields are converted (cross-field rules); a
  ``ValueError("field: message")`` from it is reported at that field;
* ``Annotated[int, bounded(lo, hi, "what")]`` rejects values out of range as
  ``{v} is not {what} ({lo}..{hi})``;
* a value type (a subclass of a builtin with a ``from_config`` classmethod) parses its own
  shorthands; msgspec hands it the raw YAML value through :func:`dec_hook`.

The JSON bodies the functions accept (form submissions in ``shared/domain/applications.py``, member
proposals in ``shared/usecases/proposals.py``) and ``CRON_PLAN`` (``shared/entrypoints/dispatch.py``) are read
with the same base and the same problem reports; only the words after "unknown key" differ.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

T = TypeVar("T")
Path = tuple[str, ...]
Problem = tuple[str, str]

UNKNOWN_KEY = "(check the spelling; see the configuration reference in README.md)"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = {name: i for i, name in enumerate(WEEKDAYS)} | {
    full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` lists (field path, message)."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"invalid community config{f' ({source})' if source else ''}:"
        super().__init__("\n".join([head] + [f"  {path}: {msg}" for path, msg in problems]))


# ---------------------------------------------------------------------------------------------
# Range checks
# ---------------------------------------------------------------------------------------------

class Bounded:
    """``Annotated`` metadata: ``lo <= v <= hi`` (``None`` of an optional field passes)."""

    __slots__ = ("hi", "lo", "note", "what")

    def __init__(self, lo: float, hi: float, what: str, note: str = "") -> None:
        self.lo, self.hi, self.what, self.note = lo, hi, what, note

    def check(self, v: Any) -> None:
        if v is not None and not self.lo <= v <= self.hi:
            raise ValueError(f"{v} is not {self.what} ({self.lo}..{self.hi}{self.note})")


def bounded(lo: float, hi: float, what: str, note: str = "") -> Bounded:
    """``count: Annotated[int, bounded(1, 90, "a link lifetime in days")]`` rejects 0 with
    ``0 is not a link lifetime in days (1..90)``."""
    return Bounded(lo, hi, what, note)


def _bounds_of(tp: Any) -> Bounded | None:
    if typing.get_origin(tp) is Annotated:
        return next((m for m in tp.__metadata__ if isinstance(m, Bounded)), None)
    if typing.get_origin(tp) in (Union, types.UnionType):  # Annotated[int, ...] | None
        return next((b for b in map(_bounds_of, typing.get_args(tp)) if b is not None), None)
    return None


_BOUNDED_FIELDS: dict[type, tuple[tuple[str, Bounded], ...]] = {}


def _bounded_fields(cls: type[Model]) -> tuple[tuple[str, Bounded], ...]:
    found = _BOUNDED_FIELDS.get(cls)
    if found is None:
        found = tuple((f.name, b) for f in msgspec.structs.fields(cls) if (b := _bounds_of(f.type)) is not None)
        _BOUNDED_FIELDS[cls] = found
    return found


# ---------------------------------------------------------------------------------------------
# The base Struct
# ---------------------------------------------------------------------------------------------

@typing.dataclass_transform(field_specifiers=(msgspec.field,), kw_only_default=True, frozen_default=True)
class _KeywordOnly(msgspec.StructMeta):
    """msgspec applies ``kw_only`` to the fields of one class only; make it every section's default
    so a required field may follow optional ones, in the order the YAML reads best. (mypy reads
    ``kw_only`` only from the class statement: such a class also says ``kw_only=True``.)"""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any) -> Any:
        options.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, namespace, **options)


class Model(msgspec.Struct, metaclass=_KeywordOnly, frozen=True, forbid_unknown_fields=True):
    """A frozen config section: unknown keys are errors; ``check()`` holds cross-field rules."""

    def __post_init__(self) -> None:
        for name, bound in _bounded_fields(type(self)):
            try:
                bound.check(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{_encode_name(type(self), name)}: {exc}") from None
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise ``ValueError("field: message")``."""


def _encode_name(cls: type[Model], name: str) -> str:
    return next((f.encode_name for f in msgspec.structs.fields(cls) if f.name == name), name)


def set_normalised(obj: Model, name: str, value: Any) -> None:
    """Replace a field of a frozen Struct from its own ``check()`` (normalising a shorthand)."""
    msgspec.structs.force_setattr(obj, name, value)


# ---------------------------------------------------------------------------------------------
# Value types: each parses its YAML shorthand in ``from_config``
# ---------------------------------------------------------------------------------------------

def parse_weekday(value: Any) -> int:
    if isinstance(value, str) and value.lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[value.lower()]
    raise ValueError(f"{value!r} is not a weekday (mon..sun)")


def parse_clock(value: Any) -> dt.time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 20:00 as the sexagesimal number 1200.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    raise ValueError(f"{value!r} is not a time of day (HH:MM, 00:00..23:59)")


def parse_zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/London, America/New_York, Asia/Tokyo)") from None
    return value


class Weekday(int):
    """``mon``..``sun`` (or the full names, any case), held as 0 (Monday)..6 (Sunday). Numbers are
    refused: nobody can tell whether 0 means Sunday or Monday."""

    @classmethod
    def from_config(cls, value: Any) -> Weekday:
        return cls(parse_weekday(value))


class Weekdays(tuple[int, ...]):
    """One weekday or a non-empty list of them, held sorted without repeats."""

    @classmethod
    def from_config(cls, value: Any) -> Weekdays:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            raise ValueError("give at least one weekday, e.g. [wed]")
        return cls(sorted({parse_weekday(d) for d in value}))


class Clock(dt.time):
    """``HH:MM`` (quoted or not: YAML reads an unquoted 20:00 as the number 1200)."""

    @classmethod
    def from_config(cls, value: Any) -> Clock:
        t = parse_clock(value)
        return cls(t.hour, t.minute)


class Zone(str):
    """An IANA time zone name, checked against the zone database."""

    __slots__ = ()

    @classmethod
    def from_config(cls, value: Any) -> Zone:
        return cls(parse_zone(value))


class Email(str):
    """An e-mail address (a plausibility check: something@domain.tld, no spaces)."""

    __slots__ = ()

    @classmethod
    def from_config(cls, value: Any) -> Email:
        if not isinstance(value, str) or not _EMAIL.fullmatch(value):
            raise ValueError("is not an e-mail address")
        return cls(value)


def dec_hook(tp: type, value: Any) -> Any:
    parse: Callable[[Any], Any] | None = getattr(tp, "from_config", None)
    if parse is None:
        raise NotImplementedError(f"no config parser for {tp!r}")
    return parse(value)


# ---------------------------------------------------------------------------------------------
# Converting, and reporting every problem
# ---------------------------------------------------------------------------------------------

def convert(data: Any, tp: type[T], source: str = "", unknown: str = UNKNOWN_KEY) -> T:
    """``data`` (parsed YAML or JSON) as ``tp``, or ConfigError listing every problem with its
    path. ``unknown`` follows "unknown key 'x'" (config files point to the README; a webhook
    contract says something else)."""
    try:
        return msgspec.convert(data, tp, dec_hook=dec_hook)
    except msgspec.ValidationError:
        pass
    raise ConfigError(problems(tp, data, unknown=unknown) or [("(top level)", "is not valid")], source)


def problems(tp: Any, value: Any, path: Path = (), unknown: str = UNKNOWN_KEY) -> list[Problem]:
    """Every problem of ``value`` as ``tp``: a container is walked field by field, so one problem
    does not hide the next; a leaf (or a Struct whose fields are all fine but whose ``check()``
    fails) gives the one problem msgspec reports, in words a volunteer can act on."""
    try:
        converted = msgspec.convert(value, tp, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        error = str(exc)
    else:  # a range is the enclosing Struct's check, which a problem elsewhere in it would hide
        bound = _bounds_of(tp)
        try:
            if bound is not None:
                bound.check(converted)
        except ValueError as exc:
            return [(_join(path), str(exc))]
        return []
    found = _walk(tp, value, path, unknown)
    return found if found else [_describe(error, tp, value, path, unknown)]


def _walk(tp: Any, value: Any, path: Path, unknown: str) -> list[Problem]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return problems(args[0], value, path, unknown)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return []
        structs = [a for a in options if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        shaped = [a for a in options if (shape := _shape(a)) is not None and isinstance(value, shape)]
        if len(options) == 1 or len(shaped) == 1:  # the one option a list (or a mapping) can be
            return problems(options[0] if len(options) == 1 else shaped[0], value, path, unknown)
        tagged = {a.__struct_config__.tag: a for a in structs if a.__struct_config__.tag is not None}
        if tagged and isinstance(value, Mapping):
            field = structs[0].__struct_config__.tag_field or "type"
            if field not in value:
                return [(_join(path), f"needs a '{field}' ({', '.join(map(str, tagged))})")]
            if value[field] not in tagged:
                return [(_join(path), f"{value[field]!r} is not a {path[-1] if path else 'valid'} type "
                                      f"({', '.join(map(str, tagged))})")]
            return _struct(tagged[value[field]], {k: v for k, v in value.items() if k != field}, path, unknown)
        return []
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(value, Mapping):
        return _struct(tp, value, path, unknown)
    if origin is dict and isinstance(value, Mapping):
        return [p for k, v in value.items() for p in problems(args[1], v, (*path, str(k)), unknown)]
    homogeneous = origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis)
    if homogeneous and isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in problems(args[0], v, (*path, str(i)), unknown)]
    return []


def _shape(tp: Any) -> type | tuple[type, ...] | None:
    """The Python type a container option takes (a list for list/tuple, a mapping for dict and
    Structs); None for a scalar option."""
    base = typing.get_origin(tp) or tp
    if base is Annotated:
        return _shape(typing.get_args(tp)[0])
    if base in (list, tuple):
        return (list, tuple)
    if base is dict or (isinstance(base, type) and issubclass(base, msgspec.Struct)):
        return Mapping
    return None


def _struct(cls: type[msgspec.Struct], value: Mapping[Any, Any], path: Path, unknown: str) -> list[Problem]:
    fields = msgspec.structs.fields(cls)
    names = {f.encode_name for f in fields}
    found = [(_join((*path, str(k))), f"unknown key {str(k)!r} {unknown}") for k in value if k not in names]
    for f in fields:
        if f.encode_name in value:
            found.extend(problems(f.type, value[f.encode_name], (*path, f.encode_name), unknown))
        elif f.required:
            found.append((_join((*path, f.encode_name)), "is required"))
    return found


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.S)
_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a text",  # bool before int: a subclass
          dt.date: "a date (YYYY-MM-DD)", dict: "a mapping (key: value)", tuple: "a list", list: "a list"}


def _describe(error: str, tp: Any, value: Any, path: Path, unknown: str) -> Problem:
    m = _AT.match(error)
    msg, at = (m["msg"], m["at"] or "") if m else (error, "")
    sub = tuple(p for p in re.split(r"\.|\[(\d+)\]", at) if p)
    where = (*path, *sub)
    if extra := re.fullmatch(r"Object contains unknown field `(.+)`", msg):
        return _join((*where, extra[1])), f"unknown key {extra[1]!r} {unknown}"
    if missing := re.fullmatch(r"Object missing required field `(.+)`", msg):
        return _join((*where, missing[1])), "is required"
    if msg.startswith("Invalid enum value") and not sub:
        allowed = [repr(a) for a in _literal_values(tp)]
        choice = f"one of {', '.join(allowed[:-1])} or {allowed[-1]}" if len(allowed) > 1 else ", ".join(allowed)
        return _join(where), f"{_shown(value)} is not {choice}"
    if not sub and (constraint := _constraint(msg, value)):
        return _join(where), constraint
    if expected := re.fullmatch(r"Expected `([^`]+)`.*, got `(\w+)`", msg):
        if sub:  # somewhere inside a value the walk could not take apart: msgspec's own words
            return _join(where), msg
        return _join(where), f"{_shown(value)} is not {_expected(tp) or 'a ' + expected[1]}"
    if msg.startswith("Invalid RFC3339 encoded date") or msg.startswith("Invalid date"):
        return _join(where), f"{_shown(value) if not sub else 'this'} is not a date (YYYY-MM-DD)"
    head, sep, rest = msg.partition(": ")  # a check() names its own field as "field: message"
    if sep and re.fullmatch(r"[a-z_]+", head):
        return _join((*where, head)), rest
    return _join(where), msg


def _constraint(msg: str, value: Any) -> str | None:
    """msgspec's words for a broken ``msgspec.Meta`` constraint, as a sentence."""
    if m := re.fullmatch(r"Expected `str` of length <= (\d+)", msg):
        return f"is longer than {m[1]} characters"
    if m := re.fullmatch(r"Expected `str` of length >= (\d+)", msg):
        return "must not be empty" if m[1] == "1" else f"is shorter than {m[1]} characters"
    if m := re.fullmatch(r"Expected `(?:array|object)` of length <= (\d+)", msg):
        return f"has more than {m[1]} items"
    if m := re.fullmatch(r"Expected `str` matching regex (.+)", msg):
        return f"{_shown(value)} has characters that are not allowed here (expected {m[1]})"
    if m := re.fullmatch(r"Expected `(?:int|float)` (<=|>=|<|>) (\S+)", msg):
        return f"{_shown(value)} must be {m[1]} {m[2]}"
    return None


def _literal_values(tp: Any) -> list[Any]:
    if typing.get_origin(tp) is Literal:
        return list(typing.get_args(tp))
    return [v for a in typing.get_args(tp) for v in _literal_values(a)]


def _expected(tp: Any) -> str | None:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _expected(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        kinds = [k for a in typing.get_args(tp) if a is not type(None) and (k := _expected(a))]
        return " or ".join(dict.fromkeys(kinds)) if kinds else None
    base = origin or tp
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return "a mapping (key: value)"
    return next((word for kind, word in _KINDS.items() if isinstance(base, type) and issubclass(base, kind)), None)


def _shown(value: Any) -> str:
    text = repr(value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
                if isinstance(value, dt.date | dt.time) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: Path) -> str:
    return ".".join(path) or "(top level)"


def check_template(template: str, fields: tuple[str, ...]) -> None:
    """Raise ValueError when ``template`` uses a field outside ``fields`` or is malformed."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{template!r} is not a valid template ({exc}); write {{{{ and }}}} for literal braces") from None
    unknown = sorted(n.split(".")[0].split("[")[0] for n in names if n.split(".")[0].split("[")[0] not in fields)
    if unknown or "" in names:
        raise ValueError(f"{template!r} uses unknown field(s) {unknown or ['{}']} (allowed: {', '.join(fields)})")
