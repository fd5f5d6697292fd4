"""The one place that builds adapters from the environment and the config (once per instance).

Nothing here runs at import time: functions call these on their first request, so a cold start
pays only for what the request uses.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Literal

from shared.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from shared.adapters.firestore import FirestoreIdempotencyStore, FirestoreSlotStore, OpCounter
    from shared.platform.idempotency import Idempotency
    from shared.platform.mail import ExactlyOnceMailer
    from shared.ports import Calendar, Chat, DocStore, Meetings, MemberDirectory, RsvpLog
    from shared.usecases.applications import Deps as AppDeps
    from shared.usecases.assign import Deps as AssignDeps
    from shared.usecases.members import Deps as MemberDeps
    from shared.usecases.rsvp import Deps as RsvpDeps


@cache
def config() -> Config:
    return load_config()


@cache
def ops() -> OpCounter:
    from shared.adapters.firestore import OpCounter

    return OpCounter()


@cache
def slot_store() -> FirestoreSlotStore:
    from shared.adapters.firestore import FirestoreSlotStore

    return FirestoreSlotStore(ops=ops())


@cache
def idempotency_store() -> FirestoreIdempotencyStore:
    from shared.adapters.firestore import FirestoreIdempotencyStore

    return FirestoreIdempotencyStore(ops=ops())


def idempotency(function: str) -> Idempotency:
    from shared.platform.idempotency import Idempotency

    return Idempotency(idempotency_store(), function)


@cache
def doc_store() -> DocStore:
    """The one document store: applications and decisions, speakers and hosts, community rhythm;
    ``assign_docs`` and ``rhythm_store`` are the same accessor."""
    from shared.adapters.documents import FirestoreDocStore

    return FirestoreDocStore(ops=ops())


assign_docs = doc_store  # speakers and hosts
rhythm_store = doc_store  # documents and bounded queries for digest, prompt, reminders, proposals


def refuse_outbox_on_cloud(setting: str, problem: str, fix: str) -> None:
    """On Cloud Functions (``K_SERVICE``, set by the runtime) an outbox is the instance's throw-away
    disk: what is written there reaches nobody, while its intent is recorded as done (a resumed mail
    would even be marked ``sent`` and its stored message dropped). Every adapter refuses it there,
    before anything is written; the run answers 500 with this message (docs/proof.md)."""
    import os

    from shared.platform import env

    if os.environ.get(env.K_SERVICE):
        raise ConfigError([(setting, f"{problem}, but this runs on Cloud Functions, where the outbox is the instance's "
                                     f"throw-away disk (nothing written there reaches anybody): {fix}")],
                          "deployment settings")


@cache
def mailer() -> ExactlyOnceMailer:
    """The exactly-once mailer over MAIL_TRANSPORT (outbox by default; gmail; smtp).

    Refused on Cloud Functions without MAIL_TRANSPORT (see :func:`refuse_outbox_on_cloud`)."""
    import os

    from shared.adapters.firestore import FirestoreIdempotencyStore
    from shared.adapters.mail import GmailTransport, OutboxTransport, SmtpTransport
    from shared.platform import env, settings
    from shared.platform.mail import ExactlyOnceMailer, Transport

    kind = (os.environ.get(env.MAIL_TRANSPORT) or "outbox").strip().lower()
    refused = settings.CHECKS[settings.MAIL_FROM]("", os.environ)  # live mail from a placeholder nobody can answer
    if refused is not None:
        raise ConfigError([(env.MAIL_FROM, refused.sentence)], "deployment settings")
    sender = os.environ.get(env.MAIL_FROM) or f"{config().community.name} <no-reply@example.invalid>"
    if kind == "outbox":
        refuse_outbox_on_cloud(env.MAIL_TRANSPORT, "is outbox" if os.environ.get(env.MAIL_TRANSPORT) else "is not set",
                               f"set {env.MAIL_TRANSPORT} (gmail or smtp) and {env.MAIL_FROM} in `settings` of "
                               "infra/terraform.tfvars and run terraform apply (README, Deploy)")
    transport: Transport
    if kind == "gmail":
        transport = GmailTransport(sender)
    elif kind == "smtp":
        transport = SmtpTransport(sender, os.environ.get(env.SMTP_HOST) or "smtp.gmail.com",
                                  int(os.environ.get(env.SMTP_PORT) or 587), os.environ.get(env.SMTP_USER),
                                  os.environ.get(env.SMTP_PASSWORD),
                                  starttls=(os.environ.get(env.SMTP_STARTTLS) or "true").strip().lower() != "false")
    elif kind == "outbox":
        transport = OutboxTransport(sender)
    else:
        raise RuntimeError(f"{env.MAIL_TRANSPORT}={kind!r} is not one of outbox, gmail, smtp")
    return ExactlyOnceMailer(transport, FirestoreIdempotencyStore(ops=ops(), collection="mail_intents"),
                             reply_to=config().reply_to, locale=config().community.locale)


def application_deps() -> AppDeps:
    import os

    from shared.platform import env, tokens
    from shared.usecases.applications import Deps

    return Deps(config(), doc_store(), mailer(), tokens.key_from_env(), os.environ.get(env.ACTIONS_BASE_URL))


def assign_deps() -> AssignDeps:
    """Speakers and host rotation (docs/speakers.md)."""
    import os

    from shared.platform import env, tokens
    from shared.usecases.assign import Deps, SignedLinks

    return Deps(config(), assign_docs(), mailer(), SignedLinks(tokens.key_from_env(), os.environ.get(env.ACTIONS_BASE_URL)))


def member_deps() -> MemberDeps:
    """The member's own settings page and everything that mails a member their link (docs/members.md)."""
    import os

    from shared.platform import env, tokens
    from shared.usecases.members import Deps

    return Deps(config(), doc_store(), mailer(), tokens.key_from_env(), os.environ.get(env.ACTIONS_BASE_URL))


def _live(kind: Literal["zoom", "calendar"]) -> bool:
    """Provisioning delivery (config ``provisioning.delivery``; the table is in ``live_delivery``)."""
    import os

    from shared.config.provisioning import live_delivery

    return live_delivery(config().provisioning.delivery, kind, os.environ)


@cache
def meetings() -> Meetings:
    """Zoom meetings (docs/provisioning.md): the REST API with Server-to-Server OAuth, or zoom/*.json in the outbox."""
    import os

    from shared.adapters import zoom
    from shared.platform import env

    if not _live("zoom"):
        refuse_outbox_on_cloud("provisioning.delivery", "is outbox",
                               "set provisioning.delivery: live (or auto) in the community config and redeploy")
        return zoom.OutboxMeetings()
    return zoom.ZoomMeetings(
        os.environ.get(env.ZOOM_ACCOUNT_ID, ""), os.environ.get(env.ZOOM_CLIENT_ID, ""),
        os.environ.get(env.ZOOM_CLIENT_SECRET, ""),
        api_base=os.environ.get(env.ZOOM_API_BASE_URL) or zoom.DEFAULT_API_BASE,
        token_url=os.environ.get(env.ZOOM_OAUTH_TOKEN_URL) or zoom.DEFAULT_TOKEN_URL,
    )


@cache
def calendar() -> Calendar:
    """The community calendar (docs/provisioning.md): Calendar API v3 with ADC, or calendar/*.ics in the outbox."""
    import os

    from shared.adapters import google_calendar
    from shared.platform import env

    if not _live("calendar"):
        refuse_outbox_on_cloud("provisioning.delivery", "is outbox",
                               "set provisioning.delivery: live (or auto) in the community config and redeploy")
        return google_calendar.OutboxCalendarEvents()
    ccfg = config().provisioning.calendar
    return google_calendar.GoogleCalendar(ccfg.calendar_id, endpoint=os.environ.get(env.CALENDAR_API_ENDPOINT) or None,
                                          delegated_subject=ccfg.delegated_subject)


@cache
def member_directory() -> MemberDirectory:
    """Approved members' addresses for ``invitations: members`` (docs/provisioning.md)."""
    from shared.adapters.members import FirestoreMemberDirectory

    return FirestoreMemberDirectory(ops=ops())


@cache
def rsvp_log() -> RsvpLog:
    """The per-event chains of seat entries (docs/events.md)."""
    from shared.adapters.rsvp_log import FirestoreRsvpLog

    return FirestoreRsvpLog(ops=ops())


def events_base_url() -> str:
    from shared.platform import env, links

    return links.base(env.EVENTS_BASE_URL).rstrip("/")


def rsvp_deps() -> RsvpDeps:
    """RSVP, seats and the mails around them (docs/events.md)."""
    from shared.adapters.ics import IcsInvitations
    from shared.platform import tokens
    from shared.platform.mail import parse_address
    from shared.usecases.rsvp import Deps, Links

    mailer_ = mailer()
    sender = getattr(mailer_.transport, "sender", "") or "no-reply@example.invalid"
    try:
        organizer = parse_address(sender).addr_spec
    except ValueError:
        organizer = "no-reply@example.invalid"
    return Deps(config(), slot_store(), doc_store(), rsvp_log(), mailer_, Links(tokens.key_from_env(), events_base_url()),
                IcsInvitations(), organizer)


@cache
def chat() -> Chat:
    """Slack incoming webhook when SLACK_WEBHOOK_URL is set, else the outbox (slack/*.json).

    Refused on Cloud Functions without the URL (see :func:`refuse_outbox_on_cloud`)."""
    import os

    from shared.adapters.slack import OutboxChat, SlackWebhook
    from shared.platform import env

    url = os.environ.get(env.SLACK_WEBHOOK_URL)
    if not url:
        refuse_outbox_on_cloud("rhythm.prompt.slack", "is true and SLACK_WEBHOOK_URL is not set",
                               "add SLACK_WEBHOOK_URL to optional_secrets in infra/, or set rhythm.prompt.slack: false")
    return SlackWebhook(url) if url else OutboxChat()


def reset() -> None:
    """Forget every cached adapter (tests, and the CLI after it changes the environment)."""
    from shared.adapters.firestore import default_client

    for fn in (config, ops, slot_store, idempotency_store, default_client):
        fn.cache_clear()
    doc_store.cache_clear()
    mailer.cache_clear()
    meetings.cache_clear()
    calendar.cache_clear()
    member_directory.cache_clear()
    chat.cache_clear()
    rsvp_log.cache_clear()
