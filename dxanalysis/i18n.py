"""Words in one place: the reader-facing text of reports, in Japanese and English.

Statistics return codes and numbers; what a reader sees — headings, captions, column
headers, verdict labels, notes — is looked up here by key, like
:data:`dxanalysis.validate.MESSAGES` for input errors (STYLE.md §11).

* :data:`TEXT` — ``key → (ja, en)``; :func:`t` fills ``{placeholders}``.
* :data:`TABLE_CAPTIONS` — a shared table's caption by the table's name (the ``name``
  given to :meth:`~dxanalysis.report.Publisher.table`), ``name → (ja, en)``. The
  Publisher uses the English one when the run is in English.
* :data:`COLUMN_LABELS_EN` — English column headers by column id, with per-table
  overrides ``"<table name>.<column>"``.
* Notebook prose: the Japanese stays in the notebook's markdown cells (what advisors read
  in JupyterLab); the English of each cell is in ``resources/notebook_text_en.yaml``,
  keyed by notebook and cell id, and :func:`notebook_prose` returns it for
  :func:`dxanalysis.report.render_html`.

``python -m dxanalysis.i18n --rehash`` records the hash of each Japanese cell beside its
translation after the English has been brought up to date.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("ja", "en")
RESOURCES = Path(__file__).resolve().parent / "resources"
NOTEBOOK_TEXT_EN = RESOURCES / "notebook_text_en.yaml"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")

#: key → (ja, en)
TEXT: dict[str, tuple[str, str]] = {
    # waves.describe_matching (notebook 06)
    "waves.matching.compared": ("両方の年度にある設問・ツール {n} 件を比べます", "{n} items and tools present in both years are compared"),
    "waves.matching.added": ("今回から追加: {labels}(比較なし)", "Added this year: {labels} (not compared)"),
    "waves.matching.dropped": ("今回は削除: {labels}(比較なし)", "Dropped this year: {labels} (not compared)"),
    "waves.matching.reworded": ("設問文が変わったもの: {labels}(id が同じなので同じ設問として比べます)", "Reworded: {labels} (same id, so compared as the same item)"),
    "waves.matching.list_sep": ("、", ", "),
    "waves.matching.sentence_sep": ("。", ". "),
    "waves.matching.end": ("。", "."),
    # hypothesis verdicts (survey.test_hypotheses stores the code)
    "verdict.supported": ("支持", "supported"),
    "verdict.refuted": ("反証", "refuted"),
    "verdict.equivalent": ("差は小さい", "equivalent (small difference)"),
    "verdict.inconclusive": ("判定不能", "inconclusive"),
    # titles passed by notebooks (pub.text("…"))
    "title.free_comments": ("自由意見", "Free comments"),
    "title.training_comments": ("研修の感想", "Comments on the training"),
    # report shell
    "report.toc": ("目次", "Contents"),
    "report.nav_index": ("← レポート一覧と要点", "← Summary and reports"),
    "report.nav_glossary": ("用語の説明", "Glossary"),
    "report.glossary": ("用語の説明", "Glossary"),
    "report.summary": ("要点", "Summary"),
    "report.reports": ("レポート一覧", "Reports"),
    "report.more_findings": ("その他の要点", "More findings"),
    "report.evidence": ("根拠を見る", "evidence"),
    "report.col_report": ("レポート", "Report"),
    "report.col_status": ("状態", "Status"),
    "report.title": ("{name} DXリテラシー分析レポート", "{name} DX literacy report"),
    "report.intro": ("職員アンケート・ギャップ分析・研修評価の結果です。まず「要点」を読み、詳しくは各レポートの「根拠を見る」から確かめてください。",
                     "Results of the staff survey, gap analysis and training evaluation. Read the summary first; each point links to its evidence."),
    "report.hidden_note": ("「非表示(少人数)」の行は、回答者が少なく個人が特定されるおそれがあるため数値を表示していません(合計から逆算できないよう、必要に応じて他の行も非表示にしています)。",
                           "Rows marked hidden have too few respondents to show (another row may be hidden so the value cannot be recovered from a total)."),
}

#: caption of each shared table, by the table's name → (ja, en)
TABLE_CAPTIONS: dict[str, tuple[str, str]] = {
    # 01
    "hypotheses_view": ("事前仮説の判定", "Prior hypotheses: verdicts"),
    "support_needs": ("全体より低い集団と、合う機会", "Groups below all staff, and opportunities that fit"),
    "response_rates_view": ("属性別の回答率", "Response rates by attribute"),
    "exclusions_view": ("除外と欠測", "Exclusions and missing answers"),
    "reliability_view": ("構成概念の信頼性(α係数)", "Reliability of the constructs (Cronbach's alpha)"),
    "alpha_if_dropped": ("設問を除いた場合のα係数", "Alpha if an item is dropped"),
    "weighted_estimates_view": ("重みなしと重み付き(全職員推定。設問ごとの値は weighted_estimates.csv)",
                                "Unweighted and weighted (estimates for all staff; item values in weighted_estimates.csv)"),
    "group_differences_clear": ("全体との差がはっきりしている集団(q < 0.05)", "Groups clearly different from all staff (q < 0.05)"),
    # 02
    "segment_selection_view": ("セグメント数ごとの基準", "Criteria by number of segments"),
    "segments": ("セグメントの大きさと構成概念の平均点", "Segment sizes and mean construct scores"),
    "segment_names": ("名称の根拠", "Basis of the names"),
    "segment_tool_use": ("セグメントごとのツール利用の割合", "Tool use by segment"),
    "segment_opportunities": ("セグメントごとに勧める機会", "Opportunities recommended for each segment"),
    # 03
    "roadmap_inputs": ("読み込んだ内容", "Inputs read"),
    "survey_levels_view": ("構成概念の平均と0〜5レベルへの換算({weight_note})", "Construct means and their 0–5 levels (estimates for all staff, weighted to the staff roster)"),
    "domain_gaps": ("領域ごとの現状・目標・ギャップ(項目の平均)", "Current, target and gap by area (mean of items)"),
    "priority_weights_view": ("優先度スコアの重み(指数)と感度分析で試した値", "Weights (exponents) of the priority score and values tried in the sensitivity analysis"),
    "gap_scores": ("評価項目ごとのギャップと優先度(順位順)", "Gap and priority of each item (by rank)"),
    "rank_sensitivity_summary": ("上位{top_n}位以内の項目の、条件を変えたときの順位の範囲(各条件の順位は tables/rank_sensitivity.csv)",
                                 "Range of ranks of the top {top_n} items under changed assumptions (each scenario in tables/rank_sensitivity.csv)"),
    "roadmap_overview": ("打ち手の一覧(実施期間・対象)", "Measures (period, targets)"),
    "dependency_check_view": ("前提関係のチェック", "Prerequisite check"),
    "kpi_targets": ("KPIの年度別目標", "KPI targets by fiscal year"),
    # 04
    "training_headlines": ("研修の成果(見出し)", "Training results (headlines)"),
    "training_matching": ("研修前後の回答の照合(人数・件数)", "Matching answers before and after (people, answers)"),
    "training_satisfaction": ("研修の満足度(受講者、研修直後)", "Satisfaction with the training (participants, right after)"),
    "training_paired_tests": ("研修前後の変化(受講者、同じ人の前後を比較)", "Change from before to after (participants, same people compared)"),
    "training_idea_by_wave": ("「{item}」に肯定的に答えた割合(受講者)", "Share answering \u201c{item}\u201d positively (participants)"),
    "training_by_segment": ("セグメント別の研修前後の変化(受講者)", "Change from before to after by segment (participants)"),
    "training_did": ("差の差(受講者の変化 − 非受講者の変化)", "Difference in differences (change of participants − change of non-participants)"),
    "training_followup": ("フォローアップでの変化(受講者)", "Change at follow-up (participants)"),
    "training_followup_verdicts": ("効果は続いたか(項目ごとの判定)", "Did the effect last? (verdict per item)"),
    "training_shares_by_wave": ("肯定的(尺度の中央より上)または「はい」の割合の推移(3回とも回答した受講者)",
                                "Share positive (above the middle of the scale) or \u201cyes\u201d over time (participants who answered all three times)"),
    "training_comment_count": ("研修の感想の記入数(受講者、研修直後)", "Comments on the training (participants, right after)"),
    # 05
    "municipalities": ("比較する自治体", "Municipalities compared"),
    "response_rates": ("自治体別の回答率", "Response rates by municipality"),
    "construct_scores_matrix": ("構成概念の重み付き平均点(1〜5点)", "Weighted mean construct scores (1–5)"),
    "segment_shares_matrix": ("共通セグメントの割合(回答者に占める割合)", "Shares of common segments (share of respondents)"),
    # 06
    "wave_items_view": ("片方の年度にしかない設問・設問文が変わった設問", "Items in one year only, and reworded items"),
    "wave_estimates": ("年度ごとの推定値(構成概念の平均点・ツールの利用割合)", "Estimates by year (construct means, tool use)"),
    "wave_changes": ("前回からの変化(構成概念・ツール。設問ごとの値は tables/wave_changes.csv)",
                     "Change since the last survey (constructs, tools; items in tables/wave_changes.csv)"),
    "wave_changes_by_group": ("属性・セグメント別の構成概念の平均点の変化(95%信頼区間、○ははっきりした変化)",
                              "Change of construct means by attribute and segment (95% confidence interval; ○ clear change)"),
    "segment_shift": ("セグメントの割合(職員全体の推定)", "Segment shares (estimate for all staff)"),
    "kpi_progress": ("KPIの実績と計画線", "KPI results and planned line"),
}

#: English column headers by column id; ``"<table>.<column>"`` overrides for one table.
COLUMN_LABELS_EN: dict[str, str] = {
    "n": "Respondents", "staff": "Staff", "respondents": "Respondents", "share": "Share", "response_rate": "Response rate",
    "ci_low": "95% CI (lower)", "ci_high": "95% CI (upper)", "attribute": "Attribute", "attribute_label": "Attribute", "group": "Group",
    "construct": "Construct", "item": "Item", "item_id": "Item id", "label": "Name", "mean": "Mean", "diff": "Difference from all",
    "effect_size": "Effect size", "p_value": "p-value", "q_value": "q-value", "alpha": "Alpha", "n_items": "Items",
    "weighted_share": "Weighted share", "unweighted_share": "Unweighted share", "verdict": "Verdict", "verdict_label": "Verdict",
    "statement": "Hypothesis", "hypothesis_id": "Hypothesis id", "segment": "Segment", "segment_name": "Segment", "name": "Name",
    "low_response": "Low response rate", "reason": "Reason", "count": "Count", "suppressed": "Hidden", "description": "Description",
    "rows": "Rows excluded", "answers": "Answers treated as missing", "value": "Count / value", "note": "Note", "notes": "Notes",
    "n_group": "Respondents (group)", "n_versus": "Respondents (comparison)", "estimate": "Estimate", "unweighted": "Unweighted",
    "weighted": "Weighted", "se": "Standard error", "design_effect": "Design effect", "n_effective": "Effective respondents",
    "measure": "Measure", "measure_id": "Measure id", "kpi": "KPI", "fiscal_year": "Fiscal year", "fy_label": "Fiscal year",
    "period": "Period", "depends_on": "Needs", "dependency": "Prerequisite", "dependency_flag": "Prerequisite starts later",
    "starts_later": "Prerequisite starts later", "segments": "Target segments", "segment_names": "Target segments",
    "item_names": "Assessment items", "domain": "Area", "current": "Current", "target": "Target", "gap": "Gap",
    "importance": "Importance", "feasibility": "Feasibility", "priority": "Priority", "rank": "Rank", "tied": "Tied",
    "level": "Level", "level_low": "Level (lower)", "level_high": "Level (upper)", "items": "Assessment items",
    "n_pairs": "Matched pairs", "share_improved": "Higher", "share_same": "Same", "share_worse": "Lower", "ci_note": "Interval note",
    "method": "Method", "statistic": "Statistic", "numerator": "Count", "wave": "Wave", "wave_label": "Time", "n_comments": "Comments",
    "n_participants": "Participants", "n_non_participants": "Non-participants", "change_participants": "Change (participants)",
    "change_non_participants": "Change (non-participants)", "std_error": "Standard error", "comparison_label": "Comparison",
    "effect_pre_followup": "Effect before → follow-up", "effect_post_followup": "Effect right after → follow-up",
    "ci_low_post_followup": "95% interval (lower), right after → follow-up", "ci_high_post_followup": "95% interval (upper), right after → follow-up",
    "verdict_text": "Verdict", "municipality": "Municipality", "change": "Change", "clear": "Clear change",
    "fy_from": "From (FY)", "fy_to": "To (FY)", "n_from": "Respondents (from)", "n_to": "Respondents (to)",
    "share_from": "Share (from)", "share_to": "Share (to)", "estimate_from": "Estimate (from)", "estimate_to": "Estimate (to)",
    "actual": "Result", "expected": "Planned", "expected_basis": "Basis of the plan", "status": "Status", "source": "Source",
    "k": "Segments (k)", "silhouette": "Mean silhouette width", "bic": "BIC", "stability": "Stability (ARI)", "stable": "Stable",
    "n_using": "Users", "tool_id": "Tool id", "opportunity": "Opportunity", "coverage": "Share of weakness covered",
    "alpha_if_dropped": "Alpha if dropped", "motivation": "Motivation", "skill": "Skill",
    "addresses": "Constructs it develops", "alpha_ci": "95% CI of alpha", "area": "Area (DX literacy standard)", "auto_name": "Automatic name",
    "base_rank": "Rank (chosen weights)", "chosen": "Chosen", "compared": "Compared with", "comparison": "Comparison (respondents)",
    "construct_label": "Construct", "current_mean": "Current (mean)", "current_source": "Source of the current level",
    "deff": "Design effect", "dependency_end_fy": "Prerequisite ends (FY)", "dependency_measure": "Prerequisite",
    "dependency_start_fy": "Prerequisite starts (FY)", "difference": "Difference", "effect_ci": "95% CI of the effect size (not adjusted for multiple comparisons)",
    "end_fy": "End (FY)", "evidence": "Evidence", "flag_low": "Alpha < 0.6 (care)", "format": "Format", "gap_max": "Gap (largest)",
    "gap_mean": "Gap (mean)", "group_share": "Share of the group", "grouping_label": "Comparison", "header_before": "Question last time",
    "header_changed": "Question reworded", "header_now": "Question this time", "high": "Sensitivity (increased)", "in_period": "Within the period",
    "kind": "Kind", "low": "Sensitivity (decreased)", "margin": "Tolerated fall", "match": "Matched", "mean_after": "Mean (after)",
    "mean_before": "Mean (before)", "mean_change": "Change of the mean", "mean_ci_high": "95% CI of the mean (upper)",
    "mean_ci_low": "95% CI of the mean (lower)", "method_label": "Method", "motivation_level": "Motivation level",
    "motivation_z": "Motivation (difference from staff mean)", "moved_by": "Rank moved by", "n_eff": "Effective respondents",
    "n_improved": "Higher (people)", "n_same": "Same (people)", "n_segmented": "Respondents segmented", "n_smaller_group": "Smaller group (people)",
    "n_weighted": "Respondents used for weighting", "n_worse": "Lower (people)", "non_participant": "Non-participants",
    "opportunities": "Opportunities that fit (training etc.)", "owner": "Owner", "participant": "Participants", "priority_score": "Priority score",
    "quadrant": "Quadrant", "r_drop": "Correlation with the rest", "rank_max": "Lowest rank", "rank_min": "Highest rank",
    "rank_range": "Range of ranks", "rating_ranks": "Ratings of the item changed", "response_rates": "Response rates (group vs comparison)",
    "reverse": "Reversed item", "score": "Match", "skill_level": "Skill level", "skill_z": "Skill (difference from staff mean)",
    "stability_ari": "Stability (mean ARI)", "stability_sd": "Stability (SD of ARI)", "start_fy": "Start (FY)", "status_label": "Status",
    "stays_top": "Stays in the top under every scenario", "survey_ranks": "Both ends of the survey interval", "target_mean": "Target (mean)",
    "top_item": "Highest-priority item", "total": "Total", "unweighted_mean": "Mean (unweighted)", "value_group": "Value (group)",
    "value_versus": "Value (comparison)", "values": "Values (group vs comparison)", "versus": "Compared with", "weak_constructs": "Weak constructs",
    "weight": "Weight", "weight_ranks": "Weights (exponents) changed", "weighted_ci": "95% CI of the weighted estimate",
    "weighted_ci_high": "95% CI of the estimated share (upper)", "weighted_ci_low": "95% CI of the estimated share (lower)",
    "weighted_mean": "Mean (estimate for all staff)",
    # display views that still name their columns in Japanese (waves.*_view): headers by that name
    "指標": "Measure", "集計": "Statistic", "前回": "Last time", "今回": "This time", "変化(95%信頼区間)": "Change (95% CI)",
    "q値": "q-value", "はっきりした変化": "Clear change", "属性": "Attribute", "区分": "Group", "セグメント": "Segment",
    "前回の割合": "Share last time", "今回の割合": "Share this time", "打ち手": "Measure", "年度": "Fiscal year",
    "実績(95%信頼区間)": "Result (95% CI)", "計画線上の値": "On the planned line", "根拠": "Basis", "次の目標": "Next target",
    "判定": "Status", "設問": "Item", "対応": "Matched", "前回の設問文": "Question last time", "今回の設問文": "Question this time",
    "tool_use_view.label": "Tool", "segment_tool_use.label": "Tool", "segment_tool_use.group": "Segment",
    "alpha_if_dropped.label": "Construct", "dependency_check_view.dependency": "Prerequisite",
}


def t(key: str, language: str = "ja", **params) -> str:
    """The text of ``key`` in ``language`` (``ja`` when unknown), placeholders filled."""
    pair = TEXT[key]
    text = pair[1 if language == "en" else 0]
    return text.format(**params) if params else text


def caption(name: str, language: str = "ja", default: str | None = None, **params) -> str | None:
    """Caption of table ``name``: the catalogue's in ``language`` (or ``default`` when it has none)."""
    pair = TABLE_CAPTIONS.get(name)
    if pair is None:
        return default
    text = pair[1 if language == "en" else 0]
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return default if default is not None else text


def column_label(column: str, table: str | None = None) -> str | None:
    """English header of ``column`` (``table``'s override first), or None."""
    if table and f"{table}.{column}" in COLUMN_LABELS_EN:
        return COLUMN_LABELS_EN[f"{table}.{column}"]
    return COLUMN_LABELS_EN.get(column)


def english_labels(columns, passed: dict | None = None, table: str | None = None) -> dict:
    """Headers of an English table: the catalogue's, else the passed label if it is not Japanese, else the id."""
    passed = dict(passed or {})
    out = {}
    for c in columns:
        label = column_label(str(c), table)
        if label is None:
            given = passed.get(c)
            label = given if given is not None and not JAPANESE.search(str(given)) else None
        if label is not None:
            out[c] = label
        elif c in passed:
            out[c] = passed[c]  # a data value used as a header (e.g. a segment or fiscal-year label)
    return out


def has_japanese(text) -> bool:
    return bool(JAPANESE.search(str(text)))


# ------------------------------------------------------------------ notebook prose
def source_hash(source: str) -> str:
    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=1)
def _notebook_text() -> dict:
    return yaml.safe_load(NOTEBOOK_TEXT_EN.read_text(encoding="utf-8")) or {}


def notebook_prose(notebook: str, cell_id: str, language: str = "ja") -> str | None:
    """English prose of one markdown cell (None in Japanese or when there is none)."""
    if language != "en":
        return None
    entry = (_notebook_text().get(notebook) or {}).get(cell_id)
    return entry.get("en") if entry else None


def _rehash(notebooks_dir: Path) -> None:
    import json

    data = yaml.safe_load(NOTEBOOK_TEXT_EN.read_text(encoding="utf-8"))
    text = NOTEBOOK_TEXT_EN.read_text(encoding="utf-8")
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown" or cell.get("id") not in (data.get(path.stem) or {}):
                continue
            h = source_hash("".join(cell["source"]))
            # rewrite the line after "  <id>:" (ja_sha1 kept on the line before en:)
            pattern = re.compile("(\n  \"" + re.escape(cell["id"]) + "\":\n)(    ja_sha1: \"?\\w+\"?\n)?")
            text = pattern.sub(lambda m, h=h: f'{m.group(1)}    ja_sha1: "{h}"\n', text, count=1)
    NOTEBOOK_TEXT_EN.write_text(text, encoding="utf-8")
    _notebook_text.cache_clear()


if __name__ == "__main__":
    import sys

    if "--rehash" in sys.argv:
        _rehash(Path(__file__).resolve().parents[1] / "notebooks")
        print(f"updated {NOTEBOOK_TEXT_EN}")
