"""A municipality's cache of expensive, deterministic results shared by its notebooks.

Notebooks 02, 03, 04 and 06 each need the same segment model. They stay independent
(each can run alone, in any order, in parallel), but the first one to need a result
computes it and the others load it. A result is stored under a **key** that hashes
everything it depends on: the input values, the parameters and the package (its
version and every source file, :func:`dxanalysis.config.package_hash`). Changed
inputs, parameters or code give a new key, so a stale result is never used; an
unreadable file is computed again.

Where: ``reports/<id>/private/cache/`` of the *final* report folder. The runner lets
each notebook write into a scratch folder (``reports/<id>/.staging/<nb>.<pid>-<n>/``)
that is published when the notebook succeeds; :func:`cache_dir` resolves a scratch
folder to its report folder, so the cache is shared by the notebooks of one run and by
later runs, and its files are never outputs recorded in ``manifest.json``.

Concurrency: two notebooks may want the same result at the same moment. The second
waits on a per-key OS file lock (``fcntl.flock``; where there is none, it computes the
result too, which gives the same bytes) and then reads the first one's file. Files are
written atomically (temporary file + ``os.replace``), so a reader never sees half a
file. A cache that cannot be written (read-only folder, disk full) is skipped: the
result is computed and returned as without a cache.

The files are pickles written by this package into the user's own report folder; do not
copy a ``private/cache`` folder from someone you do not trust (delete it instead: it is
only a cache).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import fsutil

#: The runner's scratch folders: ``<report folder>/.staging/<notebook>.<pid>-<n>/`` (``runner.STAGING_DIR``).
STAGING_DIR = ".staging"
#: The cache folder inside a report folder.
CACHE_SUBDIR = Path("private") / "cache"
#: Results kept per name (older keys are removed when a new one is written).
KEEP = 8
#: What :func:`lookup` returns when nothing is stored for the key.
MISS = object()


def cache_dir(report_dir: Path | str) -> Path:
    """``<report folder>/private/cache``, for a report folder or a runner scratch folder inside one."""
    p = Path(report_dir).resolve()
    if p.parent.name == STAGING_DIR:
        p = p.parent.parent
    return p / CACHE_SUBDIR


def digest(*parts: Any) -> str:
    """SHA-256 of ``parts`` (pickled; pandas and numpy objects by their values), as hex."""
    h = hashlib.sha256()
    for part in parts:
        h.update(_bytes(part))
        h.update(b"\0")
    return h.hexdigest()


def _bytes(obj: Any) -> bytes:
    import numpy as np
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return b"df" + _bytes(list(map(str, obj.columns))) + _bytes(list(map(str, obj.index))) + _bytes(obj.to_numpy())
    if isinstance(obj, pd.Series):
        return b"s" + _bytes(str(obj.name)) + _bytes(list(map(str, obj.index))) + _bytes(obj.to_numpy())
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return b"o" + _bytes(obj.tolist())
        return b"a" + str(obj.dtype).encode() + str(obj.shape).encode() + np.ascontiguousarray(obj).tobytes()
    return pickle.dumps(obj, protocol=4)


def package_key() -> str:
    """The package hash (version + every source file), plus the versions of the numeric libraries."""
    import numpy
    import sklearn

    from .config import package_hash

    return digest(package_hash(), numpy.__version__, sklearn.__version__)


@contextmanager
def _locked(path: Path):
    """Hold an exclusive OS lock on ``path`` (blocking); a no-op where locks are unavailable."""
    try:
        import fcntl
    except ImportError:  # Windows: both processes compute; the atomic write keeps the file whole
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _load(path: Path, key: str):
    try:
        with open(path, "rb") as f:
            stored_key, value = pickle.load(f)
    except Exception:  # noqa: BLE001 - missing, half-copied or from another version: compute again
        return MISS
    return value if stored_key == key else MISS


def _prune(folder: Path, name: str, keep: int) -> None:
    files = sorted(folder.glob(f"{name}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)


def lookup(folder: Path | str, name: str, key: str) -> Any:
    """The stored result for ``key`` in ``folder``, or :data:`MISS` (nothing is created)."""
    return _load(Path(folder) / f"{name}-{key}.pkl", key)


def store(folder: Path | str, name: str, key: str, value: Any, *, keep: int = KEEP) -> None:
    """Store ``value`` for ``key`` (atomic write; older keys beyond ``keep`` removed); a cache that
    cannot be written is skipped."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write_bytes(folder / f"{name}-{key}.pkl", pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
        _prune(folder, name, keep)
    except OSError:
        pass


def cached(folder: Path | str | None, name: str, key: str, compute: Callable[[], Any], *, keep: int = KEEP) -> Any:
    """``compute()``, or its stored result for ``key`` in ``folder`` (``None``: no cache).

    ``key`` must hash everything the result depends on (see :func:`digest`,
    :func:`package_key`). The result is stored as ``<name>-<key>.pkl``; the key is
    checked again when loading. ``compute`` must be deterministic.
    """
    if folder is None:
        return compute()
    folder = Path(folder)
    value = lookup(folder, name, key)
    if value is not MISS:
        return value
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return compute()
    with _locked(folder / f"{name}-{key}.lock"):
        value = lookup(folder, name, key)  # computed by another notebook while this one waited
        if value is MISS:
            value = compute()
            store(folder, name, key, value, keep=keep)
    return value
