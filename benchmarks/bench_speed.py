"""Issue 17 (speed), side by side: an earlier commit vs the working tree, in one run.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_speed.py single --baseline 7b1850a          # sample folder, 4+ notebooks, + naive sequence
    .venv/bin/python benchmarks/bench_speed.py scale --baseline 7b1850a --sizes 1000 10000 100000
    .venv/bin/python benchmarks/bench_speed.py rerun --municipalities 20           # unchanged re-run (new code only)

Both sides are frozen copies (``git archive <baseline>`` and a copy of the working
tree's ``dxanalysis/`` and ``notebooks/``) put first on ``PYTHONPATH`` for the CLI, its
workers and the kernels, and run alternately (baseline, new, naive, baseline, new, …)
so drifting background load hits both. Measurements come from
:func:`bench_batch.measure`: wall seconds, CPU seconds of the whole process tree
(``getrusage`` of the children), peak resident memory of the tree, load average
before/after. Results are printed and appended to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_batch as bb  # noqa: E402

ROOT = bb.ROOT


def freeze(rev: str | None, dest: Path) -> Path:
    """``dxanalysis/`` and ``notebooks/`` of commit ``rev`` (None: the working tree) in ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if rev is None:
        for sub in ("dxanalysis", "notebooks"):
            shutil.copytree(ROOT / sub, dest / sub, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "dxanalysis", "notebooks"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def env_for(code: Path) -> dict:
    return {"PYTHONPATH": os.pathsep.join(p for p in [str(code), os.environ.get("PYTHONPATH", "")] if p)}


def notebooks(code: Path) -> list[str]:
    return sorted(p.stem for p in (code / "notebooks").glob("0[1-4,6]_*.ipynb"))


def run(code: Path, data: Path, reports: Path, *, label: str, log: Path, extra: tuple[str, ...] = ()) -> dict:
    return bb.measure(bb.dx("run", str(data), "--reports", str(reports), "--force", "--no-progress", *extra), label=label, env=env_for(code), log=log)


def naive(code: Path, data: Path, out: Path, *, label: str, log: Path) -> dict:
    """The user's sequence: ``papermill`` then ``jupyter nbconvert --to html`` per notebook."""
    out.mkdir(parents=True, exist_ok=True)
    cmds = []
    for nb in notebooks(code):
        executed = out / f"{nb}.ipynb"
        cmds.append([str(bb.BIN / "papermill"), str(code / "notebooks" / f"{nb}.ipynb"), str(executed), "-k", "python3", "-p", "data_dir", str(data.resolve()), "-p", "report_dir", str(out.resolve()), "--cwd", str(out)])
        cmds.append([str(bb.BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)])
    bb.CODE["env"] = env_for(code)
    try:
        return bb.sequence(cmds, label=label, log=log)
    finally:
        bb.CODE["env"] = {}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["single", "scale", "rerun"])
    p.add_argument("--baseline", default=None, help="git revision to compare with (single, scale)")
    p.add_argument("--data", default=str(ROOT / "data" / "sample"), help="single: municipality folder")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-naive", action="store_true", help="single: skip the naive sequence")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--municipalities", type=int, default=20)
    p.add_argument("--respondents", type=int, default=300)
    p.add_argument("--work", default=None)
    a = p.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="dx-speed-"))
    log = work / "commands.log"
    work.mkdir(parents=True, exist_ok=True)
    new = freeze(None, work / "new")
    base = freeze(a.baseline, work / "base") if a.baseline else None
    print(f"work folder {work}; load {os.getloadavg()}", flush=True)
    out: dict = {"baseline": a.baseline, "work": str(work)}
    if a.what == "single":
        data = Path(a.data).resolve()
        rows = []
        for i in range(a.repeat):
            row = {}
            if base:
                row["base"] = run(base, data, work / f"base{i}", label=f"baseline {a.baseline} #{i}", log=log)
            row["new"] = run(new, data, work / f"new{i}", label=f"new #{i}", log=log)
            if not a.no_naive:
                row["naive"] = naive(new, data, work / f"naive{i}", label=f"naive (new notebooks) #{i}", log=log)
            rows.append(row)
        out.update({"data": str(data), "notebooks": notebooks(new), "rounds": rows})
    elif a.what == "scale":
        rows = []
        for n in a.sizes:
            data = bb.write_sample(work / "data" / f"n{n}", n=n, seed=7, mid=f"n{n}")
            row = {"respondents": n}
            for side, code in (("base", base), ("new", new)):
                if code is None:
                    continue
                reports = work / f"scale-{side}"
                r = run(code, data, reports, label=f"scale {side} n={n}", log=log, extra=("--notebook", "01_current_state", "--notebook", "02_segments"))
                manifest = json.loads((reports / f"n{n}" / "manifest.json").read_text(encoding="utf-8"))
                r["notebook_s"] = {e["notebook"]: e["seconds"] for e in manifest["notebooks"]}
                r["status"] = {e["notebook"]: e["status"] for e in manifest["notebooks"]}
                row[side] = r
            rows.append(row)
        out.update({"rounds": rows})
    else:  # rerun
        data = work / "many"
        for i in range(1, a.municipalities + 1):
            bb.write_sample(data / f"city{i:02d}", n=a.respondents, seed=1000 + i, mid=f"city{i:02d}")
        first = run(new, data, work / "many-reports", label=f"{a.municipalities} municipalities", log=log)
        again = bb.measure(bb.dx("run", str(data), "--reports", str(work / "many-reports"), "--no-progress"), label="unchanged re-run", env=env_for(new), log=log)
        out.update({"municipalities": a.municipalities, "first": first, "rerun": again})
    bb.record(f"speed-{a.what}", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
