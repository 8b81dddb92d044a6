"""The content-addressed cache of run folders: intact-or-absent entries, checked against their manifests."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrlab.sweep.keys import FORMAT, sha256_hex

CACHE_ENV = "LRLAB_CACHE"
ENTRY = "entry.json"
REQUIRED_FILES = ("params.json", "status.json")
"""Files every cache entry holds; a finished (ok) entry also holds ``claims.json`` and the notebook."""


@dataclass
class Entry:
    """A cache entry that passed its checks: its folder and manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.manifest.get("ok"))

    @property
    def error(self) -> str:
        return str(self.manifest.get("error", ""))

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))


class CorruptEntryError(Exception):
    """A cache entry whose files do not match its manifest."""


class Cache:
    """A folder of run folders keyed by content: ``objects/<k[:2]>/<key>/`` with ``entry.json`` inside.

    ``locks/<key>.lock`` serialise work on a key across processes and machines sharing the folder (``flock``);
    ``tmp/`` holds entries being written, renamed into ``objects/`` when complete.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        for sub in ("objects", "locks", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def folder(self, key: str) -> Path:
        return self.root / "objects" / key[:2] / key

    def check(self, key: str) -> Entry | None:
        """The entry of ``key`` if present and intact; ``None`` if absent; ``CorruptEntryError`` if damaged."""
        folder = self.folder(key)
        if not folder.is_dir():
            return None
        try:
            manifest = json.loads((folder / ENTRY).read_bytes())
        except FileNotFoundError:
            raise CorruptEntryError("no manifest entry.json") from None
        except (OSError, ValueError) as e:
            raise CorruptEntryError(f"unreadable manifest ({e.__class__.__name__})") from None
        if not isinstance(manifest, dict) or manifest.get("key") != key or not isinstance(manifest.get("files"), dict):
            raise CorruptEntryError("manifest does not belong to this key")
        files = manifest["files"]
        missing = [f for f in REQUIRED_FILES if f not in files]
        if missing:
            raise CorruptEntryError(f"manifest lists no {missing[0]}")
        for name, meta in files.items():
            path = folder / name
            try:
                data = path.read_bytes()
            except OSError:
                raise CorruptEntryError(f"{name} is missing") from None
            if len(data) != meta.get("size") or sha256_hex(data) != meta.get("sha256"):
                raise CorruptEntryError(f"{name} does not match its checksum")
        return Entry(folder, manifest)

    def lookup(self, key: str) -> Entry | None:
        """:meth:`check`, with a damaged entry reported as absent."""
        try:
            return self.check(key)
        except CorruptEntryError:
            return None

    @contextlib.contextmanager
    def try_lock(self, key: str):
        """Yield True holding the key's lock, or False at once when another process holds it."""
        fd = os.open(self.root / "locks" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            os.ftruncate(fd, 0)
            os.write(fd, f"{socket.gethostname()} {os.getpid()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def discard(self, key: str) -> None:
        """Remove the entry of ``key`` (call with its lock held): renamed away first, so it vanishes at once."""
        folder = self.folder(key)
        if folder.exists():
            trash = self.root / "tmp" / f"{key}.trash.{uuid.uuid4().hex[:8]}"
            folder.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)

    def clean_tmp(self, key: str) -> None:
        """Remove what a killed writer of ``key`` left in ``tmp/`` (call with its lock held)."""
        for stale in (self.root / "tmp").glob(f"{key}.*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)

    def commit(self, key: str, files: Mapping[str, bytes], meta: Mapping[str, Any]) -> Entry:
        """Write ``files`` and the manifest into ``tmp/``, then rename the folder into place (lock held)."""
        tmp = self.root / "tmp" / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        listing = {}
        for name, data in sorted(files.items()):
            path = tmp / name
            if path.resolve().parent != tmp.resolve() and tmp.resolve() not in path.resolve().parents:
                raise ValueError(f"file name {name!r} leaves the entry folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            listing[name] = {"sha256": sha256_hex(data), "size": len(data)}
        manifest = {**meta, "format": FORMAT, "key": key, "files": listing}
        (tmp / ENTRY).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        final = self.folder(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.discard(key)
        tmp.rename(final)
        return Entry(final, manifest)


def default_cache() -> Path:
    """``$LRLAB_CACHE``, else ``runs/cache`` under the current folder."""
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / "runs" / "cache")
