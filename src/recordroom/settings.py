"""Django settings: the only module that reads the environment (RECORDROOM_*).

Every environment setting is declared once in ENV_SETTINGS; that declaration feeds the
docs (docs/admin-guide.md, checked by a test) and the values below.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from recordroom.kernel.netaddr import parse_networks


@dataclass(frozen=True)
class EnvSetting:
    name: str
    default: str
    help: str


ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting(
        "RECORDROOM_DATA_DIR",
        "./recordroom-data",
        "Folder for the SQLite database, document blobs, keys and demo ground truth.",
    ),
    EnvSetting(
        "RECORDROOM_DATABASE_URL",
        "",
        "Database URL (postgres://user@host:5432/name); empty means SQLite in the data folder.",
    ),
    EnvSetting(
        "RECORDROOM_SECRET_KEY",
        "",
        "Django secret key; empty means DATA_DIR/keys/secret.key (created by "
        "`recordroom init`).",
    ),
    EnvSetting(
        "RECORDROOM_BLOB_KEY",
        "",
        "Base64 256-bit AES key for document blobs; empty means DATA_DIR/keys/blob.key "
        "(created by `recordroom init`).",
    ),
    EnvSetting(
        "RECORDROOM_AUDIT_KEY",
        "",
        "Base64 256-bit HMAC key of the audit chain; empty means DATA_DIR/keys/audit.key. "
        "Keep it outside the database: whoever holds it can rewrite the chain.",
    ),
    EnvSetting(
        "RECORDROOM_AUDIT_SIGNING_KEY",
        "",
        "Base64 Ed25519 private key (32 bytes) that signs audit checkpoints; empty means "
        "DATA_DIR/keys/audit-signing.key. `recordroom audit public-key` prints the "
        "public half for auditors.",
    ),
    EnvSetting(
        "RECORDROOM_AUDIT_CHECKPOINT_FILE",
        "",
        "Append-only JSON-lines file the signed audit checkpoints are written to; empty "
        "means DATA_DIR/audit-checkpoints.jsonl. Put it where the database's owner cannot "
        "change it (another host, a write-once mount) or ship it off-host.",
    ),
    EnvSetting(
        "RECORDROOM_AUDIT_CHECKPOINT_MINUTES",
        "60",
        "Minutes between the signed audit checkpoints `recordroom worker` writes; 0 "
        "turns the schedule off.",
    ),
    EnvSetting(
        "RECORDROOM_AUDIT_SYSLOG",
        "",
        "Also send each audit checkpoint to syslog: a socket path (/dev/log) or "
        "host:port (UDP); empty means the file only.",
    ),
    EnvSetting(
        "RECORDROOM_DEBUG", "0", "1 turns on Django debug pages (never in production)."
    ),
    EnvSetting(
        "RECORDROOM_ALLOWED_HOSTS",
        "127.0.0.1,localhost",
        "Comma-separated host names the web server answers to.",
    ),
    EnvSetting(
        "RECORDROOM_SESSION_IDLE_MINUTES",
        "15",
        "Minutes of inactivity after which a session ends (R-SEC-1 automatic logoff).",
    ),
    EnvSetting(
        "RECORDROOM_LOGIN_MAX_FAILURES",
        "5",
        "Failed sign-ins of one account from one address before that account's sign-in "
        "from there is refused for a while; four times that from an address, or for an "
        "account, marks further wrong attempts as throttled (a right one still works).",
    ),
    EnvSetting(
        "RECORDROOM_LOGIN_LOCKOUT_MINUTES",
        "15",
        "How long sign-in stays refused after too many failures.",
    ),
    EnvSetting(
        "RECORDROOM_OAUTH_TOKEN_MINUTES",
        "15",
        "Lifetime of an OAuth2 access token issued to a system client, in minutes.",
    ),
    EnvSetting(
        "RECORDROOM_MAX_UPLOAD_MB",
        "100",
        "Largest document file accepted, in megabytes.",
    ),
    EnvSetting(
        "RECORDROOM_FHIR_MAX_BODY_MB",
        "150",
        "Largest FHIR request body (a Bundle with Base64 documents), in megabytes.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_MAX_MESSAGE_MB",
        "20",
        "Largest HL7 v2 message the MLLP listener accepts, in megabytes; a larger one "
        "is answered AR naming the limit, and nothing of it is applied.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_IDLE_TIMEOUT_SECONDS",
        "300",
        "Seconds an MLLP connection may stay open without starting a message before "
        "the listener closes it (the sender reconnects when it has more); 0 keeps idle "
        "connections open.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_FRAME_TIMEOUT_SECONDS",
        "30",
        "Seconds within which a message, once its first byte has arrived, must arrive "
        "whole (and its ACK be taken by the sender); past that the part received is "
        "dropped unapplied, unanswered, and the connection closed, so the sender "
        "resends. 0 waits for ever.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_MAX_CONNECTIONS",
        "20",
        "Most MLLP connections the listener serves at once; one more is closed as soon "
        "as it is accepted (and logged). Each may hold up to about twice "
        "RECORDROOM_HL7_MAX_MESSAGE_MB in memory.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_WORKERS",
        "4",
        "Threads applying HL7 v2 messages side by side on PostgreSQL (messages about "
        "one patient always one after the other); SQLite, with its one writer, uses one.",
    ),
    EnvSetting(
        "RECORDROOM_MPI_THRESHOLDS",
        '{"*": {"auto_link": 0.98, "review": 0.5}}',
        "Search before create, per facility code ('*' for the rest), as JSON: a "
        "registration whose best match is at least auto_link is linked to it, one at "
        "least review is created and its pair sent to the duplicate worklist, below "
        "that it is created.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_MERGE_HOLD_ACK",
        "AE",
        "How an inbound merge (ADT^A40) held for review is answered: AE (not applied; "
        "the reason in ERR) or AA (accepted, the merge pending review, the reason in "
        "MSA-3). Either way it waits on the Held merges page with an overlay sign.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_MERGE_BIRTH_DAYS",
        "31",
        "An inbound merge whose two records' birth dates are more than this many days "
        "apart (and not one mistyped: a digit, two digits swapped, day and month "
        "swapped) disagrees on birth date; with names that disagree too it is held.",
    ),
    EnvSetting(
        "RECORDROOM_HL7_MERGE_NAME_SIMILARITY",
        "0.85",
        "An inbound merge whose two records have no names at least this alike "
        "(Jaro-Winkler, 0 to 1, of surname and first name; a nickname, initial or "
        "typo of the first name counts as alike) disagrees on name.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_DEADLINE_PROFILE",
        "hipaa",
        "Deadlines for release requests: hipaa (30 days plus one 30-day extension for "
        "the right of access, R-ACC-2) or proposed-15 (the proposed 15 + 15 days, "
        "R-ACC-2P, not final law).",
    ),
    EnvSetting(
        "RECORDROOM_ROI_SAME_PERSON_QA",
        "0",
        "1 lets the person who prepared a release also do its quality review, in a "
        "separate confirmation step; 0 requires a second person.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_WAIT_FOR_PAYMENT",
        "0",
        "1 holds a release until its invoice is paid or waived.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_LINK_DAYS",
        "14",
        "Days a release download link stays valid.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_PART2_TPO_ACCOUNTING",
        "0",
        "1 lists Part 2 disclosures for treatment, payment and operations made with "
        "consent in the accounting of disclosures (42 CFR 2.25(b), R-P2-8; HHS has "
        "tolled compliance); 0 lists only those made under another consent.",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_DELINQUENCY_DAYS",
        "30",
        "Days after discharge a record still deficient becomes delinquent (R-RC-7: "
        "at most 30).",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_AGING_LEVELS",
        "15,30",
        "Comma-separated days since discharge that mark the aging levels of open "
        "deficiencies (e.g. a reminder at 15, delinquent at 30).",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_RATE_METHOD",
        "tjc",
        "How the delinquency rate is measured: tjc (average delinquent records over "
        "the last measurement counts divided by average monthly discharges, R-RC-7) "
        "or textbook (delinquent records divided by the period's discharges).",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_MEASURE_FREQUENCY",
        "quarterly",
        "The delinquency rate's measurement period: quarterly or monthly.",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_MEASURE_PERIODS",
        "4",
        "How many of the last complete periods the tjc method averages (4 quarters).",
    ),
    EnvSetting(
        "RECORDROOM_QUERY_ESCALATION_DAYS",
        "2,7",
        "Comma-separated days an unanswered query waits before each escalation level "
        "(R-QRY-5): the first a reminder, the second to the physician advisor; the "
        "last is also the query's due date.",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_THRESHOLD_PCT",
        "50",
        "The delinquency rate above which the facility is over its threshold (percent "
        "of average monthly discharges for the tjc method).",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_SUSPENSION_DAYS",
        "30",
        "Days after discharge an open deficiency puts its provider on the medical "
        "staff office's suspension list.",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_SUSPENSION_GRACE_DAYS",
        "3",
        "Days a deficiency must have been assigned to a provider before it counts "
        "toward their suspension (one reassigned yesterday does not).",
    ),
    EnvSetting(
        "RECORDROOM_COMPLETION_HISTORY_MONTHS",
        "12",
        "Months of delinquency history the chart-completion dashboard draws.",
    ),
    EnvSetting(
        "RECORDROOM_EMAIL_HOST",
        "",
        "SMTP server that sends e-mail (letters to providers); empty: no e-mail is "
        "sent, letters are kept for print.",
    ),
    EnvSetting("RECORDROOM_EMAIL_PORT", "25", "SMTP server's port."),
    EnvSetting("RECORDROOM_EMAIL_HOST_USER", "", "SMTP user name (empty: none)."),
    EnvSetting(
        "RECORDROOM_EMAIL_HOST_PASSWORD", "", "SMTP password (empty: none)."
    ),
    EnvSetting(
        "RECORDROOM_EMAIL_USE_TLS", "0", "1 sends SMTP over STARTTLS (port 587)."
    ),
    EnvSetting(
        "RECORDROOM_EMAIL_USE_SSL", "0", "1 sends SMTP over implicit TLS (port 465)."
    ),
    EnvSetting(
        "RECORDROOM_EMAIL_TIMEOUT_SECONDS",
        "30",
        "Seconds to wait for the SMTP server before a send is failed.",
    ),
    EnvSetting(
        "RECORDROOM_EMAIL_FROM",
        "Health Information Management <him@localhost>",
        "The From address of e-mail Recordroom sends.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_MAX_PACKET_MB",
        "500",
        "Largest release packet built, in megabytes; a larger one is refused naming "
        "the limit (split the request).",
    ),
    EnvSetting(
        "RECORDROOM_ROI_JUDGE_SUBPOENA_IS_ORDER",
        "1",
        "1 treats a subpoena signed by a judge as a court order (R-DISC-2, HHS "
        "guidance to verify with counsel); 0 requires a subpoena's satisfactory "
        "assurances (R-DISC-3) unless a separate court order is on file.",
    ),
    EnvSetting(
        "RECORDROOM_ROI_CONTACT",
        "Privacy Officer",
        "Name or title of the person or office that takes complaints and review "
        "requests about release decisions, printed on denial letters (R-ACC-9).",
    ),
    EnvSetting(
        "RECORDROOM_ROI_CONTACT_PHONE",
        "",
        "That contact's telephone number; a denial letter must give it (R-ACC-9), so "
        "a denial is refused until it is set.",
    ),
    EnvSetting(
        "RECORDROOM_TEST_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
        "PostgreSQL server the test suite's second pass uses (make test).",
    ),
)


# --- behind a TLS proxy, HTTP hardening, API token lifetimes, uploads ---------------
ENV_SETTINGS += (
    EnvSetting(
        "RECORDROOM_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or networks (10.0.0.5, 10.0.0.0/24) of the reverse "
        "proxies in front of the server. Only from these is X-Forwarded-For (the "
        "client's address, for the audit trail and throttling) and X-Forwarded-Proto "
        "(https) believed; from anyone else they are ignored.",
    ),
    EnvSetting(
        "RECORDROOM_TLS",
        "0",
        "1 when users reach the server over HTTPS (directly or through a trusted "
        "proxy): cookies are sent only over HTTPS and browsers are told to use HTTPS "
        "(HSTS).",
    ),
    EnvSetting(
        "RECORDROOM_HSTS_SECONDS",
        "31536000",
        "How long browsers keep to HTTPS after a visit (Strict-Transport-Security), in "
        "seconds; sent only with RECORDROOM_TLS=1 on HTTPS requests; 0 sends none.",
    ),
    EnvSetting(
        "RECORDROOM_CSRF_TRUSTED_ORIGINS",
        "",
        "Comma-separated origins (https://records.example.org) whose forms are "
        "accepted when the proxy's public name or port differs from the server's.",
    ),
    EnvSetting(
        "RECORDROOM_TOKEN_DAYS",
        "90",
        "Lifetime of an API token created without --days, in days.",
    ),
    EnvSetting(
        "RECORDROOM_TOKEN_MAX_DAYS",
        "365",
        "Longest lifetime an API token may be given, in days.",
    ),
    EnvSetting(
        "RECORDROOM_ADMIN_TOKEN_DAYS",
        "7",
        "Longest lifetime of an administrator's API token, in days (also its default).",
    ),
    EnvSetting(
        "RECORDROOM_MAX_IMAGE_MEGAPIXELS",
        "200",
        "Largest image accepted (a scan, or an image inside a PDF), in megapixels; a "
        "larger one is refused at upload as a possible decompression bomb.",
    ),
    EnvSetting(
        "RECORDROOM_MAX_PDF_PAGES",
        "5000",
        "Most pages a PDF may have to be accepted at upload.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_BLANK_INK",
        "0.002",
        "Capture: a page whose share of dark pixels (0..1, margins left out) is below "
        "this, with no word and no barcode read, is blank and left out of documents "
        "(kept with the batch); raise it for noisy scanners, lower it to keep faint "
        "back sides.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_OCR_JOBS",
        "1",
        "Capture: pages one batch's OCR runs at once (Tesseract runs one thread per "
        "page). Keep 1 and run one worker per core; raise it for a lone worker.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_OCR_LANGUAGE",
        "eng",
        "Capture: Tesseract language(s) of the OCR, e.g. eng or eng+spa (each must be "
        "installed).",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_PDFA",
        "1",
        "Capture: 1 keeps the searchable copy of a scan as PDF/A (archival) wherever "
        "the file allows it (else plain PDF); 0 always as plain PDF, a little faster.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_DESKEW",
        "1",
        "Capture: 1 straightens skewed scans before OCR (the skew measured from the "
        "page image, the page drawn turned: the scan itself is kept); 0 skips it.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_ROTATE",
        "1",
        "Capture: 1 turns pages scanned sideways or upside down upright (orientation "
        "from the page image; Tesseract's detection only for pages that cannot tell, "
        "such as text in capitals); 0 skips it.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_CLEAN",
        "1",
        "Capture: 1 cleans scans with unpaper before OCR (speckle, borders) when unpaper "
        "is installed; 0 skips it (the most costly of the three preparations).",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_RETRAIN_AFTER",
        "25",
        "Capture: the document-type model is retrained (by the worker) once indexers "
        "have corrected this many proposed types since it was last trained; 0 leaves "
        "it to the nightly retraining and `recordroom capture retrain`.",
    ),
    EnvSetting(
        "RECORDROOM_CAPTURE_MAX_IMAGE_MB",
        "40",
        "Capture: largest image file (TIFF, PNG, JPEG) accepted per page, in megabytes; "
        "a larger scan is refused with its reason (a 2,000-page fax is small per page).",
    ),
)


def env(name: str) -> str:
    spec = next(s for s in ENV_SETTINGS if s.name == name)
    return os.environ.get(name, spec.default)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process (pg_dump, pg_restore), plus `extra`."""
    return {**os.environ, **extra}


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("RECORDROOM_DATA_DIR")).resolve()
KEY_DIR = DATA_DIR / "keys"
BLOB_DIR = DATA_DIR / "blobs"


@dataclass(frozen=True)
class KeySpec:
    """A secret kept outside the database: in an environment variable or a key file.

    Every key is declared once, in KEYS: the first-time setup creates the missing ones
    (recordroom.kernel.keys), `recordroom keys export` and `backup --keys-to` copy
    them, `restore --keys` puts them back, and a start that finds data but not its
    keys is refused, naming the file. A key is never generated silently.
    """

    setting: str  # the Django setting that holds the value
    file: str  # its file under DATA_DIR/keys
    env: str  # the environment variable that may hold it instead
    make: Callable[[], str]  # how first-time setup creates one
    help: str
    # For a key a later version adds: the dotted path of a function that says (with the
    # database at hand) that nothing has used this key yet, so `recordroom init` may
    # create it for an installation that already holds data. Without it, never.
    unused_check: str = ""


def _new_blob_key() -> str:
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode()


KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "SECRET_KEY",
        "secret.key",
        "RECORDROOM_SECRET_KEY",
        lambda: secrets.token_urlsafe(50),
        "signs sessions, CSRF tokens and download links",
    ),
    KeySpec(
        "RECORDROOM_BLOB_KEY",
        "blob.key",
        "RECORDROOM_BLOB_KEY",
        _new_blob_key,
        "encrypts documents, packets, letters and SSNs",
    ),
    # The audit chain's HMAC key and the checkpoints' Ed25519 signing key (32 random
    # bytes are a valid Ed25519 private key): never in the database (R-SEC-2). Added
    # after the first release, so `recordroom init` creates them on an installation
    # whose chain and checkpoints have not used them yet.
    KeySpec(
        "RECORDROOM_AUDIT_KEY",
        "audit.key",
        "RECORDROOM_AUDIT_KEY",
        _new_blob_key,
        "keys the audit chain's hashes",
        unused_check="recordroom.audit.keys.audit_key_unused",
    ),
    KeySpec(
        "RECORDROOM_AUDIT_SIGNING_KEY",
        "audit-signing.key",
        "RECORDROOM_AUDIT_SIGNING_KEY",
        _new_blob_key,
        "signs the audit chain's checkpoints",
        unused_check="recordroom.audit.keys.signing_key_unused",
    ),
)


def _read_key(spec: KeySpec) -> str:
    """The key's value from its variable, else its file; "" when it has neither."""
    value = env(spec.env) if spec.env else ""
    if value:
        return value
    try:
        return (KEY_DIR / spec.file).read_text().strip()
    except FileNotFoundError:
        return ""


_KEY_VALUES = {spec.setting: _read_key(spec) for spec in KEYS}
# Files of the keys this start could not find: recordroom.kernel.apps refuses to start
# on a data folder that holds data without them (kernel.keys.check_keys).
MISSING_KEYS: tuple[str, ...] = tuple(
    spec.file for spec in KEYS if not _KEY_VALUES[spec.setting]
)
SECRET_KEY = _KEY_VALUES["SECRET_KEY"]
RECORDROOM_BLOB_KEY = _KEY_VALUES["RECORDROOM_BLOB_KEY"]
RECORDROOM_AUDIT_KEY = _KEY_VALUES["RECORDROOM_AUDIT_KEY"]
RECORDROOM_AUDIT_SIGNING_KEY = _KEY_VALUES["RECORDROOM_AUDIT_SIGNING_KEY"]
AUDIT_CHECKPOINT_FILE = Path(
    env("RECORDROOM_AUDIT_CHECKPOINT_FILE") or DATA_DIR / "audit-checkpoints.jsonl"
)
AUDIT_CHECKPOINT_MINUTES = float(env("RECORDROOM_AUDIT_CHECKPOINT_MINUTES"))
AUDIT_SYSLOG = env("RECORDROOM_AUDIT_SYSLOG")
DEBUG = env("RECORDROOM_DEBUG") == "1"
ALLOWED_HOSTS = [
    h.strip() for h in env("RECORDROOM_ALLOWED_HOSTS").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI's files from its static folder: no CDN
    "django_tasks",
    "django_tasks_db",
    "recordroom.kernel",
    "recordroom.accounts",
    "recordroom.audit",
    "recordroom.mpi",
    "recordroom.mpi.linkage",
    "recordroom.records",
    "recordroom.release",
    "recordroom.capture",
    "recordroom.amendments",
    "recordroom.completion",
    "recordroom.coding",
    "recordroom.queries",
    "recordroom.interop",
    "recordroom.web",
]

MIDDLEWARE = [
    "recordroom.web.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "recordroom.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "recordroom.web.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "recordroom.web.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "recordroom.web.zone.FacilityZoneMiddleware",
    "recordroom.web.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "recordroom.urls"
WSGI_APPLICATION = "recordroom.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:search"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of third-party templates (the admin's frame shows the demo banner).
        "DIRS": [BASE_DIR / "web" / "overrides"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "recordroom.web.context.recordroom",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env("RECORDROOM_DATABASE_URL")
    if url:
        db: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        db["TEST"] = {"NAME": f"test_{db.get('NAME') or 'recordroom'}"}
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "recordroom.sqlite3"),
        "OPTIONS": {
            # Writers take the lock at BEGIN, so a read-then-write (the audit chain)
            # never fails half-way with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; "
                "PRAGMA temp_store=MEMORY;"
            ),
        },
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# R-SEC-1 automatic logoff: the session cookie's age is the idle limit and every request
# renews it, so a session ends after that many minutes without activity.
SESSION_IDLE_MINUTES = int(env("RECORDROOM_SESSION_IDLE_MINUTES"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGIN_MAX_FAILURES = int(env("RECORDROOM_LOGIN_MAX_FAILURES"))
LOGIN_LOCKOUT_MINUTES = int(env("RECORDROOM_LOGIN_LOCKOUT_MINUTES"))
OAUTH_TOKEN_MINUTES = int(env("RECORDROOM_OAUTH_TOKEN_MINUTES"))
MAX_UPLOAD_BYTES = int(env("RECORDROOM_MAX_UPLOAD_MB")) * 1024 * 1024
FHIR_MAX_BODY_BYTES = int(float(env("RECORDROOM_FHIR_MAX_BODY_MB")) * 1024 * 1024)
HL7_MAX_MESSAGE_BYTES = int(float(env("RECORDROOM_HL7_MAX_MESSAGE_MB")) * 1024 * 1024)


def _at_least(name: str, least: int, kind: Callable[[str], float] = float) -> float:
    """A numeric setting, refused at start-up (naming it) below `least` or unreadable."""
    try:
        value = kind(env(name))
    except ValueError:
        value = float("nan")
    if not value >= least:  # nan too
        raise ImproperlyConfigured(
            f"{name}={env(name)!r}: give a number of at least {least}"
        )
    return value


HL7_IDLE_TIMEOUT = _at_least("RECORDROOM_HL7_IDLE_TIMEOUT_SECONDS", 0)
HL7_FRAME_TIMEOUT = _at_least("RECORDROOM_HL7_FRAME_TIMEOUT_SECONDS", 0)
HL7_MAX_CONNECTIONS = int(_at_least("RECORDROOM_HL7_MAX_CONNECTIONS", 1, int))
HL7_WORKERS = int(_at_least("RECORDROOM_HL7_WORKERS", 1, int))
MPI_THRESHOLDS = json.loads(env("RECORDROOM_MPI_THRESHOLDS"))
HL7_MERGE_HOLD_ACK = env("RECORDROOM_HL7_MERGE_HOLD_ACK").strip().upper()
if HL7_MERGE_HOLD_ACK not in ("AE", "AA"):
    raise ImproperlyConfigured(
        f"RECORDROOM_HL7_MERGE_HOLD_ACK={HL7_MERGE_HOLD_ACK!r}: give AE or AA"
    )
HL7_MERGE_BIRTH_DAYS = int(_at_least("RECORDROOM_HL7_MERGE_BIRTH_DAYS", 0, int))
HL7_MERGE_NAME_SIMILARITY = _at_least("RECORDROOM_HL7_MERGE_NAME_SIMILARITY", 0)
if HL7_MERGE_NAME_SIMILARITY > 1:
    raise ImproperlyConfigured("RECORDROOM_HL7_MERGE_NAME_SIMILARITY: give a number "
                               f"from 0 to 1, not {HL7_MERGE_NAME_SIMILARITY}")  # fmt: skip
ROI_DEADLINE_PROFILE = env("RECORDROOM_ROI_DEADLINE_PROFILE")
ROI_SAME_PERSON_QA = env("RECORDROOM_ROI_SAME_PERSON_QA") == "1"
ROI_WAIT_FOR_PAYMENT = env("RECORDROOM_ROI_WAIT_FOR_PAYMENT") == "1"
ROI_LINK_DAYS = int(env("RECORDROOM_ROI_LINK_DAYS"))
ROI_PART2_TPO_ACCOUNTING = env("RECORDROOM_ROI_PART2_TPO_ACCOUNTING") == "1"
COMPLETION_DELINQUENCY_DAYS = int(
    _at_least("RECORDROOM_COMPLETION_DELINQUENCY_DAYS", 0)
)
if COMPLETION_DELINQUENCY_DAYS > 30:
    raise ImproperlyConfigured(
        "RECORDROOM_COMPLETION_DELINQUENCY_DAYS: at most 30 (a record is completed "
        "within 30 days after discharge, 42 CFR 482.24(c)(4)(viii))"
    )
try:
    COMPLETION_AGING_LEVELS = tuple(
        sorted(int(v) for v in env("RECORDROOM_COMPLETION_AGING_LEVELS").split(",")
               if v.strip())
    )  # fmt: skip
except ValueError:
    raise ImproperlyConfigured(
        "RECORDROOM_COMPLETION_AGING_LEVELS: give whole days separated by commas, "
        f"not {env('RECORDROOM_COMPLETION_AGING_LEVELS')!r}"
    ) from None
COMPLETION_RATE_METHOD = env("RECORDROOM_COMPLETION_RATE_METHOD")
COMPLETION_MEASURE_FREQUENCY = env("RECORDROOM_COMPLETION_MEASURE_FREQUENCY")
for _name, _value, _allowed in (
    ("RATE_METHOD", COMPLETION_RATE_METHOD, ("tjc", "textbook")),
    ("MEASURE_FREQUENCY", COMPLETION_MEASURE_FREQUENCY, ("quarterly", "monthly")),
):
    if _value not in _allowed:
        raise ImproperlyConfigured(
            f"RECORDROOM_COMPLETION_{_name}={_value!r}: use {' or '.join(_allowed)}"
        )
COMPLETION_MEASURE_PERIODS = int(_at_least("RECORDROOM_COMPLETION_MEASURE_PERIODS", 1))
COMPLETION_THRESHOLD_PCT = _at_least("RECORDROOM_COMPLETION_THRESHOLD_PCT", 0)
COMPLETION_SUSPENSION_DAYS = int(
    _at_least("RECORDROOM_COMPLETION_SUSPENSION_DAYS", 0, int)
)
COMPLETION_SUSPENSION_GRACE_DAYS = int(
    _at_least("RECORDROOM_COMPLETION_SUSPENSION_GRACE_DAYS", 0, int)
)
COMPLETION_HISTORY_MONTHS = int(_at_least("RECORDROOM_COMPLETION_HISTORY_MONTHS", 1, int))
# E-mail through Django's SMTP backend (letters to providers); no host: none sent.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env("RECORDROOM_EMAIL_HOST").strip()
EMAIL_PORT = int(_at_least("RECORDROOM_EMAIL_PORT", 1, int))
EMAIL_HOST_USER = env("RECORDROOM_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("RECORDROOM_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env("RECORDROOM_EMAIL_USE_TLS") == "1"
EMAIL_USE_SSL = env("RECORDROOM_EMAIL_USE_SSL") == "1"
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "RECORDROOM_EMAIL_USE_TLS and RECORDROOM_EMAIL_USE_SSL are both 1: choose one "
        "(TLS for STARTTLS on 587, SSL for implicit TLS on 465)"
    )
EMAIL_TIMEOUT = int(_at_least("RECORDROOM_EMAIL_TIMEOUT_SECONDS", 1, int))
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env("RECORDROOM_EMAIL_FROM")
try:
    QUERY_ESCALATION_DAYS = tuple(
        sorted(int(v) for v in env("RECORDROOM_QUERY_ESCALATION_DAYS").split(",")
               if v.strip())
    )  # fmt: skip
except ValueError:
    QUERY_ESCALATION_DAYS = ()
if not QUERY_ESCALATION_DAYS or QUERY_ESCALATION_DAYS[0] < 1:
    raise ImproperlyConfigured(
        "RECORDROOM_QUERY_ESCALATION_DAYS: give whole days of at least 1 separated by "
        f"commas, not {env('RECORDROOM_QUERY_ESCALATION_DAYS')!r}"
    )
ROI_MAX_PACKET_BYTES = int(float(env("RECORDROOM_ROI_MAX_PACKET_MB")) * 1024 * 1024)
ROI_JUDGE_SUBPOENA_IS_ORDER = env("RECORDROOM_ROI_JUDGE_SUBPOENA_IS_ORDER") == "1"
ROI_CONTACT = env("RECORDROOM_ROI_CONTACT")
ROI_CONTACT_PHONE = env("RECORDROOM_ROI_CONTACT_PHONE")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- behind a TLS proxy, HTTP hardening, API token lifetimes, uploads ---------------


def _trusted_proxies() -> tuple[str, ...]:
    try:
        return parse_networks(env("RECORDROOM_TRUSTED_PROXIES"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"RECORDROOM_TRUSTED_PROXIES: {exc}") from None


TRUSTED_PROXIES = _trusted_proxies()
# X-Forwarded-Proto is believed only from a trusted proxy: TrustedProxyMiddleware
# strips it from every other peer before SecurityMiddleware reads it.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
)
TLS = env("RECORDROOM_TLS") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = TLS
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = int(env("RECORDROOM_HSTS_SECONDS")) if TLS else 0
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("RECORDROOM_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]
TOKEN_DAYS = int(env("RECORDROOM_TOKEN_DAYS"))
TOKEN_MAX_DAYS = int(env("RECORDROOM_TOKEN_MAX_DAYS"))
ADMIN_TOKEN_DAYS = int(env("RECORDROOM_ADMIN_TOKEN_DAYS"))
MAX_IMAGE_PIXELS = int(float(env("RECORDROOM_MAX_IMAGE_MEGAPIXELS")) * 1_000_000)
MAX_PDF_PAGES = int(env("RECORDROOM_MAX_PDF_PAGES"))
CAPTURE_BLANK_INK = float(env("RECORDROOM_CAPTURE_BLANK_INK"))
CAPTURE_OCR_JOBS = max(int(env("RECORDROOM_CAPTURE_OCR_JOBS")), 1)
CAPTURE_OCR_LANGUAGE = env("RECORDROOM_CAPTURE_OCR_LANGUAGE")
CAPTURE_PDFA = env("RECORDROOM_CAPTURE_PDFA") == "1"
CAPTURE_DESKEW = env("RECORDROOM_CAPTURE_DESKEW") == "1"
CAPTURE_ROTATE = env("RECORDROOM_CAPTURE_ROTATE") == "1"
CAPTURE_CLEAN = env("RECORDROOM_CAPTURE_CLEAN") == "1"
CAPTURE_RETRAIN_AFTER = max(int(env("RECORDROOM_CAPTURE_RETRAIN_AFTER")), 0)
CAPTURE_MAX_IMAGE_BYTES = int(float(env("RECORDROOM_CAPTURE_MAX_IMAGE_MB")) * 1048576)
# Uploads stream through our handler: refused past the limit while the body arrives,
# spooled in memory, then to a 0600 file in DATA_DIR/tmp (never the system /tmp).
FILE_UPLOAD_HANDLERS = ["recordroom.kernel.uploads.LimitedUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
FILE_UPLOAD_PERMISSIONS = 0o600

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Static files are served by WhiteNoise straight from the app folders (finders);
# `recordroom manage collectstatic` fills DATA_DIR/static when an operator wants that.
STATIC_ROOT = DATA_DIR / "static" if (DATA_DIR / "static").is_dir() else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"recordroom": {"level": "INFO"}},
}
