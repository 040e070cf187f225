"""The only settings module. Every value comes from an environment variable (see
docs/configuration.md); with none set, solocrm runs on SQLite in ./data with DEBUG off."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(env("SOLOCRM_DATA_DIR") or Path.cwd() / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from the environment, else one generated once into the data directory."""
    if key := env("SOLOCRM_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("SOLOCRM_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in env("SOLOCRM_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("SOLOCRM_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # only for its bundled Swagger UI (template + static): /api/v1/docs works offline
    "solocrm.users",
    "solocrm.jobs",
    "solocrm.contacts",
    "solocrm.sales",
    "solocrm.mail",
    "solocrm.support",
    "solocrm.ops",
    "solocrm.analytics",
    "solocrm.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Every page needs a log-in unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The business's time zone (and default language) from the settings page, per request.
    "solocrm.users.middleware.BusinessSettingsMiddleware",
    "solocrm.users.middleware.FirstRunMiddleware",
    "solocrm.sales.quotes.middleware.AttachmentSizeLimitMiddleware",
]

ROOT_URLCONF = "solocrm.urls"
WSGI_APPLICATION = "solocrm.wsgi.application"

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
                "solocrm.lib.access.role_context",
                "solocrm.users.context_processors.mail_banner",
            ],
        },
    },
]

SQLITE_PATH = DATA_DIR / "solocrm.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while an import writes; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writers.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env("SOLOCRM_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The default zone; the settings page may choose another (activated per request and per job).
TIME_ZONE = env("SOLOCRM_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One long and one short date format per language, numbers grouped by thousands (docs/languages.md).
# Grouping is asked for where a figure is shown (intcomma, floatformat "g", the money filter), not by
# USE_THOUSAND_SEPARATOR, which would also group IDs and years written into URLs and attributes.
FORMAT_MODULE_PATH = ["solocrm.formats"]

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing STATIC_ROOT on every start
WHITENOISE_USE_FINDERS = True  # serve straight from the apps: no collectstatic step for a solo user
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = DATA_DIR / "files"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
SOLOCRM_MAX_IMPORT_BYTES = int(env("SOLOCRM_MAX_IMPORT_MB", "200")) * 1024 * 1024
# Limits that stop a crafted workbook (zip bomb, a sheet declaring billions of cells) from
# taking the server's memory or time; docs/import-formats.md explains them.
SOLOCRM_XLSX_MAX_UNCOMPRESSED_BYTES = int(env("SOLOCRM_XLSX_MAX_UNCOMPRESSED_MB", "1000")) * 1024 * 1024
SOLOCRM_XLSX_MAX_CELLS = int(env("SOLOCRM_XLSX_MAX_CELLS", "50000000"))
SOLOCRM_XLSX_MAX_SECONDS = int(env("SOLOCRM_XLSX_MAX_SECONDS", "600"))
SOLOCRM_IMPORT_DIR = DATA_DIR / "imports"
# Background work (imports, the analytics refresh, digests, demo data) is a Job (solocrm.jobs)
# sent through the Django task API: queued in the database and run by `solocrm worker` or the
# worker `solocrm serve` embeds; SOLOCRM_JOBS_INLINE runs each job at once instead (debugging).
SOLOCRM_JOBS_INLINE = env_bool("SOLOCRM_JOBS_INLINE")
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if SOLOCRM_JOBS_INLINE
        else "django_tasks_db.DatabaseBackend"
    }
}

# One process (waitress, many threads): an in-memory cache for rate-limit counters and cached
# figures, big enough that a burst of visitors cannot evict the counters and reset the limits.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }
}

# Behind a reverse proxy (nginx, Caddy): trust its X-Forwarded-For to rate-limit public forms
# per visitor rather than per proxy.
SOLOCRM_TRUSTED_PROXY = env_bool("SOLOCRM_TRUSTED_PROXY")

# Public lead forms: the address visitors reach this server at ("https://crm.example.com"), used
# for the hosted link, the embed snippet and the link in the owner's e-mail; blank: taken from
# the request. And how many submissions one visitor may send per form and hour.
SOLOCRM_PUBLIC_URL = env("SOLOCRM_PUBLIC_URL").rstrip("/")
SOLOCRM_FORM_RATE_LIMIT = int(env("SOLOCRM_FORM_RATE_LIMIT", "10"))
# …and how many one form accepts per hour from everybody together (a flood from many addresses).
SOLOCRM_FORM_HOURLY_CAP = int(env("SOLOCRM_FORM_HOURLY_CAP", "100"))
# The public help form at /help/ask/ (support desk): on unless set to off.
SOLOCRM_HELP_FORM = env_bool("SOLOCRM_HELP_FORM", default=True)

# Files attached to deals and contacts (contracts, briefs).
SOLOCRM_ATTACHMENT_DIR = DATA_DIR / "attachments"
# Where `solocrm backup` and the daily backup write their archives (a mounted disk or a synced folder).
SOLOCRM_BACKUP_DIR = Path(env("SOLOCRM_BACKUP_DIR") or DATA_DIR / "backups")
# The daily backup: the local hour after which it runs ("off": none), and how many of the last
# days, weeks and months keep an archive.
SOLOCRM_BACKUP_HOUR = (
    None if env("SOLOCRM_BACKUP_HOUR", "3").lower() == "off" else int(env("SOLOCRM_BACKUP_HOUR", "3"))
)
SOLOCRM_BACKUP_KEEP = env("SOLOCRM_BACKUP_KEEP", "7,4,12")
SOLOCRM_MAX_ATTACHMENT_BYTES = int(env("SOLOCRM_MAX_ATTACHMENT_MB", "20")) * 1024 * 1024
# The mail account (its name) e-mail written in the CRM is sent from when none is chosen; blank:
# the first active account with an SMTP server, else the mail server of the settings page.
SOLOCRM_MAIL_SEND_ACCOUNT = env("SOLOCRM_MAIL_SEND_ACCOUNT")

# The server refreshes the analytics once a day at this local hour ("off": only by hand or cron).
SOLOCRM_ANALYTICS_HOUR = env("SOLOCRM_ANALYTICS_HOUR", "3").strip().lower()
# A refresh warns when the latest order is more than this many days before the day it scores as
# of (an old export analysed today makes everyone look silent): see docs/analytics.md, "As of".
SOLOCRM_ANALYTICS_STALE_DAYS = int(env("SOLOCRM_ANALYTICS_STALE_DAYS", "180"))

# Business defaults. The owner sets these on the settings page (/settings/, stored in the
# database); read them through solocrm.lib.business.business_settings(), never from here: these
# are only the environment's values (which win over the page) or the defaults.
SOLOCRM_CURRENCY = env("SOLOCRM_CURRENCY", "USD").upper()
SOLOCRM_PHONE_REGION = env("SOLOCRM_PHONE_REGION", "US").upper()
# The business as quotes (printable page, PDF, e-mail) name it; the address may hold "\n" for
# line breaks ("Ada Studio Ltd\n1 High Street\nLondon").
SOLOCRM_BUSINESS_NAME = env("SOLOCRM_BUSINESS_NAME")
SOLOCRM_BUSINESS_ADDRESS = env("SOLOCRM_BUSINESS_ADDRESS").replace("\\n", "\n")
# A TrueType/OpenType font (.ttf/.otf/.ttc) for Chinese, Japanese and Korean text in quote PDFs;
# blank: the first well-known system CJK font found (see docs/quotes.md).
SOLOCRM_PDF_FONT = env("SOLOCRM_PDF_FONT")

# E-mail: SMTP when a host is given (here or on the settings page, /settings/); otherwise every
# message is written to data/outbox so that nothing is lost before the owner sets up a server.
# The backend reads the effective server at send time (solocrm.users.mail), so a server saved on
# the page is used by the next e-mail without a restart; an environment variable wins.
EMAIL_BACKEND = "solocrm.users.mail.EmailBackend"
EMAIL_FILE_PATH = DATA_DIR / "outbox"
EMAIL_TIMEOUT = 30
SOLOCRM_SMTP_HOST = env("SOLOCRM_SMTP_HOST")
SOLOCRM_SMTP_PORT = env("SOLOCRM_SMTP_PORT")
SOLOCRM_SMTP_USER = env("SOLOCRM_SMTP_USER")
SOLOCRM_SMTP_PASSWORD = env("SOLOCRM_SMTP_PASSWORD")
DEFAULT_FROM_EMAIL = env("SOLOCRM_FROM_EMAIL", "solocrm@localhost")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SOLOCRM_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SOLOCRM_LOG_LEVEL", "WARNING")},
}
