"""Settings, read from the environment.

With neither DATABASE_URL nor REDIS_URL set this is the embedded default: a SQLite file, the in-memory
channel layer and Celery tasks run inline, so `make run` needs no service. Production sets both.
"""
import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin.apps.SimpleAdminConfig",  # no autodiscover: leaflet.admin needs GDAL (see urls)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "leaflet",
    "axes",
    "csp",
    "core",
    "grids",
    "credit",
    "enforcement",
    "inspections",
    "cases",
    "command_center",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Above the sync-only middleware below, so it runs in sync mode under ASGI too (see core.login_guard).
    "axes.middleware.AxesMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.BusyDatabaseMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.roles",
                "grids.context_processors.accounts_menu",
                "command_center.context_processors.review_count",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # No persistent connections by default: under ASGI (daphne/uvicorn) every request runs its sync code
    # in a thread of its own, so a kept connection is never reused and piles up until PostgreSQL answers
    # "too many clients" (bench/intake.py saw 300 of 400 burst requests fail so). Django's advice for ASGI.
    # Celery workers (long-lived threads) may set DB_CONN_MAX_AGE=60.
    DATABASES = {"default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")), conn_health_checks=True)}
else:
    # SQLite serves the embedded default only with WAL, IMMEDIATE transactions and a busy timeout,
    # or the SLA ticker and web requests meet "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and channel layer ---------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's layer plus a batched group send for the live push (core/channel_layer.py)
            "BACKEND": "core.channel_layer.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # A slow dashboard must not lose the others' messages: a larger per-channel buffer,
                # and a missed message is recovered by the snapshot resync anyway.
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Results are kept only for tasks that ask (ignore_result=False, e.g. core.tasks.ping), for an hour.
    CELERY_RESULT_BACKEND = REDIS_URL
    # One result backend per process, not per thread: under ASGI every request runs in a thread of its
    # own, and building a backend looks up Celery's entry points on disk (11% of an intake's time,
    # bench/intake.py under py-spy). redis-py's connection pool is thread-safe; results are only
    # waited for by tests and `celery call`.
    CELERY_RESULT_BACKEND_THREAD_SAFE = True
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Where a role lands after signing in when no ?next= says otherwise (core.views.landing_url): officers
# work from the phone page, the other roles from the desktop.
LOGIN_REDIRECT_BY_ROLE = {"officer": "mobile"}
LOGOUT_REDIRECT_URL = "login"
# Database sessions that ignore forged keys (a NUL in the cookie would be a 500 on PostgreSQL).
SESSION_ENGINE = "core.sessions"

# --- I18n: Chinese by default, English through the language switch ----------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: everything vendored, nothing from a CDN ------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Event photos (command_center.photos): JPEG/PNG/WebP by content, size and count limits. Served only
# through the API view that checks the asker's areas; never publish MEDIA_ROOT on a web server.
EVENT_PHOTO_MAX_BYTES = int(os.environ.get("EVENT_PHOTO_MAX_BYTES", 8 * 1024 * 1024))
EVENT_PHOTO_MAX_PER_EVENT = int(os.environ.get("EVENT_PHOTO_MAX_PER_EVENT", "12"))
EVENT_PHOTO_MAX_PIXELS = 50_000_000
# JSON bodies of the API and websocket frames (core.safejson): bigger → 413, nested deeper → 400.
API_JSON_MAX_BYTES = int(os.environ.get("API_JSON_MAX_BYTES", 1024 * 1024))
API_JSON_MAX_DEPTH = int(os.environ.get("API_JSON_MAX_DEPTH", "64"))
# Webhook URLs may not point at this machine or the intranet (core.egress) unless named here
# (comma-separated: host names / IP literals; CIDRs, e.g. "10.20.0.0/16"). A bad CIDR stops the start.
WEBHOOK_ALLOWED_HOSTS = [h.strip().lower() for h in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()]
WEBHOOK_ALLOWED_NETWORKS = [str(ipaddress.ip_network(n.strip(), strict=False))
                            for n in os.environ.get("WEBHOOK_ALLOWED_NETWORKS", "").split(",") if n.strip()]

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # DRF's JSON answers written by orjson (core.api.renderers); the browsable API as DRF's default.
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's TokenAuthentication with the token's row kept per process (core.refcache)
        "core.api.authentication.CachedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",  # declares the error answers (core.api.errors)
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # JSON bodies are size- and depth-capped (core.api.parsers); forms and multipart for the upload endpoints.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The token endpoint is throttled per client address (and guarded by axes, see "Security").
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("ANON_THROTTLE_RATE", "60/min")},
    # Set below from TRUSTED_PROXY_COUNT: without it DRF takes the client's address from X-Forwarded-For as sent.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "区综合行政执法指挥中心 API",
    "DESCRIPTION": "District comprehensive-enforcement command center: grids, catalog, credit, events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No "valid" badge fetched from validator.swagger.io: the docs must work on an offline intranet.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Schema quality is not a deployment setting: keep `check --deploy` about deployment (generating the
    # schema there also queries the database). `manage.py spectacular --validate` reports schema warnings.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "command_center.choices.Status",
        "EventSourceEnum": "command_center.choices.Source",
        "EventActionEnum": "command_center.choices.Action",
        "EventPhotoKindEnum": "command_center.choices.PhotoKind",
        "MatterKindEnum": "enforcement.choices.MatterKind",
        "MatterStatusEnum": "enforcement.choices.MatterStatus",
        "CatalogVersionStatusEnum": "enforcement.choices.VersionStatus",
        "ScenarioStatusEnum": "enforcement.choices.ScenarioStatus",
        "ScenarioItemKindEnum": "enforcement.choices.ScenarioItemKind",
        "SeverityEnum": "enforcement.choices.Severity",
        "CreditColorEnum": "credit.choices.Color",
        "CaseStatusEnum": "cases.choices.Status",
        "CaseEvidenceKindEnum": "cases.choices.EvidenceKind",
        "CaseAppealKindEnum": "cases.choices.AppealKind",
        "CaseTransferTargetEnum": "cases.choices.TransferTarget",
        "CasePartyKindEnum": "cases.choices.PartyKind",
        "CaseProcedureEnum": "cases.choices.Procedure",
        "CaseOutcomeEnum": "cases.choices.Outcome",
        "CaseLenientGroundEnum": "cases.choices.LenientGround",
        "CaseLegalOpinionEnum": "cases.choices.LegalOpinion",
        "InspectionVisitKindEnum": "inspections.choices.VisitKind",
        "InspectionResultEnum": "inspections.choices.Result",
        "InspectionRectificationEnum": "inspections.choices.RectificationKind",
        "InspectionOneOffReasonEnum": "inspections.choices.OneOffReason",
        "InspectionPlanStatusEnum": "inspections.choices.PlanStatus",
        "InspectionVisitStatusEnum": "inspections.choices.VisitStatus",
    },
}

# --- Leaflet (django-leaflet's bundled Leaflet; tiles from a setting, the map works without) --
# MAP_TILE_URL: the government network's intranet tile service, an XYZ template such as
# "https://tiles.gov.intranet/{z}/{x}/{y}.png" (its host is added to the CSP's img-src). When set, the
# maps (/map/, /command/, /command/screen/) draw those tiles; when empty (an offline desk) they draw the
# offline vector base map instead (grids.basemap: the demo district's roads, rivers, parks, landmarks).
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (30.30, 120.15),
    "DEFAULT_ZOOM": 13,
    "TILES": [("底图", MAP_TILE_URL, {"attribution": ""})] if MAP_TILE_URL else [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# --- Security ----------------------------------------------------------------------------------
PRODUCTION = bool(DATABASE_URL or REDIS_URL)
# Where the embedded default keeps what it makes for itself (its generated SECRET_KEY).
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
# Old public default: refused even if someone sets it explicitly.
_PUBLIC_SECRET_KEYS = {"embedded-default-not-for-production"}


def _embedded_secret_key(path: Path) -> str:
    """A random key made on the first start and kept (mode 0600) for later ones, so sessions survive a
    restart. Written to a temporary file and linked into place: two processes starting at once agree."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        tmp.unlink()
    return path.read_text().strip()


# Signs sessions, CSRF and password-reset tokens, and keys the green spot-check draw (credit/effort.py):
# production must have its own secret one.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if SECRET_KEY in _PUBLIC_SECRET_KEYS or (PRODUCTION and not SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is the old public default). With DATABASE_URL or REDIS_URL set this is a "
        "production configuration and needs its own secret key: export SECRET_KEY=\"$(python3 -c "
        "'import secrets; print(secrets.token_urlsafe(50))')\" and keep it the same for every process "
        "(web, Celery workers, beat) and across restarts.")
if not SECRET_KEY:
    SECRET_KEY = _embedded_secret_key(Path(os.environ.get("SECRET_KEY_FILE", DATA_DIR / "secret_key")))

# Client addresses. Behind N reverse proxies that each append to X-Forwarded-For, the client is the N-th
# address from the right; anything further left was written by the client. 0 (the default): the header
# is ignored and the address is the TCP peer (REMOTE_ADDR; uvicorn --proxy-headers already rewrites it
# for the proxies it trusts through FORWARDED_ALLOW_IPS). One rule for the login lock-out, the API
# throttle and the audit log (core.login_guard.client_ip, DRF's NUM_PROXIES).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# Password guessing: django-axes (over django-ratelimit) because it counts *failed logins* wherever they
# come from (login page, admin, token endpoint: everything that calls authenticate() with the request),
# locks per account and per address with a cool-off, keeps its counts in the database (shared by every
# process, nothing extra to run) and gives handlers and signals for the audit log. django-ratelimit limits
# requests per view: each login view would need its own decorator and the lock, the failure counting and
# the message would be ours to write. Wiring and the audit records: core/login_guard.py.
AUTHENTICATION_BACKENDS = [
    "core.login_guard.LockoutBackend",  # refuses a locked account/address before the password is checked
    # ModelBackend whose get_user (every request with a session) reads the user's row kept per process
    # (core.refcache). Sessions signed in through django.contrib.auth.backends.ModelBackend sign in again.
    "core.authentication.CachedModelBackend",
]
AXES_HANDLER = "core.login_guard.AuditedLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
# An account is locked after this many failed logins within the cool-off, from any addresses...
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
# ...an address after this many, over any accounts (higher: an office shares one NAT address).
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "20"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
# Attempts during a lock are refused and audited but do not extend it: "try again in 15 minutes" holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the failures: axes would also wipe its address's count (an attacker's own good
# login would reset their count against someone else's account).
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "core.login_guard.client_ip"
AXES_LOCKOUT_CALLABLE = "core.login_guard.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429

# HTTPS. Off by default (an intranet may serve plain HTTP); production behind TLS sets them (README).
# The proxy's header saying the original request was HTTPS, as "HTTP_X_FORWARDED_PROTO,https".
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = tuple(os.environ["SECURE_PROXY_SSL_HEADER"].split(",", 1))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))  # e.g. 31536000 once HTTPS works
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")


def _tile_source(url: str) -> list[str]:
    """The CSP source of the map tiles' server ("{s}" subdomains become a wildcard)."""
    parts = urlsplit(url.replace("{s}", "*"))
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


def _websocket_sources(hosts) -> list[str]:
    if "*" in hosts:
        return ["ws:", "wss:"]
    names = {("*" + h) if h.startswith(".") else h for h in hosts}
    return sorted(f"{scheme}://{name}:*" for name in names for scheme in ("ws", "wss"))


# Content Security Policy (django-csp): every asset is local, so only this site's own scripts, styles,
# images and connections; page scripts inline in a template carry the request's nonce. The API docs
# relax style-src for Swagger UI (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *_tile_source(MAP_TILE_URL)],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF, *_websocket_sources(ALLOWED_HOSTS)],  # the live push's websockets
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- PDFs (core.pdf_fonts) ------------------------------------------------------------------------
# The TrueType CJK font embedded in the case documents and the monthly report: the first of these files that
# loads (PDF_CJK_FONT_PATH, paths separated by ":"); TrueType only (.ttf/.ttc), not CFF OpenType such as
# Noto CJK. None found: reportlab's STSong-Light, which embeds no glyphs, with a logged warning.
PDF_CJK_FONT_PATH = [p for p in os.environ.get("PDF_CJK_FONT_PATH", ":".join((
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",      # Debian fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",    # Debian fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",        # Debian fonts-arphic-uming
))).split(":") if p]

# --- Domain settings --------------------------------------------------------------------------
# Where one-click notices to subjects go; an SMS gateway plugs in here.
NOTICE_SENDER = os.environ.get("NOTICE_SENDER", "grids.services.OutboxSender")
# A boundary may stick out of its parent by this share of its own area (digitising noise).
AREA_CONTAINMENT_TOLERANCE = float(os.environ.get("AREA_CONTAINMENT_TOLERANCE", "0.01"))
# How long an in-process spatial index trusts itself before asking the database for changes.
AREA_INDEX_CHECK_SECONDS = float(os.environ.get("AREA_INDEX_CHECK_SECONDS", "2"))
# The same for the per-process copies of SLA policies, webhook subscriptions, users' roles, areas and API
# tokens (core.refcache): a change made by another process is seen within this many seconds.
REFERENCE_CACHE_CHECK_SECONDS = float(os.environ.get("REFERENCE_CACHE_CHECK_SECONDS", AREA_INDEX_CHECK_SECONDS))
# The same for the catalog's routing snapshot (enforcement.routing), read on every intake: declared here, not
# left to a getattr default (a missing setting costs an AttributeError per read).
CATALOG_CACHE_CHECK_SECONDS = float(os.environ.get("CATALOG_CACHE_CHECK_SECONDS", AREA_INDEX_CHECK_SECONDS))
# Position pings further in the future than this are refused (clock skew on phones).
POSITION_MAX_FUTURE_SECONDS = 120
# ... and pings older than this (a replayed or invented track would steer dispatch).
POSITION_MAX_AGE_SECONDS = int(os.environ.get("POSITION_MAX_AGE_SECONDS", str(24 * 3600)))
# Positions must lie within the district's extent (its root area's bounding box) plus this margin.
DISTRICT_EXTENT_MARGIN_M = float(os.environ.get("DISTRICT_EXTENT_MARGIN_M", "5000"))
# Sensor readings (credit): the plausible range of each metric's value ("*": metrics not listed; fume
# and dust in mg/m³, noise in dB(A)), and the oldest reading accepted (a monitor's buffered backlog).
CREDIT_SENSOR_VALUE_RANGES = {"fume": (0.0, 100.0), "dust": (0.0, 50.0), "noise": (0.0, 200.0), "*": (0.0, 1_000_000.0)}
CREDIT_SENSOR_MAX_AGE_DAYS = int(os.environ.get("CREDIT_SENSOR_MAX_AGE_DAYS", "30"))
IMPORT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024

# --- Command center -------------------------------------------------------------------------
# The SLA sweep: Celery beat every second in production; the embedded default runs the same function
# on an in-process ticker started by the ASGI app ("auto": only without REDIS_URL; "on"/"off" force it).
CELERY_BEAT_SCHEDULE = {
    "command-center-sla-sweep": {
        "task": "command_center.tasks.sweep",
        "schedule": 1.0,
        "options": {"expires": 5},  # a backlog of stale sweeps is useless: the next one catches up
    },
    # Failed webhook deliveries due for another attempt (command_center.webhooks.retry_due).
    "command-center-retry-webhooks": {
        "task": "command_center.tasks.retry_due_webhooks",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # The outbox's safety net: follow-ups (dispatch, push, webhooks, rescoring) a dead process left undone.
    # Cases: deadlines due soon or past (reminders to the team leader) and decisions due for disclosure.
    "cases-check-deadlines": {
        "task": "cases.tasks.check_deadlines",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Asynchronous intake (Prefer: respond-async): each run processes submissions for up to
    # EVENT_SUBMISSION_WORK_SECONDS; more worker processes (or `manage.py process_event_submissions`) drain faster.
    "command-center-event-submissions": {
        "task": "command_center.tasks.process_event_submissions",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    "core-outbox-drain": {
        "task": "core.tasks.drain_outbox",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    # Inspections: deadline rectifications past their comply-by date (inspections.services.sweep_overdue).
    "inspections-sweep-overdue": {
        "task": "inspections.tasks.sweep_overdue",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Credit: the nightly full rescore applies time decay and ends expired overrides
    # (credit.services.rescoring.rescore_all).
    # Hot-area warnings (analytics.services.check_hotspots): every few minutes.
    "analytics-hotspots": {
        "task": "analytics.tasks.check_hotspots",
        "schedule": float(os.environ.get("ANALYTICS_HOTSPOT_CHECK_SECONDS", "300")),
        "options": {"expires": 300},
    },
    # Cached figures (analytics.caching.refresh_figures): today's and the most opened ones recomputed.
    "analytics-refresh-figures": {
        "task": "analytics.tasks.refresh_figures",
        "schedule": float(os.environ.get("ANALYTICS_CACHE_REFRESH_SECONDS", "60")),
        "options": {"expires": 60},
    },
    "credit-nightly-rescore": {
        "task": "credit.tasks.rescore_all",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
}
# Hot-area warnings (analytics.detector): the count of one problem type in one grid over the last window
# against that grid's own previous windows, by the exact conditional test of two Poisson rates.
ANALYTICS_HOTSPOT_CHECK_SECONDS = float(os.environ.get("ANALYTICS_HOTSPOT_CHECK_SECONDS", "300"))
ANALYTICS_HOTSPOT_WINDOW_HOURS = float(os.environ.get("ANALYTICS_HOTSPOT_WINDOW_HOURS", str(24 * 7)))
ANALYTICS_HOTSPOT_BASELINE_WINDOWS = int(os.environ.get("ANALYTICS_HOTSPOT_BASELINE_WINDOWS", "8"))
ANALYTICS_HOTSPOT_ALPHA = float(os.environ.get("ANALYTICS_HOTSPOT_ALPHA", "0.0001"))
ANALYTICS_HOTSPOT_MIN_COUNT = int(os.environ.get("ANALYTICS_HOTSPOT_MIN_COUNT", "3"))
# Cached figures (analytics.caching): a period reaching today is served from the cache at most this long
# (the refresh interval, so today's counts are never staler), a finished one this long; the refresh runs
# every ANALYTICS_CACHE_REFRESH_SECONDS (beat, or the embedded ticker).
ANALYTICS_CACHE_TODAY_SECONDS = float(os.environ.get("ANALYTICS_CACHE_TODAY_SECONDS", "60"))
ANALYTICS_CACHE_SECONDS = float(os.environ.get("ANALYTICS_CACHE_SECONDS", "3600"))
ANALYTICS_CACHE_REFRESH_SECONDS = float(os.environ.get("ANALYTICS_CACHE_REFRESH_SECONDS", "60"))

# Durable follow-ups (core.outbox): written with the change, run right after its commit; the drain (beat
# above, or the embedded ticker) runs what is still undone this many seconds after the commit, and a row
# claimed by a runner that died once its claim is this old; failures retry after these waits (the last
# repeats); done rows are deleted after OUTBOX_KEEP_DAYS.
OUTBOX_DRAIN_AFTER_SECONDS = float(os.environ.get("OUTBOX_DRAIN_AFTER_SECONDS", "2"))
OUTBOX_CLAIM_SECONDS = float(os.environ.get("OUTBOX_CLAIM_SECONDS", "60"))
OUTBOX_BACKOFF_SECONDS = (5, 30, 120, 600, 3600)
OUTBOX_KEEP_DAYS = float(os.environ.get("OUTBOX_KEEP_DAYS", "7"))
# Each process sends its commits' deferred rows to the worker from one sender thread (core.outbox): at most
# this many ids wait for it (past that they are left to the drain), at most this many per message.
OUTBOX_SEND_QUEUE_MAX = int(os.environ.get("OUTBOX_SEND_QUEUE_MAX", "10000"))
OUTBOX_SEND_BATCH_MAX = 500
# ... and sends at most one message per this many seconds (a commit after a quiet spell goes at once): the
# automatic dispatch waits at most this much longer, against minutes of SLA, and a busy process sends a
# message per 50 ms instead of one per commit.
OUTBOX_SEND_INTERVAL_SECONDS = float(os.environ.get("OUTBOX_SEND_INTERVAL_SECONDS", "0.05"))
# Asynchronous intake (command_center.submissions): past this many pending submissions the 202 path answers
# 503 with Retry-After (seconds); a bulk POST takes at most EVENT_SUBMISSION_BULK_MAX reports.
EVENT_SUBMISSION_MAX_BACKLOG = int(os.environ.get("EVENT_SUBMISSION_MAX_BACKLOG", "10000"))
EVENT_SUBMISSION_RETRY_AFTER_SECONDS = int(os.environ.get("EVENT_SUBMISSION_RETRY_AFTER_SECONDS", "5"))
EVENT_SUBMISSION_BULK_MAX = 500
EVENT_SUBMISSION_WORK_SECONDS = float(os.environ.get("EVENT_SUBMISSION_WORK_SECONDS", "0.9"))
COMMAND_CENTER_TICKER = os.environ.get("SLA_TICKER", "auto")
COMMAND_CENTER_TICK_SECONDS = float(os.environ.get("SLA_TICK_SECONDS", "1"))
# The embedded demo's officers keep walking and reporting positions (command_center.walk.DemoWalk), each
# once a lap: `make run` turns it on (DEMO_SIMULATION=0 make run turns it off); off in tests and production.
DEMO_SIMULATION = env_bool("DEMO_SIMULATION", False)
DEMO_SIMULATION_TICK_SECONDS = float(os.environ.get("DEMO_SIMULATION_TICK_SECONDS", "5"))
DEMO_SIMULATION_LAP_SECONDS = float(os.environ.get("DEMO_SIMULATION_LAP_SECONDS", "60"))
COMMAND_CENTER_SWEEP_BATCH = 500
# A problem type "about a subject" picks the nearest active subject within this many metres.
COMMAND_CENTER_SUBJECT_RADIUS_M = 30
# A report naming a subject must be this close to it (metres): further away the id is a mistake.
COMMAND_CENTER_SUBJECT_MAX_DISTANCE_M = int(os.environ.get("COMMAND_CENTER_SUBJECT_MAX_DISTANCE_M", "500"))
# Possible duplicates: same problem type within this distance and time.
COMMAND_CENTER_DUPLICATE_RADIUS_M = 50
COMMAND_CENTER_DUPLICATE_MINUTES = 30
# The lowest officer rank (grids.choices.Rank: 1 member, 2 squad leader, 3 deputy captain, 4 captain)
# an event of each severity needs.
COMMAND_CENTER_SEVERITY_MIN_RANK = {"blue": 1, "yellow": 1, "orange": 2, "red": 3}
# Dispatch ranking only trusts a position this recent.
COMMAND_CENTER_POSITION_FRESH_SECONDS = int(os.environ.get("POSITION_FRESH_SECONDS", "300"))

# --- Cases (执法办案) ----------------------------------------------------------------------------
# Time limits per step in days (the law's defaults: a decision within 90 days of filing, service of the
# decision within 7 days); a step's deadline is shown as due soon CASES_REMIND_BEFORE_HOURS before it.
CASES_STEP_DAYS = {
    "filed": 7, "investigation": 30, "review": 3, "approved": 5, "notified": 10, "legal_review": 7,
    "decided": 7, "served": 30, "executed": 15,
}
CASES_DECISION_DAYS = int(os.environ.get("CASES_DECISION_DAYS", "90"))
CASES_REMIND_BEFORE_HOURS = 24
# Legal review (法制审核) when a matter's proposed fine is over this (yuan) and the matter sets none.
CASES_LEGAL_REVIEW_FINE_OVER = 50000
# A hearing (听证) may be asked for at or above these fines (yuan): a person, an organisation.
CASES_HEARING_FINE_PERSON = 10000
CASES_HEARING_FINE_BUSINESS = 100000
# The simple procedure (简易程序): a warning or a fine up to these amounts (yuan).
CASES_SIMPLE_FINE_PERSON = 200
CASES_SIMPLE_FINE_BUSINESS = 3000
# Disclosure (执法公示): published within this many working days of the decision, kept this many days.
CASES_DISCLOSURE_WORKING_DAYS = 7
CASES_DISCLOSURE_KEEP_DAYS = 365 * 3
# An appeal's time limit (days) and the largest evidence file (bytes).
CASES_APPEAL_DAYS = 60
CASES_EVIDENCE_MAX_BYTES = 50 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes: a warning per failed login and lock-out is enough (its info lines come with every request).
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": os.environ.get("AXES_LOG_LEVEL", "WARNING")}},
}

# --- Inspections ----------------------------------------------------------------------------
# Visits per officer and working day the monthly planner schedules (and plan edits allow).
INSPECTIONS_DAILY_CAP = int(os.environ.get("INSPECTIONS_DAILY_CAP", "8"))
