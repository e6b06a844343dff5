"""Django settings of the baseline: production-like (no debug, persistent connections), read
from BASELINE_DATABASE_URL; no admin, sessions, auth or templates, which a GeoReport API needs not.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import unquote, urlsplit

_url = urlsplit(os.environ.get("BASELINE_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"))

DEBUG = False
SECRET_KEY = os.environ.get("BASELINE_SECRET_KEY") or secrets.token_hex(32)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.baseline.urls"
WSGI_APPLICATION = "bench.baseline.wsgi.application"
INSTALLED_APPS = ["django.contrib.gis", "rest_framework", "bench.baseline"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
        # One connection per worker for its lifetime, as a production deployment keeps them.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": False,
    }
}
USE_TZ = True
TIME_ZONE = os.environ.get("BASELINE_TIMEZONE", "Asia/Bangkok")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
