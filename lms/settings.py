"""The one settings module. Every value comes from the environment.

Precedence: real environment variables, then `.env` (developer overrides, never
committed), then `.data/services.env` (written by `scripts/services.py up` for the
project-local PostgreSQL, Redis and S3). Development defaults are safe; with
DEBUG=False the values that must be chosen for production are required.
"""

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# read_env never overwrites a variable that is already set.
# LMS_NO_DOTENV: tests of the production settings must not see a developer's .env.
if (BASE_DIR / ".env").is_file() and "LMS_NO_DOTENV" not in env.ENVIRON:
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# pytest (>= 8.2) sets PYTEST_VERSION before Django reads this module.
TESTING = "PYTEST_VERSION" in env.ENVIRON

# The project-local services of `make services` are a development convenience only.
if DEBUG and (BASE_DIR / ".data" / "services.env").is_file():
    env.read_env(str(BASE_DIR / ".data" / "services.env"), overwrite=False)

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105 - refused when DEBUG=False


def _required(name: str, dev_default):
    """A value production must set explicitly; development gets a safe default."""
    if name in env.ENVIRON:
        return env.ENVIRON[name]
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG=False (see .env.example).")


SECRET_KEY = _required("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY is the development key; generate a new one for production.")

# Tenants live at <slug>.<LMS_BASE_DOMAIN>; the bare base domain is the operator site.
LMS_BASE_DOMAIN = _required("LMS_BASE_DOMAIN", "localhost").strip().lower()
if not re.fullmatch(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*", LMS_BASE_DOMAIN):
    raise ImproperlyConfigured(
        f"LMS_BASE_DOMAIN must be a bare host name such as lms.example.com (no scheme, port, "
        f"path or leading dot), not {LMS_BASE_DOMAIN!r}."
    )
# Used only to build absolute links in e-mails and command output.
LMS_SITE_SCHEME = env.str("LMS_SITE_SCHEME", default="http" if DEBUG else "https")
LMS_SITE_PORT = env.str("LMS_SITE_PORT", default="8000" if DEBUG else "")

ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS", default=None)
    if not DEBUG
    else env.list(
        "ALLOWED_HOSTS", default=[LMS_BASE_DOMAIN, f".{LMS_BASE_DOMAIN}", "127.0.0.1", "[::1]", "testserver"]
    )
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=False (see .env.example).")

DATABASE_URL = _required("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lms")
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# REDIS_URL names one node of a Redis Cluster (cache, sessions, and by default the event
# streams); ADR 0111. A cluster has database 0 only.
REDIS_CLUSTER = env.bool("REDIS_CLUSTER", default=False)
if TESTING and not REDIS_CLUSTER:
    # Tests get their own Redis database, so a running demo worker never takes their tasks.
    REDIS_URL = urlsplit(REDIS_URL)._replace(path="/" + env.str("REDIS_TEST_DB", default="15")).geturl()

# --- Applications -------------------------------------------------------------
SHARED_APPS = [
    # `tenants` before django_tenants so our migrate_schemas override wins.
    "tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "accounts",
    "lms",
    # seed_demo; no models. Nothing else imports it (import-linter contract).
    "demo",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "accounts",
    "courses",
    "enrollments",
    "analytics",
    "media_delivery",
    "assessments",
    # The REST API (/api/v1/): API keys and the Idempotency-Key ledger live in each tenant.
    "api",
    # Webhook endpoints, their outbox and delivery log (ADR 0160).
    "webhooks",
    # The course builder page (ADR 0205): no models, it calls courses.services.
    "builder",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants clone this migrated schema instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# SET search_path once per request and tenant instead of before every query. Safe because
# django-tenants (>= 4.0.1) forgets the cached path on rollback and savepoint rollback,
# when PostgreSQL undoes the SET (ADR 0009; tests/test_isolation.py checks it).
TENANT_LIMIT_SET_CALLS = True
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MIGRATION_PROCESSES", default=2)
TENANT_MIGRATION_EXECUTOR = env.str("TENANT_MIGRATION_EXECUTOR", default="multiprocessing")

MIDDLEWARE = [
    "tenants.middleware.TenantMiddleware",
    # NUL, lone surrogates and a bad Content-Length are refused before any view (ADR 0080).
    "core.middleware.EdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",  # request.user without a lazy proxy
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # With DEBUG on (the demo), our error pages instead of Django's technical ones (ADR 0081).
    "core.middleware.ErrorPagesMiddleware",
    # Last, so it answers a view's DomainError first: a problem body or the refusal page.
    "lms.http.DomainErrorMiddleware",
]
# DEBUG_TECHNICAL_ERRORS=1 brings back Django's debug pages for a developer (never the demo).
DEBUG_TECHNICAL_ERRORS = env.bool("DEBUG_TECHNICAL_ERRORS", default=False)

if not DEBUG:
    # Production serves static files itself (compressed, hashed names); runserver does in development.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "lms.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "lms.urls_public"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenant",
                "core.urls.nav_urls",
                # Django's csrf_token with its mask drawn in one system call (core/csrf.py).
                "core.csrf.csrf",
            ],
        },
    }
]

WSGI_APPLICATION = "lms.wsgi.application"

# --- Database -----------------------------------------------------------------
_db = environ.Env.db_url_config(DATABASE_URL)
_db["ENGINE"] = "django_tenants.postgresql_backend"
# Persistent connections per worker. Not a transaction-mode pooler: that would leak
# search_path across tenants (ADR 0002).
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = True
_db.setdefault("OPTIONS", {})["connect_timeout"] = 5
# Lets two test runs on one server (a developer and CI) keep apart.
if env.str("TEST_DATABASE_NAME", default=""):
    _db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
DATABASES = {"default": _db}
DATABASE_ROUTERS: tuple[str, ...] = ("django_tenants.routers.TenantSyncRouter",)
# A streaming replica for dashboards, reports and exports (tenants/replica.py, ADR 0110).
# Unset: no `replica` alias, every read on default.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    _replica = environ.Env.db_url_config(DATABASE_REPLICA_URL)
    _replica["ENGINE"] = "django_tenants.postgresql_backend"
    _replica["CONN_MAX_AGE"] = _db["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    # Short: an unreachable replica costs a page this long once, then default serves it.
    _replica.setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_REPLICA_CONNECT_TIMEOUT", default=2
    )
    # Tests make no database for it: it is the same data as default.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ("tenants.replica.ReplicaRouter", *DATABASE_ROUTERS)
# A PostgreSQL backend keeps catalog caches for every schema it has visited (about 0.1-0.2 MiB
# each): a web worker's connection is closed after a request once it has served this many
# schemas, so its memory stays bounded however many tenants it serves (ADR 0115).
DB_CONN_MAX_SCHEMAS = env.int("DB_CONN_MAX_SCHEMAS", default=100)
# Bounds (entries) of the per-process caches keyed per tenant (core.local_cache, ADR 0115).
PROCESS_CACHE_MAX = {
    "tenant_routing": env.int("PROCESS_CACHE_MAX_TENANT_ROUTING", default=1024),
    "course_lookup": env.int("PROCESS_CACHE_MAX_COURSE_LOOKUP", default=2048),
    "course_outline": env.int("PROCESS_CACHE_MAX_COURSE_OUTLINE", default=512),
    "course_sidebar": env.int("PROCESS_CACHE_MAX_COURSE_SIDEBAR", default=512),
    "api_keys": env.int("PROCESS_CACHE_MAX_API_KEYS", default=1024),
    "url_reverse": env.int("PROCESS_CACHE_MAX_URL_REVERSE", default=4096),
    "session_user": env.int("PROCESS_CACHE_MAX_SESSION_USER", default=4096),
    "site_nav": env.int("PROCESS_CACHE_MAX_SITE_NAV", default=4096),
    "webhook_listeners": env.int("PROCESS_CACHE_MAX_WEBHOOK_LISTENERS", default=2048),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions -------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "lms.cache.LMSRedisClusterCache" if REDIS_CLUSTER else "lms.cache.LMSRedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the active schema: one tenant can never read another's entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="lms"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# Sessions are stored in the tenant's own schema (and cached under tenant keys), so a
# session key issued by one tenant does not exist for another.
SESSION_ENGINE = "accounts.sessions"  # Django's cached_db, read with the routing token (ADR 0190)

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.RoleBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24 * 3)
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=14)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"LMS <no-reply@{LMS_BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------
# Celery's Redis transport cannot use a Redis Cluster: with REDIS_CLUSTER the broker is a
# separate Redis (with Sentinel: sentinel://...) or RabbitMQ (amqp://...), set here (ADR 0111).
if REDIS_CLUSTER and not {"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"} <= set(env.ENVIRON):
    raise ImproperlyConfigured(
        "REDIS_CLUSTER is on: set CELERY_BROKER_URL and CELERY_RESULT_BACKEND to a Redis that is not "
        "the cluster (Sentinel) or to RabbitMQ; Celery does not support Redis Cluster (ADR 0111)."
    )
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Unit tests run tasks in-process (still through the tenant header); tests/test_celery.py
# turns this off and runs a real worker against Redis.
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_EAGER_PROPAGATES = TESTING

# Learner events (analytics, ADR 0020/0021): the consumer and the outbox replay run on the
# `analytics` queue, sent by beat with no tenant (they are cross-tenant by design).
CELERY_TASK_ROUTES = {"analytics.*": {"queue": "analytics"}, "webhooks.*": {"queue": "webhooks"}}
# A broker that is down must not hold a request: publishing gives up after one quick retry
# (kombu otherwise retries for seconds), and the outboxes (analytics, webhooks) keep the work.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE = {
    "analytics-consume": {"task": "analytics.consume", "schedule": 5.0, "options": {"expires": 5}},
    "analytics-outbox-replay": {
        "task": "analytics.outbox_replay",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    "analytics-processed-prune": {"task": "analytics.processed_prune", "schedule": 6 * 3600.0},
    # Webhook retries and outbox replay: one query finds the tenants with due deliveries.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 5.0, "options": {"expires": 5}},
    # A deleted tenant's cache keys, when the purge after the delete did not go through (ADR 0186).
    "tenants-retired-cache-purge": {
        "task": "tenants.retired_cache_purge",
        "schedule": 15 * 60.0,
        "options": {"expires": 15 * 60},
    },
    # Delivery-log retention: visits only the tenants whose log has something past it.
    "webhooks-prune": {"task": "webhooks.prune", "schedule": 3600.0, "options": {"expires": 1800}},
}

# --- Webhooks (ADR 0160) -------------------------------------------------------------
# Receivers on private, loopback or link-local addresses (and plain http) are refused unless
# this is on: on in development and tests (receivers run on this machine), off in production.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=DEBUG or TESTING)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# An endpoint is disabled (and the tenant's admins e-mailed) after this many messages in a
# row were given up on, each after about 24 hours of retries.
WEBHOOKS_DISABLE_AFTER = env.int("WEBHOOKS_DISABLE_AFTER", default=3)
# Seconds the after-commit fast path has before the sweep sends a pending delivery itself.
WEBHOOKS_SWEEP_GRACE_SECONDS = env.int("WEBHOOKS_SWEEP_GRACE_SECONDS", default=30)
# Days a finished delivery (succeeded or given up) stays in the delivery log with its attempts;
# the hourly `webhooks.prune` deletes older ones, and messages left without a delivery.
WEBHOOKS_LOG_RETENTION_DAYS = env.int("WEBHOOKS_LOG_RETENTION_DAYS", default=30)
# Requests one worker process has in flight at once: its send threads, and the size of each
# keep-alive pool (so no connection is discarded). ADR 0191.
WEBHOOKS_SEND_CONCURRENCY = env.int("WEBHOOKS_SEND_CONCURRENCY", default=16)
# How long a tenant's drain "kick" stands in Redis (SET NX): commits meanwhile only write their
# rows, the running drain takes them; a lost drain is replaced after this (the sweep is behind).
WEBHOOKS_KICK_SECONDS = env.float("WEBHOOKS_KICK_SECONDS", default=10.0)
# How long a drain with nothing left waits for the tenant's next commit before it stops (so a
# steady stream keeps one drain instead of starting one per commit); short in tests.
WEBHOOKS_DRAIN_LINGER_SECONDS = env.float("WEBHOOKS_DRAIN_LINGER_SECONDS", default=0.02 if TESTING else 0.2)
ANALYTICS_REDIS_URL = env.str("ANALYTICS_REDIS_URL", default=REDIS_URL)
ANALYTICS_REDIS_CLUSTER = env.bool(
    "ANALYTICS_REDIS_CLUSTER", default=REDIS_CLUSTER and "ANALYTICS_REDIS_URL" not in env.ENVIRON
)
ANALYTICS_PARTITIONS = env.int("ANALYTICS_PARTITIONS", default=16)
ANALYTICS_STREAM_PREFIX = env.str("ANALYTICS_STREAM_PREFIX", default="events")
# Sized for a long consumer outage: ~1M entries per stream (about a day at 200 events/s per partition).
ANALYTICS_STREAM_MAXLEN = env.int("ANALYTICS_STREAM_MAXLEN", default=1_000_000)
ANALYTICS_MAX_FAILURES = env.int("ANALYTICS_MAX_FAILURES", default=3)
ANALYTICS_CLAIM_IDLE_MS = env.int("ANALYTICS_CLAIM_IDLE_MS", default=30_000)
# Dedupe ids are kept this long (longer than any event can be redelivered or replayed).
ANALYTICS_DEDUPE_DAYS = env.int("ANALYTICS_DEDUPE_DAYS", default=30)

# --- Video completion (ADR 0076) ------------------------------------------------
# A video lesson completes when the watching the server counted from heartbeats reaches this
# share of the duration the transcoder measured; playback up to this speed counts in full.
VIDEO_COMPLETE_PERCENT = env.int("VIDEO_COMPLETE_PERCENT", default=90)
VIDEO_MAX_PLAYBACK_RATE = env.float("VIDEO_MAX_PLAYBACK_RATE", default=2.0)

# --- S3 media -----------------------------------------------------------------
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="http://127.0.0.1:8333")
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
S3_BUCKET = env.str("S3_BUCKET", default="lms-media")
S3_REGION = env.str("S3_REGION", default="us-east-1")
# Media delivery (ADR 0031): signed URLs live MEDIA_URL_TTL seconds, rounded up to a bucket
# of MEDIA_URL_BUCKET seconds so one page's URLs stay the same (and cacheable) within it.
MEDIA_URL_TTL = env.int("MEDIA_URL_TTL", default=300)
MEDIA_URL_BUCKET = env.int("MEDIA_URL_BUCKET", default=60)
# CloudFront in front of the bucket (production): all three set, or none (S3 presigned URLs).
CLOUDFRONT_DOMAIN = env.str("CLOUDFRONT_DOMAIN", default="")
CLOUDFRONT_KEY_ID = env.str("CLOUDFRONT_KEY_ID", default="")
CLOUDFRONT_PRIVATE_KEY_FILE = env.str("CLOUDFRONT_PRIVATE_KEY_FILE", default="")
# Domain for the HLS signed cookies (a parent of both the site and CLOUDFRONT_DOMAIN).
CLOUDFRONT_COOKIE_DOMAIN = env.str("CLOUDFRONT_COOKIE_DOMAIN", default="")

# --- I18N, static -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
# Front-end libraries come from npm (package.json; `make install` runs npm ci) and are
# served from their packages' dist folders as static/vendor/<name>/...; never committed.
VENDOR_PACKAGES = {
    "hls": "hls.js/dist",
    "chart": "chart.js/dist",
    "swagger-ui": "swagger-ui-dist",
    "htmx": "htmx.org/dist",
    "sortable": "sortablejs",
}
STATICFILES_DIRS += [
    (f"vendor/{name}", BASE_DIR / "node_modules" / dist)
    for name, dist in VENDOR_PACKAGES.items()
    if (BASE_DIR / "node_modules" / dist).is_dir()
]
STORAGES = {
    # Uploaded files go to the private bucket under the active tenant's prefix.
    "default": {"BACKEND": "media_delivery.storage.TenantS3Storage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------
# Host-only cookies: SESSION_COOKIE_DOMAIN and CSRF_COOKIE_DOMAIN stay unset, so a
# cookie from acme.<base> is never sent to globex.<base>.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # /healthz is probed by load balancers over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Reverse proxies and load balancers in front of the application (addresses or networks,
# comma-separated). Only when REMOTE_ADDR is one of them is X-Forwarded-For read (from the
# right) to find the client; empty trusts nobody (core/addresses.py, ADR 0185).
TRUSTED_PROXIES = []
for _proxy in env.list("TRUSTED_PROXIES", default=[]):
    if not _proxy.strip():
        continue
    try:
        TRUSTED_PROXIES.append(str(ipaddress.ip_network(_proxy.strip(), strict=False)))
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy.strip()!r} is neither an IP address nor a network "
            "(such as 10.0.0.5, 10.0.0.0/8 or fd00::/8)."
        ) from None

# --- Sign-in throttle (accounts/throttle.py, ADR 0070) ---------------------------
# Per site, per account and per address: FREE attempts (account, address) on each surface,
# then each further one waits BASE_SECONDS, doubling up to the cap. Nobody is locked out.
SIGNIN_THROTTLE = {
    "FREE": {"signin": (5, 20), "reset-request": (3, 10), "reset-confirm": (5, 20), "invitation": (5, 20)},
    "BASE_SECONDS": 1.0,
    "ACCOUNT_CAP_SECONDS": 900.0,
    "ADDRESS_CAP_SECONDS": 60.0,
    # An account's counter is forgotten after this long without attempts; an address's counts
    # from its first attempt, so a busy shared address (a school) starts afresh every window.
    "ACCOUNT_FORGET_SECONDS": 24 * 3600,
    "ADDRESS_WINDOW_SECONDS": 3600,
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- REST API (/api/v1/, ADR 0150 and 0151) -----------------------------------------------
# Lifetime of an access token from POST /api/v1/auth/token.
API_TOKEN_SECONDS = env.int("API_TOKEN_SECONDS", default=900)
# Requests a minute per API key (a key may set its own); tokens count against their key.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
