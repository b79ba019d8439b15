"""yiwang settings: read from the environment, closed by default.

Every variable is listed in docs/configuration.md. Development defaults apply only when
YIWANG_DEV=1 is set explicitly (``make run`` and the test suite set it).
"""

import base64
import hashlib
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Mode ------------------------------------------------------------------------------
DEV = env_bool("YIWANG_DEV")
DEBUG = env_bool("DEBUG", default=False) and DEV
VAR_DIR = Path(env("YIWANG_VAR_DIR", str(BASE_DIR / "var")))

# --- Secrets ---------------------------------------------------------------------------
_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET if DEV else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is required unless YIWANG_DEV=1 (see docs/configuration.md).")


def _decode_key(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be base64 of 32 random bytes.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be base64 of exactly 32 bytes.")
    return key


def _dev_key(purpose: bytes) -> bytes:
    return hashlib.sha256(b"yiwang-dev-key:" + purpose).digest()


# The key id FIELD_ENCRYPTION_KEY has in the key ring (deployments from before key ids had only it).
SINGLE_FIELD_KEY_ID = "0"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


def _field_key_ring() -> tuple[tuple[str, bytes], ...]:
    """FIELD_ENCRYPTION_KEYS ("id:base64,id:base64", the first is current, the others retired and
    read only), then FIELD_ENCRYPTION_KEY (id "0": current when it is the only key, else retired)."""
    ring: list[tuple[str, bytes]] = []
    for item in (env("FIELD_ENCRYPTION_KEYS", "") or "").split(","):
        if not item.strip():
            continue
        kid, sep, raw = item.strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(kid):
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS must be 'id:base64,id:base64' with ids of letters, digits, '.', '_' "
                "or '-' (at most 32; see docs/configuration.md)."
            )
        ring.append((kid, _decode_key(f"FIELD_ENCRYPTION_KEYS ({kid})", raw)))
    single = env("FIELD_ENCRYPTION_KEY")
    if single:
        ring.append((SINGLE_FIELD_KEY_ID, _decode_key("FIELD_ENCRYPTION_KEY", single)))
    elif DEV and SINGLE_FIELD_KEY_ID not in dict(ring):
        ring.append((SINGLE_FIELD_KEY_ID, _dev_key(b"field-encryption")))
    if not ring:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEY) is required unless YIWANG_DEV=1 "
            "(see docs/configuration.md)."
        )
    ids = [kid for kid, _key in ring]
    for kid in ids:
        if ids.count(kid) > 1:
            raise ImproperlyConfigured(
                f"Field encryption key id {kid!r} is given twice; each key needs its own id."
            )
    if len({key for _kid, key in ring}) < len(ring):
        raise ImproperlyConfigured(
            "The same field encryption key is given under two ids; give each key once."
        )
    return tuple(ring)


def _blind_index_key(ring: tuple[tuple[str, bytes], ...]) -> bytes:
    """BLIND_INDEX_KEY, or (as before key ids) the key derived from FIELD_ENCRYPTION_KEY. Rotating the
    encryption key must leave every blind index as it is, so it is never derived from the current key."""
    raw = env("BLIND_INDEX_KEY")
    if raw:
        return _decode_key("BLIND_INDEX_KEY", raw)
    single = dict(ring).get(SINGLE_FIELD_KEY_ID)
    if single is None:
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEY is required when FIELD_ENCRYPTION_KEY is not set (see docs/operations.md)."
        )
    return hashlib.sha256(b"yiwang-blind-index:" + single).digest()


# Encrypt personal identifiers at rest (AES-256-GCM): the first key encrypts, every key decrypts the
# values stored under its id (see yiwang/lib/crypto.py and `yiwang rotate-keys`).
FIELD_ENCRYPTION_KEYS = _field_key_ring()
# Keys the blind index of identity numbers (HMAC-SHA256); changing it needs `yiwang rotate-keys --reindex`.
BLIND_INDEX_KEY = _blind_index_key(FIELD_ENCRYPTION_KEYS)
# Ed25519 key that signs audit tree heads (PEM, PKCS#8). Created on first use in development.
AUDIT_SIGNING_KEY_FILE = Path(env("AUDIT_SIGNING_KEY_FILE", str(VAR_DIR / "audit_ed25519.pem")))

# --- Hosts and HTTP --------------------------------------------------------------------
ALLOWED_HOSTS = (env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEV else "") or "").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEV)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEV)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEV else "31536000") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEV
SECURE_HSTS_PRELOAD = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8

# --- Applications ----------------------------------------------------------------------
INSTALLED_APPS = [
    "yiwang.identity.adminconfig.PlatformAdminConfig",  # django.contrib.admin behind the one door
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "template_partials",
    "csp",
    "oauth2_provider",  # the OpenID Connect provider (before identity, whose admin replaces its pages)
    "yiwang.core",
    "yiwang.audit",
    "yiwang.identity",
    "yiwang.catalog",
    "yiwang.licences",
    "yiwang.exchange",
    "yiwang.applications",
    "yiwang.opendata",  # the open data portal
    "yiwang.supervision",  # 互联网+监管: market entities, supervision items, 双随机 draws
    "yiwang.feedback",  # 12345 complaints, suggestions, consultations; Open311
    "django_tasks",
    "django_tasks_db",
    "ninja",  # only for the Swagger UI files it ships: /api/docs loads nothing from elsewhere
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yiwang.core.middleware.HeadAsGetMiddleware",
    "csp.middleware.CSPMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "yiwang.core.middleware.BodyLimitMiddleware",
    "yiwang.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yiwang.identity.signin.SecondFactorMiddleware",
    "yiwang.core.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "identity:account"
LOGOUT_REDIRECT_URL = "core:home"

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
                "django.template.context_processors.i18n",
                "yiwang.core.context_processors.site",
                "yiwang.applications.context_processors.nav",
                "yiwang.audit.context_processors.nav",
                "yiwang.exchange.context_processors.nav",  # the 数据共享 link
            ],
        },
    }
]

# --- Database --------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yiwang.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue instead of
    # failing half-way; WAL lets readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# The hot statements (the gateway's, the throttle's, the audit append's) are prepared on
# PostgreSQL once per connection (yiwang.core.prepared); 0 turns that off for a pooler that
# cannot keep prepared statements.
PREPARED_STATEMENTS = env_bool("YIWANG_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication --------------------------------------------------------------------
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
# Failed sign-ins allowed per account within the window (the per-address limit is below).
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5") or 5)
# Dotted paths of the population-register verifier (人口库) and the legal-entity register (法人库)
# clients; the defaults read the exchange's base data A01001 / A02001 (yiwang.exchange.registers):
# until a provider loads it, nobody is verified (fail closed).
IDENTITY_REALNAME_VERIFIER = env(
    "IDENTITY_REALNAME_VERIFIER", "yiwang.exchange.registers.ExchangeRealNameVerifier"
)
IDENTITY_LEGAL_ENTITY_REGISTER = env(
    "IDENTITY_LEGAL_ENTITY_REGISTER", "yiwang.exchange.registers.ExchangeLegalEntityRegister"
)
LOGIN_FAILURE_WINDOW_SECONDS = int(env("LOGIN_FAILURE_WINDOW_SECONDS", "900") or 900)


# --- Sign-in door, throttles and client addresses (docs/configuration.md, docs/identity.md) ---
# Proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated. Default none:
# the client is the direct peer (REMOTE_ADDR), and a forged X-Forwarded-For changes nothing.
def _networks(name: str) -> tuple:
    import ipaddress

    networks = []
    for item in (env(name, "") or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{name}: {item.strip()!r} is not an address or network.") from exc
    return tuple(networks)


TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")
# Throttle scopes (yiwang.core.throttle): (attempts, window in seconds) per normalised key.
# The strict sign-in limit counts one account *from one client*, so a stranger's guesses lock
# the stranger out, not the account's owner; the per-account and per-address limits are far
# higher (password spraying from many addresses; a service-hall kiosk or an office behind NAT).
THROTTLES = {
    "login-account-client": (LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS),
    "login-account": (
        int(env("LOGIN_ACCOUNT_FAILURE_LIMIT", "50") or 50),
        LOGIN_FAILURE_WINDOW_SECONDS,
    ),
    "login-address": (
        int(env("LOGIN_ADDRESS_FAILURE_LIMIT", "50") or 50),
        LOGIN_FAILURE_WINDOW_SECONDS,
    ),
    "track-case": (
        int(env("TRACK_FAILURE_LIMIT", "5") or 5),
        int(env("TRACK_FAILURE_WINDOW_SECONDS", "900") or 900),
    ),
    "track-client": (
        int(env("TRACK_CLIENT_FAILURE_LIMIT", "30") or 30),
        int(env("TRACK_FAILURE_WINDOW_SECONDS", "900") or 900),
    ),
    # failed real-name checks per client address (accounts are free: the per-account limit alone
    # would let one address test ~50 name/number pairs an hour against the register)
    "realname-client": (
        int(env("REALNAME_CLIENT_FAILURE_LIMIT", "10") or 10),
        int(env("REALNAME_CLIENT_FAILURE_WINDOW_SECONDS", "86400") or 86400),
    ),
    # delegations naming nobody verified, per legal representative (else an oracle of who is verified)
    "delegation-lookup": (
        int(env("DELEGATION_LOOKUP_FAILURE_LIMIT", "10") or 10),
        int(env("DELEGATION_LOOKUP_FAILURE_WINDOW_SECONDS", "86400") or 86400),
    ),
    "register": (
        int(env("REGISTER_LIMIT", "10") or 10),
        int(env("REGISTER_WINDOW_SECONDS", "3600") or 3600),
    ),
    # wrong passwords given again before a sensitive action (a stolen session must not become a
    # password-guessing oracle), per account
    "reauth-account": (
        int(env("REAUTH_FAILURE_LIMIT", "5") or 5),
        int(env("REAUTH_FAILURE_WINDOW_SECONDS", "900") or 900),
    ),
}
# Seconds a signed-in password step waits for its second factor.
LOGIN_SECOND_FACTOR_SECONDS = 300

# --- Language and time -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
# Uploaded materials, stored by content hash; never served directly (access-checked views only).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
UPLOAD_MAX_BYTES = int(env("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)) or 10 * 1024 * 1024)
FILE_UPLOAD_PERMISSIONS = 0o640

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEV
if DEV:  # WhiteNoise warns about a missing STATIC_ROOT; in development it is only a placeholder
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Content Security Policy (django-csp; docs/configuration.md, "Headers") ---------------
# Scripts, styles, images and fonts come from the platform only; no inline script or style,
# no plug-ins, no framing, forms post only back to the platform.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}


# --- Single sign-on: OpenID Connect provider (django-oauth-toolkit; docs/sso.md) ---------
# Departments' own systems sign their users in through the platform's one door (/login), with the
# authorization code flow and PKCE S256 only; clients are registered per department in the admin
# site. The ID token is signed RS256 (the only asymmetric algorithm django-oauth-toolkit signs with)
# by the key in OIDC_SIGNING_KEY_FILE; OIDC_RETIRED_SIGNING_KEY_FILES stay in the JWKS for clients
# still holding tokens they signed.
def _oidc_signing_key(path: Path) -> str:
    """The PEM of the OIDC signing key. In development it is created on first use (like the audit
    key); in production it must exist (``identity.E001`` at deploy check, see docs/operations.md)."""
    if path.exists():
        return path.read_text(encoding="ascii")
    if not DEV:
        return ""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode("ascii")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(pem)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii")
    return pem


OIDC_SIGNING_KEY_FILE = Path(env("OIDC_SIGNING_KEY_FILE", str(VAR_DIR / "oidc_rs256.pem")))
OIDC_RETIRED_SIGNING_KEY_FILES = [
    Path(p.strip()) for p in (env("OIDC_RETIRED_SIGNING_KEY_FILES", "") or "").split(",") if p.strip()
]
# Keys the pairwise subject identifiers (``sub``, one per user and client). Stable like the blind
# index, from which it is derived unless set (base64 of 32 bytes): changing it changes every sub.
OIDC_PAIRWISE_KEY = (
    _decode_key("OIDC_PAIRWISE_KEY", env("OIDC_PAIRWISE_KEY"))
    if env("OIDC_PAIRWISE_KEY")
    else hashlib.sha256(b"yiwang-oidc-pairwise:" + BLIND_INDEX_KEY).digest()
)
# Named so that identity's models may refer to them (Django resolves swappable models by setting).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 — a model name
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_signing_key(OIDC_SIGNING_KEY_FILE),
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [p.read_text(encoding="ascii") for p in OIDC_RETIRED_SIGNING_KEY_FILES],
    # The issuer (https://gov.example.org, no trailing slash); empty: the origin of each request.
    "OIDC_ISS_ENDPOINT": env("OIDC_ISSUER", "") or "",
    "OAUTH2_VALIDATOR_CLASS": "yiwang.identity.oidc.PlatformValidator",
    "OAUTH2_SERVER_CLASS": "yiwang.identity.oidc.PlatformServer",
    "SCOPES": {"openid": "openid", "profile": "profile", "realname": "realname", "enterprise": "enterprise"},
    "DEFAULT_SCOPES": ["openid"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # refuse "plain", and leave it out of discovery
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # never a token in the query string
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 iss in the authorization response
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # tokens stored as checksums only
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not DEV,  # development allows http (below)
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # none are issued (yiwang.identity.oidc); if ever, safe
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if DEV else ["https"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(env("OIDC_ACCESS_TOKEN_SECONDS", "600") or 600),
    "ID_TOKEN_EXPIRE_SECONDS": int(env("OIDC_ACCESS_TOKEN_SECONDS", "600") or 600),
    "REQUEST_APPROVAL_PROMPT": "force",  # the consent page every time (see yiwang.identity.oidc_views)
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": True,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,  # an old hint still signs out (signature checked)
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": True,
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
}

# --- Request bodies and quotas (docs/configuration.md, "Request bodies and quotas") ----------
# Breaking a body limit answers 413 with a clear message (yiwang.core.middleware.BodyLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(5 * 1024 * 1024)) or 5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(env("DATA_UPLOAD_MAX_NUMBER_FIELDS", "1000") or 1000)
DATA_UPLOAD_MAX_NUMBER_FILES = int(env("DATA_UPLOAD_MAX_NUMBER_FILES", "100") or 100)
# A whole request (uploaded files included) may declare at most this many bytes.
REQUEST_MAX_BYTES = int(env("REQUEST_MAX_BYTES", str(UPLOAD_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE)) or 1)
# Quotas per applicant: open drafts, files on one case, bytes uploaded per calendar day.
APPLICATIONS_MAX_DRAFTS = int(env("APPLICATIONS_MAX_DRAFTS", "20") or 20)
APPLICATIONS_MAX_FILES_PER_CASE = int(env("APPLICATIONS_MAX_FILES_PER_CASE", "50") or 50)
APPLICATIONS_MAX_UPLOAD_BYTES_PER_DAY = int(
    env("APPLICATIONS_MAX_UPLOAD_BYTES_PER_DAY", str(200 * 1024 * 1024)) or 200 * 1024 * 1024
)
# --- Process engine budget -------------------------------------------------------------
# What one run of an uploaded BPMN/DMN model may spend; a case that exceeds it stops, nothing it
# computed is kept, and a clerk of the department handles it by hand (docs/applications.md).
WORKFLOW_MAX_STEPS = int(env("WORKFLOW_MAX_STEPS", "200") or 200)  # automatic steps per request
WORKFLOW_MAX_LOOP_PASSES = int(env("WORKFLOW_MAX_LOOP_PASSES", "50") or 50)  # runs of one element
WORKFLOW_MAX_TASKS = int(env("WORKFLOW_MAX_TASKS", "400") or 400)  # tasks in one case's workflow
WORKFLOW_MAX_VALUE_LENGTH = int(env("WORKFLOW_MAX_VALUE_LENGTH", "100000") or 100_000)  # chars/items
WORKFLOW_MAX_STATE_BYTES = int(env("WORKFLOW_MAX_STATE_BYTES", "1000000") or 1_000_000)  # stored

# --- Site ------------------------------------------------------------------------------
SITE_NAME = env("SITE_NAME", "一网 · 政务服务平台 | Yiwang · Government Services")  # 中文 | English
# Seconds between the signed tree heads the audit log stores for later comparison.
AUDIT_STH_INTERVAL_SECONDS = int(env("AUDIT_STH_INTERVAL_SECONDS", "60") or 60)
# Email: notices about cases. The console backend prints them; set EMAIL_BACKEND/EMAIL_HOST to deliver.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@yiwang.invalid")
# Background tasks (deadline flags, email): django-tasks on the database; run `yiwang worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
JIEBA_CACHE_DIR = Path(env("JIEBA_CACHE_DIR", str(VAR_DIR / "jieba")))
# E-seals: the TrueType font sealed documents embed (Debian fonts-wqy-zenhei by default; a .ttc
# takes the index of the face). Missing: documents are refused with a message naming the package.
DOCUMENT_FONT_FILE = Path(env("DOCUMENT_FONT_FILE", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
DOCUMENT_FONT_INDEX = int(env("DOCUMENT_FONT_INDEX", "0") or 0)
# --- Electronic licences (docs/licences.md) ---
# The public origin of this deployment: issuer URLs (iss) and status list URLs are built on it.
LICENCES_PUBLIC_URL = (env("LICENCES_PUBLIC_URL", "http://127.0.0.1:8000" if DEV else "") or "").rstrip("/")
# Where `yiwang licences-cache` keeps issuer keys and status lists for offline verification.
LICENCES_CACHE_FILE = Path(env("LICENCES_CACHE_FILE", str(VAR_DIR / "licences-cache.json")))
# Seconds a verifier may keep this deployment's status list tokens (their ttl) before fetching again.
LICENCES_STATUS_TTL = int(env("LICENCES_STATUS_TTL", "300") or 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"jieba": {"level": "WARNING"}, "spiff": {"level": "WARNING"}},
}
