"""Photos as files under the data directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.storage import StorageError


class LocalPhotoStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f"key {key!r} points outside the photo directory")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        path = self._path(key)
        if path.is_file():
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write aside, then link under the key: a reader never sees half a file, a crash
            # leaves nothing under the key, and of two requests storing the same bytes at once
            # exactly one creates the file (and only that one deletes it if it must undo).
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.link(temp, path)
            except FileExistsError:
                if not path.is_file():
                    raise
                return False
            finally:
                Path(temp).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc.strerror or exc}") from exc
        return True

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def presigned_url(self, key: str) -> str | None:
        return None
