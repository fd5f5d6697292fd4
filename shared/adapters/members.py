"""Approved members' addresses for calendar invitations (``invitations: members``), from Firestore.

``members/<email key>`` is created when an organizer approves an application
(``shared/usecases/applications.py``), so every document there is an approved member. The query
reads only the ``email`` field (a projection: names and everything else stay in Firestore) and is
bounded by ``limit``.
"""

from __future__ import annotations

from google.cloud import firestore

from shared.adapters.firestore import OpCounter, _Base

MEMBERS = "members"


class FirestoreMemberDirectory(_Base):
    def __init__(self, client: firestore.Client | None = None, ops: OpCounter | None = None) -> None:
        super().__init__(client, ops)

    def invitee_addresses(self, limit: int) -> list[str]:
        snaps = list(self.client.collection(MEMBERS).select(["email"]).limit(limit).stream())
        self.ops.read(len(snaps))
        emails = ((s.to_dict() or {}).get("email") for s in snaps)
        return [e for e in emails if isinstance(e, str) and "@" in e]
