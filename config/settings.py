"""Settings for every environment, read from the process environment (12-factor).

``PORTAL_ENV=production`` turns on the production checks in ``config/production_checks.py``:
the process will not start with a weak ``SECRET_KEY``, ``DEBUG`` on, or the HTTPS hardening
switched off, and the message names the setting. With nothing set the portal runs on the
embedded default: an embedded PostgreSQL server, tasks in-process, email to the console.
"""

import os
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import db_settings, jobs_settings, storage_settings
from config.api_settings import rest_framework_settings, spectacular_settings
from config.audit_settings import audit_seal_settings
from config.backup_settings import backup_settings
from config.beat import BEAT_SCHEDULE, BEAT_SCHEDULE_FILENAME
from config.billing_settings import billing_settings
from config.env import env_bool, env_choice, env_int, env_str
from config.mail_settings import mail_settings
from config.monitoring_settings import monitoring_settings
from config.production_checks import refuse_unsafe_production
from config.ratelimit_settings import rate_limits
from config.selfscan_settings import selfscan_settings
from config.sentry_settings import sentry_options
from config.structured_logs import logging_settings
from config.webhooks_settings import WEBHOOKS_ALLOW_LOOPBACK_TARGETS, WEBHOOKS_CA_FILE  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent

PORTAL_ENV = env_choice("PORTAL_ENV", ("development", "production"), "development")
IS_PRODUCTION = PORTAL_ENV == "production"
if os.environ.get("DYNO") and not IS_PRODUCTION:
    # Heroku sets DYNO on every dyno: never serve real traffic with development settings.
    raise ImproperlyConfigured("PORTAL_ENV must be 'production' on Heroku (DYNO is set).")

DEBUG = env_bool("DEBUG", default=not IS_PRODUCTION)


def _development_secret_key() -> str:
    """A random key kept in .local/ (git-ignored): even a laptop's sessions are unforgeable."""
    import secrets

    path = BASE_DIR / ".local" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or ("" if IS_PRODUCTION else _development_secret_key())

# --- Tenancy -------------------------------------------------------------------------------
# Agencies live at <slug>.<PORTAL_BASE_DOMAIN> or at a custom domain; the bare base domain
# serves the platform pages. accounts.middleware.HostMiddleware is the host allow-list: it
# answers 404 for any host that is neither, before anything else reads the Host header, so
# Django's own ALLOWED_HOSTS check has nothing left to add.
PORTAL_BASE_DOMAIN = (env_str("PORTAL_BASE_DOMAIN", "localhost") or "").lower().strip(".")
# How long each web process remembers which agency a host names (accounts/host_cache.py): a
# change made in this process applies at once, one made by another process within this.
AGENCY_HOST_CACHE_SECONDS = env_int("AGENCY_HOST_CACHE_SECONDS", 5, minimum=0)
AGENCY_HOST_CACHE_SIZE = 1000
if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?", PORTAL_BASE_DOMAIN, re.ASCII):
    raise ImproperlyConfigured(
        f"PORTAL_BASE_DOMAIN must be a bare domain name (no scheme, port or path), "
        f"not {PORTAL_BASE_DOMAIN!r}."
    )
ALLOWED_HOSTS = ["*"]
# The port in links built outside a request (emails from tasks): none behind HTTPS.
PORTAL_PUBLIC_PORT = env_str("PORTAL_PUBLIC_PORT", "" if IS_PRODUCTION else "8000") or ""
PORTAL_TENANT_MODEL = "accounts.Agency"
# The PostgreSQL settings that carry the tenant inside each transaction (see accounts/tenancy.py).
TENANT_DB_SETTING = "app.agency_id"
PLATFORM_DB_SETTING = "app.platform"

# --- Applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    # First, so its createsuperuser (which applies the password rules with --noinput too)
    # replaces Django's.
    "accounts",
    "accounts.outbox",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # Two-factor: TOTP devices (recovery codes are the portal's own, stored hashed).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Lockout after repeated sign-in failures, on username + IP together.
    "axes",
    # Single sign-on protocols (OpenID Connect, SAML 2.0). Only the protocol engines are
    # used: which account an identity signs in to is decided by accounts/sso (by provider and
    # subject, never by email), and allauth's own account pages are not mounted.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "vault",
    "audit",
    "requests_portal",
    "documents",
    "billing",
    "ops",
    "residents",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    # Replies by email (inbound webhook and IMAP) turned into request messages and documents.
    "mailin",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    # One JSON log line per request (config/structured_logs.py); inside the request id.
    "config.middleware.RequestLogMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "accounts.middleware.HostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Production serves static files with WhiteNoise; runserver serves them in development.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if IS_PRODUCTION else []),
    "accounts.middleware.TenantContextMiddleware",
    # A view that found every password-hashing slot taken: 503 "try again" (rolled back).
    "accounts.middleware.HashingBusyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switch's cookie, else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session timeouts and the list of signed-in sessions.
    "accounts.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Marks requests made under a platform operator's support grant (before the page's
    # audit event, which then carries the grant).
    "accounts.support.middleware.SupportAccessMiddleware",
    "accounts.middleware.AuditAccessMiddleware",
    # Last, as django-axes asks: it answers locked-out sign-ins before a view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenancy",
            ],
            # Dates and times on the agency's clock, naming its zone, in every template.
            "builtins": ["accounts.templatetags.agency_time", "accounts.templatetags.once"],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
# DATABASE_URL is the owner role (migrations); DATABASE_APP_URL the role the web and worker
# processes use: it owns no table and has no BYPASSRLS, so row-level security always applies.
# manage.py switches to the owner for "migrate" only (PORTAL_DB_ROLE=owner).
_database_url = env_str("DATABASE_URL")
if _database_url:
    _owner_url = _database_url
    _app_url = env_str("DATABASE_APP_URL")
    if not _app_url:
        raise ImproperlyConfigured(
            "DATABASE_APP_URL is required when DATABASE_URL is set: the portal never serves "
            "requests as the role that owns the tables (row-level security would not bind it)."
        )
elif IS_PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required in production.")
else:
    from config.embedded_postgres import ensure_embedded_database

    _embedded = ensure_embedded_database(BASE_DIR)
    _owner_url, _app_url = _embedded["owner"], _embedded["app"]

PORTAL_DB_ROLE = env_choice("PORTAL_DB_ROLE", ("app", "owner"), "app")
_OWNER_COMMANDS = (["migrate"], ["agency_expunge"])
if IS_PRODUCTION and PORTAL_DB_ROLE == "owner" and sys.argv[1:2] not in _OWNER_COMMANDS:
    # manage.py switches to the owner for "migrate" only; a process serving traffic as the
    # owner would not be bound by row-level security.
    raise ImproperlyConfigured(
        "PORTAL_DB_ROLE=owner is only for 'manage.py migrate' and 'manage.py agency_expunge'."
    )
_db_options = {"conn_max_age": env_int("DB_CONN_MAX_AGE", 60, minimum=0)}
PORTAL_OWNER_DATABASE = dj_database_url.parse(_owner_url, **_db_options)
PORTAL_APP_DATABASE = dj_database_url.parse(_app_url, **_db_options)
DATABASE_APP_ROLE = PORTAL_APP_DATABASE["USER"]
if PORTAL_OWNER_DATABASE["USER"] == DATABASE_APP_ROLE:
    raise ImproperlyConfigured(
        "DATABASE_APP_URL must use a different role from DATABASE_URL (the table owner)."
    )
# Health checks and connect / statement timeouts: config/db_settings.py.
DATABASES = {
    "default": db_settings.with_timeouts(
        PORTAL_OWNER_DATABASE if PORTAL_DB_ROLE == "owner" else PORTAL_APP_DATABASE,
        web=db_settings.is_web_process(),
    )
}
DATABASE_SSLMODE = env_choice(
    "DATABASE_SSLMODE",
    ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "require" if IS_PRODUCTION else "prefer",
)
if _database_url:
    DATABASES["default"].setdefault("OPTIONS", {})["sslmode"] = DATABASE_SSLMODE
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# Without Redis (the embedded default) tasks run in-process, right after the transaction
# that enqueued them commits (services always enqueue through accounts.jobs, on commit).
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "documents.tasks.*": {"queue": "documents"},
    "accounts.tasks.send_email": {"queue": "notifications"},
    "requests_portal.tasks.*": {"queue": "notifications"},
    "accounts.outbox.tasks.*": {"queue": "maintenance"},
    "billing.tasks.send_receipt": {"queue": "notifications"},
    "ops.tasks.*": {"queue": "maintenance"},
}
# Time limits, the visibility timeout and fail-fast timeouts: config/jobs_settings.py.
CELERY_TASK_SOFT_TIME_LIMIT = jobs_settings.TASK_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = jobs_settings.TASK_TIME_LIMIT
CELERY_BROKER_TRANSPORT_OPTIONS = jobs_settings.broker_transport_options()
CELERY_TASK_PUBLISH_RETRY_POLICY = jobs_settings.PUBLISH_RETRY_POLICY
# The periodic tasks (Celery beat), in their own module: config/beat.py.
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = BEAT_SCHEDULE_FILENAME
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if REDIS_URL and REDIS_URL.startswith("rediss://"):
    import ssl

    # Heroku Data for Redis presents a self-signed certificate; its docs say to set "none".
    # The cache (rate limits) talks to the same server and follows the same rule
    # (config/jobs_settings.cache; tests/ops/test_procfile.py, tests/ops/test_redis_tls.py).
    _cert_reqs = env_choice("REDIS_SSL_CERT_REQS", ("required", "none"), "required")
    _ssl_cert_reqs = ssl.CERT_REQUIRED if _cert_reqs == "required" else ssl.CERT_NONE
    CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": _ssl_cert_reqs}

# Redis when REDIS_URL is set (with fail-fast timeouts), else in-process: config/jobs_settings.py.
CACHES = {"default": jobs_settings.cache(REDIS_URL, env_str("REDIS_SSL_CERT_REQS", "required"))}

# --- Accounts and sessions -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Argon2id with OWASP's m=19 MiB, t=2, p=1 (accounts/hashers.py), not Django's 100 MiB with 8
# lanes; other hashes (Django's parameters, PBKDF2) are re-hashed at the next sign-in. At most
# PASSWORD_HASH_CONCURRENCY hashes at once per process; an attempt without a slot after
# PASSWORD_HASH_WAIT_SECONDS gets a "too busy, try again" page (503, Retry-After).
# Django's own Argon2 hasher is not listed: hashers are found by algorithm name ("argon2"),
# the last listed wins, and every Argon2 verify must go through the cap.
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_HASH_CONCURRENCY = env_int("PASSWORD_HASH_CONCURRENCY", 2, minimum=1)
PASSWORD_HASH_WAIT_SECONDS = env_int("PASSWORD_HASH_WAIT_MS", 3000, minimum=100) / 1000
PASSWORD_HASH_RETRY_AFTER_SECONDS = 5
# Every path that sets a password (sign-up, reset, change, invitation, createsuperuser,
# changepassword) runs these; no composition rules (ASVS 6.2.5).
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.RepetitionValidator"},
    {"NAME": "accounts.passwords.PersonalInformationValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.BreachedPasswordValidator"},
]
# The breached-password check: the k-anonymity range protocol of Have I Been Pwned (only the
# first 5 hex digits of the SHA-1 leave the server). An empty URL turns the check off.
PASSWORD_BREACH_API_URL = env_str(
    "PASSWORD_BREACH_API_URL", "https://api.pwnedpasswords.com/range/"
)
PASSWORD_BREACH_API_TIMEOUT = (
    float(env_int("PASSWORD_BREACH_API_TIMEOUT_MS", 2000, minimum=100)) / 1000
)
# When the range API cannot answer: "open" accepts the password (and records an audit event),
# "closed" refuses it with a message asking to try again later.
PASSWORD_BREACH_ON_ERROR = env_choice("PASSWORD_BREACH_ON_ERROR", ("open", "closed"), "open")
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour
INVITATION_TIMEOUT = env_int("INVITATION_TIMEOUT_MINUTES", 60, minimum=5) * 60
if INVITATION_TIMEOUT > 60 * 60:
    raise ImproperlyConfigured("INVITATION_TIMEOUT_MINUTES must be 60 or less (one hour).")
SIGNUP_CONFIRMATION_TIMEOUT = 60 * 60

AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses a locked-out username + IP before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Email + password, refused for staff of an agency that signs in only through SSO.
    "accounts.backends.PortalPasswordBackend",
    # LDAP / Active Directory bind, configured per agency by its admins.
    "accounts.sso.ldap.AgencyLDAPBackend",
    # Loads the user of a session signed in through OIDC or SAML (authenticates nothing).
    "accounts.backends.SingleSignOnBackend",
]

# --- Lockout (django-axes) ----------------------------------------------------------------
# Locked on username + IP together, so one attacker cannot lock out a whole office behind one
# address; the cool-off grows with each lockout (accounts.signin.lockout.cool_off).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=3)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = "accounts.signin.lockout.cool_off"
AXES_LOCKOUT_CALLABLE = "accounts.signin.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.signin.lockout.client_ip"
AXES_USERNAME_CALLABLE = "accounts.signin.lockout.username_from_request"
AXES_RESET_ON_SUCCESS = True
# Each username + IP's failures expire after its own (progressive) cool-off, not after the
# cool-off of whoever signs in next.
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "code", "token"]
LOCKOUT_BASE_MINUTES = env_int("LOCKOUT_BASE_MINUTES", 5, minimum=1)
LOCKOUT_MAX_MINUTES = env_int("LOCKOUT_MAX_MINUTES", 24 * 60, minimum=1)

# --- Two-factor ---------------------------------------------------------------------------
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Records Portal")
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp: each wrong code doubles the wait (1 s, 2 s, 4 s...)
MFA_RECOVERY_CODE_COUNT = 10
# A sensitive change (two-factor, email, roles, sign-in policy) needs a sign-in this recent.
REAUTHENTICATION_MAX_AGE = env_int("REAUTHENTICATION_MAX_AGE_SECONDS", 10 * 60, minimum=60)

# --- Sessions -----------------------------------------------------------------------------
# Agency staff get their agency's idle and absolute limits (default 30 minutes and 12 hours,
# accounts.models.Agency); residents these.
SESSION_COOKIE_AGE = 12 * 60 * 60  # the longest any session lives (absolute)
RESIDENT_SESSION_IDLE_SECONDS = env_int("RESIDENT_SESSION_IDLE_SECONDS", 2 * 60 * 60, minimum=60)
RESIDENT_SESSION_MAX_SECONDS = env_int("RESIDENT_SESSION_MAX_SECONDS", 12 * 60 * 60, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Single sign-on (allauth as the protocol engine) ---------------------------------------
ACCOUNT_ADAPTER = "accounts.sso.adapters.PortalAccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.sso.adapters.PortalSocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never sign in to an account by email alone
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the "Sign in with ..." buttons are POST forms
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# Development and tests run identity providers on this machine; production refuses provider
# addresses on loopback or link-local networks (accounts/admin_forms.py).
SSO_ALLOW_LOOPBACK_PROVIDERS = not IS_PRODUCTION

# --- Rate limits: names, defaults and the format check in config/ratelimit_settings.py ------
(
    RATE_LIMIT_LOGIN_PER_IP,
    RATE_LIMIT_RESET_PER_IP,
    RATE_LIMIT_RESET_PER_EMAIL,
    RATE_LIMIT_SIGNUP_PER_IP,
    RATE_LIMIT_INVITE_PER_USER,
    RATE_LIMIT_MFA_PER_USER,
    RATE_LIMIT_UPLOAD_PER_USER,
    RATE_LIMIT_UPLOAD_PER_IP,
    REQUEST_SUBMIT_RATE_PER_IP,
    REQUEST_SUBMIT_RATE_PER_EMAIL,
) = rate_limits()

# --- Secrets at rest ------------------------------------------------------------------------
# Master keys sealing SSO, LDAP, two-factor, Stripe and webhook secrets (vault/keyring.py).
_master_keys = env_str("PORTAL_MASTER_KEYS")
if _master_keys is None and not IS_PRODUCTION:
    _master_key_path = BASE_DIR / ".local" / "master_key"
    if not _master_key_path.exists():
        from vault.keyring import new_master_key

        _master_key_path.parent.mkdir(parents=True, exist_ok=True)
        _master_key_path.write_text(new_master_key())
        _master_key_path.chmod(0o600)
    _master_keys = _master_key_path.read_text().strip()
if _master_keys is None:
    PORTAL_MASTER_KEYS: list[bytes] = []
else:
    from vault.keyring import parse_master_keys

    PORTAL_MASTER_KEYS = parse_master_keys(_master_keys)

# --- Audit seals (issue 11): signing key, store, operators (config/audit_settings.py) ------
(
    AUDIT_SEAL_PRIVATE_KEY,
    AUDIT_SEAL_PUBLIC_KEY,
    AUDIT_SEAL_OLD_PUBLIC_KEYS,
    AUDIT_SEAL_S3_BUCKET,
    AUDIT_SEAL_RETENTION_DAYS,
    OPERATOR_EMAILS,
) = audit_seal_settings(BASE_DIR, production=IS_PRODUCTION)
AUDIT_SEAL_LOCAL_ROOT = BASE_DIR / ".local" / "seals"

# --- Stripe (issue 12): API address, webhook tolerance, timeouts (config/billing_settings.py)
_stripe = billing_settings(production=IS_PRODUCTION)
STRIPE_API_BASE, STRIPE_CHECKOUT_ORIGIN, STRIPE_WEBHOOK_TOLERANCE = _stripe[:3]
STRIPE_CONNECT_TIMEOUT, STRIPE_READ_TIMEOUT, STRIPE_MAX_NETWORK_RETRIES = _stripe[3:]
# --- Database backups (issue 13): platform key, store, dump role (config/backup_settings.py)
BACKUPS = backup_settings(
    BASE_DIR,
    production=IS_PRODUCTION,
    owner_url=_owner_url,
    embedded_superuser_url=None if _database_url else _embedded["superuser"],
)
# --- The weekly self-scan (issue 13): own address, pip-audit (config/selfscan_settings.py)
SELF_SCAN = selfscan_settings(BASE_DIR, PORTAL_BASE_DOMAIN, production=IS_PRODUCTION)
PORTAL_SELF_URL = SELF_SCAN["self_url"]

# --- Documents (issue 5) -------------------------------------------------------------------
# Ciphertext only, in S3 (a private bucket) in production, in a local folder otherwise; the
# agencies' escrow keys in a separate key store that database backups never contain.
DOCUMENTS_LOCAL_ROOT = BASE_DIR / ".local" / "documents"
KEYSTORE_LOCAL_ROOT = BASE_DIR / ".local" / "keystore"
DOCUMENTS_S3_BUCKET = env_str("DOCUMENTS_S3_BUCKET", "") or ""
KEYSTORE_S3_BUCKET = env_str("KEYSTORE_S3_BUCKET", "") or DOCUMENTS_S3_BUCKET
DOCUMENTS_S3_ENDPOINT_URL = env_str("DOCUMENTS_S3_ENDPOINT_URL", "") or ""
DOCUMENTS_S3_REGION = env_str("DOCUMENTS_S3_REGION", "") or ""
DOCUMENTS_S3_ADDRESSING_STYLE = env_choice(
    "DOCUMENTS_S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), "auto"
)
DOCUMENTS_S3_ACCESS_KEY_ID = env_str("DOCUMENTS_S3_ACCESS_KEY_ID", "") or ""
DOCUMENTS_S3_SECRET_ACCESS_KEY = env_str("DOCUMENTS_S3_SECRET_ACCESS_KEY", "") or ""
# The provider's own encryption as a second layer: "aws:kms" (SSE-KMS) where available.
DOCUMENTS_S3_SSE = env_choice("DOCUMENTS_S3_SSE", ("", "AES256", "aws:kms"), "")
DOCUMENTS_S3_KMS_KEY_ID = env_str("DOCUMENTS_S3_KMS_KEY_ID", "") or ""
_s3_timeouts = storage_settings.s3_timeouts()  # config/storage_settings.py: why bounded
DOCUMENTS_S3_CONNECT_TIMEOUT, DOCUMENTS_S3_READ_TIMEOUT, DOCUMENTS_S3_MAX_ATTEMPTS = _s3_timeouts
# AWS KMS instead of the master keyring for the outer layer of agency keys (optional).
DOCUMENTS_KMS_KEY_ID = env_str("DOCUMENTS_KMS_KEY_ID", "") or ""
DOCUMENTS_KMS_REGION = env_str("DOCUMENTS_KMS_REGION", "") or ""
DOCUMENTS_KMS_ENDPOINT_URL = env_str("DOCUMENTS_KMS_ENDPOINT_URL", "") or ""
STORAGE_LOCATIONS = storage_settings.storage_locations()  # more than the default: vault.locations
# Uploads: chunks of a resumable upload (a whole number of 64 KiB segments), the default
# per-agency size limit, and how long an unfinished upload may wait.
DOCUMENT_CHUNK_SIZE = 8 * 1024 * 1024
DOCUMENT_DEFAULT_MAX_MB = env_int("DOCUMENT_DEFAULT_MAX_MB", 2048, minimum=1)
DOCUMENT_UPLOAD_HOURS = 24
# Download links expire after this many seconds.
DOCUMENT_LINK_SECONDS = env_int("DOCUMENT_LINK_SECONDS", 300, minimum=30)
# A clamd daemon for malware scanning ("host:port" or a Unix socket path); EICAR,
# disguised executables and archive limits are always checked.
CLAMD_ADDRESS = env_str("CLAMD_ADDRESS", "") or ""

# --- Email ---------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif IS_PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is required in production (password reset sends email).")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Records Portal <no-reply@localhost>")
EMAIL_TIMEOUT = env_int(
    "EMAIL_TIMEOUT", 10, minimum=1
)  # seconds; a stuck SMTP server must not hang

# --- Replies by email (issue 14): reply domain, inbound webhook key, IMAP (config/mail_settings.py)
REPLY_DOMAIN, REPLY_ADDRESS_MAX_AGE_DAYS, ANYMAIL, MAILIN_WEBHOOK_MAX_AGE = mail_settings()[:4]
MAILIN_MAX_ATTACHMENTS, MAILIN_IMAP_CA_FILE, MAILIN_IMAP_TIMEOUT = mail_settings()[4:]
MAILIN_ALLOW_LOOPBACK_SERVERS = not IS_PRODUCTION  # an agency's mail server on loopback

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": BASE_DIR / ".local" / "media"},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Internationalisation ------------------------------------------------------------------
# Pages: the language switch's cookie, else Accept-Language; emails: the reader's stored
# language (accounts.language). Catalogues and workflow: docs/translation.md.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SECURE = IS_PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security headers (all environments; HTTPS-only parts in production below) -------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere, so the policy needs no nonce yet. "Pay" posts a form
# whose answer redirects to Stripe's hosted Checkout page: its origin may end a form's trip.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    f"form-action 'self' {STRIPE_CHECKOUT_ORIGIN}"
)

if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # Heroku's router
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are bound to exactly one host: a session for one agency's subdomain is
    # never sent to another agency's.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# How many proxies in front of the app append to X-Forwarded-For (Heroku's router: 1): the
# client address recorded in the audit log is the one the last trusted proxy saw.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 1 if IS_PRODUCTION else 0, minimum=0)

# --- Logging and errors --------------------------------------------------------------------
# One JSON object per line on stdout (Heroku's log drains), or a plain line for a terminal.
# What each line holds and what is never logged: config/structured_logs.py, docs/operations.md.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "json" if IS_PRODUCTION else "plain")
LOGGING = logging_settings(LOG_FORMAT, env_str("LOG_LEVEL", "INFO") or "INFO")

SENTRY_DSN = env_str("SENTRY_DSN")
# What reaches Sentry and what is scrubbed first: config/sentry_settings.py.
MONITORING = monitoring_settings()  # /healthz/deep and the status page
SENTRY_OPTIONS = sentry_options(PORTAL_ENV)
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, **SENTRY_OPTIONS)


refuse_unsafe_production(globals())

# --- The REST API (issue 14; config/api_settings.py) ----------------------------------------
REST_FRAMEWORK = rest_framework_settings()
SPECTACULAR_SETTINGS = spectacular_settings()
