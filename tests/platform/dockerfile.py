"""The Dockerfile read as instructions: what the image copies, sets and runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def image_environment() -> dict[str, str]:
    """Every `ENV name=value` of the image."""
    pairs = [
        pair
        for kind, value in dockerfile_instructions()
        if kind == "ENV"
        for pair in shlex.split(value)
    ]
    return dict(pair.split("=", 1) for pair in pairs)


def copied_sources() -> list[tuple[Path, Path]]:
    """What the image copies from the project, and where to (relative to its /src)."""
    copied = []
    for kind, value in dockerfile_instructions():
        if kind == "COPY":
            *sources, target = value.split()
            where = Path(target).relative_to("/src")
            for source in sources:
                copied.append(
                    (ROOT / source, where / Path(source).name if target.endswith("/") else where)
                )
    return copied
