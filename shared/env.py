"""Every environment variable the code reads, named in one place.

Terraform (``infra/``) sets exactly these; a test compares the two lists.
"""

COMMUNITY_CONFIG = "COMMUNITY_CONFIG"  # path of the community YAML
OUTBOX_DIR = "OUTBOX_DIR"  # where outbox delivery writes (default: outbox/)
GOOGLE_CLOUD_PROJECT = "GOOGLE_CLOUD_PROJECT"  # Firestore project
FIRESTORE_DATABASE = "FIRESTORE_DATABASE"  # Firestore database id, default "(default)"
FIRESTORE_EMULATOR_HOST = "FIRESTORE_EMULATOR_HOST"  # set locally only
OIDC_CERTS_URL = "OIDC_CERTS_URL"  # only to test the in-function OIDC check offline
LOG_LEVEL = "LOG_LEVEL"
