"""Measurement for issue 19 (a script, not a test): kill runs at random moments, then repair.

Usage (from the project root)::

    .venv/bin/python benchmarks/kill_runs.py data/sample --runs 10 --workers 2 --out /tmp/kill_runs

1. A clean ``dxanalysis run`` writes the reference report (``<out>/clean``); its wall
   time T bounds the kill moments.
2. Rounds alternate two scenarios. *force*: ``dxanalysis run --force`` over the
   complete report left by the previous round (the issue's case: a re-run killed
   midway). *fresh*: a first ``dxanalysis run`` into an empty folder (the repair then
   has work to do). Each run starts in a new process group (session) and, at a moment
   drawn uniformly from [1 s, T], gets SIGKILL to the whole group, as a crash, an
   out-of-memory kill or a power cut would. The processes of the run (recorded just before the kill) must all be
   gone 5 s later (kernels live in their own session and exit when their worker does).
3. A plain ``dxanalysis run`` (no ``--force``) then repairs the report. The round
   *differs* when the repaired folder's file list is not the reference's, or a file
   under ``tables/``, ``meta/``, ``findings/`` or ``private/`` is not byte-identical
   (HTML, ipynb, figures and xlsx hold timings or dates: compared by name only).

Results are printed and appended as one JSON line to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.jsonl"
COMPARED_BYTES = ("tables/", "meta/", "findings/", "private/")


def command(data: str, reports: Path, workers: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dxanalysis.cli", "run", data, "--reports", str(reports), "--workers", str(workers), "--no-progress", *extra]


def snapshot(reports: Path) -> dict[str, bytes | None]:
    """Relative path → bytes (for compared files) or None (compared by name), lock files left out."""
    out = {}
    for p in sorted(reports.rglob("*")):
        if p.is_file() and not p.name.endswith(".lock"):
            rel = p.relative_to(reports).as_posix()
            out[rel] = p.read_bytes() if any(f"/{d}" in f"/{rel}" for d in COMPARED_BYTES) else None
    return out


def differences(ref: dict, got: dict) -> list[str]:
    diff = [f"missing {k}" for k in sorted(set(ref) - set(got))] + [f"extra {k}" for k in sorted(set(got) - set(ref))]
    diff += [f"bytes {k}" for k in sorted(set(ref) & set(got)) if ref[k] != got[k]]
    return diff


def kill_round(data: str, work: Path, workers: int, at: float, env: dict, extra: tuple[str, ...]) -> dict:
    """One run killed (process group, SIGKILL) ``at`` seconds after it started."""
    proc = subprocess.Popen(command(data, work, workers, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env, cwd=ROOT)
    t0 = time.monotonic()
    members: list = []
    while time.monotonic() - t0 < at and proc.poll() is None:
        try:
            members = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            pass
        time.sleep(0.2)
    killed = proc.poll() is None
    if killed:
        try:
            members = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            pass
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(5)
    alive = [p.pid for p in members if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return {"at": round(at, 1), "killed": killed, "alive_after_5s": alive}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="data/sample")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="/tmp/kill_runs")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    t0 = time.monotonic()
    subprocess.run(command(args.data, out / "clean", args.workers), check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    clean_seconds = time.monotonic() - t0
    ref = snapshot(out / "clean")
    shutil.copytree(out / "clean", out / "work")
    rng = random.Random(args.seed)
    rounds = []
    for i in range(args.runs):
        at = rng.uniform(1.0, clean_seconds)
        scenario = "force" if i % 2 == 0 else "fresh"
        if scenario == "fresh":
            shutil.rmtree(out / "work")
        rec = {"scenario": scenario, **kill_round(args.data, out / "work", args.workers, at, env, ("--force",) if scenario == "force" else ())}
        t1 = time.monotonic()
        repair = subprocess.run(command(args.data, out / "work", args.workers), capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        rec["repair_seconds"] = round(time.monotonic() - t1, 1)
        rec["repair_exit"] = repair.returncode
        rec["repair_summary"] = [" ".join(line.split()) for line in repair.stdout.splitlines() if line.split() and line.split()[0] not in {"municipality"} and "index.html" not in line]
        rec["differences"] = differences(ref, snapshot(out / "work"))
        rec["differs"] = bool(rec["differences"])
        rounds.append(rec)
        print(json.dumps({"round": i + 1, **rec}, ensure_ascii=False), flush=True)
    summary = {
        "benchmark": "kill_runs",
        "data": args.data,
        "workers": args.workers,
        "clean_seconds": round(clean_seconds, 1),
        "runs": args.runs,
        "killed": sum(r["killed"] for r in rounds),
        "differing_reports": sum(r["differs"] for r in rounds),
        "processes_alive_after_5s": sum(len(r["alive_after_5s"]) for r in rounds),
        "load_avg": os.getloadavg()[0],
        "rounds": rounds,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds"}, ensure_ascii=False))
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(json.dumps(summary, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
