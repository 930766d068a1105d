"""Benchmark (not a test): CPU seconds spent saving charts (``Publisher.figure``) in notebooks 01–04.

    .venv/bin/python benchmarks/bench_figures.py . /tmp/dx-figures

Runs the code cells of notebooks 01–04 on data/sample in this process (no kernel; the
ipywidgets explorer cell is skipped) and prints the number of charts, the CPU seconds
spent inside ``Publisher.figure`` (PNG 200 dpi, SVG, the inline image) and the CPU seconds
of the whole run. Give the project folder to measure (a checkout of another commit for a
side-by-side comparison) and a scratch report folder.
"""
import sys, time, os
from pathlib import Path
root = Path(sys.argv[1]); out = sys.argv[2]
sys.path.insert(0, str(root)); os.chdir(root / "notebooks")
import matplotlib; matplotlib.use("agg")
import nbformat
from dxanalysis import report
spent = [0.0, 0]
orig = report.Publisher.figure
def timed(self, *a, **k):
    t = time.process_time()
    try: return orig(self, *a, **k)
    finally: spent[0] += time.process_time() - t; spent[1] += 1
report.Publisher.figure = timed
t0 = time.process_time()
for nb in ["01_current_state", "02_segments", "03_roadmap", "04_training"]:
    n = nbformat.read(root / "notebooks" / f"{nb}.ipynb", 4)
    ns = {}; first = True
    for c in n.cells:
        if c.cell_type != "code" or "show_explorer" in c.source: continue
        src = c.source + (f"\ndata_dir = {str(root/'data/sample')!r}\nreport_dir = {out!r}\n" if first else ""); first = False
        exec(compile(src, nb, "exec"), ns)
print(f"figures {spent[1]} CPU-s in figure() {spent[0]:.2f}; total {time.process_time()-t0:.2f}")
