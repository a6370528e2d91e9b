"""Project settings, read from the environment.

DATABASE_URL       default: SQLite file under var/
CELERY_BROKER_URL  default: kombu's filesystem transport under var/ (no server needed)
SECRET_KEY, DEBUG, ALLOWED_HOSTS
HYPERDATASETS_HTTPS  true behind HTTPS (a TLS proxy setting X-Forwarded-Proto): redirects, HSTS, secure cookies
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HYPERDATASETS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # A per-installation key kept outside the repository, made on first start.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

# Served over HTTPS, usually behind a proxy that terminates TLS and sets X-Forwarded-Proto: one switch turns
# on every transport protection (`manage.py check --deploy` is then clean; docs/security.md).
HTTPS = _env_bool("HYPERDATASETS_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HYPERDATASETS_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("HYPERDATASETS_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("HYPERDATASETS_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
    "hyperdatasets.apps.HyperdatasetsConfig",
    "annotations.apps.AnnotationsConfig",
    "dataviews.apps.DataviewsConfig",
    "clearml_api.apps.ClearmlApiConfig",
    "formats.apps.FormatsConfig",
    "webui.apps.WebuiConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hyperdatasets.content_security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hyperdatasets.api.signin_throttle.SignInThrottleMiddleware",
    "hyperdatasets.api.query_guard.QueryStringGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hyperdatasets.urls"
WSGI_APPLICATION = "hyperdatasets.wsgi.application"
ASGI_APPLICATION = "hyperdatasets.asgi.application"

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
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'hyperdatasets.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions serialise writers instead of failing with "database is locked" mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        config["CONN_MAX_AGE"] = 0
        # A file, not memory, so the Celery workers that tests start see the test database.
        config["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # JIT adds tens of milliseconds to short OLTP queries (measured in shared/notes).
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files from the apps' folders too, so pages are styled even before `collectstatic`.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

LOGIN_URL = "webui:login"
LOGIN_REDIRECT_URL = "webui:dataset-index"
LOGOUT_REDIRECT_URL = "webui:login"

# Celery: Redis in production (CELERY_BROKER_URL=redis://...), a file-system broker by default.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "out").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The broadcast exchanges (remote control, events) too: nothing written at run time lands in the tree.
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A long task killed mid-way is cancelled on a broker connection loss and redelivered, not run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("HYPERDATASETS_CELERY_VISIBILITY_TIMEOUT", 3600)),
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("HYPERDATASETS_CELERY_QUEUE", "celery")

# Source deletion jobs (hyperdatasets/services/deletion.py). A worker started with -B (or a separate
# `celery beat`) runs the sweeper that re-queues jobs whose worker died.
HYPERDATASETS_DELETE_IN_FLIGHT = int(os.environ.get("HYPERDATASETS_DELETE_IN_FLIGHT", 4))
# A round keeps IN_FLIGHT batches going for about this long, then commits its progress (at least one batch).
HYPERDATASETS_DELETE_ROUND_SECONDS = float(os.environ.get("HYPERDATASETS_DELETE_ROUND_SECONDS", 1.0))
HYPERDATASETS_DELETE_BATCH_LIMIT = int(os.environ.get("HYPERDATASETS_DELETE_BATCH_LIMIT", 0))  # 0: provider max
HYPERDATASETS_DELETE_MAX_ATTEMPTS = int(os.environ.get("HYPERDATASETS_DELETE_MAX_ATTEMPTS", 6))
HYPERDATASETS_DELETE_RETRY_BASE_SECONDS = float(os.environ.get("HYPERDATASETS_DELETE_RETRY_BASE_SECONDS", 0.5))
HYPERDATASETS_DELETE_RETRY_MAX_SECONDS = float(os.environ.get("HYPERDATASETS_DELETE_RETRY_MAX_SECONDS", 30))
HYPERDATASETS_DELETE_LEASE_SECONDS = int(os.environ.get("HYPERDATASETS_DELETE_LEASE_SECONDS", 300))
HYPERDATASETS_DELETE_MAX_RUNS = int(os.environ.get("HYPERDATASETS_DELETE_MAX_RUNS", 10))
# Dataview exports (dataviews/exports.py) and annotation imports and exports (formats/jobs.py): a run's lease,
# the runs allowed, how long a finished job (and its file) is kept.
HYPERDATASETS_EXPORT_LEASE_SECONDS = int(os.environ.get("HYPERDATASETS_EXPORT_LEASE_SECONDS", 300))
HYPERDATASETS_EXPORT_MAX_RUNS = int(os.environ.get("HYPERDATASETS_EXPORT_MAX_RUNS", 3))
HYPERDATASETS_EXPORT_KEPT_DAYS = float(os.environ.get("HYPERDATASETS_EXPORT_KEPT_DAYS", 7))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-deletion-jobs": {
        "task": "hyperdatasets.sweep_deletion_jobs",
        "schedule": float(os.environ.get("HYPERDATASETS_DELETE_SWEEP_SECONDS", 60)),
        # A sweep queued behind a long job is dropped once the next one is due.
        "options": {"expires": float(os.environ.get("HYPERDATASETS_DELETE_SWEEP_SECONDS", 60))},
    },
    "sweep-dataview-exports": {
        "task": "hyperdatasets.sweep_dataview_exports",
        "schedule": float(os.environ.get("HYPERDATASETS_EXPORT_SWEEP_SECONDS", 60)),
        "options": {"expires": float(os.environ.get("HYPERDATASETS_EXPORT_SWEEP_SECONDS", 60))},
    },
    "sweep-annotation-jobs": {
        "task": "hyperdatasets.sweep_annotation_jobs",
        "schedule": float(os.environ.get("HYPERDATASETS_EXPORT_SWEEP_SECONDS", 60)),
        "options": {"expires": float(os.environ.get("HYPERDATASETS_EXPORT_SWEEP_SECONDS", 60))},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The Azure SDK logs every request and response at INFO.
    "loggers": {"azure.core.pipeline.policies.http_logging_policy": {"level": "WARNING"}},
}

# Media storage: a local folder by default; HYPERDATASETS_MEDIA_STORAGE picks another django-storages backend:
# - s3: AWS_STORAGE_BUCKET_NAME, and AWS_S3_ENDPOINT_URL for an S3-compatible server;
# - gcs: GS_BUCKET_NAME (credentials from GOOGLE_APPLICATION_CREDENTIALS or the environment's default;
#   STORAGE_EMULATOR_HOST for an emulator);
# - azure: AZURE_CONTAINER with AZURE_CONNECTION_STRING, or AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY.
# Each takes a key prefix: AWS_LOCATION, GS_LOCATION, AZURE_LOCATION.
HYPERDATASETS_UPLOAD_MAX_BYTES = int(os.environ.get("HYPERDATASETS_UPLOAD_MAX_BYTES", 512 * 1024 * 1024))
_MEDIA_BACKENDS = {
    "local": "django.core.files.storage.FileSystemStorage",
    "s3": "storages.backends.s3.S3Storage",
    "gcs": "storages.backends.gcloud.GoogleCloudStorage",
    "azure": "storages.backends.azure_storage.AzureStorage",
}
STORAGES = {
    "default": {"BACKEND": _MEDIA_BACKENDS[os.environ.get("HYPERDATASETS_MEDIA_STORAGE", "local")]},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Pages show a dataset's own uploads, objects in the storage locations registered in the admin, and local
# files under these folders (os.pathsep-separated, for every project); links expire after this many seconds.
# See docs/security.md.
HYPERDATASETS_LOCAL_ROOTS = [p for p in os.environ.get("HYPERDATASETS_LOCAL_ROOTS", "").split(os.pathsep) if p]
HYPERDATASETS_SIGNED_URL_SECONDS = int(os.environ.get("HYPERDATASETS_SIGNED_URL_SECONDS", 900))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
AWS_LOCATION = os.environ.get("AWS_LOCATION", "")
GS_BUCKET_NAME = os.environ.get("GS_BUCKET_NAME")
GS_PROJECT_ID = os.environ.get("GS_PROJECT_ID")
GS_LOCATION = os.environ.get("GS_LOCATION", "")
AZURE_CONTAINER = os.environ.get("AZURE_CONTAINER")
AZURE_CONNECTION_STRING = os.environ.get("AZURE_CONNECTION_STRING")
AZURE_ACCOUNT_NAME = os.environ.get("AZURE_ACCOUNT_NAME")
AZURE_ACCOUNT_KEY = os.environ.get("AZURE_ACCOUNT_KEY")
AZURE_LOCATION = os.environ.get("AZURE_LOCATION", "")
# boto3 asks the EC2 instance metadata endpoint for credentials only where this is set to false.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
# A stored upload is never overwritten (frames of Published versions point at it): a name taken by two
# uploads at once gets a new one, as on local disk (services/uploads.py).
AWS_S3_FILE_OVERWRITE = False
GS_FILE_OVERWRITE = False
AZURE_OVERWRITE_FILES = False

# Request sizes (docs/security.md): small bodies everywhere; bulk frame endpoints read their own (gzip
# allowed) up to this, decoded; a declared Content-Length over the limit is refused before reading. Parsed,
# a body takes up to ten times its size in memory: 16 MB bounds a worker's share.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
HYPERDATASETS_FRAMES_MAX_BYTES = int(os.environ.get("HYPERDATASETS_FRAMES_MAX_BYTES", 16 * 1024 * 1024))
HYPERDATASETS_SIGNIN_RATE = os.environ.get("HYPERDATASETS_SIGNIN_RATE", "10/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hyperdatasets.api.authentication.FastTokenAuthentication",  # first: unauthenticated calls answer 401
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["hyperdatasets.api.bodies.OrjsonRenderer"],
    # JSON bodies only; the uploads endpoint alone takes multipart (its own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["hyperdatasets.api.bodies.OrjsonParser"],
    "EXCEPTION_HANDLER": "hyperdatasets.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("HYPERDATASETS_TOKEN_RATE", "10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hyperdatasets API",
    "DESCRIPTION": "Versioned computer-vision datasets: projects, datasets, versions, frames and uploads.",
    "VERSION": "1.0.0",
    # 3.1: full JSON Schema, so metadata's rule (no NUL in keys either: propertyNames) can be stated.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is the serializer as it is (its optional fields are optional already), not a copy with
    # every field optional: the bulk frame update needs its `frames`.
    "COMPONENT_SPLIT_PATCH": False,
    # Several answers have a "status": each set of choices gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "hyperdatasets.models.versions.VersionStatus",
        "DataviewStatusEnum": ["draft", "published"],
        # Lists of values: the schema's enums are hashed as (value, value) pairs, so a TextChoices' labels
        # would not match them.
        "RunStatusEnum": ["queued", "running", "succeeded", "failed"],  # dataview exports, annotation jobs
        "ExportFormatEnum": ["json", "jsonl"],
        "AnnotationFormatEnum": ["coco", "yolo", "voc", "cvat", "datumaro"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hyperdatasets.api.schema.add_error_responses",
        "hyperdatasets.api.schema.add_body_rules",
    ],
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
