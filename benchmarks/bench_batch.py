"""Benchmarks of the batch runner (issue 7). A script, not a test: results go to docs/performance.md.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_batch.py single  [--repeat 3]
    .venv/bin/python benchmarks/bench_batch.py many    [--municipalities 20 --respondents 300]
    .venv/bin/python benchmarks/bench_batch.py many --unchanged-only   # only the unchanged re-run (20 folders filled with 03 once)
    .venv/bin/python benchmarks/bench_batch.py scale   [--sizes 1000 10000 100000]
    .venv/bin/python benchmarks/bench_batch.py all     # the three above, in this order
    # add --snapshot to run a frozen copy of the package and notebooks (see snapshot())

Every measurement runs the real command line in a fresh process (``dxanalysis run`` or
the naive ``papermill`` + ``jupyter nbconvert`` sequence), timed from the outside; the
process tree's memory is sampled every 0.2 s (psutil) for the peak; CPU seconds are the
children's user+system time (``resource.getrusage``), which other load on the machine
does not inflate the way it inflates wall time. The 1-minute load average before and
after each measurement is recorded, because other work on a 2-core machine changes wall
times. Results are printed and appended as JSON lines to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ["01_current_state", "02_segments", "03_roadmap", "04_training"]
RESULTS = ROOT / "benchmarks" / "results.jsonl"
#: Where the notebooks and the package are taken from (``--snapshot`` points both at a frozen copy).
CODE = {"root": ROOT, "env": {}, "cwd": ROOT}  # cwd: commands run outside the project, so '' on sys.path cannot shadow the snapshot


# ----------------------------------------------------------------------------- measuring
def _tree_rss(proc) -> tuple[int, int]:
    """(sum, max) resident memory of a process and all its descendants, in bytes."""
    import psutil

    total = biggest = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for p in procs:
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        biggest = max(biggest, rss)
    return total, biggest


def measure(cmd: list[str], *, label: str, cwd: Path | None = None, env: dict | None = None, log: Path | None = None) -> dict:
    """Run ``cmd``; wall seconds, CPU seconds of the tree, peak memory (tree sum, largest process)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()[0]
    out = open(log, "ab") if log else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd or CODE["cwd"], env={**os.environ, **CODE["env"], **(env or {})}, stdout=out, stderr=out)
    ps = psutil.Process(proc.pid)
    peak = {"sum": 0, "max": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            s, m = _tree_rss(ps)
            peak["sum"], peak["max"] = max(peak["sum"], s), max(peak["max"], m)
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    if log:
        out.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    res = {"label": label, "rc": rc, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_tree_mb": round(peak["sum"] / 2**20), "peak_process_mb": round(peak["max"] / 2**20),
           "max_rss_child_mb": round(after.ru_maxrss / 1024), "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}
    print(json.dumps(res, ensure_ascii=False), flush=True)
    return res


def sequence(cmds: list[list[str]], *, label: str, cwd: Path | None = None, log: Path | None = None) -> dict:
    """Several commands one after the other, timed as one (the naive sequence)."""
    parts = [measure(c, label=f"{label}:{i}", cwd=cwd, log=log) for i, c in enumerate(cmds)]
    res = {"label": label, "rc": max(p["rc"] for p in parts), "wall_s": round(sum(p["wall_s"] for p in parts), 2), "cpu_s": round(sum(p["cpu_s"] for p in parts), 2),
           "peak_tree_mb": max(p["peak_tree_mb"] for p in parts), "peak_process_mb": max(p["peak_process_mb"] for p in parts),
           "load_before": parts[0]["load_before"], "load_after": parts[-1]["load_after"]}
    print(json.dumps(res, ensure_ascii=False), flush=True)
    return res


def record(kind: str, payload: dict) -> None:
    payload = {"benchmark": kind, "patches": CODE.get("patches", []), "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}, **payload}
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(json.dumps(payload, ensure_ascii=False) + "\n")


def dx(*args: str) -> list[str]:
    return [str(BIN / "dxanalysis"), *args]


def existing_notebooks() -> list[str]:
    return [n for n in NOTEBOOKS if (CODE["root"] / "notebooks" / f"{n}.ipynb").exists()]


def snapshot(work: Path) -> None:
    """Freeze the package and notebooks in ``work/snapshot`` and run everything from there.

    Other people editing the project during a long benchmark would change the package
    hash between the first and the unchanged second run (so the second run would re-run
    everything) and change the notebooks between the compared commands. PYTHONPATH puts
    the copy ahead of the editable install, in the CLI, the pool workers and the kernels.
    """
    snap = work / "snapshot"
    if snap.exists():
        shutil.rmtree(snap)
    shutil.copytree(ROOT / "dxanalysis", snap / "dxanalysis", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", snap / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    CODE["root"] = snap
    CODE["env"] = {"PYTHONPATH": os.pathsep.join(p for p in [str(snap), os.environ.get("PYTHONPATH", "")] if p)}
    print(f"code snapshot: {snap}", flush=True)


def write_sample(path: Path, *, n: int, seed: int, mid: str) -> Path:
    code = "import sys; from dxanalysis.sample import write_sample as w; w(sys.argv[1], n_respondents=int(sys.argv[2]), seed=int(sys.argv[3]), municipality_id=sys.argv[4], name=sys.argv[5])"
    subprocess.run([sys.executable, "-c", code, str(path), str(n), str(seed), mid, f"試算市{mid[-2:]}"], check=True, env={**os.environ, **CODE["env"]}, cwd=CODE["cwd"])
    return path


# ----------------------------------------------------------------------------- benchmarks
def bench_single(work: Path, *, repeat: int, respondents: int, log: Path) -> dict:
    """One municipality end to end: ours vs papermill CLI + jupyter nbconvert CLI per notebook."""
    data = write_sample(work / "single" / "data" / "city01", n=respondents, seed=1, mid="city01")
    nbs = existing_notebooks()
    ours, ours1, naive = [], [], []
    for i in range(repeat):
        # alternate, so slow drifts in background load hit both sides alike
        reports = work / "single" / f"ours{i}"
        ours.append(measure(dx("run", str(data), "--reports", str(reports), "--force", "--no-progress"), label=f"ours workers=default #{i}", log=log))
        ours1.append(measure(dx("run", str(data), "--reports", str(work / "single" / f"ours1_{i}"), "--force", "--no-progress", "--workers", "1"), label=f"ours workers=1 #{i}", log=log))
        out = work / "single" / f"naive{i}"
        out.mkdir(parents=True, exist_ok=True)
        cmds = []
        for nb in nbs:
            executed = out / f"{nb}.ipynb"
            cmds.append([str(BIN / "papermill"), str(CODE["root"] / "notebooks" / f"{nb}.ipynb"), str(executed), "-k", "python3", "-p", "data_dir", str(data.resolve()), "-p", "report_dir", str(out.resolve()), "--cwd", str(out)])
            cmds.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)])
        naive.append(sequence(cmds, label=f"naive papermill+nbconvert #{i}", log=log))
    med = lambda rows, k="wall_s": statistics.median(r[k] for r in rows)  # noqa: E731
    res = {"notebooks": nbs, "respondents": respondents, "repeat": repeat, "ours_wall_s": med(ours), "ours_workers1_wall_s": med(ours1), "naive_wall_s": med(naive),
           "ratio": round(med(ours) / med(naive), 3), "ratio_workers1": round(med(ours1) / med(naive), 3),
           "ours_cpu_s": med(ours, "cpu_s"), "ours_workers1_cpu_s": med(ours1, "cpu_s"), "naive_cpu_s": med(naive, "cpu_s"),
           "runs": {"ours": ours, "ours_workers1": ours1, "naive": naive}}
    print(f"single: ours {res['ours_wall_s']} s (workers=1: {res['ours_workers1_wall_s']} s) vs naive {res['naive_wall_s']} s → ratio {res['ratio']} (target ≤ 0.5)", flush=True)
    record("single", res)
    return res


def bench_many(work: Path, *, municipalities: int, respondents: int, log: Path, serial: bool = True) -> dict:
    """20 municipalities: --workers 1 vs --workers 2, then an unchanged second run."""
    data = work / "many" / "data"
    for i in range(1, municipalities + 1):
        write_sample(data / f"city{i:02d}", n=respondents, seed=1000 + i, mid=f"city{i:02d}")
    if serial:
        r1 = measure(dx("run", str(data), "--reports", str(work / "many" / "w1"), "--workers", "1", "--force", "--no-progress"), label="20 municipalities workers=1", log=log)
    else:
        r1 = {"wall_s": float("nan"), "cpu_s": float("nan"), "skipped": True}
    r2 = measure(dx("run", str(data), "--reports", str(work / "many" / "w2"), "--workers", "2", "--force", "--no-progress"), label="20 municipalities workers=2", log=log)
    r3 = measure(dx("run", str(data), "--reports", str(work / "many" / "w2"), "--workers", "2", "--no-progress"), label="20 municipalities unchanged re-run", log=log)
    res = {"municipalities": municipalities, "respondents": respondents, "notebooks": existing_notebooks() + (["05_comparison"] if (CODE["root"] / "notebooks" / "05_comparison.ipynb").exists() else []),
           "workers1": r1, "workers2": r2, "rerun": r3, "speedup": round(r1["wall_s"] / r2["wall_s"], 3), "cpu_ratio": round(r2["cpu_s"] / r1["cpu_s"], 3), "rerun_share": round(r3["wall_s"] / r2["wall_s"], 4)}
    print(f"many: workers=1 {r1['wall_s']} s, workers=2 {r2['wall_s']} s → speed-up {res['speedup']} (target ≥ 1.7); re-run {r3['wall_s']} s = {res['rerun_share'] * 100:.1f}% (target < 5%)", flush=True)
    record("many", res)
    return res


def bench_unchanged(work: Path, *, municipalities: int, respondents: int, log: Path, notebook: str = "03_roadmap", rounds: int = 3) -> dict:
    """Only the unchanged re-run: ``municipalities`` generated folders, reports filled once with ``notebook``, then re-runs.

    The first fill runs one notebook per municipality (``--notebook``, default the
    cheapest, 03_roadmap) so the report folders exist; each re-run passes the same
    ``--notebook``, so nothing changed. The first re-run rewrites the indexes (the statuses
    go from done to unchanged); the later ones are the steady state. Also one municipality
    alone.
    """
    data = work / "unchanged" / "data"
    for i in range(1, municipalities + 1):
        write_sample(data / f"city{i:02d}", n=respondents, seed=1000 + i, mid=f"city{i:02d}")
    reports = work / "unchanged" / "reports"
    sel = ("--notebook", notebook)
    fill = measure(dx("run", str(data), "--reports", str(reports), *sel, "--force", "--no-progress"), label=f"{municipalities} municipalities, {notebook} (fill)", log=log)
    reruns = [measure(dx("run", str(data), "--reports", str(reports), *sel, "--no-progress"), label=f"{municipalities} municipalities unchanged re-run #{i}", log=log) for i in range(rounds)]
    one = [measure(dx("run", str(data / "city01"), "--reports", str(reports), *sel, "--no-progress"), label=f"one municipality unchanged re-run #{i}", log=log) for i in range(rounds)]
    res = {"municipalities": municipalities, "respondents": respondents, "notebook": notebook, "fill": fill, "reruns": reruns, "one": one}
    print(f"unchanged: {municipalities} municipalities re-run " + ", ".join(f"{r['wall_s']} s wall / {r['cpu_s']} CPU-s" for r in reruns)
          + "; one municipality " + ", ".join(f"{r['wall_s']} s / {r['cpu_s']} CPU-s" for r in one), flush=True)
    record("unchanged", res)
    return res


def bench_scale(work: Path, *, sizes: list[int], log: Path) -> dict:
    """A generated survey of 1,000 / 10,000 / 100,000 respondents through notebooks 01 and 02."""
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        data = write_sample(work / "scale" / f"n{n}", n=n, seed=7, mid=f"n{n}")
        gen = round(time.perf_counter() - t0, 2)
        reports = work / "scale" / "reports"
        r = measure(dx("run", str(data), "--reports", str(reports), "--notebook", "01_current_state", "--notebook", "02_segments", "--force", "--no-progress"), label=f"scale n={n}", log=log)
        manifest = json.loads((reports / f"n{n}" / "manifest.json").read_text(encoding="utf-8"))
        r.update({"respondents": n, "generate_s": gen, "notebook_s": {e["notebook"]: e["seconds"] for e in manifest["notebooks"]}, "status": {e["notebook"]: e["status"] for e in manifest["notebooks"]},
                  "input_mb": round(sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 2**20, 1)})
        rows.append(r)
        print(f"scale n={n}: {r['wall_s']} s, peak tree {r['peak_tree_mb']} MB, largest process {r['peak_process_mb']} MB, per notebook {r['notebook_s']}", flush=True)
    res = {"sizes": sizes, "runs": rows}
    record("scale", res)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["single", "many", "scale", "all"])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--municipalities", type=int, default=20)
    p.add_argument("--respondents", type=int, default=300, help="respondents per municipality (single, many)")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--no-serial", action="store_true", help="many: skip the --workers 1 run (only the parallel run and the unchanged re-run)")
    p.add_argument("--unchanged-only", action="store_true", help="many: only the unchanged re-run (reports filled once with --fill-notebook)")
    p.add_argument("--fill-notebook", default="03_roadmap", help="with --unchanged-only: the notebook that fills the report folders first")
    p.add_argument("--work", default=None, help="scratch folder (default: a new temporary folder, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--snapshot", action="store_true", help="run a frozen copy of dxanalysis/ and notebooks/ (others may be editing the project)")
    p.add_argument("--patch", action="append", default=[], help="with --snapshot: apply this unified diff to the copy first (what-if measurements; repeatable)")
    args = p.parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="dxbench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "commands.log"
    print(f"scratch: {work}; command output: {log}", flush=True)
    CODE["cwd"] = work
    if args.snapshot:
        snapshot(work)
        for patch in args.patch:
            subprocess.run(["patch", "-p1", "-d", str(CODE["root"]), "-i", str(Path(patch).resolve())], check=True)
            print(f"patched the snapshot with {patch}", flush=True)
            CODE.setdefault("patches", []).append(Path(patch).name)
    try:
        if args.what in ("single", "all"):
            bench_single(work, repeat=args.repeat, respondents=args.respondents, log=log)
        if args.what == "many" and args.unchanged_only:
            bench_unchanged(work, municipalities=args.municipalities, respondents=args.respondents, log=log, notebook=args.fill_notebook)
        elif args.what in ("many", "all"):
            bench_many(work, municipalities=args.municipalities, respondents=args.respondents, log=log, serial=not args.no_serial)
        if args.what in ("scale", "all"):
            bench_scale(work, sizes=args.sizes, log=log)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
