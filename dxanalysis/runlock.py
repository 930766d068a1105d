"""One run at a time per report folder: ``reports/.<id>.lock`` locks ``reports/<id>/``.

The lock file sits next to the report folder (not inside it, so a run that writes
nothing to a folder does not create it). The lock is an OS file lock (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows) on that file; the operating system releases it when the process ends, however
it ends (even ``kill -9`` or a power cut), so a lock can never outlive its run. The file
also holds the holder's PID, host and start time, which a second run shows in its
message. A ``.lock`` file whose lock is free was left by a run that ended without
cleaning up: it is taken over and :attr:`ReportLock.note` says so.

Note: on network file systems (NFS, SMB) file locks depend on the server's support; run
the batch for one reports folder from one machine (the Dask workers do not lock; only the
machine that runs ``dxanalysis run`` writes the report folders' final files).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from pathlib import Path


def lock_path(folder: Path | str) -> Path:
    """The lock file of a report folder: ``<parent>/.<name>.lock``."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.lock"


class ReportsLocked(RuntimeError):
    """Another run holds the report folder (the message names its PID and start time)."""

    def __init__(self, folder: Path, holder: dict, waited: float = 0.0):
        self.folder, self.holder, self.waited = Path(folder), holder, waited
        pid = holder.get("pid", "?")
        started = holder.get("started", "?")
        host = holder.get("host", "")
        on = f"(ホスト {host})" if host and host != socket.gethostname() else ""
        wait = f"{waited:.0f} 秒待ちましたが終わりません。" if waited else ""
        super().__init__(
            f"レポートフォルダ {folder} は別の実行(PID {pid}{on}、開始 {started})が使用中です。{wait}"
            f"終わるまで待つか、--wait 秒数 を付けて実行してください。"
            f" / The report folder is in use by another run (PID {pid}, started {started})."
        )


def _try_lock(fd: int) -> bool:
    """Take the OS lock on an open file without blocking; False when someone else holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _read_holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


class ReportLock:
    """Exclusive lock on one report folder, held for the whole run.

    ``wait`` is how many seconds to wait for another run to finish (0 = refuse at once,
    raising :class:`ReportsLocked`). The parent folder (the reports root) is created when
    missing; an unwritable one raises ``OSError``.
    """

    def __init__(self, folder: Path | str, *, wait: float = 0.0, poll: float = 0.5):
        self.folder, self.wait, self.poll = Path(folder), float(wait), poll
        self.path = lock_path(self.folder)
        self.note = ""
        self.stale = False
        self._fd: int | None = None

    def acquire(self) -> ReportLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        t0 = time.monotonic()
        while not _try_lock(fd):
            waited = time.monotonic() - t0
            if waited >= self.wait:
                os.close(fd)
                raise ReportsLocked(self.folder, _read_holder(self.path), waited if self.wait else 0.0)
            time.sleep(self.poll)
        previous = _read_holder(self.path)
        if previous.get("pid") and previous.get("pid") != os.getpid():
            self.note = (f"前回の実行(PID {previous['pid']}、開始 {previous.get('started', '?')})が途中で終わったまま残したロックを引き継ぎました: {self.folder}"
                         f" / took over the lock left by an earlier run that did not finish")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0) if hasattr(os, "pwrite") else os.write(fd, json.dumps(holder).encode())
        self._fd = fd
        self.stale = bool(self.note)
        return self

    def release(self) -> None:
        """Clear the holder and let the OS lock go (the file stays: removing it would race a waiting run)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        os.close(self._fd)  # closing the descriptor releases the OS lock
        self._fd = None

    def __enter__(self) -> ReportLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
