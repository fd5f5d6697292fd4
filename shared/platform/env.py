"""Every environment variable the code reads, named in one place.

Terraform (``infra/``) sets exactly these; a test compares the two lists.
"""

COMMUNITY_CONFIG = "COMMUNITY_CONFIG"  # path of the community YAML
OUTBOX_DIR = "OUTBOX_DIR"  # where outbox delivery writes (default: outbox/)
GOOGLE_CLOUD_PROJECT = "GOOGLE_CLOUD_PROJECT"  # Firestore project
GOOGLE_CLOUD_REGION = "GOOGLE_CLOUD_REGION"  # autopilot doctor only: the deployment's region (default: infra's var.region)
FIRESTORE_DATABASE = "FIRESTORE_DATABASE"  # Firestore database id, default "(default)"
FIRESTORE_EMULATOR_HOST = "FIRESTORE_EMULATOR_HOST"  # set locally only
OIDC_CERTS_URL = "OIDC_CERTS_URL"  # only to test the in-function OIDC check offline
LOG_LEVEL = "LOG_LEVEL"

# Applications, mail and action links (docs/applications.md)
ACTION_LINK_KEY = "ACTION_LINK_KEY"  # HMAC key for one-click action links (secret, >= 16 bytes)
ACTIONS_BASE_URL = "ACTIONS_BASE_URL"  # public URL of the `actions` function (links in mails)
FORM_WEBHOOK_SECRET = "FORM_WEBHOOK_SECRET"  # noqa: S105  shared secret with the Apps Script (secret)
FORMS_API_ENDPOINT = "FORMS_API_ENDPOINT"  # Forms API base URL (tests/staging point elsewhere)
GMAIL_API_ENDPOINT = "GMAIL_API_ENDPOINT"  # Gmail API base URL (tests/staging point elsewhere)
GOOGLE_API_CREDENTIALS = "GOOGLE_API_CREDENTIALS"  # consumer Gmail only: path of the authorized_user JSON (secret); unset: Workspace delegation
GOOGLE_OAUTH_TOKEN_URL = "GOOGLE_OAUTH_TOKEN_URL"  # noqa: S105  default https://oauth2.googleapis.com/token (tests point elsewhere)
IAM_CREDENTIALS_ENDPOINT = "IAM_CREDENTIALS_ENDPOINT"  # default https://iamcredentials.googleapis.com (tests point elsewhere)
GOOGLE_SERVICE_ACCOUNT = "GOOGLE_SERVICE_ACCOUNT"  # the account that signs the delegation when not the runtime's own (doctor, tests)
MAIL_TRANSPORT = "MAIL_TRANSPORT"  # outbox (default) | gmail | smtp
MAIL_FROM = "MAIL_FROM"  # sender address ("Name <addr>" allowed); the Gmail delegated user
SMTP_HOST = "SMTP_HOST"
SMTP_PORT = "SMTP_PORT"  # default 587 (STARTTLS)
SMTP_USER = "SMTP_USER"
SMTP_PASSWORD = "SMTP_PASSWORD"  # noqa: S105  e.g. a Google App Password (secret)
SMTP_STARTTLS = "SMTP_STARTTLS"  # default true; "false" only for a relay on a trusted network (local tests)

# Zoom meetings and calendar entries (docs/provisioning.md)
ZOOM_ACCOUNT_ID = "ZOOM_ACCOUNT_ID"  # Server-to-Server OAuth app (secret)
ZOOM_CLIENT_ID = "ZOOM_CLIENT_ID"  # (secret)
ZOOM_CLIENT_SECRET = "ZOOM_CLIENT_SECRET"  # noqa: S105 - (secret)
ZOOM_API_BASE_URL = "ZOOM_API_BASE_URL"  # default https://api.zoom.us/v2 (tests/staging point elsewhere)
ZOOM_OAUTH_TOKEN_URL = "ZOOM_OAUTH_TOKEN_URL"  # noqa: S105 - default https://zoom.us/oauth/token
ZOOM_WEBHOOK_SECRET = "ZOOM_WEBHOOK_SECRET"  # noqa: S105 - webhook secret token of the Zoom app (secret)
CALENDAR_API_ENDPOINT = "CALENDAR_API_ENDPOINT"  # Calendar API base URL (tests/staging point elsewhere)
CRON_PLAN = "CRON_PLAN"  # cron_dispatch only: JSON {time_zone, tick, jobs: {fn: {schedule, url, audience, timeout}}} (shared/entrypoints/dispatch.py)
GOOGLE_APPLICATION_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"  # ADC key file; unset on Cloud Functions
K_SERVICE = "K_SERVICE"  # set by the Cloud Run runtime under gen2 functions (never by Terraform): delivery auto -> live

# Read only on a developer's machine or in tests, never set in production: the one list that the
# offline infra check (tools/infra_check.py) exempts from "Terraform must set every variable read".
LOCAL_ONLY = frozenset({
    FIRESTORE_EMULATOR_HOST, OIDC_CERTS_URL, GOOGLE_APPLICATION_CREDENTIALS,
    FORMS_API_ENDPOINT, GMAIL_API_ENDPOINT, CALENDAR_API_ENDPOINT, ZOOM_API_BASE_URL, ZOOM_OAUTH_TOKEN_URL,
    GOOGLE_OAUTH_TOKEN_URL, IAM_CREDENTIALS_ENDPOINT, GOOGLE_SERVICE_ACCOUNT,
    K_SERVICE,  # not local, but the platform's: Terraform must not set it either (a reserved name)
})

# Community rhythm (docs/rhythm.md)
SLACK_WEBHOOK_URL = "SLACK_WEBHOOK_URL"  # Slack incoming webhook for the weekly prompt (secret); unset: outbox slack/*.json
ICS_FEED_TOKEN = "ICS_FEED_TOKEN"  # noqa: S105 (a variable name) optional fixed ICS feed token (secret); else only the rotated hash in Firestore

# Organizer console (docs/console.md)
CONSOLE_SESSION_KEY = "CONSOLE_SESSION_KEY"  # signs session cookies, CSRF tokens and sign-in links (secret, >= 32 bytes)
CONSOLE_OAUTH_CLIENT_ID = "CONSOLE_OAUTH_CLIENT_ID"  # the Google OAuth client id of "Sign in with Google"; unset: mail links only
CONSOLE_URL = "CONSOLE_URL"  # public URL of the console (links in sign-in mails, Google's login_uri)

# Public events pages and RSVP (docs/events.md)
EVENTS_BASE_URL = "EVENTS_BASE_URL"  # public URL of the `events` function (event pages, links in RSVP mails)
