"""Thai and English texts for people: one catalog per language, one rule for choosing it.

Texts are looked up by key (`t("label.status.open", lang)`); a `Text` is a key with its
parameters, rendered later in the language of whoever reads it (an error is worded when the
answer is written, once the request's language is known). Both catalogs must hold the same keys
with the same placeholders; a test checks that.

Labels in answers (`label(IssueStatus.open)`, `pick(name_th, name_en)`) are worded in the
language of the request being answered (`current()`): the route class opens `answering(request)`
around each request, and marks answers that used it with Content-Language and Vary.

Key prefixes: `label.` names of codes, `problem.`/`http.` problem titles, `error.` details,
`validation.` request-validation messages by pydantic error type, `notify.` notification texts,
`verb.`/`doing.` actions inside other texts.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.models.user import Language

CATALOG_DIR = Path(__file__).parent
# Answers to clients that state no language and carry no user: an API's callers are mostly
# programs, and English is what their developers read in the logs.
FALLBACK = Language.en


@cache
def catalog(lang: Language) -> Mapping[str, str]:
    texts: dict[str, str] = json.loads((CATALOG_DIR / f"{lang.value}.json").read_text("utf-8"))
    return texts


def has(key: str) -> bool:
    return key in catalog(FALLBACK)


def t(key: str, lang: Language, /, **params: Any) -> str:
    """The text for `key` in `lang`, with its {placeholders} filled in."""
    return catalog(lang)[key].format(**params)


def placeholders(template: str) -> set[str]:
    """The {names} a text fills in; raises ValueError on a malformed one."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@dataclass(frozen=True)
class Text:
    """A text to be worded for its reader: a catalog key and what fills its placeholders."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: Language) -> str:
        return t(self.key, lang, **{name: _worded(v, lang) for name, v in self.params.items()})

    def __str__(self) -> str:
        return self.render(FALLBACK)


def text(key: str, /, **params: Any) -> Text:
    """A text worded later; a parameter may itself be a Text, or a list of them (joined)."""
    return Text(key, params)


def stored(value: Text) -> tuple[str, dict[str, Any]]:
    """A text as a key and JSON-ready parameters, to store and word later for each reader (the
    notes the system writes on a timeline); nested texts keep their keys."""

    def one(param: Any) -> Any:
        if isinstance(param, Text):
            return {"text": param.key, "params": stored(param)[1]}
        if isinstance(param, list | tuple):
            return [one(p) for p in param]
        return param

    return value.key, {name: one(p) for name, p in value.params.items()}


def restored(key: str, params: Mapping[str, Any] | None) -> Text:
    """The text `stored` gave, ready to word in any language."""

    def one(param: Any) -> Any:
        if isinstance(param, dict) and set(param) == {"text", "params"}:
            return restored(param["text"], param["params"])
        if isinstance(param, list):
            return [one(p) for p in param]
        return param

    return Text(key, {name: one(p) for name, p in (params or {}).items()})


def _worded(value: Any, lang: Language) -> Any:
    if isinstance(value, Text):
        return value.render(lang)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Text) for v in value):
        return t("list.separator", lang).join(v.render(lang) for v in value)
    return value


def _preferences(accept_language: str) -> list[tuple[float, int, str]]:
    """Language ranges of an Accept-Language header (RFC 9110 §12.5.4), best first."""
    ranked = []
    for position, item in enumerate(accept_language.split(",")):
        name, *attributes = (part.strip() for part in item.split(";"))
        quality = 1.0
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name and 0 < quality <= 1:
            ranked.append((-quality, position, name.lower()))
    return sorted(ranked)


def accepted(accept_language: str | None) -> Language | None:
    """The best Thai or English range an Accept-Language header names, if it names one."""
    for _, _, name in _preferences(accept_language or ""):
        primary = name.split("-")[0]
        if primary in Language.__members__:
            return Language(primary)
    return None


def negotiate(accept_language: str | None, saved: Language | None) -> Language:
    """The request's language: the best Thai or English range the client accepts; else the
    user's saved setting; else the fallback."""
    return accepted(accept_language) or saved or FALLBACK


def of_request(request: HTTPConnection) -> Language:
    """The language to answer this request in. A page has chosen its reader's language already
    (app.web: ?lang=, cookie, Accept-Language, the city's default); for the API, once
    authenticated, the user's saved language is on the request's state."""
    chosen: Language | None = getattr(request.state, "page_language", None)
    if chosen is not None:
        return chosen
    saved = getattr(request.state, "saved_language", None)
    return negotiate(request.headers.get("accept-language"), saved)


def say_language(response: Response, lang: str) -> None:
    """Mark an answer worded for its reader: its language, and that another Accept-Language
    may get another body (so shared caches keep one copy per language)."""
    response.headers["Content-Language"] = str(lang)
    vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
    if "accept-language" not in (v.lower() for v in vary):
        response.headers["Vary"] = ", ".join([*vary, "Accept-Language"])


@dataclass
class _Answer:
    request: HTTPConnection
    # Whether anything in the answer was worded for its reader: only then does it vary by
    # language (Content-Language, Vary: Accept-Language).
    worded: bool = False
    # The languages of the city's names it served (`name_in`): a city language the catalogues
    # lack (Spanish, say) when the reader asked for it.
    named_in: set[str] = field(default_factory=set)


_answering: ContextVar[_Answer | None] = ContextVar("answering", default=None)


@contextmanager
def answering(request: HTTPConnection) -> Iterator[None]:
    """While a request is answered, labels are worded in its language. The language is read
    when first needed, so a user authenticated by a dependency meanwhile counts."""
    token = _answering.set(_Answer(request))
    try:
        yield
    finally:
        _answering.reset(token)


def current() -> Language:
    """The language of the answer being written; the fallback outside a request."""
    answer = _answering.get()
    if answer is None:
        return FALLBACK
    answer.worded = True
    return of_request(answer.request)


def worded() -> bool:
    """Whether the answer being written used its reader's language."""
    answer = _answering.get()
    return answer is not None and answer.worded


def answered_in(request: HTTPConnection) -> str:
    """The language the answer speaks to its reader (its Content-Language): the one they prefer
    of the catalogue's (Thai or English) and those the city's names were served in; labels the
    catalogues lack in it read in the catalogue's language."""
    lang = of_request(request)
    answer = _answering.get()
    if answer is None or not answer.named_in - {lang.value}:
        return lang.value
    for _, _, tag in _preferences(request.headers.get("accept-language", "")):
        for candidate in (tag, tag.split("-")[0]):
            if candidate == lang.value or candidate in answer.named_in:
                return candidate
    return lang.value


def label(value: StrEnum) -> str:
    """A code's name for people, in the current language (`label.<enum>.<code>`). A code added
    without its labels reads as itself rather than failing the answer (a test requires them)."""
    key = f"label.{LABELLED[type(value).__name__]}.{value.value}"
    return catalog(current()).get(key, value.value)


def label_of(value: StrEnum | None) -> str | None:
    return None if value is None else label(value)


def pick(th: str, en: str) -> str:
    """Of a stored Thai and English pair (a category's or an agency's name), the current one."""
    return th if current() == Language.th else en


def name_in(names: Mapping[str, str], fallback: str) -> str:
    """A name from a city's language map (`{en: ..., es: ...}`) in the best language the reader
    accepts that the map has, so a city's other languages are served too; else `fallback` (the
    Thai or English name, each of which falls back to the city's default language)."""
    answer = _answering.get()
    # Pages speak Thai or English only: their reader chose one of the two.
    if answer is None or not names or getattr(answer.request.state, "page_language", None):
        return fallback
    answer.worded = True
    for _, _, tag in _preferences(answer.request.headers.get("accept-language", "")):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in names:
                answer.named_in.add(candidate)
                return names[candidate]
    return fallback


# Enums with labels, by class name: the catalog's `label.<kind>.` prefix for each.
LABELLED = {
    "IssueStatus": "status",
    "Resolution": "resolution",
    "Priority": "priority",
    "Flag": "flag",
    "EventAction": "event",
    "TimeframeState": "timeframe",
    "Role": "role",
    "Language": "language",
}
