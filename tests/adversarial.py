"""A deliberately adversarial town for the privacy audit, written without dxanalysis.sample.

Departments of 1, 4, 5 and 6 respondents beside larger ones, and answers drawn so that the
segments split the small departments into many small cells of the segment × department
table. Only the bundled sample's codebook.yaml (an input file) is reused.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import yaml

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

#: department → respondents: one person, four people, two of 5–6, and larger ones.
DEPARTMENTS = {"総務課": 40, "住民課": 33, "建設課": 27, "保健福祉課": 22, "教育課": 19, "議会事務局": 6, "監査委員室": 5, "選挙管理委員会": 4, "会計室": 1}
GRADES = ["一般職員", "係長級", "課長級以上"]
AGES = ["20代以下", "30代", "40代", "50代以上"]


def write_adversarial_town(dest: Path, *, seed: int = 7, min_group_size: int = 5) -> Path:
    rng = np.random.default_rng(seed)
    dest.mkdir(parents=True, exist_ok=True)
    cb = yaml.safe_load((SAMPLE / "codebook.yaml").read_text(encoding="utf-8"))
    cb["attributes"] = {
        "department": {"header": "所属", "label": "所属", "values": list(DEPARTMENTS)},
        "grade": {"header": "職層", "label": "職層", "values": GRADES},
        "age_band": {"header": "年代", "label": "年代", "values": AGES},
    }
    cb.pop("training", None)
    cb["ignore"] = []
    (dest / "codebook.yaml").write_text(yaml.safe_dump(cb, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (dest / "municipality.yaml").write_text(
        f"id: {dest.name}\nname: 監査町\nfiscal_year: 2025\nmin_group_size: {min_group_size}\ncomment_min_group_size: 10\n"
        "inputs:\n  survey: survey.csv\n  codebook: codebook.yaml\n  roster: roster.csv\n  opportunities: opportunities.yaml\n", encoding="utf-8")
    shutil.copy(SAMPLE / "opportunities.yaml", dest / "opportunities.yaml")
    labels = cb["scales"]["agree5"]["labels"]
    items = cb["items"]
    tools = cb["tools"]["items"]
    headers = [cb["respondent_id"], "所属", "職層", "年代"] + [i["header"] for i in items] + [t["header"] for t in tools] + [f["header"] for f in cb["free_text"]]
    rows, rid = [], 0
    for dept, n in DEPARTMENTS.items():
        for _ in range(n):
            rid += 1
            kind = rng.integers(0, 4)  # four attitude × skill profiles, so segments cut every department
            mot, skill = [(4.3, 4.2), (4.2, 1.8), (2.2, 3.8), (1.8, 1.7)][kind]
            answers = []
            for it in items:
                centre = mot if it["construct"] in {"mind", "why", "caution"} else skill
                v = int(np.clip(round(rng.normal(centre, 0.6)), 1, 5))
                answers.append(labels[6 - v if it.get("reverse") else v])
            tool = ["使っている" if rng.random() < 0.3 + 0.15 * skill else "使っていない" for _ in tools]
            comment = "@窓口の端末が足りない" if rid % 7 == 0 else ""
            rows.append([str(rid), dept, GRADES[rng.integers(0, 3)], AGES[rng.integers(0, 4)], *answers, *tool, comment])
    with open(dest / "survey.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)
    with open(dest / "roster.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["所属", "職員数"])
        w.writerows([(d, int(n * 2.5) + 2) for d, n in DEPARTMENTS.items()])
    return dest
