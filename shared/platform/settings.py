"""The settings each function cannot run without, checked in one place before it does anything.

Every function's entry point calls :func:`refusal` first: a missing or short secret, or live mail
without a sender, answers 503 with one sentence naming the variable and the fix (and logs the same
sentence, never a value), instead of a traceback or a 503 whose reason is only in the log.
``autopilot run`` prints the same sentences (:func:`problems`). The names of what each function
needs are in :data:`NEEDS`; a test checks that infra/functions.tf gives each of them to that function.

Locally, with outbox delivery, a missing ``ACTION_LINK_KEY`` is no problem: ``tokens.key_from_env``
makes a development key for the checkout (docs/applications.md, "Local runs").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# The variable names are strings here, not ``env.`` attributes: which function needs which is the
# NEEDS table (checked against each function's entry in infra/functions.tf by
# tests/integration/test_settings_check.py), not whatever code tools/code_paths.py can reach.
ACTION_LINK_KEY, FORM_WEBHOOK_SECRET, ZOOM_WEBHOOK_SECRET = "ACTION_LINK_KEY", "FORM_WEBHOOK_SECRET", "ZOOM_WEBHOOK_SECRET"
MAIL_TRANSPORT, MAIL_FROM, SMTP_USER, SMTP_PASSWORD = "MAIL_TRANSPORT", "MAIL_FROM", "SMTP_USER", "SMTP_PASSWORD"
K_SERVICE = "K_SERVICE"

MIN_SECRET = 16  # bytes, for the HMAC keys (tokens.MIN_KEY_BYTES, form_webhook)
LIVE_MAIL = ("gmail", "smtp")


@dataclass(frozen=True)
class Problem:
    variable: str
    sentence: str  # what is wrong and how to fix it, in one sentence (no value is ever shown)


def _secret_fix(name: str, function: str) -> str:
    return (f"add a version to the Secret Manager secret {name} (`openssl rand -hex 32 | gcloud secrets versions add "
            f"{name} --data-file=-`), then redeploy {function} (README, Deploy, steps 6 and \"Rotating a secret\")")


def local_outbox(environ: Mapping[str, str]) -> bool:
    """A developer's machine delivering to the outbox: not Cloud Functions, no live mail transport."""
    transport = (environ.get(MAIL_TRANSPORT) or "outbox").strip().lower()
    return not environ.get(K_SERVICE) and transport == "outbox"


def _hmac_key(name: str, dev_key_locally: bool) -> Callable[[str, Mapping[str, str]], Problem | None]:
    def check(function: str, environ: Mapping[str, str]) -> Problem | None:
        value = environ.get(name, "")
        if len(value.encode()) >= MIN_SECRET:
            return None
        if dev_key_locally and local_outbox(environ):
            return None  # tokens.key_from_env: the checkout's development key
        state = "is not set" if not value else f"is shorter than {MIN_SECRET} bytes"
        return Problem(name, f"{name} {state}: {_secret_fix(name, function)}.")
    return check


def _present(name: str, what: str) -> Callable[[str, Mapping[str, str]], Problem | None]:
    def check(function: str, environ: Mapping[str, str]) -> Problem | None:
        if environ.get(name, "").strip():
            return None
        return Problem(name, f"{name} is not set ({what}): {_secret_fix(name, function)}.")
    return check


def _sender(function: str, environ: Mapping[str, str]) -> Problem | None:
    """Live mail needs a real sender: without it mail would leave from a placeholder nobody can answer."""
    transport = (environ.get(MAIL_TRANSPORT) or "outbox").strip().lower()
    if transport not in LIVE_MAIL:
        return None
    from email.utils import parseaddr  # not shared.platform.mail: it reads these settings itself

    value = environ.get(MAIL_FROM, "")
    address = parseaddr(value)[1]
    address = address if address.count("@") == 1 and "." in address.rsplit("@", 1)[1] else ""
    if address and not address.endswith(".invalid"):
        return None
    state = "is not set" if not value.strip() else "is not an e-mail address"
    return Problem(MAIL_FROM, f"{MAIL_FROM} {state}, but {MAIL_TRANSPORT}={transport} sends live mail: set "
                                  f"{MAIL_FROM} (e.g. \"Organizers <organizers@your-domain>\", the account that sends) "
                                  "in `settings` of infra/terraform.tfvars and run terraform apply (README, Deploy).")


def _smtp_password(function: str, environ: Mapping[str, str]) -> Problem | None:
    transport = (environ.get(MAIL_TRANSPORT) or "").strip().lower()
    if transport != "smtp" or not environ.get(SMTP_USER) or environ.get(SMTP_PASSWORD):
        return None
    return Problem(SMTP_PASSWORD, f"{SMTP_PASSWORD} is not set while {SMTP_USER} is: add \"SMTP_PASSWORD\" "
                                      f"to optional_secrets, {_secret_fix(SMTP_PASSWORD, function)}.")


CHECKS: dict[str, Callable[[str, Mapping[str, str]], Problem | None]] = {
    ACTION_LINK_KEY: _hmac_key(ACTION_LINK_KEY, dev_key_locally=True),
    FORM_WEBHOOK_SECRET: _hmac_key(FORM_WEBHOOK_SECRET, dev_key_locally=False),
    ZOOM_WEBHOOK_SECRET: _present(ZOOM_WEBHOOK_SECRET, "the Zoom app's Secret Token signs every event"),
    MAIL_FROM: _sender,
    SMTP_PASSWORD: _smtp_password,
}

_MAIL = (MAIL_FROM, SMTP_PASSWORD)
# What each function needs (keys of CHECKS). Mail settings matter only with live mail.
NEEDS: dict[str, tuple[str, ...]] = {
    "actions": (ACTION_LINK_KEY, *_MAIL),
    "assign_speakers": (ACTION_LINK_KEY, *_MAIL),
    "console": (ACTION_LINK_KEY, *_MAIL),  # sessions derive their key from it without CONSOLE_SESSION_KEY; sign-in mails
    "cron_dispatch": (),
    "event_sweep": (ACTION_LINK_KEY, *_MAIL),  # RSVP links in offers, reminders, thank-you mails
    "events": (ACTION_LINK_KEY, *_MAIL),
    "form_webhook": (FORM_WEBHOOK_SECRET, ACTION_LINK_KEY, *_MAIL),
    "generate_slots": (),
    "ics_feed": (),
    "poll_form_responses": (ACTION_LINK_KEY, *_MAIL),
    "propose_event": (FORM_WEBHOOK_SECRET, ACTION_LINK_KEY, *_MAIL),
    "provision_events": _MAIL,
    "send_digest": _MAIL,
    "send_newsletter": (ACTION_LINK_KEY, *_MAIL),
    "send_reminders": _MAIL,
    "weekly_prompt": (ACTION_LINK_KEY, *_MAIL),  # each member's one-click unsubscribe link
    "zoom_webhook": (ZOOM_WEBHOOK_SECRET,),
}


def problems(function: str, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every setting ``function`` needs that is missing or unusable, as sentences."""
    environ = os.environ if environ is None else environ
    found = (CHECKS[name](function, environ) for name in NEEDS.get(function, ()))
    return [p for p in found if p is not None]
