"""KnowPay settings, read from the environment (and an optional `.env` file).

Every setting has an embedded default that needs no service at all: SQLite, Celery eager, console
e-mail, local gateway simulators. Production is the same code with `DATABASE_URL`,
`CELERY_BROKER_URL`, `DEBUG=false` and real secrets; `.env.example` documents every variable.
"""

import datetime as dt
import os
from email.utils import getaddresses
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------

DEFAULT_SECRET_KEY = "django-insecure-knowpay-development-key-never-use-in-production"  # noqa: S105 (public on purpose: refused when DEBUG is off)
# Off unless asked for: `make run` and the tests turn it on, a server that forgets it stays safe.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where the development server listens (`make run` passes both). A server on every interface is
# browsed through the loopback address.
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
_browsable_host = "127.0.0.1" if HOST in ("", "0.0.0.0", "::", "[::]") else HOST  # noqa: S104 (compared, not bound)
if ":" in _browsable_host and not _browsable_host.startswith("["):
    _browsable_host = f"[{_browsable_host}]"  # an IPv6 address in a URL
# The public base URL of this site: gateways are given notify and return URLs under it. Unset, it is
# the development server's own address, so `PORT=8101 make run` gives gateways URLs on port 8101.
SITE_URL = env.str("SITE_URL", default=f"http://{_browsable_host}:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "simple_history",
    # Admin only: export (never import) of the money lists, and a from/to date filter.
    "import_export",
    "rangefilter",
    "accounts",
    "courses",
    "payments",
    # After payments, whose runserver (the demo's periodic tasks) extends this app's.
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # First: every log line of a request carries its id, and every request is counted and timed.
    "knowpay.request_id.RequestIdMiddleware",
    "knowpay.metrics.RequestMetricsMiddleware",
    # /healthz, /readyz, /metrics: answered before host, HTTPS and session handling (see knowpay.operating).
    "knowpay.operating.OperatingEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Sandbox mode only: one host for the demo, so the session survives the gateway's return.
    "knowpay.middleware.CanonicalHostMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change kept in a model's history (creator profiles, prices, refunds, payouts).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out log-in into the lockout page (or the API's error).
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves collected static files itself; the dev server serves them from the apps.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "knowpay.urls"
WSGI_APPLICATION = "knowpay.wsgi.application"
ASGI_APPLICATION = "knowpay.asgi.application"

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
                "knowpay.context_processors.site",
                "payments.context_processors.inbox",
            ],
            "builtins": ["knowpay.templatetags.money"],
        },
    },
    {
        # Plain-text e-mails: rendered with render_to_string(..., using="text"), nothing HTML-escaped
        # ("Tom & Jerry" stays "Tom & Jerry", not "Tom &amp; Jerry").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"autoescape": False, "builtins": ["knowpay.templatetags.money"]},
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A restarted database otherwise answers the first request of every persistent connection with a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # notify views must commit the raw notification first
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Writers queue instead of failing with "database is locked" under the threaded dev server.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so live-server tests use one connection per thread, as production does;
    # one per process, so concurrent test runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"db.test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Auth -------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out user or address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "courses:catalog"
LOGOUT_REDIRECT_URL = "courses:catalog"

# --- Internationalisation: prices are CNY, gateways speak Beijing time --------------------------

LANGUAGE_CODE = "en-us"
# Alipay's SDK stamps requests with the naive local time, and Alipay expects Beijing time.
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Course covers: larger uploads are refused (bytes as sent, pixels as the image's header says).
COURSE_COVER_MAX_BYTES = env.int("COURSE_COVER_MAX_BYTES", default=2 * 1024 * 1024)
COURSE_COVER_MAX_PIXELS = env.int("COURSE_COVER_MAX_PIXELS", default=4096 * 4096)
# Uploaded files are served from MEDIA_URL by the TLS proxy in production (README, "Deploying");
# with SERVE_MEDIA the web process serves them itself (development, a small demo).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
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

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="KnowPay <no-reply@knowpay.local>")

# --- Security: production only tightens -------------------------------------------------------

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Plain HTTP is redirected to HTTPS without DEBUG; behind a TLS proxy set USE_X_FORWARDED_PROTO too.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Preloading is hard to undo (browsers ship the list), so it is the operator's explicit choice.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Other sites learn at most our origin, never a path with an order number in it.
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Scripts only from our origin or with the response's nonce; nothing of ours is framed. Styles may be
# inline (the simulators' pages and the admin use style attributes). form-action stays open: a
# gateway's payment form posts to the gateway, which redirects on to its own cashier.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
# No page of ours uses these browser features; a script injected into one cannot either.
PERMISSIONS_POLICY = {
    feature: []
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "display-capture")
}
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind our proxy, the client's address is the last X-Forwarded-For entry (rate limits, lockout, risk).
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)

# --- Logging: one JSON object per line in production, readable text for the demo ----------------

# json (default): every `extra=` field, the request id, time, level, logger. text: the same fields
# as key=value after the message; the Makefile sets it for `make run`, `make worker`, `make beat`.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "knowpay.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "knowpay.logs.JsonLineFormatter"}, "text": {"()": "knowpay.logs.TextFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager tasks (development) would log every success; workers set their own level.
        "celery.app.trace": {"level": "WARNING"},
        # Axes logs every start and every successful log-in; its lockout warnings still come through.
        "axes": {"level": "WARNING"},
    },
}

# People e-mailed by Django about server errors (500s) when DEBUG is off: "Name <a@b>,Other <c@d>".
ADMINS = [(name, address) for name, address in getaddresses(env.list("ADMINS", default=[])) if address]
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Errors to Sentry (only with SENTRY_DSN; sent from a background thread, never blocking) ----------

SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from knowpay.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# --- Metrics at /metrics (Prometheus) -----------------------------------------------------------

# A scraper presents `Authorization: Bearer <METRICS_TOKEN>`, or calls from one of the allowed
# networks (the direct peer address). Neither set: /metrics is 404. Development allows loopback.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"] if DEBUG else [])
# Read by prometheus_client itself: a directory where every process (gunicorn workers, Celery
# workers on the host) writes its figures, so a scrape of any one worker is whole. See knowpay/gunicorn_conf.py.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Cache (readiness probe, rate limits): local memory by default, Redis shared by every process --

_cache_url = env.str("CACHE_URL", default="")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            # A dead or unreachable Redis fails fast instead of hanging the request.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "knowpay"}
    )
}

# --- Django REST framework and the OpenAPI schema ---------------------------------------------

REST_FRAMEWORK = {
    # A bearer token first, so a request without credentials is told 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "knowpay.api.exception_handler",
    # Every caller has a budget per minute; some operations have their own, smaller one (scope).
    "DEFAULT_THROTTLE_CLASSES": [
        "knowpay.throttling.AnonRateThrottle",
        "knowpay.throttling.UserRateThrottle",
        "knowpay.throttling.WriteScopedRateThrottle",
    ],
    # Throttles key on REMOTE_ADDR, or behind our proxy on the one X-Forwarded-For entry it added.
    "NUM_PROXIES": 1 if USE_X_FORWARDED_FOR else 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_RATE_ANON", default="120/min"),
        "user": env.str("API_RATE_USER", default="600/min"),
        # Token log-in and refresh, per address.
        "auth": env.str("API_RATE_AUTH", default="20/min"),
        # Money operations (order, pay, "I have paid", refund and payout requests), per user.
        "money": env.str("API_RATE_MONEY", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KnowPay API",
    "DESCRIPTION": (
        "Courses, orders, payments, refunds and creator earnings. Amounts are integer fen. "
        "Authenticate with a bearer token from `/api/v1/auth/token/` (or the browser session). "
        'Every error has one shape: `{"error": {"code", "message", "fields"}}`. Money POSTs honour '
        "an `Idempotency-Key` header: the same key and body replay the first answer."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc are served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CourseStatusEnum": "courses.models.Course.Status",
        "OrderStatusEnum": "payments.models.Order.Status",
        "RefundStatusEnum": "payments.models.Refund.Status",
    },
    # Every operation documents the error envelope for the errors it can answer.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "knowpay.api.error_responses_hook",
    ],
}

# Tokens for non-browser clients: short-lived access, rotating refresh; a password change revokes
# every token issued before it (they carry a digest of the password hash, as sessions do).
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_OBTAIN_SERIALIZER": "accounts.tokens.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.TokenRefreshSerializer",
}

# --- Cache (rate limits, throttles): local memory by default, Redis shared by every process in production

_cache_url = env.str("CACHE_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "knowpay"}
    )
}

# --- Rate limits of the pages and notify endpoints (per client address; "count/period", s m h d) --

RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="20/m"),
    "signup": env.str("RATE_LIMIT_SIGNUP", default="10/h"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/h"),
    "checkout": env.str("RATE_LIMIT_CHECKOUT", default="30/m"),
    "order_check": env.str("RATE_LIMIT_ORDER_CHECK", default="20/m"),
    # Gateways send from few addresses, and resend until acknowledged: a generous ceiling.
    "notify": env.str("RATE_LIMIT_NOTIFY", default="600/m"),
}

# History of creator profiles, course prices, refunds and payouts: shown in admin, never reverted there.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Log-in hardening (django-axes): lockout per account and per address --------------------

AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
# Each counts on its own: too many failures for one username, or from one address, lock it.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "old_password", "new_password1", "new_password2"]
AXES_CLIENT_IP_CALLABLE = "knowpay.ratelimit.client_ip"

# --- Payment data at rest: creators' payout identity and payer references are encrypted ---------

# Fernet keys (url-safe base64 of 32 bytes), newest first: the first encrypts, all decrypt; rotate
# with `manage.py encryption_rotate`. The public development key is refused when DEBUG is off.
DEFAULT_FIELD_ENCRYPTION_KEY = "a25vd3BheS1wdWJsaWMtZGV2LWtleS1OT1QtU0FGRSE="
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or (
    [DEFAULT_FIELD_ENCRYPTION_KEY] if DEBUG else []
)
if not DEBUG and (not FIELD_ENCRYPTION_KEYS or DEFAULT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set (to keys of your own) when DEBUG is false.")

# --- Celery: eager (no broker) unless CELERY_BROKER_URL is set --------------------------------

_broker_url = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not _broker_url)
# With no broker, tasks run in-process; the in-memory transport keeps Celery from looking for one.
CELERY_BROKER_URL = _broker_url or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the task ran, so a crashed worker's task is redelivered; every task is idempotent.
CELERY_TASK_ACKS_LATE = True
# ...and requeue, not acknowledge, the message of a worker child killed mid-task (OOM killer, SIGKILL).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task that cannot acknowledge (broker connection lost) is cancelled and redelivered, not left running.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# No task runs longer than this (prefork workers): the soft limit raises inside the task, the hard one
# kills it. Every task is idempotent and the sweeps finish what one leaves.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, CELERY_TASK_TIME_LIMIT // 2)
# The longest delay before a task is retried or run (the tasks' countdowns are capped to it).
TASK_MAX_COUNTDOWN_SECONDS = 600
# Redis redelivers a message not acknowledged after this: a whole-worker crash's tasks come back then.
# It must outlast the longest countdown plus the longest run, or a waiting or running task is
# delivered twice (payments.E010 refuses that).
# A broker that accepts connections but never answers must not hold a web request (30 s worker
# timeout): every connect and every command gives up after this, and publishing is tried at most
# three times. What was not sent is left to the sweeps (knowpay.enqueue).
_BROKER_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1200),
    "socket_connect_timeout": _BROKER_TIMEOUT,
    "socket_timeout": _BROKER_TIMEOUT,
    "socket_keepalive": True,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="knowpay")
# The periodic sweeps that make the system converge when a message, a notification or a worker is lost.
CELERY_BEAT_SCHEDULE = {
    "expire-orders": {"task": "payments.tasks.orders_expire_task", "schedule": 60.0},
    "sync-open-payments": {"task": "payments.tasks.payments_sync_task", "schedule": 120.0},
    "sync-processing-refunds": {"task": "payments.tasks.refunds_sync_task", "schedule": 300.0},
    "send-due-outbox": {"task": "payments.tasks.outbox_send_due_task", "schedule": 60.0},
    "settle-earnings": {"task": "payments.tasks.earnings_settle_due_task", "schedule": 3600.0},
    "send-stuck-payouts": {"task": "payments.tasks.payouts_send_stuck_task", "schedule": 300.0},
    "finish-stuck-notifications": {"task": "payments.tasks.notifications_finish_stuck_task", "schedule": 300.0},
    "expire-idempotency-keys": {"task": "payments.tasks.idempotency_keys_expire_task", "schedule": 3600.0},
    # Both gateways publish yesterday's bill by 10:00 Beijing time.
    "reconcile-yesterday": {"task": "payments.tasks.reconcile_yesterday_task", "schedule": crontab(hour=10, minute=30)},
    "check-alerts": {"task": "payments.tasks.alerts_check_task", "schedule": 300.0},
    # Creators' automatic payouts: hourly, so a missed run is made up within the period.
    "create-scheduled-payouts": {"task": "payments.tasks.payouts_create_due_task", "schedule": 3600.0},
}

# --- Payments ---------------------------------------------------------------------------------

# Sandbox mode mounts the local gateway simulators and points every gateway client at them. Never
# implied by DEBUG: `make run` and the tests ask for it. With DEBUG off it is refused at start-up
# (payments.E006) unless the site is declared a public demo, which keeps the sandbox banner on.
PAYMENTS_SANDBOX = env.bool("PAYMENTS_SANDBOX", default=False)
PAYMENTS_PUBLIC_DEMO = env.bool("PAYMENTS_PUBLIC_DEMO", default=False)
# Every gateway module there is; PAYMENTS_CHANNELS chooses which are offered (order = display order).
PAYMENT_GATEWAYS = {
    "alipay": "payments.gateways.alipay.AlipayGateway",
    "wechat": "payments.gateways.wechat.WechatGateway",
    "sandbox": "payments.gateways.sandbox.SandboxGateway",
    "stripe": "payments.gateways.stripe.StripeGateway",
    "paypal": "payments.gateways.paypal.PaypalGateway",
    "unionpay": "payments.gateways.unionpay.UnionpayGateway",
}
# In sandbox mode every channel is offered, each against its local simulator. Live deployments list
# the channels they hold contracts and keys for.
PAYMENTS_CHANNELS = env.list(
    "PAYMENTS_CHANNELS",
    default=["alipay", "wechat", "unionpay", "stripe", "paypal", "sandbox"]
    if PAYMENTS_SANDBOX
    else ["alipay", "wechat"],
)
ORDER_TIMEOUT_MINUTES = env.int("ORDER_TIMEOUT_MINUTES", default=30)
REFUND_WINDOW_DAYS = env.int("REFUND_WINDOW_DAYS", default=7)
PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=1000)
SETTLEMENT_HOLD_DAYS = env.int("SETTLEMENT_HOLD_DAYS", default=7)
PAYOUT_MIN_FEN = env.int("PAYOUT_MIN_FEN", default=10000)
# The channel whose gateway transfers approved creator payouts to their Alipay accounts: the local
# sandbox in sandbox mode, Alipay otherwise (it must be in PAYMENTS_CHANNELS and support transfers).
PAYOUT_TRANSFER_CHANNEL = env.str("PAYOUT_TRANSFER_CHANNEL", default="sandbox" if PAYMENTS_SANDBOX else "alipay")
# Seconds a single HTTP call to a gateway may take before it counts as unavailable.
GATEWAY_TIMEOUT_SECONDS = env.float("GATEWAY_TIMEOUT_SECONDS", default=10.0)
# "I have paid" asks the gateways of all open attempts at once and answers after at most this long
# ("still checking" if some have not answered): well under the 30 s a web worker may take.
PAYMENT_SYNC_BUDGET_SECONDS = env.float("PAYMENT_SYNC_BUDGET_SECONDS", default=8.0)
# Circuit breakers, one per channel and operation: after this many consecutive failures (no answer,
# an answer we cannot trust, a contract violation; never a refusal) calls fail fast for
# GATEWAY_BREAKER_RESET_SECONDS, then one trial call decides whether the circuit closes again.
GATEWAY_BREAKER_FAIL_MAX = env.int("GATEWAY_BREAKER_FAIL_MAX", default=5)
GATEWAY_BREAKER_RESET_SECONDS = env.int("GATEWAY_BREAKER_RESET_SECONDS", default=60)
# Redis shared by every web and worker process, so they agree on each circuit; empty: each process
# keeps its own. While this Redis is down, each process falls back to its own state.
GATEWAY_BREAKER_REDIS_URL = env.str("GATEWAY_BREAKER_REDIS_URL", default="")
# The fee each gateway's contract says it keeps of a payment, in basis points (60 = 0.6%, Alipay's
# and WeChat Pay's standard rate). Reconciliation books every fee a bill shows and reports a fee
# that differs from this rate; a channel not listed here has its fees booked as billed, unchecked.
GATEWAY_FEE_BPS = env.dict("GATEWAY_FEE_BPS", cast={"value": int}, default={"alipay": 60, "wechat": 60})
# --- Alerts to staff (payments/services/alerts.py): each incident told once, resolved when it clears ---
# A payout still being transferred, or a refund still processing at the gateway, this long is stuck.
ALERT_PAYOUT_STUCK_MINUTES = env.int("ALERT_PAYOUT_STUCK_MINUTES", default=60)
# WeChat Pay refunds to a bank card take up to a few working days; Alipay's are immediate.
ALERT_REFUND_STUCK_MINUTES = env.int("ALERT_REFUND_STUCK_MINUTES", default=1440)
# The oldest unsent outbox e-mail waiting this long means sending is broken.
ALERT_OUTBOX_BACKLOG_MINUTES = env.int("ALERT_OUTBOX_BACKLOG_MINUTES", default=30)
# A channel's "notifications fail" incident resolves after this long without another failure.
ALERT_NOTIFICATION_FAILED_QUIET_MINUTES = env.int("ALERT_NOTIFICATION_FAILED_QUIET_MINUTES", default=60)
# Kinds of alert recorded without telling anyone (e.g. outbox_backlog during planned mail maintenance).
ALERTS_SILENCED = env.list("ALERTS_SILENCED", default=[])
# Besides ADMINS (e-mail only) and superusers, active staff in these groups get alerts in their inbox.
ALERT_STAFF_GROUPS = env.list("ALERT_STAFF_GROUPS", default=["Finance"])
# A notification body larger than this is stored truncated and refused.
NOTIFY_MAX_BODY_BYTES = env.int("NOTIFY_MAX_BODY_BYTES", default=65536)

# Risk rules (payments.services.risk): each decision is recorded for staff.
# A payout account changed this recently holds payouts (requests and approvals are refused).
RISK_PAYOUT_ACCOUNT_COOLDOWN_HOURS = env.int("RISK_PAYOUT_ACCOUNT_COOLDOWN_HOURS", default=24)
# More orders than this in the last hour, by one learner or from one address, go to review.
RISK_ORDERS_PER_LEARNER_PER_HOUR = env.int("RISK_ORDERS_PER_LEARNER_PER_HOUR", default=10)
RISK_ORDERS_PER_IP_PER_HOUR = env.int("RISK_ORDERS_PER_IP_PER_HOUR", default=30)
# More refund requests than this in the last day, by one learner or from one address, are flagged for review.
RISK_REFUNDS_PER_LEARNER_PER_DAY = env.int("RISK_REFUNDS_PER_LEARNER_PER_DAY", default=3)
RISK_REFUNDS_PER_IP_PER_DAY = env.int("RISK_REFUNDS_PER_IP_PER_DAY", default=10)
# How long an Idempotency-Key is remembered for a money POST of the API.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)

_SANDBOX_KEYS = BASE_DIR / "payments" / "simulators" / "keys"


def _test_only_secret(name: str) -> str:
    """A committed TEST-ONLY shared secret in sandbox mode (kept in a file, so the start-up check
    recognises it wherever it is configured), nothing otherwise."""
    return (_SANDBOX_KEYS / f"TEST_ONLY_{name}.txt").read_text().strip() if PAYMENTS_SANDBOX else ""


# Our own sandbox gateway: a shared HMAC key, as a merchant would get from a gateway console.
SANDBOX_MERCHANT_ID = env.str("SANDBOX_MERCHANT_ID", default="KPSANDBOX01")
SANDBOX_MERCHANT_KEY = env.str("SANDBOX_MERCHANT_KEY", default="TEST-ONLY-sandbox-merchant-key-0123456789")
SANDBOX_SERVER_URL = env.str("SANDBOX_SERVER_URL", default="")

# Alipay (OpenAPI, RSA2). Keys are PEM text or a path to a PEM file. In sandbox mode they default
# to committed TEST-ONLY keys, which are refused when the sandbox is off.
ALIPAY_APP_ID = env.str("ALIPAY_APP_ID", default="2021000000000001" if PAYMENTS_SANDBOX else "")
ALIPAY_APP_PRIVATE_KEY = env.str(
    "ALIPAY_APP_PRIVATE_KEY",
    default=str(_SANDBOX_KEYS / "TEST_ONLY_alipay_app_private.pem") if PAYMENTS_SANDBOX else "",
)
ALIPAY_PUBLIC_KEY = env.str(
    "ALIPAY_PUBLIC_KEY",
    default=str(_SANDBOX_KEYS / "TEST_ONLY_alipay_platform_public.pem") if PAYMENTS_SANDBOX else "",
)
ALIPAY_SELLER_ID = env.str("ALIPAY_SELLER_ID", default="2088000000000001" if PAYMENTS_SANDBOX else "")
# Empty means: the local Alipay in sandbox mode, https://openapi.alipay.com/gateway.do otherwise.
ALIPAY_SERVER_URL = env.str("ALIPAY_SERVER_URL", default="")

# WeChat Pay API v2.
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="wx0000000000000001" if PAYMENTS_SANDBOX else "")
WECHAT_MCH_ID = env.str("WECHAT_MCH_ID", default="1900000001" if PAYMENTS_SANDBOX else "")
WECHAT_API_KEY = env.str("WECHAT_API_KEY", default=_test_only_secret("wechat_api_key"))
WECHAT_MCH_CERT = env.str(
    "WECHAT_MCH_CERT", default=str(_SANDBOX_KEYS / "TEST_ONLY_wechat_mch_cert.pem") if PAYMENTS_SANDBOX else ""
)
WECHAT_MCH_KEY = env.str(
    "WECHAT_MCH_KEY", default=str(_SANDBOX_KEYS / "TEST_ONLY_wechat_mch_key.pem") if PAYMENTS_SANDBOX else ""
)
# The 公众号 (official account) AppSecret of WECHAT_APP_ID: paying inside WeChat (JSAPI) learns the
# payer's openid through its web authorisation, which exchanges codes with this secret.
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default=_test_only_secret("wechat_app_secret"))
WECHAT_SIGN_TYPE = env.str("WECHAT_SIGN_TYPE", default="MD5")
# Empty means: the local WeChat Pay in sandbox mode, https://api.mch.weixin.qq.com/ otherwise.
WECHAT_API_BASE_URL = env.str("WECHAT_API_BASE_URL", default="")

# Stripe (Checkout Sessions). TEST-ONLY keys in sandbox mode; refused when the sandbox is off.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default=_test_only_secret("stripe_secret_key"))
# The signing secret of the webhook endpoint {SITE_URL}/payments/notify/stripe/ in Stripe's dashboard.
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default=_test_only_secret("stripe_webhook_secret"))
# Empty means: the local Stripe in sandbox mode, https://api.stripe.com otherwise.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")

# PayPal (REST apps at developer.paypal.com). TEST-ONLY credentials in sandbox mode.
PAYPAL_CLIENT_ID = env.str("PAYPAL_CLIENT_ID", default="TESTONLY-knowpay-paypal-client-id" if PAYMENTS_SANDBOX else "")
PAYPAL_CLIENT_SECRET = env.str("PAYPAL_CLIENT_SECRET", default=_test_only_secret("paypal_client_secret"))
# The id PayPal gave the webhook {SITE_URL}/payments/notify/paypal/; webhooks are verified against it.
PAYPAL_WEBHOOK_ID = env.str("PAYPAL_WEBHOOK_ID", default=_test_only_secret("paypal_webhook_id"))
# Empty means: the local PayPal in sandbox mode, https://api-m.paypal.com otherwise
# (https://api-m.sandbox.paypal.com for PayPal's own sandbox).
PAYPAL_API_BASE = env.str("PAYPAL_API_BASE", default="")

# UnionPay 全渠道 (ACP 5.1.0). The signing certificate is the .pfx UnionPay issues the merchant; root
# and middle are UnionPay's CA certificates its signatures are checked against. TEST-ONLY in sandbox.
UNIONPAY_MER_ID = env.str("UNIONPAY_MER_ID", default="777290058110048" if PAYMENTS_SANDBOX else "")
UNIONPAY_SIGN_CERT = env.str(
    "UNIONPAY_SIGN_CERT", default=str(_SANDBOX_KEYS / "TEST_ONLY_unionpay_merchant.pfx") if PAYMENTS_SANDBOX else ""
)
UNIONPAY_SIGN_CERT_PASSWORD = env.str("UNIONPAY_SIGN_CERT_PASSWORD", default="000000" if PAYMENTS_SANDBOX else "")
UNIONPAY_ROOT_CERT = env.str(
    "UNIONPAY_ROOT_CERT", default=str(_SANDBOX_KEYS / "TEST_ONLY_unionpay_root_cert.pem") if PAYMENTS_SANDBOX else ""
)
UNIONPAY_MIDDLE_CERT = env.str(
    "UNIONPAY_MIDDLE_CERT",
    default=str(_SANDBOX_KEYS / "TEST_ONLY_unionpay_middle_cert.pem") if PAYMENTS_SANDBOX else "",
)
# Empty means: the local UnionPay in sandbox mode, https://gateway.95516.com/gateway/api/ and
# https://filedownload.95516.com/ otherwise (gateway.test.95516.com for UnionPay's test environment).
UNIONPAY_GATEWAY_URL = env.str("UNIONPAY_GATEWAY_URL", default="")
UNIONPAY_FILE_URL = env.str("UNIONPAY_FILE_URL", default="")

# The local simulators deliver notifications from a background thread, as a real gateway would;
# tests switch this off to deliver synchronously and deterministically.
SIMULATOR_ASYNC_NOTIFY = env.bool("SIMULATOR_ASYNC_NOTIFY", default=True)
if PAYMENTS_SANDBOX:
    # The simulators resend unacknowledged notifications on their gateway's schedule.
    CELERY_BEAT_SCHEDULE["simulator-notifications"] = {
        "task": "payments.tasks.simulator_notifications_task",
        "schedule": 15.0,
    }
