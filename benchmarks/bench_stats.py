"""CPU seconds of the statistics rewritten in issue #17 (session 4), this code against a baseline.

    git -C /work/main archive 17f4120 | tar -x -C /tmp/base      # the code before
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_stats.py --base /tmp/base data/sample
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_stats.py --base /tmp/base --no-fit /path/to/100k-folder

Each code tree runs in its own process on the same data, one after the other (same minutes),
and every result is compared between the two (they must be equal). CPU seconds by
``time.process_time``; the load average is printed (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

STEPS = r"""
import json, pickle, sys, time
sys.path.insert(0, sys.argv[1])
from dxanalysis import io, privacy, roadmap, segments, survey as sv

m = io.load_municipality(sys.argv[2])
fit = sys.argv[4] == "1"
by = [a for a in m.codebook.attribute_ids if a in m.survey.columns]
scores = sv.construct_scores(m.survey, m.codebook)
dist = sv.item_distribution(m.survey, m.codebook, by=by)
forced = privacy.suppression_plan(m.survey, m.codebook, min_size=m.min_group_size).forced(dist)
inputs = roadmap.load_inputs(m, segment_names=None)
levels = roadmap.survey_levels(m.survey, m.codebook, weights=None, assessment=inputs.assessment)
assessment = roadmap.fill_current(inputs.assessment, levels)
feats = segments.construct_features(m).dropna()
steps = {
    "privacy.suppress_small_groups (item distribution by every attribute)": lambda: privacy.suppress_small_groups(
        dist, n_col="n_group", min_size=m.min_group_size, by=["item_id", "attribute", "value"], forced=forced),
    "survey.group_differences (Mann-Whitney, rank-biserial)": lambda: sv.group_differences(scores, m.survey, attributes=by),
    "survey.test_hypotheses (DeLong, TOST)": lambda: sv.test_hypotheses(m, scores),
    "survey.tool_use": lambda: sv.tool_use(m.survey, m.codebook, by=by),
    "roadmap.rank_sensitivity": lambda: roadmap.rank_sensitivity(assessment, levels=levels),
}
if fit:
    steps["segments.SegmentModel.fit"] = lambda: segments.SegmentModel(min_segment_size=m.min_group_size).fit(feats)
out, results = {}, {}
for name, f in steps.items():
    t = time.process_time()
    r = f()
    out[name] = round(time.process_time() - t, 3)
    results[name] = (r.selection_, r.stability_, r.labels_) if name.startswith("segments") else r
pickle.dump(results, open(sys.argv[3], "wb"))
print(json.dumps(out))
"""


def run(root: Path, data: Path, fit: bool, tmp: Path) -> tuple[dict, dict]:
    res = tmp / f"{abs(hash(str(root)))}.pkl"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", STEPS, str(root), str(data), str(res), "1" if fit else "0"], env=env,
                          capture_output=True, text=True, check=True)
    with open(res, "rb") as f:
        return json.loads(done.stdout.strip().splitlines()[-1]), pickle.load(f)


def same(a, b) -> bool:
    import numpy as np
    import pandas as pd

    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return True
    return bool(np.array_equal(a, b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--base", type=Path, required=True, help="a copy of the code before (its dxanalysis/ folder inside)")
    ap.add_argument("--no-fit", action="store_true", help="skip SegmentModel.fit (minutes at 100,000 respondents)")
    args = ap.parse_args()
    here = Path(__file__).resolve().parent.parent
    print("load before:", os.getloadavg()[0])
    with tempfile.TemporaryDirectory() as tmp:
        base, base_res = run(args.base.resolve(), args.data.resolve(), not args.no_fit, Path(tmp))
        new, new_res = run(here, args.data.resolve(), not args.no_fit, Path(tmp))
    print("load after:", os.getloadavg()[0])
    print("| step | before CPU-s | after CPU-s | results equal |\n|---|---:|---:|---|")
    for name in base:
        print(f"| {name} | {base[name]} | {new[name]} | {same(base_res[name], new_res[name])} |")


if __name__ == "__main__":
    main()
