"""Django settings for Telora.

Everything that differs between machines comes from the environment (TELORA_* and DATABASE_URL).
Without DATABASE_URL, Telora uses its embedded PostgreSQL under var/ (see telora.core.embedded_db).
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("TELORA_HOME", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("TELORA_VAR", PROJECT_DIR / "var")).resolve()


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once into var/ (demo and development)."""
    key = os.environ.get("TELORA_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


DEBUG = _env_flag("TELORA_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("TELORA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("TELORA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "procrastinate.contrib.django",
    "telora.core",
    "telora.ui",
    "telora.api",
    "telora.events",
    "telora.catalog",
    "telora.inventory",
    "telora.customers",
    "telora.rating",
    "telora.billing",
    "telora.privacy",
    "telora.letters",
    "telora.workflows",
    "telora.orders",
    "telora.provisioning",
    "telora.porting",
    "telora.migration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "telora.core.security.SecurityHeadersMiddleware",  # CSP, Permissions-Policy: on every answer, errors too
    "telora.core.uploads.UploadLimitMiddleware",  # 413 for a body over TELORA_UPLOAD_MAX_BYTES, before it is read
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "telora.core.middleware.RequestContextMiddleware",
    "telora.core.modules.ModulesMiddleware",
    "telora.api.guard.ApiGuardMiddleware",
]

ROOT_URLCONF = "telora.urls"
WSGI_APPLICATION = "telora.wsgi.application"
ASGI_APPLICATION = "telora.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telora.ui.context.shell",
            ],
        },
    },
]

# Modules this installation runs (core.modules); unset: all of them.
TELORA_MODULES = ([m.strip() for m in os.environ["TELORA_MODULES"].split(",") if m.strip()]
                  if os.environ.get("TELORA_MODULES") else None)
# Customers: how far back a dated change (sale, add-on, plan change, termination) may be entered.
# Events and webhooks (docs/events.md, docs/webhooks.md).
TELORA_EVENTS_KEEP_DAYS = int(os.environ.get("TELORA_EVENTS_KEEP_DAYS", "30"))
TELORA_EVENTS_MAX_FAILURES = int(os.environ.get("TELORA_EVENTS_MAX_FAILURES", "8"))
TELORA_WEBHOOK_MAX_TRIES = int(os.environ.get("TELORA_WEBHOOK_MAX_TRIES", "8"))
TELORA_WEBHOOK_TIMEOUT = float(os.environ.get("TELORA_WEBHOOK_TIMEOUT", "10"))
# Callbacks to private, loopback and link-local addresses are refused unless this is set.
TELORA_WEBHOOK_ALLOW_PRIVATE = _env_flag("TELORA_WEBHOOK_ALLOW_PRIVATE")
TELORA_BACKDATE_MAX_DAYS = int(os.environ.get("TELORA_BACKDATE_MAX_DAYS", "400"))
# Letters' gateways (docs/letters.md, "Channels and gateways"): the mail server and the SMS centre.
# `telora demo` points them at the mail catcher and the SMSC simulator it starts.
EMAIL_HOST = os.environ.get("TELORA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TELORA_EMAIL_PORT", "25"))
EMAIL_USE_TLS = _env_flag("TELORA_EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_flag("TELORA_EMAIL_USE_SSL")
EMAIL_HOST_USER = os.environ.get("TELORA_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TELORA_EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = float(os.environ.get("TELORA_EMAIL_TIMEOUT", "30"))
if os.environ.get("TELORA_LETTER_FROM"):
    TELORA_LETTER_FROM = os.environ["TELORA_LETTER_FROM"]
if os.environ.get("TELORA_SMPP_HOST"):
    TELORA_SMPP = {"host": os.environ["TELORA_SMPP_HOST"], "port": int(os.environ.get("TELORA_SMPP_PORT", "2775")),
                   "system_id": os.environ.get("TELORA_SMPP_SYSTEM_ID", "telora"),
                   "password": os.environ.get("TELORA_SMPP_PASSWORD", ""),
                   "source_addr": os.environ.get("TELORA_SMPP_SOURCE_ADDR", "Telora"),
                   "timeout": float(os.environ.get("TELORA_SMPP_TIMEOUT", "10"))}
# Where the demo's mail catcher keeps what it received (a letter's page shows its caught copy); unset: no catcher.
TELORA_MAIL_CATCHER_DIR = os.environ.get("TELORA_MAIL_CATCHER_DIR") or None
EMBEDDED_PG_PORT = int(os.environ.get("TELORA_PG_PORT", "55432"))
# Rating: forget record keys (the guard against charging a record twice) after this many days;
# unset keeps them forever. See docs/rating.md, "Files and duplicates".
TELORA_USAGE_KEY_DAYS = int(os.environ["TELORA_USAGE_KEY_DAYS"]) if os.environ.get("TELORA_USAGE_KEY_DAYS") else None
# User-edited templates (invoices, letters): the bounds of one render (telora.core.sandbox; see
# docs/billing.md, "Editing templates safely"). A render past one is stopped and named.
TELORA_TEMPLATE_CPU_SECONDS = int(os.environ.get("TELORA_TEMPLATE_CPU_SECONDS", "30"))
TELORA_TEMPLATE_MEMORY_MB = int(os.environ.get("TELORA_TEMPLATE_MEMORY_MB", "1024"))
TELORA_TEMPLATE_WALL_SECONDS = float(os.environ.get("TELORA_TEMPLATE_WALL_SECONDS", "60"))
TELORA_TEMPLATE_MAX_LOOP_ITERATIONS = int(os.environ.get("TELORA_TEMPLATE_MAX_LOOP_ITERATIONS", "1000000"))
TELORA_TEMPLATE_MAX_OUTPUT = int(os.environ.get("TELORA_TEMPLATE_MAX_OUTPUT", "20000000"))  # characters
# How long a request for an invoice PDF waits for its job before answering 202 with the job.
TELORA_PDF_WAIT_SECONDS = float(os.environ.get("TELORA_PDF_WAIT_SECONDS", "5"))
# Rating: the bounds a usage record must keep, the failed lines one file may make (telora.rating.services.limits).
TELORA_USAGE_PAST_DAYS = int(os.environ.get("TELORA_USAGE_PAST_DAYS", "730"))
TELORA_USAGE_FUTURE_DAYS = int(os.environ.get("TELORA_USAGE_FUTURE_DAYS", "2"))
TELORA_USAGE_MAX_DURATION = int(os.environ.get("TELORA_USAGE_MAX_DURATION", str(7 * 86400)))
TELORA_USAGE_MAX_VOLUME = int(os.environ.get("TELORA_USAGE_MAX_VOLUME", str(10 * 2**40)))
TELORA_USAGE_MAX_QUANTITY = int(os.environ.get("TELORA_USAGE_MAX_QUANTITY", "1000000"))
TELORA_USAGE_MAX_CHARGE = os.environ.get("TELORA_USAGE_MAX_CHARGE", "10000")
TELORA_USAGE_MAX_FAILED = int(os.environ.get("TELORA_USAGE_MAX_FAILED", "10000"))
# Bill runs: the periods a run may be for, in months before and after the current one.
TELORA_BILLRUN_PAST_MONTHS = int(os.environ.get("TELORA_BILLRUN_PAST_MONTHS", "120"))
TELORA_BILLRUN_FUTURE_MONTHS = int(os.environ.get("TELORA_BILLRUN_FUTURE_MONTHS", "12"))
# Uploads: a request body over TELORA_UPLOAD_MAX_BYTES is refused (413) before it is read; usage
# files over TELORA_UPLOAD_SYNC_BYTES are kept and taken in by a background job (202).
TELORA_UPLOAD_MAX_BYTES = int(os.environ.get("TELORA_UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)))
TELORA_UPLOAD_SYNC_BYTES = int(os.environ.get("TELORA_UPLOAD_SYNC_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # non-file bodies (a JSON batch of 10,000 records fits)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploaded files go to a temporary file, not memory
EMBEDDED_PG_DIR = VAR_DIR / "pgdata"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "telora",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": EMBEDDED_PG_PORT,
            "CONN_MAX_AGE": 60,
        }
    }
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("TELORA_TEST_DB", "test_telora")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ui:home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (docs/users-and-rights.md): failures count within the window. Per user name and
# client address, the first FREE failures cost nothing, then each further try waits 2, 4, 8 ... seconds
# (at most MAX_DELAY) after the last failure; an address with MAX_PER_ADDRESS failures (any names) waits
# until the oldest leaves the window. Nobody elsewhere can lock a user out.
LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
LOGIN_THROTTLE_FREE_FAILURES = 3
LOGIN_THROTTLE_MAX_DELAY_SECONDS = 5 * 60
LOGIN_THROTTLE_MAX_PER_ADDRESS = 30
# The client address behind a reverse proxy (docs/install.md): only when the request comes from one of
# these addresses or networks is the right-most untrusted address of this header taken as the client.
TELORA_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TELORA_TRUSTED_PROXIES", "").split(",") if p.strip()]
TELORA_CLIENT_IP_HEADER = os.environ.get("TELORA_CLIENT_IP_HEADER", "X-Forwarded-For").strip()

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from it after `collectstatic`
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security defaults: secure cookies and HSTS whenever we are not in debug mode.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy of every response (telora.core.security, docs/install.md). Scripts only from
# our static files; styles also inline, because style="" attributes carry brand colours and progress
# widths and HTMX adds its indicator style (styles cannot run code). TELORA_CSP replaces the whole policy.
TELORA_CSP = os.environ.get("TELORA_CSP") or {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
TELORA_CSP_REPORT_ONLY = _env_flag("TELORA_CSP_REPORT_ONLY")
TELORA_PERMISSIONS_POLICY = os.environ.get("TELORA_PERMISSIONS_POLICY") or ", ".join(
    f"{feature}=()" for feature in ("accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
                                    "magnetometer", "microphone", "payment", "usb"))
if not DEBUG and not _env_flag("TELORA_INSECURE_COOKIES"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("TELORA_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "jobs"
PROCRASTINATE_ON_APP_READY = "telora.core.jobs.on_app_ready"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TELORA_LOG_LEVEL", "INFO")},
    "loggers": {name: {"level": "WARNING"} for name in (
        "procrastinate", "pycrate", "pycrate.asn1rt", "weasyprint", "weasyprint.progress", "fontTools")},
}
