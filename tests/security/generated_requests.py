"""The requests Schemathesis generates for each operation of /openapi.json, generated once and
shared by every test process that sends them.

Generation is derandomised and reads nothing but the document, so the same document always gives
the same requests: both database legs and all their pytest-xdist workers send identical cases.
Generating them is most of the cost of sending them, so the first process to need an
operation's cases generates them (under a file lock) and the others read them back. The cache
key covers everything generation depends on (the document, Schemathesis, Hypothesis and its
active profile, the settings below and this module's own source), so a stale entry is never read.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import pickle
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck
from schemathesis import Case
from schemathesis.core import NOT_SET
from schemathesis.core.result import Err
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.schemas import APIOperation, BaseSchema

EXAMPLES_PER_OPERATION = 25
GENERATION = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Operation = APIOperation[Any, Any, Any, Any]
CACHE_ROOT = Path(__file__).resolve().parents[2] / "var" / "cache" / "generated-requests"
# What a case carries besides its operation; enough to rebuild it exactly.
_FIELDS = (
    "path_parameters",
    "cookies",
    "query",
    "body",
    "media_type",
    "multipart_content_types",
)


class GeneratedRequests:
    """Every case Schemathesis's pytest integration would generate for an operation (its
    explicit examples, its coverage cases and `EXAMPLES_PER_OPERATION` fuzzed ones), cached on
    disk by a key of everything that determines them."""

    def __init__(self, schema: BaseSchema, document: dict[str, Any]) -> None:
        self._schema = schema
        self._feedback = FeedbackSources(constants_value_source=make_constants_value_source(schema))
        self._directory = CACHE_ROOT / _cache_key(document)

    def operations(self) -> list[Operation]:
        """Every operation of the document; a definition Schemathesis cannot read fails here."""
        found = []
        for result in self._schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            found.append(result.ok())
        return found

    def cases(self, operation: Operation) -> list[Case[Any]]:
        self._directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(operation.label.encode()).hexdigest()[:24]
        stored = self._directory / f"{name}.pickle"
        with (self._directory / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stored.exists():
                generated = self._generate(operation)
                partial = stored.with_suffix(".partial")
                partial.write_bytes(pickle.dumps(generated))
                partial.rename(stored)
            # Written by this module above, in this checkout's own var/.
            recorded: list[dict[str, Any]] = pickle.loads(stored.read_bytes())  # noqa: S301
        return [_rebuild(operation, fields) for fields in recorded]

    def _generate(self, operation: Operation) -> list[dict[str, Any]]:
        recorded: list[dict[str, Any]] = []

        @GENERATION
        def record(case: Case[Any]) -> None:
            recorded.append(_fields(case))

        build_operation_test(
            config=self._schema.config,
            operation=operation,
            test_func=record,
            given_kwargs={},
            feedback=self._feedback,
        )()
        return recorded


def prune_stale_caches(document: dict[str, Any]) -> None:
    """Drop the caches of other documents (earlier versions of the API)."""
    current = _cache_key(document)
    if CACHE_ROOT.is_dir():
        for entry in CACHE_ROOT.iterdir():
            if entry.name != current:
                shutil.rmtree(entry, ignore_errors=True)


def _cache_key(document: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for part in (
        json.dumps(document, sort_keys=True),
        metadata.version("schemathesis"),
        metadata.version("hypothesis"),
        repr(hypothesis.settings.default),
        repr(GENERATION),
        Path(__file__).read_text(encoding="utf-8"),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _fields(case: Case[Any]) -> dict[str, Any]:
    fields = {name: getattr(case, name) for name in _FIELDS}
    fields["headers"] = dict(case.headers)
    fields["method"] = case.method
    fields["meta"] = case.meta
    if fields["body"] is NOT_SET:
        del fields["body"]
    return fields


def _rebuild(operation: Operation, fields: dict[str, Any]) -> Case[Any]:
    fields = dict(fields)
    meta = fields.pop("meta")
    return operation.Case(**fields, _meta=meta)
