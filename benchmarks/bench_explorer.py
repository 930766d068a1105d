"""Explorer redraw time (issue 17): one redraw of the ipywidgets explorer after a filter change.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_explorer.py [--data data/sample] [--repeat 7]
    .venv/bin/python benchmarks/bench_explorer.py --offline [--data <folder>] [--repeat 3]   # explore.offline_data

Headless: the explorer's widgets are built (ipywidgets works without a front end; the
``Output`` widget just collects), then a filter dropdown is changed the way a user
changes it, which calls ``Explorer._on_change`` → ``Explorer.update`` (recompute the
view, draw the chart, encode the PNG, rebuild the table). Timed per redraw: wall and CPU
seconds of this process; median of ``--repeat`` changes, for a construct, an item and a
tool measure (items draw a stacked Likert chart, the slowest). The explorer keeps recent
views (``Explorer._cache``); it is emptied before each timed change, so every timed redraw
computes and draws. After each, the sort order is changed (same choice, kept view): that
CPU time is reported as ``kept_view_cpu_s``. The load average is recorded. Results are
printed and appended to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(ROOT / "data" / "sample"))
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--offline", action="store_true", help="time explore.offline_data (every measure × attribute of the shared HTML's explorer) instead")
    a = p.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.pop("DXANALYSIS_HEADLESS", None)

    from dxanalysis import explore, io, survey
    from dxanalysis.plots import setup_style

    setup_style()
    m = io.load_municipality(a.data)
    scores = survey.construct_scores(m.survey, m.codebook)
    if a.offline:
        return _offline(m, scores, a)
    ex = explore.Explorer(m, scores=scores)
    ex.build()
    measures = [v for _, v in explore.measure_options(m.codebook, m.language)]
    kinds = {}
    for mid in measures:
        kinds.setdefault(explore._kind(m.codebook, mid), mid)
    attr = ex.attribute
    filt_attr, dd = next((aid, d) for aid, d in ex.widgets["filters"].items() if aid != attr)
    values = [v for _, v in dd.options if v]
    rows = {}
    for kind, mid in kinds.items():
        ex.widgets["measure"].value = mid  # one redraw, not timed (first draw of this measure)
        walls, cpus, warm = [], [], []
        for i in range(a.repeat):
            value = values[i % len(values)] if i % 2 == 0 else ""  # alternate: one group, then everyone
            getattr(ex, "_cache", {}).clear()  # a choice not made before: computed and drawn (the explorer keeps recent views)
            t0, c0 = time.perf_counter(), _cpu()
            dd.value = value  # what a user does: the observer redraws
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
            c0 = time.process_time()
            ex.widgets["sort"].value = "desc" if ex.widgets["sort"].value != "desc" else "asc"  # the same choice, another order: from the kept view
            warm.append(time.process_time() - c0)
        rows[kind] = {"measure": mid, "median_wall_s": round(statistics.median(walls), 3), "median_cpu_s": round(statistics.median(cpus), 3),
                      "max_wall_s": round(max(walls), 3), "max_cpu_s": round(max(cpus), 3), "kept_view_cpu_s": round(statistics.median(warm), 3), "n": a.repeat}
        print(f"{kind:9s} {mid:24s} redraw median {rows[kind]['median_wall_s']:.3f} s wall, {rows[kind]['median_cpu_s']:.3f} s CPU (max {rows[kind]['max_wall_s']:.3f} s wall, "
              f"{rows[kind]['max_cpu_s']:.3f} s CPU); same choice re-sorted {rows[kind]['kept_view_cpu_s']:.3f} s CPU", flush=True)
    load = os.getloadavg()
    print(f"load average {load}")
    import bench_batch as bb

    bb.record("explorer-redraw", {"data": a.data, "filter": filt_attr, "rows": rows, "load": load})
    return 0


def _offline(m, scores, a) -> int:
    """CPU seconds of ``explore.offline_data`` (plan and scores given, as ``publish_offline`` has them)."""
    from dxanalysis import explore
    from dxanalysis.privacy import suppression_plan

    plan = suppression_plan(m.survey, m.codebook, min_size=m.min_group_size)
    cpus = []
    for _ in range(a.repeat):
        c0 = time.process_time()
        data = explore.offline_data(m, scores=scores, plan=plan)
        cpus.append(time.process_time() - c0)
    load = os.getloadavg()
    print(f"offline_data: {len(data['views'])} views of {len(m.survey):,} respondents, median {statistics.median(cpus):.3f} CPU-s "
          f"(min {min(cpus):.3f}, max {max(cpus):.3f}); load average {load}", flush=True)
    import bench_batch as bb

    bb.record("explorer-offline", {"data": a.data, "respondents": len(m.survey), "views": len(data["views"]), "median_cpu_s": round(statistics.median(cpus), 3),
                                   "cpu_s": [round(c, 3) for c in cpus], "load": load})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
