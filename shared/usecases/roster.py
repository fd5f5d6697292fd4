"""Who is on the team: the organizers of the reviewed YAML, plus the hosts added in the console.

People who change often live in Firestore; the community's rules stay in the YAML (docs/console.md):
- ``organizers.<id>`` in the config: organizers (may sign in to the console, see everything); those
  with ``zoom:`` are hosts too. Their host rules (weekdays, hours, weight, ...) are
  ``people.hosts.<id>`` in the config.
- ``hosts/<id>`` in Firestore: a host volunteer added in the console (name, e-mail, Zoom user and
  licence, weight, active), and, for every host (config ones too), the dates they marked as
  unavailable. A host added here may sign in and sees the host pages only.

The rotation (``shared/usecases/assign.py``) reads both through :func:`host_pool`; the mails and
the provisioning find a host's name, address and Zoom user through :func:`person` (or the copy
the assignment wrote on the slot, ``host_info``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config import Config
from shared.config.people import HostAvailability
from shared.domain import rotation
from shared.domain.applications import email_key
from shared.ports import DocStore

HOSTS = "hosts"
ORGANIZER, HOST = "organizer", "host"
LICENCES = ("basic", "pro", "business")
MAX_HOSTS = 500
MAX_UNAVAILABLE = 200  # dates per host
_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    roles: frozenset[str]
    source: str  # "config" | "console"
    zoom_user: str | None = None
    licence: str | None = None
    weight: float = 1.0
    active: bool = True
    unavailable: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def is_organizer(self) -> bool:
        return ORGANIZER in self.roles

    @property
    def is_host(self) -> bool:
        return HOST in self.roles and self.active and self.zoom_user is not None

    def info(self) -> dict[str, Any]:
        """What a slot keeps of its host, so mails and provisioning work for hosts outside the YAML."""
        return {"id": self.id, "name": self.name, "email": self.email, "zoom_user": self.zoom_user, "licence": self.licence}


def _dates(values: Iterable[Any]) -> frozenset[dt.date]:
    out = set()
    for v in values or ():
        try:
            out.add(v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)))
        except ValueError:
            continue
    return frozenset(out)


def host_docs(store: DocStore) -> dict[str, dict[str, Any]]:
    """Every ``hosts/`` document (one bounded query)."""
    return {d["id"]: d for d in store.query(HOSTS, limit=MAX_HOSTS)}


def people(cfg: Config, store: DocStore | None, docs: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Person]:
    """Everyone who may sign in, by id: the config's organizers first, then the console's hosts."""
    if docs is None:
        docs = host_docs(store) if store is not None else {}
    out: dict[str, Person] = {}
    for oid, org in cfg.organizers.items():
        doc = docs.get(oid) or {}
        roles = {ORGANIZER} | ({HOST} if org.zoom else set())
        out[oid] = Person(oid, org.name, str(org.email), frozenset(roles), "config",
                          org.zoom.user if org.zoom else None, org.zoom.licence if org.zoom else None,
                          cfg.people.host(oid).weight, True, _dates(doc.get("unavailable") or ()))
    for hid, doc in docs.items():
        if hid in out or not doc.get("email"):
            continue  # a config id always wins; a document with only dates belongs to a config host
        out[hid] = Person(hid, str(doc.get("name") or hid), str(doc["email"]), frozenset({HOST}), "console",
                          str(doc.get("zoom_user") or "") or None, str(doc.get("licence") or "pro"),
                          float(doc.get("weight", 1.0) or 0.0), bool(doc.get("active", True)),
                          _dates(doc.get("unavailable") or ()))
    return out


def person(cfg: Config, store: DocStore, person_id: str) -> Person | None:
    if person_id in cfg.organizers:
        return people(cfg, store, {person_id: store.get(HOSTS, person_id) or {}}).get(person_id)
    doc = store.get(HOSTS, person_id)
    return people(cfg, store, {person_id: doc}).get(person_id) if doc else None


def by_email(cfg: Config, store: DocStore, email: str) -> Person | None:
    """The person a (verified) address belongs to; None for anybody else."""
    key = email_key(email)
    for oid, org in cfg.organizers.items():
        if email_key(str(org.email)) == key:
            return person(cfg, store, oid)
    for doc in store.where(HOSTS, "email_key", "==", key):
        found = people(cfg, store, {doc["id"]: doc}).get(doc["id"])
        if found is not None and found.active:
            return found
    return None


def host_pool(cfg: Config, store: DocStore | None = None,
              docs: Mapping[str, Mapping[str, Any]] | None = None) -> list[rotation.Host]:
    """The rotation's hosts: config organizers with Zoom (their rules from ``people.hosts``), then the
    active hosts added in the console; each with the dates they marked as unavailable."""
    if docs is None:
        docs = host_docs(store) if store is not None else {}
    pool = []
    for p in people(cfg, store, docs).values():
        if p.is_host:
            availability = cfg.people.host(p.id) if p.source == "config" else HostAvailability(weight=p.weight)
            pool.append(rotation.Host(p.id, str(p.licence), availability, p.unavailable))
    return pool


# ------------------------------------------------------------------ changes (called through operations.py)


class RosterError(ValueError):
    """A change that cannot be made; ``field`` names the form field, the message says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class NewHost:
    id: str
    name: str
    email: str
    zoom_user: str
    licence: str = "pro"
    weight: float = 1.0


def check_new_host(cfg: Config, store: DocStore, h: NewHost) -> None:
    if not _ID.match(h.id):
        raise RosterError("id", "id_format")
    if h.id in cfg.organizers or store.get(HOSTS, h.id) is not None:
        raise RosterError("id", "id_taken")
    if not h.name.strip() or len(h.name) > 100:
        raise RosterError("name", "name_required")
    for field_name, value in (("email", h.email), ("zoom_user", h.zoom_user)):
        if not _EMAIL.match(value) or len(value) > 254:
            raise RosterError(field_name, "email_format")
    if h.licence not in LICENCES:
        raise RosterError("licence", "licence")
    if not 0 <= h.weight <= 100:
        raise RosterError("weight", "weight")
    if by_email(cfg, store, h.email) is not None:
        raise RosterError("email", "email_taken")


def add_host(cfg: Config, store: DocStore, h: NewHost, by: str, now: dt.datetime) -> dict[str, Any]:
    """Add a host volunteer (no redeploy): checked, then created once (``create()``)."""
    check_new_host(cfg, store, h)
    doc = {"name": h.name.strip(), "email": h.email.strip(), "email_key": email_key(h.email), "zoom_user": h.zoom_user.strip(),
           "licence": h.licence, "weight": float(h.weight), "active": True, "unavailable": [], "added_by": by, "added_at": now}
    if not store.create(HOSTS, h.id, doc):
        raise RosterError("id", "id_taken")
    return doc


def set_active(cfg: Config, store: DocStore, host_id: str, active: bool, now: dt.datetime) -> bool:
    if host_id in cfg.organizers:
        raise RosterError("id", "config_host")  # config people change in the reviewed YAML
    return store.update(HOSTS, host_id, {"active": active, "changed_at": now})


def set_unavailable(store: DocStore, host_id: str, day: dt.date, unavailable: bool, now: dt.datetime) -> list[str]:
    """Mark (or clear) one date a host cannot host; returns the new list (ISO dates, sorted)."""
    doc = store.get(HOSTS, host_id) or {}
    dates = {str(d) for d in doc.get("unavailable") or ()}
    dates = dates | {day.isoformat()} if unavailable else dates - {day.isoformat()}
    if len(dates) > MAX_UNAVAILABLE:
        raise RosterError("date", "too_many_dates")
    value = sorted(dates)
    if doc:
        store.update(HOSTS, host_id, {"unavailable": value, "changed_at": now})
    else:
        store.set(HOSTS, host_id, {"unavailable": value, "changed_at": now})
    return value
