"""Settings for the test suite: development mode, fast hashing, in-memory side effects."""

import os
import tempfile

os.environ.setdefault("YIWANG_DEV", "1")
# One var dir (media, signing and encryption keys) per test process, inherited by the servers and
# commands it starts: two suites run at once (SQLite and PostgreSQL, or two checkouts) must not
# share keys or files.
os.environ.setdefault("YIWANG_VAR_DIR", os.path.join(tempfile.gettempdir(), f"yiwang-test-var-{os.getpid()}"))

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher"
]  # speed only; Argon2 is tested explicitly
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
# Background tasks run at once in tests (the database backend is exercised in its own test).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
