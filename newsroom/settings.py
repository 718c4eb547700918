"""Settings for newsroom-support, read from the environment (see `.env.example`).

With DEBUG on and nothing configured the service runs on embedded defaults: SQLite, a
filesystem Celery broker, local-memory cache and email written under `var/mail/`. With DEBUG
off every production secret must be set, or start-up stops naming the missing one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from newsroom.email_url import email_settings_from_url
from newsroom.settings_structures import (
    broker_transport_options,
    cache_config,
    content_security_policy,
    database_config,
    logging_config,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)


def required(name: str, *, dev_default: str = "") -> str:
    """A setting production cannot run without; DEBUG mode may fall back to `dev_default`."""
    value: str = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off; see .env.example."
    )


SECRET_KEY = required("SECRET_KEY", dev_default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set. It is required when DEBUG is off.")
SITE_URL = required("SITE_URL", dev_default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="The Independent Ledger")
NEWSROOM_POSTAL_ADDRESS = env.str(
    "NEWSROOM_POSTAL_ADDRESS", default="The Independent Ledger, PO Box 1234, 1000 Freetown"
)
# The newsroom as a legal person, printed on receipts and yearly statements (for tax deductions
# where they apply): its registered name and its registration (charity, company) number.
NEWSROOM_LEGAL_NAME = env.str("NEWSROOM_LEGAL_NAME", default=SITE_NAME)
NEWSROOM_REGISTRATION_NUMBER = env.str("NEWSROOM_REGISTRATION_NUMBER", default="")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "anymail",
    "newsroom",
    "donations",
    "donations.appeals",
    "newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsroom.csp_cache.SitePolicyCSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "newsroom.error_responses.TokenPageMiddleware",
    "newsroom.error_responses.ApplicationErrorMiddleware",
    "donations.appeals.middleware.VariantCookieMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------
DATABASES = {
    "default": database_config(
        env.db_url_config(
            required("DATABASE_URL", dev_default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
        ),
        conn_max_age=env.int("CONN_MAX_AGE", default=60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")
if not REDIS_URL and not DEBUG:
    raise ImproperlyConfigured("REDIS_URL is not set. It is required when DEBUG is off.")
# Seconds a Redis call (cache, broker) may take before it gives up: the site answers without
# it (rate limits let requests through, tasks are re-queued by their sweepers).
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=2.0)
CACHES: dict[str, dict[str, Any]] = {"default": cache_config(REDIS_URL, REDIS_TIMEOUT)}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT = "newsroom.broker:Transport" if REDIS_URL else None  # one client
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(REDIS_URL, REDIS_TIMEOUT, VAR_DIR)
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
# Publishing a task gives up after about a second of broker trouble (the caller logs it and
# the work's sweeper re-queues it) instead of holding a web request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers ride out a broker outage of any length (retrying forever, at most every 30 s) and
# keep running their tasks (claimed in the database; Celery 6 would cancel them by default).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Time -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
CELERY_TIMEZONE = TIME_ZONE  # beat's crontabs read in the newsroom's own zone
NEWSLETTER_SEND_DAY = env.str("NEWSLETTER_SEND_DAY", default="fri")
NEWSLETTER_SEND_TIME = env.str("NEWSLETTER_SEND_TIME", default="07:00")
# Newsletter readers: the Privacy Policy version consent is recorded against (as on /privacy/),
# the least time between two confirmation emails to one address, sign-ups per client, and how
# long browsers and proxies may keep an issue's web page.
NEWSLETTER_PRIVACY_POLICY_VERSION = env.str("NEWSLETTER_PRIVACY_POLICY_VERSION", default="2026-11")
# Seconds a confirmation link works, and a staff's shared preview link of an unsent issue.
NEWSLETTER_CONFIRM_MAX_AGE = env.int("NEWSLETTER_CONFIRM_MAX_AGE", default=7 * 86400)
NEWSLETTER_ISSUE_PREVIEW_MAX_AGE = env.int("NEWSLETTER_ISSUE_PREVIEW_MAX_AGE", default=3 * 86400)
NEWSLETTER_CONFIRMATION_RESEND_SECONDS = env.int(
    "NEWSLETTER_CONFIRMATION_RESEND_SECONDS", default=600
)
NEWSLETTER_SIGNUP_RATE = env.str("NEWSLETTER_SIGNUP_RATE", default="10/h")
NEWSLETTER_WEB_MAX_AGE = env.int("NEWSLETTER_WEB_MAX_AGE", default=300)
# The send (see README, "The Friday send"). Candidate stories' feed; messages per second across
# all workers (0 = no limit); deliveries per batch (the unit a lane claims); lane tasks per issue
# at once and how long one runs before handing over to a fresh task.
NEWSLETTER_FEED_URL = env.str("NEWSLETTER_FEED_URL", default="")
NEWSLETTER_SEND_RATE = env.float("NEWSLETTER_SEND_RATE", default=0.0)
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=500)
NEWSLETTER_SEND_LANES = env.int("NEWSLETTER_SEND_LANES", default=4)
NEWSLETTER_LANE_SECONDS = env.int("NEWSLETTER_LANE_SECONDS", default=60)
# Recovery: a lane's lease on a batch, renewed every heartbeat while it sends; a dead lane's
# batch is claimed again once the lease runs out. The sweeper's period, and how long lanes it
# (or a start) queued are given to begin before it queues more.
NEWSLETTER_LEASE_SECONDS = env.int("NEWSLETTER_LEASE_SECONDS", default=30)
NEWSLETTER_HEARTBEAT_SECONDS = env.int("NEWSLETTER_HEARTBEAT_SECONDS", default=5)
NEWSLETTER_SWEEP_SECONDS = env.float("NEWSLETTER_SWEEP_SECONDS", default=15.0)
NEWSLETTER_SWEEP_STALE_SECONDS = env.int("NEWSLETTER_SWEEP_STALE_SECONDS", default=30)
# Temporary errors: the first retry after this many seconds, doubling (at most an hour), and
# attempts before a delivery is marked failed.
NEWSLETTER_RETRY_SECONDS = env.int("NEWSLETTER_RETRY_SECONDS", default=60)
NEWSLETTER_MAX_ATTEMPTS = env.int("NEWSLETTER_MAX_ATTEMPTS", default=8)
# Throughput and the duplicate window: SMTP connections per lane; messages a lane may have
# handed to the server without their "sent" mark committed (what a killed worker can send
# twice); whether those marks wait for the disk (off: a PostgreSQL crash may resend the last
# ~0.6 s of marked messages, never lose one).
NEWSLETTER_SMTP_CONNECTIONS = env.int("NEWSLETTER_SMTP_CONNECTIONS", default=4)
NEWSLETTER_IN_FLIGHT_MAX = env.int("NEWSLETTER_IN_FLIGHT_MAX", default=32)
NEWSLETTER_MARK_SYNCHRONOUS_COMMIT = env.bool("NEWSLETTER_MARK_SYNCHRONOUS_COMMIT", default=False)
# Providers (anymail): recipients per batch call (each provider's maximum caps it), and calls
# at once per lane (for a provider without a batch call, one message per call).
NEWSLETTER_PROVIDER_BATCH_SIZES: dict[str, int] = {
    "mailgun": 1000,
    "sendgrid": 1000,
    "postmark": 500,
    "amazon_ses": 50,
    **env.dict("NEWSLETTER_PROVIDER_BATCH_SIZES", cast={"value": int}, default={}),
}
NEWSLETTER_PROVIDER_CONCURRENCY = env.int("NEWSLETTER_PROVIDER_CONCURRENCY", default=4)
# The mailto: half of List-Unsubscribe; empty means the address of DEFAULT_FROM_EMAIL.
NEWSLETTER_UNSUBSCRIBE_MAILTO = env.str("NEWSLETTER_UNSUBSCRIBE_MAILTO", default="")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="newsroom@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
_email_url: str = env.str("EMAIL_URL", default="")
if not _email_url and not DEBUG:
    raise ImproperlyConfigured("EMAIL_URL is not set. It is required when DEBUG is off.")
_email = email_settings_from_url(_email_url or f"file://{EMAIL_FILE_PATH}")
EMAIL_BACKEND: str = _email.pop("EMAIL_BACKEND")
ANYMAIL: dict[str, Any] = _email.pop("ANYMAIL", {})
ANYMAIL["WEBHOOK_SECRET"] = env.str("ANYMAIL_WEBHOOK_SECRET", default="") or None
globals().update(_email)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
STAFF_NOTIFICATION_EMAILS: list[str] = env.list("STAFF_NOTIFICATION_EMAILS", default=[])

# --- Sending through the newsroom's own mail server (SMTP): DKIM and bounces --------------
# DKIM (newsroom.smtp.signing): the RSA private key (PEM text, or the path of a PEM file), its
# selector and the signing domain (the domain of DEFAULT_FROM_EMAIL, or a parent of it, for
# DMARC). Optionally an Ed25519 key (RFC 8463: PEM, base64 seed or a path) signed beside the
# RSA one under its own selector. Empty DKIM_PRIVATE_KEY: no signature (an ESP signs itself).
DKIM_PRIVATE_KEY = env.str("DKIM_PRIVATE_KEY", default="")
DKIM_SELECTOR = env.str("DKIM_SELECTOR", default="")
DKIM_DOMAIN = env.str("DKIM_DOMAIN", default="")
DKIM_ED25519_PRIVATE_KEY = env.str("DKIM_ED25519_PRIVATE_KEY", default="")
DKIM_ED25519_SELECTOR = env.str("DKIM_ED25519_SELECTOR", default="")
# Bounces (newsletter.bounces): each newsletter message's return path is
# bounces+<token>@BOUNCE_DOMAIN (empty: the From address, and no bounce handling). The
# listener the domain's MX forwards to binds BOUNCE_LISTEN (host:port; empty: not started),
# refuses messages over BOUNCE_MAX_BYTES, and BOUNCE_SOFT_LIMIT soft bounces in a row (the
# last sends to a subscriber all bounced) take the address off the list.
BOUNCE_DOMAIN = env.str("BOUNCE_DOMAIN", default="").strip().lower()
BOUNCE_LISTEN = env.str("BOUNCE_LISTEN", default="")
BOUNCE_MAX_BYTES = env.int("BOUNCE_MAX_BYTES", default=2 * 1024 * 1024)
BOUNCE_SOFT_LIMIT = env.int("BOUNCE_SOFT_LIMIT", default=3)
# Or, instead of (or beside) the listener: an IMAP mailbox the bounce domain's mail is filed in,
# read by beat every BOUNCE_IMAP_INTERVAL seconds: imaps://user:password@host/Folder
# (imap+tls:// for STARTTLS; imap:// only on the same machine). Empty: not read.
BOUNCE_IMAP_URL = env.str("BOUNCE_IMAP_URL", default="")
BOUNCE_IMAP_INTERVAL = env.int("BOUNCE_IMAP_INTERVAL", default=300)

# --- Stripe ---------------------------------------------------------------------------------
# With no keys (DEBUG only) the run command starts the local Stripe stand-in in demo mode.
DEMO_STRIPE_SECRET_KEY = "sk_test_demo"  # noqa: S105 - a marker, not a credential
STRIPE_SECRET_KEY = required("STRIPE_SECRET_KEY", dev_default=DEMO_STRIPE_SECRET_KEY)
STRIPE_WEBHOOK_SECRET = required("STRIPE_WEBHOOK_SECRET", dev_default="whsec_demo")
STRIPE_API_BASE: str = env.str("STRIPE_API_BASE", default="")
# Seconds to connect to Stripe, and to wait for each answer, per attempt (one retry at most).
STRIPE_CONNECT_TIMEOUT: float = env.float("STRIPE_CONNECT_TIMEOUT", default=2.0)
STRIPE_TIMEOUT: float = env.float("STRIPE_TIMEOUT", default=5.0)
# Seconds all the Stripe calls of a request someone waits on (checkout, the donor page, the
# webhook) may take together, its one retry included; past it the reader gets a 503 page.
STRIPE_READER_BUDGET: float = env.float("STRIPE_READER_BUDGET", default=4.0)
STRIPE_DEMO_MODE = STRIPE_SECRET_KEY == DEMO_STRIPE_SECRET_KEY

# --- Donations ------------------------------------------------------------------------------
# The smallest gift per frequency and the largest gift taken online: only the starting values
# the first appeal is made with (migration appeals 0002); staff edit them with the appeal.
DONATIONS_MINIMUMS: dict[str, str] = {
    "once": env.str("DONATIONS_MINIMUM_ONCE", default="1"),
    "monthly": env.str("DONATIONS_MINIMUM_MONTHLY", default="2"),
    "annual": env.str("DONATIONS_MINIMUM_ANNUAL", default="10"),
}
DONATIONS_MAXIMUM = env.str("DONATIONS_MAXIMUM", default="10000")
# The banner's currency when neither the reader's switch, the country header nor the browser's
# language region says another (usd, eur or gbp).
DONATIONS_DEFAULT_CURRENCY = env.str("DONATIONS_DEFAULT_CURRENCY", default="usd")
if DONATIONS_DEFAULT_CURRENCY not in {"usd", "eur", "gbp"}:
    raise ImproperlyConfigured("DONATIONS_DEFAULT_CURRENCY must be usd, eur or gbp.")
# The request header in which the proxy or CDN names the reader's country (two letters), e.g.
# Cloudflare's CF-IPCountry; empty: the currency follows the browser's language region.
COUNTRY_HEADER = env.str("COUNTRY_HEADER", default="")
# Days the banner stays hidden in a browser that completed a monthly or annual gift.
DONATIONS_GIVEN_HIDE_DAYS = env.int("DONATIONS_GIVEN_HIDE_DAYS", default=365)
# Seconds between two folds of the experiments' counters (Redis) into the database.
APPEAL_FOLD_SECONDS = env.float("APPEAL_FOLD_SECONDS", default=60.0)
DONATIONS_REMINDER_DAYS = env.int("DONATIONS_REMINDER_DAYS", default=30)
DONATIONS_BANNER_HIDE_DAYS = env.int("DONATIONS_BANNER_HIDE_DAYS", default=14)
DONATIONS_MANAGE_LINK_MAX_AGE = env.int("DONATIONS_MANAGE_LINK_MAX_AGE", default=3600)
DONATIONS_PAST_DUE_LINK_MAX_AGE = env.int("DONATIONS_PAST_DUE_LINK_MAX_AGE", default=7 * 86400)
# A genuine manage link past its age may still ask for a fresh one (mailed to the donor's own
# address) for this many days; after that the donor types their address again.
DONATIONS_MANAGE_LINK_RENEW_DAYS = env.int("DONATIONS_MANAGE_LINK_RENEW_DAYS", default=30)
DONATIONS_CHECKOUT_RATE = env.str("DONATIONS_CHECKOUT_RATE", default="10/m")
DONATIONS_EMAIL_RATE = env.str("DONATIONS_EMAIL_RATE", default="5/m")
# Retention, enforced daily by the beat task `donations.tasks.enforce_retention` and stated on
# the privacy page: days a donor's name is kept after their last gift (while no recurring gift
# is active), days a gift keeps the page it was given on, and days a reminder's address is
# kept after the reminder was due (one that could not be sent by then is dropped).
DONATIONS_NAME_RETENTION_DAYS = env.int("DONATIONS_NAME_RETENTION_DAYS", default=730)
DONATIONS_SOURCE_PAGE_RETENTION_DAYS = env.int("DONATIONS_SOURCE_PAGE_RETENTION_DAYS", default=90)
DONATIONS_REMINDER_RETENTION_DAYS = env.int("DONATIONS_REMINDER_RETENTION_DAYS", default=14)
for _name in (
    "DONATIONS_NAME_RETENTION_DAYS",
    "DONATIONS_SOURCE_PAGE_RETENTION_DAYS",
    "DONATIONS_REMINDER_RETENTION_DAYS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1 (days).")
# Emails one address may be sent on request (manage link, newsletter confirmation, "Remind me
# later") per hour, whoever asks; counted in the cache under a keyed hash, never the address.
MAIL_PER_ADDRESS_PER_HOUR = env.int("MAIL_PER_ADDRESS_PER_HOUR", default=3)

# --- Security -------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff sign in through the admin and land on it (never on Django's /accounts/profile/).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "newsroom.client_ip.client_ip"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# Staff are at risk too: keep failed attempts only as long as the lockout needs them, and no
# record of each successful login's address and browser.
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For is believed:
# the client is the first address from the right that none of them is. Empty: REMOTE_ADDR.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
if "PROXY_COUNT" in os.environ:  # removed: it silently did nothing without django-ipware
    raise ImproperlyConfigured(
        "PROXY_COUNT is no longer read: list your proxies' addresses in TRUSTED_PROXIES."
    )

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_AGE = None  # a session cookie: gone when the browser closes, not kept a year
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

CONTENT_SECURITY_POLICY = content_security_policy(STRIPE_API_BASE)

# --- Logging: structured, and never a token, email address or IP in clear -------------------
# `text`: "time LEVEL logger message key=value ..."; `json`: one JSON object per line.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
