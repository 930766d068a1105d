"""What `dxanalysis run` does in its main process per municipality, and the audit (issue 17, session 4).

A script, not a test: results go to docs/performance.md.

Usage (from the project root, on a finished report folder)::

    .venv/bin/python benchmarks/bench_publish.py parts reports/sample   # audit, its LPs, tables.xlsx: CPU-s in this process
    .venv/bin/python benchmarks/bench_publish.py main data/sample       # one `dxanalysis run --force --workers 2`: the main process's CPU-s

``parts`` times (``time.process_time``, best of ``--repeat``) the privacy audit as it is,
the audit with one ``scipy.optimize.linprog`` per bound (the method before session 4),
the audit with openpyxl reading the xlsx sheets, and ``write_tables_xlsx``; it checks
that the faster variants give the same findings and ranges. ``main`` runs the command
line in a fresh process and reports that process's own CPU seconds (the notebooks run in
pool workers and kernels, counted as children), with the 1-minute load average before
and after. Results are printed and appended as JSON lines to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return round(min(times), 3)


def parts(report: Path, repeat: int) -> dict:
    import pandas as pd

    from dxanalysis import audit
    from dxanalysis.report import write_tables_xlsx

    work = Path(tempfile.mkdtemp()) / report.name
    shutil.copytree(report, work)
    fast = audit.audit_report(work)  # (imports warm)
    out = {"audit": _best(lambda: audit.audit_report(work), repeat)}
    solve, reader = audit._solve, audit._xlsx_rows
    try:
        audit._solve = audit._solve_linprog
        out["audit_linprog_per_bound"] = _best(lambda: audit.audit_report(work), repeat)
        plain = audit.audit_report(work)
        audit._solve, audit._xlsx_rows = solve, lambda path: None
        out["audit_openpyxl_reader"] = _best(lambda: audit.audit_report(work), repeat)
    finally:
        audit._solve, audit._xlsx_rows = solve, reader
    pd.testing.assert_frame_equal(fast.ranges, plain.ranges)
    pd.testing.assert_frame_equal(fast.findings, plain.findings)
    out["write_tables_xlsx"] = _best(lambda: write_tables_xlsx(work), repeat)
    out.update(hidden_cells=fast.hidden_cells_checked, tables_read=fast.tables_read)
    shutil.rmtree(work.parent)
    return out


def main_process(data: Path, workers: int) -> dict:
    reports = Path(tempfile.mkdtemp())
    code = ("import resource, sys\nfrom dxanalysis.cli import main\n"
            "if __name__ == '__main__':\n    c = main(sys.argv[1:])\n    r = resource.getrusage(resource.RUSAGE_SELF)\n"
            "    print('MAIN_CPU', r.ru_utime + r.ru_stime, file=sys.stderr)\n    sys.exit(c)\n")
    script = reports / "run.py"
    script.write_text(code, encoding="utf-8")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), "run", str(data), "--reports", str(reports / "out"), "--force", "--no-progress", "--workers", str(workers)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu = float(next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("MAIN_CPU")))
    total = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    shutil.rmtree(reports)
    return {"main_cpu_s": round(main_cpu, 2), "all_cpu_s": round(total, 2), "wall_s": round(wall, 1), "exit": proc.returncode, "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["parts", "main"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    result = parts(args.folder, args.repeat) if args.what == "parts" else main_process(args.folder, args.workers)
    result = {"bench": f"publish_{args.what}", "folder": str(args.folder), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    print(json.dumps(result, ensure_ascii=False))
    with open(ROOT / "benchmarks" / "results.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
