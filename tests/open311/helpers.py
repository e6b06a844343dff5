"""Reading GeoReport answers the way a client does: JSON as is, XML with defusedxml."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import httpx
from defusedxml.ElementTree import fromstring

from tests.factories import IN_WEST

XML = "text/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"


def xml(response: httpx.Response) -> Element:
    assert response.headers["content-type"] == XML
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root: Element = fromstring(response.content)
    return root


def children(element: Element) -> dict[str, str]:
    """A flat element's children as {tag: text} ("" for empty elements)."""
    return {child.tag: child.text or "" for child in element}


def error_codes(response: httpx.Response) -> list[int]:
    """The spec's error list, in whichever format was asked for."""
    if response.headers["content-type"] == JSON:
        body: list[dict[str, Any]] = response.json()
        assert all(set(e) == {"code", "description"} and e["description"] for e in body)
        return [e["code"] for e in body]
    root = xml(response)
    assert root.tag == "errors"
    return [int(children(e)["code"]) for e in root.findall("error")]


def request_form(api_key: str, **overrides: str) -> dict[str, str]:
    """A valid pothole report, as a form."""
    form = {
        "api_key": api_key,
        "service_code": "pothole",
        "lat": str(IN_WEST[1]),
        "long": str(IN_WEST[0]),
        "address_string": "Silom Soi 5, Bang Rak, Bangkok",
        "description": "Deep hole in the left lane\nNear the 7-Eleven",
        "attribute[size]": "large",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}
