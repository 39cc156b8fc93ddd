"""Flywheel settings: everything that differs between machines comes from the environment."""
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from labelstudio_app.env import env_bool, env_int, env_json_object, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Development mode relaxes only what a laptop needs (a generated SECRET_KEY); it never turns DEBUG on.
DEV = env_bool("FLYWHEEL_DEV", False)
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEV:
        raise ImproperlyConfigured("SECRET_KEY is required outside development (set it, or FLYWHEEL_DEV=1 locally).")
    SECRET_KEY = "flywheel-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEV or DEBUG) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("FLYWHEEL_DATA_DIR", str(BASE_DIR / "data"))).resolve()
ARTIFACTS_DIR = DATA_DIR / "artifacts"
UPLOADS_DIR = DATA_DIR / "uploads"
BROKER_DIR = DATA_DIR / "broker"
# Model weights and adapters load only from under these roots (plus hub ids for base models).
MODEL_ROOTS = [ARTIFACTS_DIR.resolve()] + [Path(p).resolve() for p in env_list("FLYWHEEL_MODEL_ROOTS", [])]
# Base models given as hub ids (owner/name) are downloaded by the worker: off unless an admin allows it.
ALLOW_HUB_MODELS = env_bool("FLYWHEEL_ALLOW_HUB_MODELS", False)
# Seeds the staff-managed allowlist of OpenAI-compatible servers (OutboundEndpoint rows, added on migrate):
# {"gpu1": {"base_url": "http://gpu1:8000/v1", "api_key_env": "VLLM_API_KEY"}}.
OUTBOUND_ENDPOINTS = env_json_object("FLYWHEEL_OUTBOUND_ENDPOINTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "labelstudio_app.core",
    "labelstudio_app.accounts",
    "labelstudio_app.projects",
    "labelstudio_app.jobs",
    "labelstudio_app.labelling",
    "labelstudio_app.evaluation",
    "labelstudio_app.review",
    "labelstudio_app.audit",
    "labelstudio_app.demo",
    "labelstudio_app.training",
]

MIDDLEWARE = [
    # First, so an oversized or malformed request is refused before anything reads its body.
    "labelstudio_app.core.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "labelstudio_app.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "labelstudio_app.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "labelstudio_app.urls"
WSGI_APPLICATION = "labelstudio_app.wsgi.application"

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
                "django.template.context_processors.i18n",
                "labelstudio_app.projects.context_processors.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'flywheel.sqlite3'}"
_db = dj_database_url.parse(env_str("DATABASE_URL", _default_db), conn_max_age=60)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE lets the web server and the worker process write the same file without "database is locked".
    _db["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    _db["CONN_MAX_AGE"] = 0
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
elif env_str("FLYWHEEL_TEST_DB_NAME"):
    _db["TEST"] = {"NAME": env_str("FLYWHEEL_TEST_DB_NAME")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "labelstudio_app.accounts.tokens.RevokeTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS (always, in production): cookies only over HTTPS, and HSTS once the site is known to work on it.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Uploads: imports stream from disk; anything larger than this is refused with a clear message.
MAX_UPLOAD_MB = env_int("FLYWHEEL_MAX_UPLOAD_MB", 512, minimum=1)
# An upload previewed but never imported is deleted this long after it was saved (on the next upload, and by
# the workers' sweeper).
UPLOAD_TTL_HOURS = env_int("FLYWHEEL_UPLOAD_TTL_HOURS", 24, minimum=1)
# Any other request body (login, forms, JSON API) above this is refused with 413 before it is read.
MAX_BODY_MB = env_int("FLYWHEEL_MAX_BODY_MB", 2, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The promotion gate: judgments a version's blind rounds against its parent need before it may become the serving
# version (docs/training.md). Below ~30 the 95% interval of a win rate is too wide to clear 0.5 unless nearly
# every vote is a win, and the normal interval of the 3H score differences is not yet trustworthy.
GATE_MIN_JUDGMENTS = env_int("FLYWHEEL_GATE_MIN_JUDGMENTS", 30, minimum=1)
# The bulk import (POST /api/projects/<id>/imports/bulk/): a batch up to this many records and megabytes is
# stored while the client waits; a larger one (up to FLYWHEEL_MAX_UPLOAD_MB) becomes an import job.
BULK_SYNC_ITEMS = env_int("FLYWHEEL_BULK_SYNC_ITEMS", 5000, minimum=1)
BULK_SYNC_MB = env_int("FLYWHEEL_BULK_SYNC_MB", 32, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a refused token answers 401 with WWW-Authenticate, so scripts know to get a new one.
        "labelstudio_app.accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["labelstudio_app.accounts.throttle.ApiWriteThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "labelstudio_app.core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flywheel API",
    "DESCRIPTION": "Label, generate, review blind, fine-tune, repeat.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: the Job table is the truth, the broker only delivers. Without REDIS_URL a filesystem broker
# needs no server and still lets a real worker process run beside the web server.
REDIS_URL = env_str("REDIS_URL")

# Throttles count in a cache every web process shares: Redis when there is one, else a database table
# (created by the core app's migration).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "flywheel-cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "flywheel_cache"}}
LOGIN_FAILURES_PER_MINUTE = env_int("FLYWHEEL_LOGIN_FAILURES_PER_MINUTE", 10, minimum=1)
LOGIN_FAILURES_PER_IP_PER_MINUTE = env_int("FLYWHEEL_LOGIN_FAILURES_PER_IP_PER_MINUTE", 50, minimum=1)
API_WRITE_RATE = env_str("FLYWHEEL_API_WRITE_RATE", "600/min")
# Bulk import batches per user, counted apart from the write rate above (a batch holds up to thousands of items).
API_BULK_RATE = env_str("FLYWHEEL_API_BULK_RATE", "3000/min")
# API tokens older than this are refused (401); 0 keeps them until revoked, rotated or a password change.
TOKEN_TTL_DAYS = env_int("FLYWHEEL_TOKEN_TTL_DAYS", 0, minimum=0)
JOB_STALE_SECONDS = env_int("FLYWHEEL_JOB_STALE_SECONDS", 60, minimum=2)
JOB_SWEEP_SECONDS = env_int("FLYWHEEL_JOB_SWEEP_SECONDS", 15, minimum=1)
JOB_MAX_ATTEMPTS = env_int("FLYWHEEL_JOB_MAX_ATTEMPTS", 5, minimum=1)
# Labelling: how long a claimed item stays with its annotator before it returns to the queue.
LABELLING_LEASE_MINUTES = env_int("FLYWHEEL_LEASE_MINUTES", 30, minimum=1)
_longest_job = env_int("FLYWHEEL_LONGEST_JOB_SECONDS", 12 * 3600, minimum=60)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _longest_job + 3600}
else:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A web request that enqueues must not hang while the broker is down: the job stays queued and the
# worker's sweeper sends it again later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
