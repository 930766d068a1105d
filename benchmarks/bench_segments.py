"""Benchmark (not a test): time to fit the staff segments for 500 and 100,000 respondents.

Run from the project folder::

    .venv/bin/python benchmarks/bench_segments.py            # 500 and 100,000
    .venv/bin/python benchmarks/bench_segments.py 500 5000   # other sizes
    .venv/bin/python benchmarks/bench_segments.py --full 100000   # also fit every k on all rows (the pre-issue-17 way)

Each size is a sample municipality from :mod:`dxanalysis.sample` (same generator and seed
as ``data/sample``, more respondents), written to a temporary folder and loaded as a
notebook would. Timed separately: the estimator alone (:class:`SegmentModel` with the
notebook defaults: k = 2..8, k-means and Gaussian mixture, 20 resamples) and the whole of
:func:`dxanalysis.segments.fit_segments` (features, weights, profiles, names,
opportunities). Wall-clock and CPU seconds are printed; all fits are single-threaded.
Above ``SegmentModel.selection_sample_size`` (10,000) rows k is chosen on a seeded subset and
the chosen model refitted on all rows; ``--full`` also times ``selection_sample_size=None``
(every k on all rows) and prints whether k and the partition agree (adjusted Rand index).
The 1-minute load average is printed with each row.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from dxanalysis import io, segments
from dxanalysis.sample import write_sample


def _timed(func):
    w, c = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - w, time.process_time() - c


def bench(n: int, full: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_sample(Path(tmp) / "bench", n_respondents=n, municipality_id="bench", name="ベンチ市")
        m, load_wall, _ = _timed(lambda: io.load_municipality(folder))
    X = segments.construct_features(m).dropna()
    model, fit_wall, fit_cpu = _timed(lambda: segments.SegmentModel().fit(X))
    res, all_wall, all_cpu = _timed(lambda: segments.fit_segments(m))
    out = {"respondents": n, "segmented": len(X), "k": model.n_segments_, "rows_for_k": model.selection_rows_, "load_s": load_wall, "fit_wall_s": fit_wall, "fit_cpu_s": fit_cpu,
           "fit_segments_wall_s": all_wall, "fit_segments_cpu_s": all_cpu, "load_avg": os.getloadavg()[0]}
    if full:
        from sklearn.metrics import adjusted_rand_score

        ref, ref_wall, ref_cpu = _timed(lambda: segments.SegmentModel(selection_sample_size=None).fit(X))
        out.update({"full_k": ref.n_segments_, "full_wall_s": ref_wall, "full_cpu_s": ref_cpu, "ari_vs_full": adjusted_rand_score(ref.labels_, model.labels_)})
    return out


def main(sizes: list[int], full: bool = False) -> None:
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'}), {sys.platform}")
    print(f"{'respondents':>11} {'k':>2} {'k rows':>7} {'load s':>7} {'fit wall s':>10} {'fit cpu s':>9} {'all wall s':>10} {'all cpu s':>9} {'load':>5}" + ("  full: k, wall s, cpu s, ARI" if full else ""))
    for n in sizes:
        r = bench(n, full)
        line = f"{r['respondents']:>11,} {r['k']:>2} {r['rows_for_k']:>7,} {r['load_s']:>7.1f} {r['fit_wall_s']:>10.1f} {r['fit_cpu_s']:>9.1f} {r['fit_segments_wall_s']:>10.1f} {r['fit_segments_cpu_s']:>9.1f} {r['load_avg']:>5.1f}"
        if full:
            line += f"  {r['full_k']}, {r['full_wall_s']:.1f}, {r['full_cpu_s']:.1f}, {r['ari_vs_full']:.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    full = "--full" in args
    main([int(a) for a in args if a != "--full"] or [500, 100_000], full=full)
