"""Small file-system helpers: atomic writes and readable write errors.

A file written with :func:`atomic_write_bytes` / :func:`atomic_write_text` is either the
old one or the complete new one, never half of each: the bytes go to a temporary file in
the same folder, are flushed to disk, and then replace the target with ``os.replace``
(atomic on POSIX and Windows when both are on one file system). A failure (disk full,
read-only folder) removes the temporary file and leaves the previous file as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of a new file (as ``open`` would give it); temporary files start private (0600).
_NEW_FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    The new file keeps the previous file's permissions (or gets the usual ones for a new
    file), so a report folder shared with colleagues stays readable.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else _NEW_FILE_MODE)
        except OSError:
            pass
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` for text."""
    return atomic_write_bytes(path, text.encode(encoding))


def replace(src: Path | str, dst: Path | str) -> None:
    """``os.replace`` (one place, so tests can make moves fail as on a full or read-only disk)."""
    os.replace(src, dst)


def write_error_text(err: OSError, path: Path | str | None = None, language: str = "ja") -> str:
    """A one-line, user-facing description of a failed write (disk full, read-only, no permission)."""
    where = str(path or getattr(err, "filename", "") or "")
    code = getattr(err, "errno", None)
    if language == "en":
        why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded", errno.EROFS: "the folder is read-only",
               errno.EACCES: "no permission to write", errno.EPERM: "no permission to write", errno.ENOTDIR: "a file stands where a folder is expected",
               errno.EEXIST: "a file stands where a folder is expected"}.get(code, str(err))
        return f"cannot write {where}: {why}"
    why = {errno.ENOSPC: "ディスクの空き容量が足りません", errno.EDQUOT: "ディスクの使用量の上限を超えました", errno.EROFS: "フォルダが読み取り専用です",
           errno.EACCES: "書き込む権限がありません", errno.EPERM: "書き込む権限がありません", errno.ENOTDIR: "フォルダがあるべき場所にファイルがあります",
           errno.EEXIST: "フォルダがあるべき場所にファイルがあります"}.get(code, f"{type(err).__name__}: {err}")
    return f"{where} に書き込めません: {why}"
