"""Benchmark (not a test): N generated municipalities on a Dask LocalCluster, projected to 1,741.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_dask.py --municipalities 5
    .venv/bin/python benchmarks/bench_dask.py --municipalities 20 --work /tmp/dxdask --keep
    .venv/bin/python benchmarks/bench_dask.py --project-from /tmp/dxdask/run.json   # projection only

Each municipality is ``dxanalysis.sample.write_sample`` (300 respondents, seeds 2001, 2002, …,
same instrument). The run is ``runner.run_batch(folders, scheduler=cluster.scheduler_address,
force=True, compare=False)`` against a ``distributed.LocalCluster`` of 2 worker processes ×
1 thread, started inside a child process that :func:`bench_batch.measure` times from the
outside (wall, CPU seconds of the whole process tree: scheduler, nannies, workers,
kernels; peak resident memory of the tree; load average before and after).

Per-task CPU: the benchmark wraps the runner's ``_DaskBackend.submit`` (in the benchmark
process only; runner.py is unchanged) so that each task runs inside ``_measured``, which
records the worker process's own + waited-for children's CPU time (``getrusage``) + the
CPU so far of its live children (psutil: the worker thread's warm kernel lives on between
tasks, so it is never reaped during the run) before and after the task. With 1 thread per worker, tasks on a worker do not overlap, so the delta is
the task's CPU. A task = validating one municipality, or executing one notebook + its HTML.

Projection to 1,741 municipalities (printed, and stored in ``benchmarks/results.jsonl``)::

    CPU total   = 1,741 × c̄                        c̄ = mean CPU-s per municipality (its tasks)
    overhead    = (tree CPU − Σ task CPU − cluster start CPU) / N   per municipality (scheduler,
                  nannies, the main process planning, publishing, index/xlsx, audit)
    wall(W)     = t_start + max(1,741 × (c̄ + o_w) / W,  1,741 × m)
                  o_w = the part of the overhead spent on the workers (the rest is the main
                  process, m CPU-s per municipality, which is serial and bounds the wall
                  whatever W is; on a LocalCluster m also holds the scheduler, which runs
                  in the same process); t_start = measured cluster start.
    uncertainty = ± 1.96 × s / √N × 1,741 / W   (s = sd of per-municipality CPU-s: the mean
                  is estimated from N municipalities)

Assumptions stated in docs/performance.md: one core per worker process, tasks' CPU does
not change with the number of workers (shared storage fast enough), no failed tasks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_batch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JAPAN = 1741  # 市区町村 (792 市 + 743 町 + 183 村 + 23 特別区), 2026
WORKER_COUNTS = (2, 8, 32, 128)


def _cpu_now() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _measured(log_path, fn, *args):
    """Run one runner task on a worker, appending its CPU and wall seconds to ``log_path``.

    Defined in ``__main__`` when the benchmark runs, so cloudpickle ships it by value: the
    workers need not import this file.
    """
    import json as _json
    import os as _os
    import resource as _res
    import time as _time

    def cpu():
        s, c = _res.getrusage(_res.RUSAGE_SELF), _res.getrusage(_res.RUSAGE_CHILDREN)
        live = 0.0  # a warm kernel lives on between tasks: its CPU so far, not yet in RUSAGE_CHILDREN
        try:
            import psutil as _ps

            for child in _ps.Process().children(recursive=True):
                try:
                    t = child.cpu_times()
                    live += t.user + t.system
                except _ps.Error:
                    pass
        except ImportError:
            pass
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime + live

    c0, t0 = cpu(), _time.perf_counter()
    ok = False
    try:
        out = fn(*args)
        ok = True
        return out
    finally:
        arg = args[0] if args else None
        if hasattr(arg, "municipality"):
            muni, what = arg.municipality, _os.path.basename(arg.notebook).removesuffix(".ipynb")
        elif isinstance(arg, tuple) and fn.__name__ == "validate_task":  # validate_task((folder, report_dir))
            muni, what = _os.path.basename(str(arg[0])), fn.__name__
        elif isinstance(arg, tuple):  # audit_task((report_dir, municipality, language))
            muni, what = str(arg[1]), fn.__name__
        else:
            muni, what = _os.path.basename(str(arg)), fn.__name__
        row = {"municipality": muni, "task": what, "cpu_s": round(cpu() - c0, 3), "wall_s": round(_time.perf_counter() - t0, 3), "pid": _os.getpid(), "ok": ok}
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(_json.dumps(row) + "\n")


def inner(args) -> int:
    """The measured child: start the LocalCluster, run the batch through its scheduler."""
    from distributed import LocalCluster

    from dxanalysis import runner

    log_path = str(Path(args.tasks_log).resolve())
    original = runner._DaskBackend.submit

    def submit(self, fn, *a, priority: int = 0):
        return original(self, _measured, log_path, fn, *a, priority=priority)

    runner._DaskBackend.submit = submit
    folders = sorted(p for p in Path(args.data).iterdir() if (p / "municipality.yaml").exists())
    t0, c0 = time.perf_counter(), _cpu_now()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
    start_s = time.perf_counter() - t0
    start_cpu_main = _cpu_now() - c0  # this process only (the workers' start CPU is in the tree total)
    try:
        t1, c1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        batch = runner.run_batch(folders, reports_root=args.reports, notebooks=args.notebook or None, scheduler=cluster.scheduler_address, force=True, progress=False, compare=False)
        c2 = resource.getrusage(resource.RUSAGE_SELF)
        run_s = time.perf_counter() - t1
        main_cpu = (c2.ru_utime - c1.ru_utime) + (c2.ru_stime - c1.ru_stime)
    finally:
        cluster.close()
    rows = batch.rows()
    status: dict[str, int] = {}
    for r in rows:
        status[r.status] = status.get(r.status, 0) + 1
    out = {"cluster_start_s": round(start_s, 2), "cluster_start_main_cpu_s": round(start_cpu_main, 2), "run_batch_s": round(run_s, 2), "main_process_cpu_s": round(main_cpu, 2),
           "status": status, "exit_code": batch.exit_code, "failed": [f"{r.municipality}/{r.notebook}: {r.error}" for r in rows if r.status == "failed"]}
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def summarise(run: dict, tasks: list[dict], *, workers: int) -> dict:
    """Per-municipality CPU, per-notebook CPU, overheads and the projection to 1,741."""
    per_muni: dict[str, float] = {}
    per_nb: dict[str, list[float]] = {}
    for t in tasks:
        per_muni[t["municipality"]] = per_muni.get(t["municipality"], 0.0) + t["cpu_s"]
        per_nb.setdefault(t["task"], []).append(t["cpu_s"])
    n = len(per_muni)
    cpus = sorted(per_muni.values())
    mean = statistics.fmean(cpus)
    sd = statistics.stdev(cpus) if n > 1 else float("nan")
    task_cpu = sum(cpus)
    tree_cpu = run["measure"]["cpu_s"]
    # cluster start: measured on its own in the same child; the workers' share of it is not separable, so the
    # whole non-task CPU (start included) is charged per municipality: a conservative (high) overhead.
    overhead = (tree_cpu - task_cpu) / n
    main_per_muni = run["inner"]["main_process_cpu_s"] / n
    worker_overhead = max(overhead - main_per_muni, 0.0)
    start = run["inner"]["cluster_start_s"]
    proj = {"municipalities": JAPAN, "cpu_hours": round(JAPAN * (mean + overhead) / 3600, 2),
            "cpu_hours_ci95": [round(JAPAN * (mean + overhead - 1.96 * sd / math.sqrt(n)) / 3600, 2), round(JAPAN * (mean + overhead + 1.96 * sd / math.sqrt(n)) / 3600, 2)] if n > 1 else None,
            "wall": {}}
    for w in WORKER_COUNTS:
        par = JAPAN * (mean + worker_overhead) / w
        serial = JAPAN * main_per_muni
        half = 1.96 * sd / math.sqrt(n) * JAPAN / w if n > 1 else float("nan")
        wall = start + max(par, serial)
        proj["wall"][str(w)] = {"wall_h": round(wall / 3600, 2), "ci95_h": [round((wall - half) / 3600, 2), round((wall + half) / 3600, 2)], "bound": "workers" if par >= serial else "main process"}
    # measured efficiency on this machine: task CPU / (wall × workers): < 1 means idle workers or contention
    eff = task_cpu / (run["measure"]["wall_s"] * workers)
    return {"n": n, "per_municipality_cpu_s": {"mean": round(mean, 2), "sd": round(sd, 2), "min": round(cpus[0], 2), "median": round(statistics.median(cpus), 2), "max": round(cpus[-1], 2)},
            "per_task_cpu_s": {k: {"mean": round(statistics.fmean(v), 2), "sd": round(statistics.stdev(v), 2) if len(v) > 1 else None, "n": len(v)} for k, v in sorted(per_nb.items())},
            "task_cpu_s": round(task_cpu, 2), "tree_cpu_s": tree_cpu, "overhead_cpu_s_per_municipality": round(overhead, 2), "main_process_cpu_s_per_municipality": round(main_per_muni, 2),
            "worker_efficiency": round(eff, 3), "projection": proj}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", nargs="?", default="outer", choices=["outer", "inner"])
    p.add_argument("--municipalities", type=int, default=5)
    p.add_argument("--respondents", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--notebook", action="append", default=[], help="subset of notebooks (default: all that apply; 05 comparison is not run)")
    p.add_argument("--work", default=None)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--no-record", action="store_true", help="do not append to benchmarks/results.jsonl")
    # inner
    p.add_argument("--data")
    p.add_argument("--reports")
    p.add_argument("--tasks-log")
    p.add_argument("--out")
    args = p.parse_args(argv)
    if args.mode == "inner":
        return inner(args)

    from dxanalysis.sample import write_sample

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="dxdask-"))
    work.mkdir(parents=True, exist_ok=True)
    data, reports = work / "data", work / "reports"
    t0 = time.perf_counter()
    for i in range(1, args.municipalities + 1):
        mid = f"town{i:04d}"
        if not (data / mid / "municipality.yaml").exists():
            write_sample(data / mid, n_respondents=args.respondents, seed=2000 + i, municipality_id=mid, name=f"試算町{i:04d}")
    gen_s = round(time.perf_counter() - t0, 2)
    tasks_log, out = work / "tasks.jsonl", work / "inner.json"
    tasks_log.unlink(missing_ok=True)
    shutil.rmtree(reports, ignore_errors=True)
    bench_batch.snapshot(work)  # others (and I) edit the package during a long run: kernels import a frozen copy
    print(f"scratch {work}; generated {args.municipalities} municipalities in {gen_s} s; uptime: {os.getloadavg()}", flush=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "inner", "--data", str(data), "--reports", str(reports), "--tasks-log", str(tasks_log), "--out", str(out), "--workers", str(args.workers)]
    for nb in args.notebook:
        cmd += ["--notebook", nb]
    meas = bench_batch.measure(cmd, label=f"dask LocalCluster {args.workers}x1, {args.municipalities} municipalities", cwd=work, log=work / "commands.log")
    run = {"measure": meas, "inner": json.loads(out.read_text(encoding="utf-8")), "generate_s": gen_s, "municipalities": args.municipalities, "respondents": args.respondents,
           "workers": args.workers, "threads_per_worker": 1, "notebooks": args.notebook or "all that apply (01, 02, 03, 04, 06; no 05)"}
    tasks = [json.loads(line) for line in tasks_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    run["summary"] = summarise(run, tasks, workers=args.workers)
    (work / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(run["summary"], ensure_ascii=False, indent=1), flush=True)
    if not args.no_record:
        bench_batch.record("dask", run)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if run["inner"]["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
