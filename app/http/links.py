"""Absolute links, built only from CIVICLOOP_PUBLIC_BASE_URL.

A request's Host header is whatever the client sent: a link built from it would carry a forged
host into a Location, a problem type or the Open311 discovery document (and so into caches)."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from app.config import Settings


def public_url(request: HTTPConnection, path: str = "") -> str:
    """The configured public base URL followed by `path`."""
    settings: Settings = request.app.state.settings
    return settings.public_base_url.rstrip("/") + path


def route_url(request: HTTPConnection, name: str, **path_params: Any) -> str:
    """The public address of a named route."""
    return public_url(request, request.app.url_path_for(name, **path_params))
