"""Benchmark (not a test): time to fit the staff segments for 500 and 100,000 respondents.

Run from the project folder::

    .venv/bin/python benchmarks/bench_segments.py            # 500 and 100,000
    .venv/bin/python benchmarks/bench_segments.py 500 5000   # other sizes

Each size is a sample municipality from :mod:`dxanalysis.sample` (same generator and seed
as ``data/sample``, more respondents), written to a temporary folder and loaded as a
notebook would. Timed separately: the estimator alone (:class:`SegmentModel` with the
notebook defaults: k = 2..8, k-means and Gaussian mixture, 20 resamples) and the whole of
:func:`dxanalysis.segments.fit_segments` (features, weights, profiles, names,
opportunities). Wall-clock and CPU seconds are printed; all fits are single-threaded.
"""

from __future__ import annotations

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


def bench(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_sample(Path(tmp) / "bench", n_respondents=n, municipality_id="bench", name="ベンチ市")
        m, load_wall, _ = _timed(lambda: io.load_municipality(folder))
    X = segments.construct_features(m).dropna()
    model, fit_wall, fit_cpu = _timed(lambda: segments.SegmentModel().fit(X))
    res, all_wall, all_cpu = _timed(lambda: segments.fit_segments(m))
    return {"respondents": n, "segmented": len(X), "k": model.n_segments_, "load_s": load_wall, "fit_wall_s": fit_wall, "fit_cpu_s": fit_cpu,
            "fit_segments_wall_s": all_wall, "fit_segments_cpu_s": all_cpu}


def main(sizes: list[int]) -> None:
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'}), {sys.platform}")
    print(f"{'respondents':>11} {'k':>2} {'load s':>7} {'fit wall s':>10} {'fit cpu s':>9} {'all wall s':>10} {'all cpu s':>9}")
    for n in sizes:
        r = bench(n)
        print(f"{r['respondents']:>11,} {r['k']:>2} {r['load_s']:>7.1f} {r['fit_wall_s']:>10.1f} {r['fit_cpu_s']:>9.1f} {r['fit_segments_wall_s']:>10.1f} {r['fit_segments_cpu_s']:>9.1f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 100_000])
