"""An independent municipality generator for the variation matrix (issue #12).

It shares no code with ``dxanalysis``: it writes what a new user would put in a folder,
following docs/data-contract.md only — a raw survey export (Microsoft Forms-like CSV in
cp932 or UTF-8, Google Forms-like, or a numeric-coded XLSX), a staff roster, training
waves, and a ``codebook.yaml`` / ``municipality.yaml`` written by hand as text.

The expected headline numbers are recomputed in tests/test_variation.py from these raw
files with plain pandas/scipy/statsmodels, never from the package's output.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEPARTMENTS = ["総務課", "住民課", "福祉課", "建設課", "教育課", "産業課"]
AGES = ["20代以下", "30代", "40代", "50代以上"]
AGREE5 = {1: "そう思わない", 2: "あまりそう思わない", 3: "どちらともいえない", 4: "ややそう思う", 5: "そう思う"}
AGREE4 = {1: "あてはまらない", 2: "あまりあてはまらない", 3: "ややあてはまる", 4: "あてはまる"}
SAT5 = {1: "不満", 2: "やや不満", 3: "普通", 4: "やや満足", 5: "満足"}
CONSTRUCTS = {
    "mind": ("マインド・スタンス", "マインド・スタンス", ["変化を前向きに受け止めている", "新しいやり方を試している", "住民の立場で業務を見直している"]),
    "data": ("データ活用", "What", ["データを根拠に判断している", "表計算で集計やグラフ化ができる", "データの扱いで注意すべき点を知っている"]),
    "tech": ("デジタル技術", "What", ["クラウドの特徴を説明できる", "生成AIの使いどころが分かる", "情報セキュリティの基本を守っている"]),
}
TOOLS = [("teams", "Teams"), ("excel", "Excel"), ("kintone", "kintone"), ("logochat", "LoGoチャット")]
MULTI_HEADER = "業務で利用しているツールをすべて選択してください"


@dataclass
class Town:
    """What a variant changes. Defaults: a small Forms/cp932 town with everything."""

    id: str
    name: str = "検証町"
    n: int = 120
    seed: int = 1
    fmt: str = "forms_cp932"  # forms_cp932 | google_utf8 | xlsx_numeric
    attributes: tuple = ("department", "age_band")
    roster_by: tuple = ("department", "age_band")
    constructs: dict = field(default_factory=lambda: {"mind": 3, "data": 3, "tech": 2})
    scale_points: int = 5
    constant_item: str | None = None  # an item id everyone answers with 4 (where they answer)
    free_text: bool = True
    tools: str = "yesno"  # yesno | none | multi
    training: bool = True
    attitude: str = "likert5"  # likert5 | likert4 | yesno
    training_comment: bool = True
    training_group: bool = True
    training_satisfaction: bool = True
    roles: bool = True  # write role: in the codebook (False: rely on the notebook's default ids)
    hypotheses: bool = True
    opportunities: bool = True
    language: str = "ja"
    min_group_size: int = 5


# --------------------------------------------------------------------------- writing helpers
def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def _write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)


def _write_table(town: Town, path_stem: Path, header, rows) -> str:
    if town.fmt == "xlsx_numeric":
        _write_xlsx(path_stem.with_suffix(".xlsx"), header, rows)
        return path_stem.name + ".xlsx"
    _write_csv(path_stem.with_suffix(".csv"), header, rows, "cp932" if town.fmt == "forms_cp932" else "utf-8")
    return path_stem.name + ".csv"


def _q(text) -> str:
    return '"' + str(text).replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- the town
def item_list(town: Town) -> list[tuple[str, str, str]]:
    """(item id, header, construct) in questionnaire order."""
    out = []
    for c, k in town.constructs.items():
        for j, header in enumerate(CONSTRUCTS[c][2][:k], start=1):
            out.append((f"{c}_{j}", header, c))
    return out


def make_town(parent: Path, town: Town) -> Path:
    """Write one municipality folder under ``parent``; returns the folder."""
    rng = np.random.default_rng(town.seed)
    folder = Path(parent) / town.id
    folder.mkdir(parents=True, exist_ok=True)
    n = town.n
    pts = town.scale_points
    labels = AGREE5 if pts == 5 else AGREE4
    items = item_list(town)

    # respondents: departments of unequal size, a latent DX readiness that differs by age
    dept_p = np.array([0.3, 0.2, 0.2, 0.12, 0.1, 0.08])
    dept = rng.choice(DEPARTMENTS, size=n, p=dept_p)
    age = rng.choice(AGES, size=n, p=[0.25, 0.25, 0.25, 0.25])
    latent = rng.normal(0, 1, n) + np.where(age == "20代以下", 0.6, np.where(age == "50代以上", -0.5, 0.0))
    answers = {}
    for iid, _, _ in items:
        raw = (pts + 1) / 2 + 0.9 * latent + rng.normal(0, 0.8, n)
        answers[iid] = np.clip(np.rint(raw), 1, pts).astype(int)
    if town.constant_item:
        answers[town.constant_item][:] = 4
    dont_know = rng.random((n, len(items))) < 0.03  # わからない / 9
    blank_row = rng.random(n) < 0.02  # opened the form and answered nothing

    header = ["ID", "開始時刻", "完了時刻", "メール", "名前", "所属", "年代" if "age_band" in town.attributes else None]
    header = [h for h in header if h]
    header += [h for _, h, _ in items]
    tool_yes = rng.random((n, len(TOOLS))) < np.array([0.8, 0.9, 0.3, 0.5])
    if town.tools == "yesno":
        header += [f"{label}を業務で使っていますか" for _, label in TOOLS[:2]]
    elif town.tools == "multi":
        header.append(MULTI_HEADER)
    if town.free_text:
        header.append("DXについてご意見があればお書きください")
    rows = []
    for r in range(n):
        row = [str(1000 + r) if town.fmt != "xlsx_numeric" else 1000 + r, "2025/10/01 9:00", "2025/10/01 9:10", "anonymous", "", dept[r]]
        if "age_band" in town.attributes:
            row.append(age[r])
        for j, (iid, _, _) in enumerate(items):
            v = int(answers[iid][r])
            if blank_row[r]:
                row.append(None if town.fmt == "xlsx_numeric" else "")
            elif dont_know[r, j]:
                row.append(9 if town.fmt == "xlsx_numeric" else "わからない")
            elif town.fmt == "xlsx_numeric":
                # numbers, some typed as full-width digits (text cells)
                row.append(chr(0xFF10 + v) if (r + j) % 7 == 0 else v)
            else:
                row.append(labels[v])
        if town.tools == "yesno":
            row += ["はい" if tool_yes[r, t] else "いいえ" for t in range(2)]
        elif town.tools == "multi":
            chosen = [TOOLS[t][1] for t in range(len(TOOLS)) if tool_yes[r, t]]
            if r % 11 == 0:
                chosen.append("その他: 電子決裁" if town.fmt == "forms_cp932" else "その他(電子決裁)")
            if r % 13 == 5:
                cell = ""  # question left blank
            elif town.fmt == "forms_cp932":
                cell = "".join(c + ";" for c in chosen)  # Forms: trailing ;
            else:
                cell = ", ".join(chosen)  # Google Forms
            row.append(cell)
        if town.free_text:
            row.append(["紙の決裁が多い", "", "研修を増やしてほしい", "", ""][r % 5])
        rows.append(row)
    if town.fmt == "xlsx_numeric":
        rows = [[None if (isinstance(c, str) and c == "") else c for c in row] for row in rows]
    survey_name = _write_table(town, folder / "survey", header, rows)

    # roster: staff ≥ respondents in every cell, roughly a 45 % response rate
    roster_rows = []
    cells = [(d,) for d in DEPARTMENTS] if town.roster_by == ("department",) else [(d, a) for d in DEPARTMENTS for a in AGES]
    for cell in cells:
        mask = dept == cell[0]
        if len(cell) == 2:
            mask &= age == cell[1]
        k = int(mask.sum())
        staff = int(np.ceil(k / 0.45)) + int(rng.integers(1, 4))
        roster_rows.append([*cell, f"{staff:,}人" if staff >= 1000 else staff])
    roster_header = ["所属"] + (["年代"] if len(cells[0]) == 2 else []) + ["職員数"]
    _write_csv(folder / "roster.csv", roster_header, roster_rows, "cp932" if town.fmt == "forms_cp932" else "utf-8")

    inputs = {"survey": survey_name, "roster": "roster.csv"}
    if town.training:
        inputs.update(_training(town, folder, rng))
    if town.hypotheses:
        (folder / "hypotheses.yaml").write_text(
            "- id: H1\n  statement: 若い職員ほどデジタル化に前向きである\n  measure: mind\n  attribute: " + ("age_band\n  group: [20代以下]\n  versus: [50代以上]\n" if "age_band" in town.attributes else "department\n  group: [総務課]\n")
            + "  expected: higher\n" + ("- id: H2\n  measure: tools_used__kintone\n  attribute: department\n  group: [総務課]\n  expected: higher\n" if town.tools == "multi" else ""),
            encoding="utf-8")
        inputs["hypotheses"] = "hypotheses.yaml"
    if town.opportunities:
        lines = []
        for c in town.constructs:
            lines.append(f"- id: op_{c}\n  name: {CONSTRUCTS[c][0]}の研修\n  addresses: [{c}]\n")
        lines.append("- id: hands_on\n  name: ハンズオン研修\n  addresses: [" + ", ".join(list(town.constructs)[-2:]) + "]\n")
        (folder / "opportunities.yaml").write_text("".join(lines), encoding="utf-8")
        inputs["opportunities"] = "opportunities.yaml"

    (folder / "municipality.yaml").write_text(
        f"id: {town.id}\nname: {town.name}\nfiscal_year: 2025\nmin_group_size: {town.min_group_size}\nlanguage: {town.language}\ninputs:\n"
        + "".join(f"  {k}: {v}\n" for k, v in inputs.items()), encoding="utf-8")
    (folder / "codebook.yaml").write_text(_codebook(town, items, labels), encoding="utf-8")
    return folder


def _training(town: Town, folder: Path, rng) -> dict:
    m = max(12, town.n // 4)
    keys = [f"K{100 + i}" for i in range(m)]
    part = np.array([True] * (m * 2 // 3) + [False] * (m - m * 2 // 3)) if town.training_group else np.ones(m, bool)
    base = rng.normal(0, 1, m)
    header = ["回答キー"] + (["区分"] if town.training_group else [])
    att_header = "デジタル化に前向きである" + ("(はい/いいえ)" if town.attitude == "yesno" else "")
    pre_h = header + [att_header, "業務データの見える化の方法が分かる"]
    post_h = list(pre_h) + (["研修の満足度"] if town.training_satisfaction else []) + ["業務の具体的な改善をイメージできる"] + (["研修の感想"] if town.training_comment else [])
    pts = 4 if town.attitude == "likert4" else 5
    att_labels = AGREE4 if pts == 4 else AGREE5

    def att(v_latent, boost):
        if town.attitude == "yesno":
            return "はい" if v_latent + boost > -0.2 else "いいえ"
        v = int(np.clip(np.rint((pts + 1) / 2 + v_latent + boost), 1, pts))
        return att_labels[v]

    pre_rows, post_rows = [], []
    for i, k in enumerate(keys):
        g = (["受講者" if part[i] else "非受講者"] if town.training_group else [])
        boost = 1.5 if part[i] else 0.1
        if town.attitude == "yesno" and part[i]:
            boost = 10.0  # every participant says はい after training (the town)
        pre_rows.append([k, *g, att(base[i], 0), AGREE5[int(np.clip(np.rint(3 + base[i]), 1, 5))]])
        post = [k, *g, att(base[i], boost), AGREE5[int(np.clip(np.rint(3 + base[i] + (1 if part[i] else 0)), 1, 5))]]
        if town.training_satisfaction:
            post.append(SAT5[int(np.clip(np.rint(4 + rng.normal(0, 0.7)), 1, 5))])
        post.append("はい" if rng.random() < (0.35 if part[i] else 0.1) else "いいえ")
        if town.training_comment:
            post.append(["分かりやすかった", "", "Excelの演習が役に立った", ""][i % 4])
        post_rows.append(post)
    out = {}
    for wave, h, rows in (("pre", pre_h, pre_rows), ("post", post_h, post_rows)):
        name = _write_table(town, folder / f"training_{wave}", h, rows)
        out[f"training_{wave}"] = name
    return out


def _codebook(town: Town, items, labels) -> str:
    pts = town.scale_points
    lines = ["# 検証用に新しい利用者として手で書いた codebook(docs/data-contract.md に従う)", "respondent_id: ID", "ignore: [開始時刻, 完了時刻, メール, 名前]", "attributes:"]
    lines.append(f"  department: {{header: 所属, label: 所属課, values: [{', '.join(DEPARTMENTS)}]}}")
    if "age_band" in town.attributes:
        lines.append(f"  age_band: {{header: 年代, label: 年代, values: [{', '.join(AGES)}]}}")
    lines += ["scales:", "  agree:", "    min: 1", f"    max: {pts}", "    labels:"]
    lines += [f"      {k}: {v}" for k, v in labels.items()]
    lines.append("    missing: [わからない, 9]" if town.fmt == "xlsx_numeric" else "    missing: [わからない]")
    if town.training:
        lines += ["  agree5t:", "    min: 1", "    max: 5", "    labels:"] + [f"      {k}: {v}" for k, v in AGREE5.items()]
        lines += ["  agree4t:", "    min: 1", "    max: 4", "    labels:"] + [f"      {k}: {v}" for k, v in AGREE4.items()]
        lines += ["  sat:", "    min: 1", "    max: 5", "    labels:"] + [f"      {k}: {v}" for k, v in SAT5.items()]
    lines.append("constructs:")
    for c in town.constructs:
        lines.append(f"  {c}: {{label: {CONSTRUCTS[c][0]}, area: {CONSTRUCTS[c][1]}}}")
    lines.append("items:")
    for iid, header, c in items:
        lines.append(f"  - {{id: {iid}, header: {_q(header)}, construct: {c}, scale: agree}}")
    if town.tools == "yesno":
        lines += ["tools:", "  'yes': [はい]", "  'no': [いいえ]", "  items:"]
        lines += [f"    - {{id: tool_{tid}, header: {_q(label + 'を業務で使っていますか')}, label: {label}}}" for tid, label in TOOLS[:2]]
    elif town.tools == "multi":
        sep = ";" if town.fmt == "forms_cp932" else ", "
        lines += ["multi_select:", "  - id: tools_used", f"    header: {MULTI_HEADER}", "    label: 業務で利用しているツール", f"    separator: {_q(sep)}", "    options:"]
        lines += [f"      - {{id: {tid}, label: {label}}}" for tid, label in TOOLS]
        lines.append("      - {id: other, label: その他, other: true}")
    if town.free_text:
        lines += ["free_text:", "  - {id: comment, header: DXについてご意見があればお書きください, label: 自由意見}"]
    if town.training:
        lines += ["training:", "  key: 回答キー"]
        if town.training_group:
            lines += ["  group: 区分", "  participant: [受講者]", "  non_participant: [非受講者]"]
        lines += ["  'yes': [はい]", "  'no': [いいえ]", "  items:"]

        def role(r):
            return f", role: {r}" if town.roles else ""

        att_id = "attitude" if not town.roles else "positive"
        att_header = "デジタル化に前向きである" + ("(はい/いいえ)" if town.attitude == "yesno" else "")
        if town.attitude == "yesno":
            lines.append(f"    - {{id: {att_id}, header: {_q(att_header)}, kind: yesno{role('attitude')}}}")
        else:
            lines.append(f"    - {{id: {att_id}, header: {_q(att_header)}, kind: likert, scale: {'agree4t' if town.attitude == 'likert4' else 'agree5t'}{role('attitude')}}}")
        lines.append("    - {id: know_data, header: 業務データの見える化の方法が分かる, kind: likert, scale: agree5t}")
        if town.training_satisfaction:
            lines.append(f"    - {{id: {'satisfaction' if not town.roles else 'manzoku'}, header: 研修の満足度, kind: likert, scale: sat, waves: [post]{role('satisfaction')}}}")
        lines.append(f"    - {{id: {'concrete_idea' if not town.roles else 'idea'}, header: 業務の具体的な改善をイメージできる, kind: yesno, waves: [post]{role('planned_action')}}}")
        if town.training_comment:
            lines.append(f"    - {{id: {'training_comment' if not town.roles else 'kansou'}, header: 研修の感想, kind: text, waves: [post]{role('comment')}}}")
    return "\n".join(lines) + "\n"
