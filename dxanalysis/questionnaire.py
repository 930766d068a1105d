"""The bundled item bank and ``dxanalysis questionnaire``.

``resources/item_bank.yaml`` holds 48 statements on the DXリテラシー標準 areas (マインド・
スタンス, Why, What: データ/技術, How: 利活用/留意点), each with its construct, reverse
flag and short label, plus tool-use (yes/no), attribute, multi-select and free-text
questions. :func:`write_questionnaire` turns it into a form-ready list (section,
question, choices) and the matching codebook.yaml, so a survey built from it needs no
hand-written codebook: its export's headers are the bank's texts, which ``dxanalysis
init`` recognises exactly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import ITEM_BANK, load_item_bank  # noqa: F401 (the item bank's path and reader live in config; re-exported)

#: Section titles of the questionnaire, in order.
SECTIONS = {
    "attribute": "1. あなたについて",
    "mind": "2. マインド・スタンス",
    "why": "3. DXの背景(Why)",
    "data": "4. データ(What)",
    "tech": "5. デジタル技術(What)",
    "use": "6. データ・技術の利活用(How)",
    "caution": "7. 利活用の留意点(How)",
    "tool": "8. デジタルツールの利用",
    "multi_select": "8. デジタルツールの利用",
    "free_text": "9. ご意見",
}
KIND_TEXT = {"single": "単一選択", "multi": "複数選択", "text": "記述(長文)"}
#: Columns Microsoft Forms adds to every export (ja); the questionnaire's codebook ignores them.
FORMS_METADATA = ("ID", "開始時刻", "完了時刻", "メール", "名前", "最終変更時刻")
DEPARTMENT_PLACEHOLDER = "(部署名を自治体の組織に合わせて並べてください)"


def questionnaire_frame(bank: dict | None = None, *, departments: list[str] | None = None, dont_know: bool = True) -> pd.DataFrame:
    """The questionnaire as a table, one row per question.

    Returns
    -------
    DataFrame
        ``section``, ``number`` (1..), ``question`` (the exact text to paste into the form:
        the export's header must stay identical), ``kind`` (単一選択/複数選択/記述(長文)),
        ``choices`` (one per line), ``id`` (codebook id).
    """
    bank = bank or load_item_bank()
    agree = bank["scales"]["agree5"]
    likert_choices = [agree["labels"][k] for k in sorted(agree["labels"])] + (["わからない"] if dont_know else [])
    rows = []
    for a in bank["attributes"]:
        values = a["values"] or departments or [DEPARTMENT_PLACEHOLDER]
        rows.append(("attribute", a["text"], "single", values, a["id"]))
    for cid in bank["constructs"]:
        rows += [(cid, s["text"], "single", likert_choices, s["id"]) for s in bank["statements"] if s["construct"] == cid]
    tools = bank["tools"]
    rows += [("tool", t["text"], "single", [tools["yes"][0], tools["no"][0]], t["id"]) for t in tools["items"]]
    rows += [("multi_select", m["text"], "multi", [o["label"] for o in m["options"]], m["id"]) for m in bank.get("multi_select", [])]
    rows += [("free_text", f["text"], "text", [], f["id"]) for f in bank["free_text"]]
    return pd.DataFrame(
        [{"section": SECTIONS[s], "number": n, "question": text, "kind": KIND_TEXT[k], "choices": "\n".join(ch), "id": qid}
         for n, (s, text, k, ch, qid) in enumerate(rows, start=1)],
        columns=["section", "number", "question", "kind", "choices", "id"],
    )


def write_questionnaire(out: Path | str, *, codebook: Path | str | None = None, departments: list[str] | None = None) -> tuple[Path, Path]:
    """Write the form-ready questionnaire (XLSX) and the matching codebook.yaml.

    The codebook is written with :func:`dxanalysis.codebook_draft.codebook_text` from an
    export that has exactly the questionnaire's headers, so it is what ``dxanalysis init``
    produces for such a survey. Without ``departments`` the department values cannot be
    known; the codebook then says so at that line (and ``init`` on the real export fills
    them in from the answers).

    Returns
    -------
    (questionnaire path, codebook path)
    """
    from openpyxl.styles import Alignment, Font

    out = Path(out)
    bank = load_item_bank()
    frame = questionnaire_frame(bank, departments=departments)
    out.parent.mkdir(parents=True, exist_ok=True)
    shown = frame.rename(columns={"section": "セクション", "number": "番号", "question": "設問(この文のまま入力)", "kind": "形式", "choices": "選択肢", "id": "codebook の id"})
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        shown.to_excel(xw, sheet_name="調査票", index=False)
        ws = xw.sheets["調査票"]
        for col, width in zip("ABCDEF", (24, 6, 70, 12, 28, 14)):
            ws.column_dimensions[col].width = width
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    cb_path = Path(codebook) if codebook is not None else out.with_name("codebook.yaml")
    cb_path.write_text(questionnaire_codebook_text(bank, frame, departments=departments), encoding="utf-8")
    return out, cb_path


def synthetic_export(frame: pd.DataFrame, *, n: int = 20) -> pd.DataFrame:
    """A small export with the questionnaire's headers whose answers use every choice.

    Used to write the matching codebook through the same code as ``init`` (so the two can
    never disagree); the values only fix the attribute values and the label set.
    """
    data: dict[str, list] = {h: [str(i + 1) if h == "ID" else "" for i in range(n)] for h in FORMS_METADATA}
    for _, r in frame.iterrows():
        choices = r["choices"].split("\n") if r["choices"] else []
        if r["kind"] == KIND_TEXT["text"]:
            data[r["question"]] = [f"回答例 {i + 1} の自由記述の文章です。" for i in range(n)]
        elif r["kind"] == KIND_TEXT["multi"]:  # every option chosen by several people
            data[r["question"]] = ["".join(c + ";" for c in (choices[i % len(choices)], choices[(i + 1) % len(choices)])) for i in range(n)]
        else:
            data[r["question"]] = [choices[i % len(choices)] for i in range(n)]
    return pd.DataFrame(data)


def questionnaire_codebook_text(bank: dict, frame: pd.DataFrame, *, departments: list[str] | None = None) -> str:
    """codebook.yaml for a survey built from the questionnaire and exported by Microsoft Forms.

    Drafted by :func:`dxanalysis.codebook_draft.draft_codebook` from a stand-in export with the
    questionnaire's headers, so it is what ``dxanalysis init`` writes for such a survey.
    """
    from .codebook_draft import codebook_text, draft_codebook

    raw = synthetic_export(frame).replace({"": None})
    draft = draft_codebook(raw, source="questionnaire.xlsx", bank=bank)
    draft.show_counts = False
    draft.respondent_id.why = "Microsoft Forms の回答番号の列(Google フォーム・LoGoフォームなど他のツールで集めたときは、この codebook ではなく dxanalysis init で下書きしてください)"
    for g in draft.guesses:  # say where each entry comes from, not what the stand-in answers looked like
        if g.kind == "metadata":
            g.why = "Microsoft Forms が自動で付ける列(分析に使わない)"
        elif g.kind == "free_text":
            g.why = "調査票の自由記述の設問"
        elif g.kind == "multi_select":
            g.why = "調査票の複数選択の設問。Microsoft Forms は「;」区切りで書き出します"
    for g in draft.of("attribute"):  # attribute values in the questionnaire's order, not the synthetic counts
        row = frame[frame["question"] == g.header]
        if len(row):
            g.values = row["choices"].iloc[0].split("\n")
            g.why = "調査票の選択肢(この順で表示)"
            if DEPARTMENT_PLACEHOLDER in g.values:
                g.values = []
                g.why = "部署の選択肢は自治体ごとに違います。フォームの選択肢と同じ順に values を書くか、実際の書き出しに dxanalysis init を使ってください"
    _, rest = codebook_text(draft).split("\n", 1)
    return f"# codebook.yaml: dxanalysis questionnaire が設問バンクの調査票(questionnaire.xlsx)に合わせて作成。Microsoft Forms の書き出し用\n{rest}"
