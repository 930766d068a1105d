"""A report folder's ``manifest.json``: what it records, and whether a previous run can be reused.

Moved out of ``runner.py`` (issue #18, item 5); ``runner`` re-exports every name.

* hashes: :func:`file_hash`, :func:`input_hashes`, :func:`inputs_digest`,
  :func:`task_hashes` (inputs + parameters + notebook + package → the task's hash);
* reading and writing: :func:`read_manifest`, :func:`build_manifest` (a municipality's
  manifest as it stands, also in the middle of a run), :func:`save_manifest` (atomic);
* reuse verdicts: :func:`reuse_verdict` (a recorded run stands in for this one when its
  hash matches and every recorded output is unchanged: file stats first,
  :func:`output_problems`, then SHA-256), :func:`skipped_result`, :func:`tables_digest`
  (when ``tables.xlsx`` must be rebuilt), :func:`audit_digest` (when the privacy audit
  must run again).
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__, fsutil
from .config import package_hash


# ----------------------------------------------------------------------------- one notebook's row
@dataclass
class NotebookResult:
    """Outcome of one notebook run (one row of the run summary).

    ``status`` is ``ok``, ``failed``, ``skipped`` (unchanged since the last successful
    run; the previous HTML is kept), ``interrupted`` (the run was stopped by a signal
    before this notebook finished; its previous result is untouched) or ``input_error``
    (the municipality's inputs broke the data contract; no notebook ran; ``notebook`` is
    ``"-"``). ``reason`` says why an unchanged notebook ran again (:data:`REASON_MISSING`,
    :data:`REASON_INTERRUPTED`); ``outputs`` maps every file the notebook published
    (path relative to the report folder) to its SHA-256, and ``stats`` to its
    ``[size, mtime_ns, inode]`` when published (:func:`output_stats`), so an unchanged
    re-run compares file stats and hashes only files whose stats differ.
    """

    municipality: str
    notebook: str
    status: str
    seconds: float = 0.0
    error: str = ""
    html: str = ""
    started: str = ""
    finished: str = ""
    hash: str = ""
    hashes: dict = field(default_factory=dict)
    attempts: int = 1
    reason: str = ""
    outputs: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


#: Notebook parameters that are paths: left out of the hash (content, not location, counts).
PATH_PARAMETERS = {"data_dir", "report_dir", "data_dirs"}


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a 100,000-respondent export stays cheap)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every input file in a municipality folder (``truth/`` excluded)."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): file_hash(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "truth" not in p.relative_to(folder).parts and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def inputs_digest(hashes: dict[str, str]) -> str:
    """One hash for a folder's input hashes (shown as ``manifest`` in report footers)."""
    return _digest(hashes)


def task_hashes(*, inputs: str, parameters: dict, notebook: Path, package: str) -> dict[str, str]:
    """The four hashes that decide whether a notebook must run again, and their combination.

    Returns ``{"inputs", "parameters", "notebook", "package", "task"}``. Path parameters
    (``data_dir``, ``report_dir``, ``data_dirs``) are left out: the inputs hash already
    covers the content, so moving a folder does not force a re-run.
    """
    params = {k: v for k, v in parameters.items() if k not in PATH_PARAMETERS}
    out = {"inputs": inputs, "parameters": _digest(params), "notebook": file_hash(Path(notebook)), "package": package}
    out["task"] = _digest(out)
    return out


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def output_stats(outputs: dict, report_dir: Path) -> dict[str, list[int]]:
    """``{path: [size, mtime_ns, inode]}`` of published outputs, recorded next to their hashes."""
    out = {}
    for rel in outputs:
        st = _stat(Path(report_dir) / rel)
        if st is not None:
            out[rel] = st
    return out


def output_problems(outputs: dict, report_dir: Path, stats: dict | None = None) -> list[str]:
    """Recorded outputs that are missing or whose content changed (an empty record counts as missing).

    With ``stats`` (:func:`output_stats` at publishing), a file whose size, modification
    time (nanoseconds) and inode are all as recorded is taken as unchanged without
    reading it; any difference (an edit, a copy, a restore from backup) falls back to
    comparing its SHA-256. Publishing moves files with ``os.replace``, which keeps all three.
    """
    if not outputs:
        return ["(出力の記録がありません)"]
    stats = stats or {}
    bad = []
    for rel, digest in sorted(outputs.items()):
        path = Path(report_dir) / rel
        recorded = stats.get(rel)
        if recorded is not None and list(recorded) == _stat(path):
            continue
        if not path.is_file() or file_hash(path) != digest:
            bad.append(rel)
    return bad


@functools.lru_cache(maxsize=1)
def _versions() -> tuple:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "dxanalysis": __version__}
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return tuple(out.items())


def package_versions() -> dict[str, str]:
    """Versions of Python, the package and the libraries, looked up once per process (every manifest records them)."""
    return dict(_versions())


def read_manifest(report_dir: Path) -> dict:
    path = report_dir / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


#: Why a notebook whose inputs, parameters, notebook and package are unchanged runs again.
REASON_MISSING = "出力の欠落"
REASON_INTERRUPTED = "前回の実行が中断"
REASONS_EN = {REASON_MISSING: "missing outputs", REASON_INTERRUPTED: "previous run interrupted"}


def reuse_verdict(prev: dict | None, task_hash: str, report_dir: Path) -> tuple[bool, str]:
    """May a previous run's output stand in for this one? Returns ``(reusable, reason)``.

    Reusable only when the recorded hash matches, the recorded status is ``ok`` or
    ``skipped``, and every recorded output exists with its recorded SHA-256 (files
    whose recorded size, mtime and inode are unchanged are not read, :func:`output_problems`). ``reason``
    (:data:`REASON_MISSING` with the first missing file, or :data:`REASON_INTERRUPTED`)
    explains a re-run that no change asked for; it is "" when something changed.
    """
    if not prev:
        return False, ""
    if prev.get("status") == "publishing":  # killed while moving its files into place
        return False, REASON_INTERRUPTED
    if prev.get("hash") != task_hash or prev.get("status") not in {"ok", "skipped"}:
        return False, ""
    bad = output_problems(prev.get("outputs") or {}, report_dir, prev.get("stats") or {})
    if bad:
        more = f" ほか {len(bad) - 1} 件" if len(bad) > 1 else ""
        return False, f"{REASON_MISSING}: {bad[0]}{more}"
    return True, ""


def _reusable(prev: dict | None, task_hash: str, report_dir: Path) -> bool:
    """A previous run's output may stand in for this one (see :func:`reuse_verdict`)."""
    return reuse_verdict(prev, task_hash, report_dir)[0]


def skipped_result(prev: dict, municipality: str, report_dir: Path) -> NotebookResult:
    """The result of a reused notebook; its outputs were just verified, so their current stats are recorded."""
    outputs = dict(prev.get("outputs") or {})
    return NotebookResult(municipality, prev["notebook"], "skipped", 0.0, "", prev.get("html", ""), prev.get("started", ""), prev.get("finished", ""), prev.get("hash", ""),
                          dict(prev.get("hashes", {})), int(prev.get("attempts", 1)), "", outputs, output_stats(outputs, report_dir))


def build_manifest(muni, order: list[str], *, final: bool, publishing: str = "") -> dict:
    """The municipality's ``manifest.json`` as it stands.

    While the run goes on (``final=False``) the entries of notebooks not yet done are
    the previous run's, so a run stopped at any point leaves a manifest that describes
    exactly the files on disk. ``publishing`` marks the notebook whose files are being
    moved into place (a run killed then is re-run next time as interrupted).
    """
    cfg = muni.cfg
    rows = {**muni.carried, **muni.results}
    entries = {n: NotebookResult(**{k: e.get(k, v) for k, v in asdict(NotebookResult(cfg.id, n, "")).items()}) for n, e in muni.previous.items() if n and not final}
    entries.update(rows)
    if publishing:
        entries[publishing] = NotebookResult(**{**asdict(entries.get(publishing) or NotebookResult(cfg.id, publishing, "")), "status": "publishing"})
    results = [entries[n] for n in order if n in entries] + [r for n, r in entries.items() if n not in order]
    return {
        "municipality": cfg.id,
        "name": cfg.name,
        "package_version": __version__,
        "package_hash": package_hash(),
        "versions": package_versions(),
        "inputs": muni.hashes,
        "inputs_hash": muni.inputs_hash,
        "item_ids": list(muni.item_ids) if getattr(muni, "item_ids", None) is not None else None,  # the instrument (05 groups by it), for the next unchanged run
        "parameters": {"data_dir": str(muni.folder.resolve()), "min_group_size": cfg.min_group_size, "language": cfg.language},
        "footer": muni.footer,
        "tables_source": muni.tables_source,
        "index_source": getattr(muni, "index_source", ""),
        "index_stat": getattr(muni, "index_stat", None),
        "audited": muni.audited,
        "notebooks": [asdict(r) for r in results],
    }


def save_manifest(report_dir: Path, manifest: dict) -> None:
    fsutil.atomic_write_text(Path(report_dir) / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))


def tables_digest(results: Iterable[NotebookResult]) -> str:
    """Digest of the shared tables (``tables/``, ``meta/``) the results recorded: what tables.xlsx is built from."""
    return _digest(sorted((k, v) for r in results for k, v in (r.outputs or {}).items() if k.startswith(("tables/", "meta/"))))


def audit_digest(muni) -> str:
    """What the privacy audit reads, as one digest: every shared output's hash (not ``private/``), ``tables.xlsx``, the footer, the package.

    ``index.html`` is built from these (results, findings, footer), so it is covered too.
    """
    rows = {**muni.carried, **muni.results}
    shared = sorted((k, v) for r in rows.values() for k, v in (r.outputs or {}).items() if not k.startswith("private/"))
    xlsx = muni.report_dir / "tables.xlsx"
    return _digest([shared, file_hash(xlsx) if xlsx.is_file() else "", muni.footer, package_hash()])
