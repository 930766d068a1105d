"""Steps 1 and 3 of the programme: gap assessment (現状 × あるべき姿) and the roadmap.

The assessment file lists items on the 0–5 maturity scale of the IPA DX推進指標 (current
level and a target three years out) with importance and feasibility; the measures file
lists the measures (打ち手) with the items they address, the staff segments they target
(notebook 02), their fiscal years, dependencies and KPI targets per year.

This module parses and checks both files (every problem is reported together, with file,
row, column, value and what to do), takes the current level of literacy items from the
staff survey, computes the gap and a priority score, tests how stable the ranking is
when the weights move, lays the measures out by fiscal year (令和N年度), flags measures
that depend on a measure starting later, and writes the formatted ``roadmap.xlsx``.
Every function returns a tidy frame whose columns are listed in its docstring; the
method and its reasons are in ``docs/roadmap.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# Parsing and checking the inputs lives in io_roadmap; re-exported here for notebooks and older code.
from .io_roadmap import (  # noqa: F401
    ASSESSMENT_OPTIONAL,
    ASSESSMENT_REQUIRED,
    DEFAULT_SEGMENT_IDS,
    LEVEL_MAX,
    LEVEL_MIN,
    MEASURES_OPTIONAL,
    MEASURES_REQUIRED,
    RATING_MAX,
    RATING_MIN,
    TARGET_PREFIX,
    RoadmapInputs,
    _blank,
    check_roadmap_inputs,
    load_roadmap_inputs,
    parse_assessment,
    parse_fiscal_year,
    parse_measures,
    split_ids,
)
from . import i18n
from .privacy import neutralise_formula

check_inputs = check_roadmap_inputs
load_inputs = load_roadmap_inputs

# --------------------------------------------------------------------------- constants
#: The three priority weights (exponents of the weighted product, see :func:`priority_score`).
WEIGHT_NAMES = ("gap", "importance", "feasibility")
DEFAULT_WEIGHTS = {"gap": 1.0, "importance": 1.0, "feasibility": 1.0}

#: Quadrants of the gap–importance matrix (high gap?, high importance?) → code; the words are the
#: catalogue keys ``roadmap.quadrant.<code>`` (:func:`quadrant_label`).
QUADRANTS = {(True, True): "focus", (True, False): "plan", (False, True): "maintain", (False, False): "monitor"}


def weight_label(weight: str, language: str = "ja") -> str:
    """ギャップ / 重要度 / 実現容易性 (gap / importance / feasibility) for a weight id (was ``WEIGHT_LABELS``)."""
    return i18n.t(f"roadmap.weight.{weight}", language)


def quadrant_label(large_gap: bool, high_importance: bool, language: str = "ja") -> str:
    """The quadrant's label, e.g. 重点課題(最優先で取り組む) / Focus: act first (was ``QUADRANT_LABELS``)."""
    return i18n.t(f"roadmap.quadrant.{QUADRANTS[(bool(large_gap), bool(high_importance))]}", language)


#: Japanese headers of this module's tables (Publisher ``labels=`` and the Excel sheets).
COLUMN_LABELS = {
    "item_id": "項目ID", "item": "評価項目", "domain": "領域", "current": "現状レベル",
    "current_source": "現状の根拠", "target": "目標レベル(3年後)", "gap": "ギャップ",
    "importance": "重要度", "feasibility": "実現容易性", "priority_score": "優先度スコア",
    "rank": "順位", "quadrant": "区分", "owner": "担当", "evidence": "根拠",
    "n_items": "項目数", "current_mean": "現状(平均)", "target_mean": "目標(平均)",
    "gap_mean": "ギャップ(平均)", "gap_max": "ギャップ(最大)", "top_item": "優先度が最も高い項目",
    "construct": "構成概念ID", "construct_label": "構成概念", "n": "回答者数",
    "unweighted_mean": "平均(重み付けなし)", "weighted_mean": "平均(全職員推定)", "level": "換算レベル(0〜5)",
    "base_rank": "基準の順位", "rank_min": "最高順位", "rank_max": "最低順位", "rank_range": "順位の振れ幅",
    "stays_top": "全条件で上位に残る", "tied": "同点", "moved_by": "順位が動いた条件",
    "weight_ranks": "重み(指数)を変えたとき", "rating_ranks": "その項目の評価を変えたとき", "survey_ranks": "アンケートの区間の両端で",
    "mean_ci_low": "平均の95%信頼区間(下限)", "mean_ci_high": "平均の95%信頼区間(上限)",
    "level_low": "換算レベル(区間の下限)", "level_high": "換算レベル(区間の上限)",
    "measure_id": "打ち手ID", "measure": "打ち手", "items": "対象項目", "item_names": "対象項目(名称)",
    "segments": "対象セグメント", "segment_names": "対象セグメント(名称)", "start_fy": "開始年度",
    "end_fy": "終了年度", "period": "実施期間", "depends_on": "前提となる打ち手", "kpi": "KPI",
    "dependency_flag": "依存関係の注意", "dependency": "前提の打ち手ID", "dependency_measure": "前提の打ち手", "dependency_start_fy": "前提の開始年度",
    "dependency_end_fy": "前提の終了年度", "starts_later": "前提が後から始まる", "note": "内容",
    "fiscal_year": "年度", "fy_label": "年度", "weight": "重み", "value": "値", "description": "説明",
    "segment": "セグメント", "segment_name": "名称", "label": "基準", "low": "感度分析(減)", "high": "感度分析(増)",
    "in_period": "実施期間内",
}


# --------------------------------------------------------------------------- fiscal years
_ERAS = ((2019, "令和", "R"), (1989, "平成", "H"))  # FY2019 = 令和元年度, FY1989 = 平成元年度


def fiscal_year_label(fy: int, *, language: str = "ja") -> str:
    """A fiscal year (April–March, western start year) as 令和N年度 / 平成N年度.

    FY2019 is 令和元年度 (the fiscal year that began in April 2019 is named after the era
    in force for most of it), FY2025 is 令和7年度, FY2018 is 平成30年度. Years before
    FY1989 (平成元年度) are refused: no roadmap reaches back that far. ``language="en"``
    gives ``FY2025``.

    Examples
    --------
    >>> fiscal_year_label(2019), fiscal_year_label(2025), fiscal_year_label(2018)
    ('令和元年度', '令和7年度', '平成30年度')
    """
    fy = int(fy)
    if language == "en":
        return f"FY{fy}"
    for start, name, _ in _ERAS:
        if fy >= start:
            n = fy - start + 1
            return f"{name}{'元' if n == 1 else n}年度"
    raise ValueError(f"fiscal year {fy} is before 平成元年度 (FY1989)")


# --------------------------------------------------------------------------- parsing helpers
# --------------------------------------------------------------------------- assessment
# --------------------------------------------------------------------------- measures
def segment_names(m, **options) -> dict[int, str] | None:
    """Segment number → name from notebook 02's :func:`dxanalysis.segments.assign_segments`.

    ``options`` are passed on (``n_segments``, ``random_state``, …): use the values
    notebook 02 used so the numbers mean the same segments. ``None`` when the segments
    module is not available (then segment numbers 1–8 are accepted and shown without
    names). Only the (number, name) pairs are kept; no respondent-level result leaves
    this function.
    """
    try:
        from . import segments as _segments
    except ImportError:
        return None
    assign = getattr(_segments, "assign_segments", None)
    if assign is None:
        return None
    seg = assign(m, **options)
    pairs = seg[["segment", "segment_name"]].dropna().drop_duplicates().sort_values("segment")
    return {int(s): str(n) for s, n in zip(pairs["segment"], pairs["segment_name"])}


# --------------------------------------------------------------------------- survey → level
def likert_to_level(mean, *, scale_min: float = 1.0, scale_max: float = 5.0, level_max: float = LEVEL_MAX):
    """Map a Likert mean to the 0–5 maturity scale linearly: ``(mean − min)/(max − min) × 5``.

    A whole staff answering 「まったくそう思わない」 (1) is level 0, all answering
    「とてもそう思う」 (5) is level 5, and equal steps in the mean are equal steps in level.
    No calibration between the survey and the DX推進指標 exists, so thresholds would be
    arbitrary and make a 0.01 change in the mean jump a whole level; the linear rule is
    monotone, continuous and can be recomputed by hand. See docs/roadmap.md.

    Examples
    --------
    >>> float(likert_to_level(3.0)), float(likert_to_level(2.2))
    (2.5, 1.5)
    """
    x = np.asarray(mean, dtype=float)
    out = (x - scale_min) / (scale_max - scale_min) * level_max
    return out if out.ndim else float(out)


def staff_weights(m, *, margins: Sequence[str] | None = None) -> tuple[pd.Series | None, str, list[str]]:
    """Raking weights of the respondents to the staff roster, a description, and notes.

    Uses :func:`dxanalysis.survey.rake_weights` over ``margins`` (default: every attribute
    column of the roster) through :func:`dxanalysis.segments.rake_with_notes`, so problems
    of the weighting (a roster category with staff but no respondent, raking that did not
    converge, respondents without a weight) come back as sentences for ``pub.note``
    instead of warnings nobody sees. Returns ``(weights, description, notes)``; the
    weights are aligned with ``m.survey``'s index. When ``rake_weights`` is not available
    the weights are ``None`` (unweighted means) and the description says so.
    """
    from . import survey as _survey

    margins = list(margins) if margins else [c for c in m.roster.columns if c != "staff"]
    labels = i18n.t("list.dot", m.language).join(m.codebook.attributes[a].label if a in m.codebook.attributes else a for a in margins)
    if getattr(_survey, "rake_weights", None) is None:
        return None, i18n.t("roadmap.weights.none", m.language), []
    from .segments import rake_with_notes

    w, notes = rake_with_notes(m.survey, m.roster, margins=margins, codebook=m.codebook, language=m.language)
    w = pd.Series(np.asarray(w, dtype=float), index=m.survey.index, name="weight")
    return w, i18n.t("roadmap.weights.raked", m.language, labels=labels), notes


def survey_levels(survey: pd.DataFrame, codebook, *, constructs: Sequence[str] | None = None, weights: pd.Series | None = None, assessment: pd.DataFrame | None = None, decimals: int = 1, confidence: float = 0.95) -> pd.DataFrame:
    """Current maturity level of literacy constructs, from the staff survey.

    Parameters
    ----------
    survey, codebook
        ``Municipality.survey`` and ``Municipality.codebook``.
    constructs
        Construct ids (default: all, codebook order).
    weights
        Respondent weights aligned with ``survey`` (:func:`staff_weights`); ``None`` =
        unweighted.
    assessment
        The checked assessment: adds the column ``items`` naming the items whose
        current level is taken from each construct.
    decimals
        ``level``, ``level_low`` and ``level_high`` are rounded to this many decimals
        (default 0.1 of a level: finer digits would suggest a precision that a
        self-assessment scale does not have).
    confidence
        Level of the interval of the weighted mean.

    Returns
    -------
    DataFrame
        ``construct``, ``construct_label``, ``n`` (respondents with a construct score),
        ``unweighted_mean``, ``weighted_mean`` (weighted to the roster; equal to the
        unweighted mean without weights), ``mean_ci_low``, ``mean_ci_high`` (interval
        of ``weighted_mean``, see Notes), ``level`` (:func:`likert_to_level` of
        ``weighted_mean``, rounded), ``level_low``, ``level_high`` (the same map of the
        interval's ends: the range the sensitivity analysis tries); with
        ``assessment``, also ``items`` (``;``-joined item ids that use the level, empty
        when none).

    Notes
    -----
    Interval of the weighted mean, as :func:`dxanalysis.survey.weighted_estimates`:
    ``mean ± z · sqrt(s²_w / n_eff)`` with ``s²_w = Σw(y − mean)² / Σw · m/(m − 1)`` over
    the m respondents with a score and a weight, Kish's design effect
    ``deff = m Σw² / (Σw)²`` and ``n_eff = m / deff`` (without weights: the usual
    ``mean ± z · s/√m``), clipped to the answer scale (a mean cannot leave it).
    """
    from scipy import stats

    from .survey import construct_scores, kish_design_effect

    scores = construct_scores(survey, codebook)
    constructs = list(codebook.constructs) if constructs is None else list(constructs)
    w = pd.Series(1.0, index=survey.index) if weights is None else pd.Series(weights, index=survey.index).astype(float)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    rows = []
    for c in constructs:
        s = scores[c]
        ok = s.notna() & w.notna()
        scale = codebook.scales[codebook.item(codebook.items_of(c)[0]).scale]
        wm = lo = hi = np.nan
        if ok.any():
            y, wt = s[ok].to_numpy(dtype=float), w[ok].to_numpy(dtype=float)
            k = len(y)
            wm = float(np.average(y, weights=wt))
            if k > 1:
                var = float(np.average((y - wm) ** 2, weights=wt)) * k / (k - 1)
                se = math.sqrt(var / (k / kish_design_effect(wt)))
                # a mean cannot leave the answer scale: the interval is clipped to it
                lo, hi = max(wm - z * se, float(scale.min)), min(wm + z * se, float(scale.max))
        level = lambda v, scale=scale: round(likert_to_level(v, scale_min=scale.min, scale_max=scale.max), decimals)  # noqa: E731
        rows.append({
            "construct": c,
            "construct_label": codebook.constructs[c].label,
            "n": int(s.notna().sum()),
            "unweighted_mean": float(s.mean()),
            "weighted_mean": wm,
            "mean_ci_low": lo,
            "mean_ci_high": hi,
            "level": level(wm),
            "level_low": level(lo),
            "level_high": level(hi),
        })
    out = pd.DataFrame(rows, columns=["construct", "construct_label", "n", "unweighted_mean", "weighted_mean", "mean_ci_low", "mean_ci_high", "level", "level_low", "level_high"])
    if assessment is not None:
        used = assessment[assessment["survey_construct"].notna()]
        out["items"] = [";".join(used.loc[used["survey_construct"] == c, "item_id"]) for c in out["construct"]]
    return out


def fill_current(assessment: pd.DataFrame, levels: pd.DataFrame | None) -> pd.DataFrame:
    """The assessment with ``current`` taken from the survey where ``survey_construct`` is set.

    Returns a copy with an added column ``current_source``: ``"アンケート"`` (survey) or
    ``"自己評価"`` (entered in the assessment file).
    """
    out = assessment.copy()
    from_survey = out["survey_construct"].notna()
    if from_survey.any():
        if levels is None:
            raise ValueError("fill_current: the assessment takes levels from the survey; pass survey_levels(...)")
        lv = levels.set_index("construct")["level"]
        out.loc[from_survey, "current"] = out.loc[from_survey, "survey_construct"].map(lv).astype(float)
    out["current_source"] = np.where(from_survey, "アンケート", "自己評価")
    return out


# --------------------------------------------------------------------------- scoring
def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    unknown = set(w) - set(WEIGHT_NAMES)
    if unknown:
        raise ValueError(f"unknown weights {sorted(unknown)}; use {list(WEIGHT_NAMES)}")
    for k, v in w.items():
        if not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
            raise ValueError(f"weight {k} must be a number >= 0 (got {v!r})")
    return {k: float(w[k]) for k in WEIGHT_NAMES}


def priority_score(gap, importance, feasibility, *, weights: Mapping[str, float] | None = None):
    """Priority on 0–100: a weighted product of gap, importance and feasibility.

    ``100 × (max(gap, 0)/5)^w_gap × (importance/5)^w_importance × (feasibility/5)^w_feasibility``

    A weighted product (Bridgman 1922; the weighted product model of multi-criteria
    decision analysis) rather than a weighted sum: an item with no gap gets 0 however
    important it is (nothing to close), and no criterion can make up for another being
    at its floor. The weights are exponents: with all weights 1 the score is simply
    gap × importance × feasibility rescaled so that the maximum (5, 5, 5) is 100; a
    weight of 2 makes that criterion count like two criteria, 0 drops it.

    Examples
    --------
    >>> round(priority_score(2, 4, 3), 1)  # 100 × 0.4 × 0.8 × 0.6
    19.2
    """
    w = _weights(weights)
    g = np.clip(np.asarray(gap, dtype=float), 0, None) / LEVEL_MAX
    i = np.asarray(importance, dtype=float) / RATING_MAX
    f = np.asarray(feasibility, dtype=float) / RATING_MAX
    out = 100.0 * g ** w["gap"] * i ** w["importance"] * f ** w["feasibility"]
    return out if out.ndim else float(out)


def weights_table(weights: Mapping[str, float] | None = None, *, change: float = 0.5, language: str = "ja") -> pd.DataFrame:
    """The priority weights used and the values tried in the sensitivity analysis.

    Returns
    -------
    DataFrame
        ``weight`` (id), ``label``, ``value``, ``low`` (value × (1 − change)), ``high``
        (value × (1 + change)).
    """
    w = _weights(weights)
    return pd.DataFrame([{"weight": k, "label": weight_label(k, language), "value": v, "low": v * (1 - change), "high": v * (1 + change)} for k, v in w.items()])


def gap_notes(gaps: pd.DataFrame) -> list[str]:
    """Sentences about items already at or above their target (gap ≤ 0), if any."""
    done = gaps[gaps["gap"] <= 0]
    if done.empty:
        return []
    items = "、".join(f"{r.item_id} {r.item}(現状 {r.current:.1f}、目標 {r.target:g})" for r in done.itertuples())
    return [f"次の項目は現状レベルがすでに目標以上のため、優先度スコアは0です: {items}。アンケートから求めた項目では、目標の見直しを検討してください。"]


#: Scores closer than this count as tied (the inputs have one decimal; products of them
#: are exact to far more digits, so only floating-point noise is absorbed).
SCORE_DECIMALS = 9


def _ranks(score: pd.Series) -> pd.Series:
    """Competition ranks ("1224"): 1 + the number of items with a higher score.

    Items with the same score share the best rank (A01 and A04 both 25.6 → both 2位,
    the next item 4位): nothing in the score separates them, so no rank should.
    """
    return score.round(SCORE_DECIMALS).rank(method="min", ascending=False).astype(int)


def _display_order(df: pd.DataFrame, score: pd.Series) -> pd.Index:
    """Row order for tables: higher score first; equal scores by larger gap, then importance, then id."""
    order = pd.DataFrame({"s": score.round(SCORE_DECIMALS), "g": df["gap"], "i": df["importance"], "id": df["item_id"]}, index=df.index)
    return order.sort_values(["s", "g", "i", "id"], ascending=[False, False, False, True], kind="stable").index


def gap_scores(assessment: pd.DataFrame, *, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Gap, priority score and rank of every assessment item.

    Parameters
    ----------
    assessment
        :func:`fill_current` output (``current`` filled in).
    weights
        ``{"gap": …, "importance": …, "feasibility": …}`` (default 1 each), see
        :func:`priority_score`.

    Returns
    -------
    DataFrame
        Sorted by rank: ``item_id``, ``item``, ``domain``, ``current``, ``current_source``,
        ``target``, ``gap`` (target − current; negative when a survey-based current level
        is already above the target — such items score 0), ``importance``,
        ``feasibility``, ``priority_score`` (0–100), ``rank`` (1 = highest priority;
        items with the same score share the best rank: 1, 2, 2, 4), ``tied`` (True when
        another item has the same score). Rows with the same score are listed by larger
        gap, then importance, then item id (display order only; their rank is shared).
    """
    df = assessment.copy()
    if "current_source" not in df.columns:
        df["current_source"] = "自己評価"
    if df["current"].isna().any():
        raise ValueError("gap_scores: some current levels are missing; call fill_current first")
    df["gap"] = df["target"] - df["current"]
    df["priority_score"] = priority_score(df["gap"], df["importance"], df["feasibility"], weights=weights)
    df["rank"] = _ranks(df["priority_score"])
    df["tied"] = df["rank"].duplicated(keep=False)
    # domains keep the order of the assessment file (the analyst's order), not alphabetical
    df["domain"] = pd.Categorical(df["domain"], categories=list(dict.fromkeys(df["domain"])), ordered=True)
    cols = ["item_id", "item", "domain", "current", "current_source", "target", "gap", "importance", "feasibility", "priority_score", "rank", "tied"]
    return df.loc[_display_order(df, df["priority_score"]), cols].reset_index(drop=True)


def domain_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Gap per domain, domains in the order they first appear in the assessment.

    Returns
    -------
    DataFrame
        ``domain``, ``n_items``, ``current_mean``, ``target_mean``, ``gap_mean`` (means
        over the domain's items), ``gap_max``, ``top_item`` (the domain's item with the
        best rank).
    """
    d = gaps["domain"]
    order = list(d.cat.categories) if isinstance(d.dtype, pd.CategoricalDtype) else list(dict.fromkeys(d))
    rows = []
    for d in order:
        g = gaps[gaps["domain"] == d]
        if g.empty:
            continue
        top = g.loc[g["rank"].idxmin()]
        rows.append({"domain": d, "n_items": len(g), "current_mean": g["current"].mean(), "target_mean": g["target"].mean(), "gap_mean": g["gap"].mean(), "gap_max": g["gap"].max(), "top_item": f"{top['item_id']} {top['item']}"})
    return pd.DataFrame(rows, columns=["domain", "n_items", "current_mean", "target_mean", "gap_mean", "gap_max", "top_item"])


def gap_quadrants(gaps: pd.DataFrame, *, gap_split: float = 2.0, importance_split: float = 4.0, language: str = "ja") -> pd.DataFrame:
    """Place each item in a quadrant of the gap–importance matrix.

    An item has a *large gap* when ``gap >= gap_split`` (default 2 levels, e.g. from
    "some departments" to "organisation-wide and managed") and *high importance* when
    ``importance >= importance_split`` (default 4, i.e. 4 or 5 on the 1–5 scale).

    Returns
    -------
    DataFrame
        ``gaps`` with ``large_gap``, ``high_importance`` (bool) and ``quadrant`` (label:
        重点課題 / 計画的に取り組む / 維持・強化する / 経過を見守る).
    """
    out = gaps.copy()
    out["large_gap"] = out["gap"] >= gap_split
    out["high_importance"] = out["importance"] >= importance_split
    out["quadrant"] = [quadrant_label(a, b, language) for a, b in zip(out["large_gap"], out["high_importance"])]
    return out


# --------------------------------------------------------------------------- sensitivity
#: Scenario families of :func:`rank_sensitivity`, in the order they are tried and shown.
FAMILIES = ("weight", "rating", "survey")


def family_label(family: str, language: str = "ja") -> str:
    """重みの変更 / 評価±1 / アンケートの区間 for a scenario family (was ``FAMILY_LABELS``)."""
    return i18n.t(f"roadmap.family.{family}", language)


def scenario_label(weight: str, factor: float, language: str = "ja") -> str:
    """Label of a weight scenario: 「ギャップ −50%」."""
    pct = round((factor - 1) * 100)
    name = weight_label(weight, language)
    return f"{name} {'+' if pct > 0 else '−'}{abs(pct)}%"


def _rating_label(criterion: str, shift: float, language: str = "ja") -> str:
    name = i18n.t(f"roadmap.rating.{criterion}", language)
    return f"{name} {'+' if shift > 0 else '−'}{abs(shift):g}"


def _survey_label(bound: str, language: str = "ja") -> str:
    return i18n.t(f"roadmap.survey_bound.{bound}", language)


def rank_sensitivity(
    assessment: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    factors: Sequence[float] = (0.5, 1.5),
    top: int = 10,
    rating_shift: float = 1.0,
    levels: pd.DataFrame | None = None,
    language: str = "ja",
) -> pd.DataFrame:
    """Ranks of the top items when the weights, the ratings or the survey levels move.

    Three families of scenarios, each changing one thing while everything else stays:

    * **weight** — each weight (exponent) multiplied by each of ``factors``: with the
      defaults −50% and +50%, six scenarios.
    * **rating** — the item's own importance, then its feasibility, moved by
      ``−rating_shift`` and ``+rating_shift`` (clipped to 1–5), the other items as rated:
      four scenarios per item. A rating is one person's or one meeting's judgement; a
      rank that changes when it is off by one step is not a firm rank. ``rating_shift=0``
      skips this family.
    * **survey** — every current level taken from the survey set to the lower, then the
      upper end of its 95% interval (``levels`` = :func:`survey_levels` output with
      ``level_low`` / ``level_high``): two scenarios. Skipped without ``levels`` or when no
      item takes its level from the survey.

    Ranks are competition ranks among all items (:func:`gap_scores`: tied items share the
    best rank), so an item can fall out of the top ``top``. The top items are those with
    base rank ≤ ``top`` (every item tied at the boundary is included).

    Returns
    -------
    DataFrame
        One row per (top item, scenario): ``item_id``, ``item``, ``base_rank``,
        ``family`` (weight / rating / survey), ``criterion`` (gap, importance,
        feasibility or current), ``change`` (the factor for weights, the shift for
        ratings, −1 / +1 for the lower / upper survey bound), ``scenario_id`` (e.g.
        ``gap_minus50``, ``rating_importance_plus1``, ``survey_low``), ``scenario``
        (label such as 「ギャップ −50%」), ``rank``. Items in base-rank order, scenarios
        in family order. ``attrs["n_scenarios"]`` counts the scenarios per family.
    """
    lang = "en" if language == "en" else "ja"
    base_w = _weights(weights)
    base = gap_scores(assessment, weights=base_w)
    top_ids = base.loc[base["rank"] <= top, ["item_id", "item", "rank"]].rename(columns={"rank": "base_rank"})
    rows = []
    counts = {f: 0 for f in FAMILIES}

    def add(family, criterion, change, sid, label, ranks, only=None):
        for t in top_ids.itertuples():
            if only is None or t.item_id == only:
                rows.append({"item_id": t.item_id, "item": t.item, "base_rank": int(t.base_rank), "family": family, "criterion": criterion,
                             "change": float(change), "scenario_id": sid, "scenario": label, "rank": int(ranks[t.item_id])})

    # every scenario needs only the ranks: gap_scores' arithmetic on arrays, without its table
    ids = assessment["item_id"].to_numpy()
    target = assessment["target"].to_numpy(dtype=float)
    rated = {c: assessment[c].to_numpy(dtype=float) for c in ("current", "importance", "feasibility")}

    def ranks(w, **changed):
        v = {**rated, **changed}
        if np.isnan(v["current"]).any():
            raise ValueError("gap_scores: some current levels are missing; call fill_current first")
        return _ranks(pd.Series(priority_score(target - v["current"], v["importance"], v["feasibility"], weights=w), index=ids))

    for wname in WEIGHT_NAMES:
        for f in factors:
            w = {**base_w, wname: base_w[wname] * f}
            r = ranks(w)
            add("weight", wname, f, f"{wname}_{'minus' if f < 1 else 'plus'}{abs(round((f - 1) * 100))}", scenario_label(wname, f, lang), r)
            counts["weight"] += 1
    if rating_shift:
        for crit in ("importance", "feasibility"):
            for shift in (-float(rating_shift), float(rating_shift)):
                for t in top_ids.itertuples():
                    hit = ids == t.item_id
                    moved = rated[crit].copy()
                    moved[hit] = np.clip(moved[hit] + shift, RATING_MIN, RATING_MAX)
                    r = ranks(base_w, **{crit: moved})
                    add("rating", crit, shift, f"rating_{crit}_{'minus' if shift < 0 else 'plus'}{abs(shift):g}", _rating_label(crit, shift, lang), r, only=t.item_id)
                counts["rating"] += 1
    from_survey = assessment["survey_construct"].notna() if "survey_construct" in assessment.columns else pd.Series(False, index=assessment.index)
    if levels is not None and from_survey.any() and {"level_low", "level_high"} <= set(levels.columns):
        lv = levels.set_index("construct")
        for bound, change in (("low", -1.0), ("high", 1.0)):
            current = rated["current"].copy()
            current[from_survey.to_numpy()] = assessment.loc[from_survey, "survey_construct"].map(lv[f"level_{bound}"]).astype(float).to_numpy()
            if np.isnan(current).any():
                continue
            r = ranks(base_w, current=current)
            add("survey", "current", change, f"survey_{bound}", _survey_label(bound, lang), r)
            counts["survey"] += 1
    out = pd.DataFrame(rows, columns=["item_id", "item", "base_rank", "family", "criterion", "change", "scenario_id", "scenario", "rank"])
    out = out.sort_values(["base_rank"], kind="stable").reset_index(drop=True)
    out.attrs["n_scenarios"] = counts
    return out


def rank_stability(sens: pd.DataFrame, *, top: int = 10, language: str = "ja") -> pd.DataFrame:
    """Per top item, how far its rank moves across the scenarios of :func:`rank_sensitivity`.

    Returns
    -------
    DataFrame
        ``item_id``, ``item``, ``base_rank``, ``rank_min`` (best rank seen, base included),
        ``rank_max`` (worst), ``rank_range`` (rank_max − rank_min), ``stays_top`` (True
        when the item is in the top ``top`` in every scenario), ``moved_by`` (the
        families whose scenarios changed its rank, e.g. 「重み±・評価±1」; empty when none).
    """
    g = sens.groupby(["item_id", "item", "base_rank"], sort=False)["rank"]
    out = g.agg(["min", "max"]).reset_index()
    out["rank_min"] = np.minimum(out["min"], out["base_rank"]).astype(int)
    out["rank_max"] = np.maximum(out["max"], out["base_rank"]).astype(int)
    out["rank_range"] = out["rank_max"] - out["rank_min"]
    out["stays_top"] = out["rank_max"] <= top
    fam = sens["family"] if "family" in sens.columns else pd.Series("weight", index=sens.index)
    moved = sens.assign(family=fam)[sens["rank"] != sens["base_rank"]].groupby("item_id")["family"].agg(lambda f: i18n.t("roadmap.family.sep", language).join(family_label(x, language) for x in FAMILIES if x in set(f)))
    out["moved_by"] = out["item_id"].map(moved).fillna("")
    return out[["item_id", "item", "base_rank", "rank_min", "rank_max", "rank_range", "stays_top", "moved_by"]].sort_values("base_rank", kind="stable").reset_index(drop=True)


def sensitivity_table(sens: pd.DataFrame, *, top: int = 10, language: str = "ja") -> pd.DataFrame:
    """The sensitivity result as one row per top item (``tables/rank_sensitivity.csv``).

    Returns
    -------
    DataFrame
        ``item_id``, ``item``, ``base_rank``, one ``rank_<scenario_id>`` column per
        scenario (e.g. ``rank_gap_minus50``: the rank when the gap weight is halved;
        ``rank_rating_importance_plus1``: when the item's own importance is one step
        higher; ``rank_survey_low``: when the survey-based levels are at the lower end of
        their interval), ``rank_min``, ``rank_max``, ``rank_range``, ``stays_top``,
        ``moved_by``.
    """
    s = sens.copy()
    s["col"] = "rank_" + s["scenario_id"]
    order = list(dict.fromkeys(s["col"]))
    wide = s.pivot_table(index=["item_id", "item", "base_rank"], columns="col", values="rank", aggfunc="first").reset_index()
    wide = wide[["item_id", "item", "base_rank", *order]]
    stab = rank_stability(sens, top=top, language=language)[["item_id", "rank_min", "rank_max", "rank_range", "stays_top", "moved_by"]]
    out = wide.merge(stab, on="item_id").sort_values("base_rank", kind="stable").reset_index(drop=True)
    out.columns.name = None
    for c in order:
        out[c] = out[c].astype(int)
    return out


def sensitivity_labels(table: pd.DataFrame, language: str = "ja") -> dict[str, str]:
    """Display headers for :func:`sensitivity_table` columns (e.g. 「ギャップ −50%」)."""
    lang = "en" if language == "en" else "ja"
    out = {}
    for c in table.columns:
        m = re.match(r"rank_(gap|importance|feasibility)_(minus|plus)(\d+)$", c)
        if m:
            f = 1 + (int(m.group(3)) / 100) * (-1 if m.group(2) == "minus" else 1)
            out[c] = scenario_label(m.group(1), f, lang)
            continue
        m = re.match(r"rank_rating_(importance|feasibility)_(minus|plus)([\d.]+)$", c)
        if m:
            out[c] = _rating_label(m.group(1), float(m.group(3)) * (-1 if m.group(2) == "minus" else 1), lang)
            continue
        m = re.match(r"rank_survey_(low|high)$", c)
        if m:
            out[c] = _survey_label(m.group(1), lang)
    return out


# --------------------------------------------------------------------------- roadmap
def dependency_check(measures: pd.DataFrame, *, language: str = "ja") -> pd.DataFrame:
    """Every dependency between measures, flagging those whose dependency starts later.

    A measure that needs another one (``depends_on``) cannot sensibly start before it:
    the check flags a dependency whose ``start_fy`` is after the measure's own.

    Returns
    -------
    DataFrame
        One row per (measure, dependency): ``measure_id``, ``measure``, ``start_fy``,
        ``dependency`` (measure id), ``dependency_measure`` (its name),
        ``dependency_start_fy``, ``dependency_end_fy``, ``starts_later`` (bool), ``note``
        (a sentence for the report naming both measures, e.g. 「M06 データ活用ワークショップ
        (令和8年度開始)は、前提の M07 庁内データ活用基盤の整備(令和9年度開始)より先に始まります。
        開始年度を見直してください。」).
    """
    by_id = measures.set_index("measure_id")
    rows = []
    for r in measures.itertuples():
        for d in r.depends_on:
            ds, de = int(by_id.at[d, "start_fy"]), int(by_id.at[d, "end_fy"])
            later = ds > int(r.start_fy)
            dname = by_id.at[d, "measure"]
            note = (i18n.t("roadmap.dependency.later", language, measure_id=r.measure_id, measure=r.measure, start=fiscal_year_label(r.start_fy, language=language),
                           dependency=d, dependency_measure=dname, dependency_start=fiscal_year_label(ds, language=language)) if later
                    else i18n.t("roadmap.dependency.ok", language))
            rows.append({"measure_id": r.measure_id, "measure": r.measure, "start_fy": int(r.start_fy), "dependency": d, "dependency_measure": dname,
                         "dependency_start_fy": ds, "dependency_end_fy": de, "starts_later": later, "note": note})
    return pd.DataFrame(rows, columns=["measure_id", "measure", "start_fy", "dependency", "dependency_measure", "dependency_start_fy", "dependency_end_fy", "starts_later", "note"])


def dependency_view(deps: pd.DataFrame, *, language: str = "ja") -> pd.DataFrame:
    """Display frame of :func:`dependency_check`: each measure as 「ID 名称」, years as 令和N年度.

    Returns
    -------
    DataFrame
        ``measure`` (「M06 データ活用ワークショップ」), ``start_fy`` (text), ``dependency``
        (「M07 庁内データ活用基盤の整備」), ``dependency_start_fy`` (text),
        ``starts_later``, ``note``. The CSV keeps :func:`dependency_check`'s columns.
    """
    out = fy_as_text(deps, language=language)
    out["measure"] = out["measure_id"] + " " + out["measure"].astype(str)
    out["dependency"] = out["dependency"] + " " + out["dependency_measure"].astype(str)
    return out[["measure", "start_fy", "dependency", "dependency_start_fy", "starts_later", "note"]].reset_index(drop=True)


def compact_numbers(values: pd.Series) -> pd.Series:
    """Whole-number floats as ``int`` (30.0 → 30), other values unchanged (object dtype).

    KPI targets are counts or percentages; showing ``30`` instead of ``30.00`` keeps the
    tables and the Excel sheet as the advisor typed them.
    """
    conv = [int(v) if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer() else v for v in values]
    return pd.Series(conv, index=values.index, name=values.name, dtype=object)  # map() would turn ints + NaN back into floats


def fy_as_text(df: pd.DataFrame, *, language: str = "ja") -> pd.DataFrame:
    """A copy with fiscal-year columns (``*_fy``, ``fiscal_year``) as 令和N年度, for display.

    The rest of the report names years in the Japanese era (:func:`fiscal_year_label`);
    a table must not switch to 2026 (nor to 2,026, as integers would be formatted).
    ``language="en"`` gives FY2026. Use it for the displayed copy only: the CSV keeps
    the western year, which sorts and computes.
    """
    out = df.copy()
    for c in out.columns:
        if c.endswith("_fy") or c == "fiscal_year":
            out[c] = out[c].map(lambda v: "" if _blank(v) else fiscal_year_label(int(v), language=language))
    return out


def target_years(measures: pd.DataFrame) -> list[int]:
    """The KPI target fiscal years present as ``target_<FY>`` columns, in order."""
    return sorted(int(c[len(TARGET_PREFIX):]) for c in measures.columns if c.startswith(TARGET_PREFIX))


def roadmap_table(measures: pd.DataFrame, *, assessment: pd.DataFrame | None = None, segment_names: Mapping[int, str] | None = None, dependencies: pd.DataFrame | None = None,
                  language: str = "ja") -> pd.DataFrame:
    """The roadmap as one row per measure (``tables/roadmap.csv``), in start-year order.

    Returns
    -------
    DataFrame
        ``measure_id``, ``measure``, ``items`` (``;``-joined ids), ``item_names``,
        ``segments`` (``;``-joined numbers), ``segment_names`` (empty without notebook
        02's names), ``start_fy``, ``end_fy``, ``period`` (e.g. 令和8年度〜令和10年度),
        ``depends_on``, ``dependency_flag`` (text when a dependency starts later, else
        empty), ``kpi``, then one ``target_<FY>`` column per KPI year.
    """
    names = {} if assessment is None else dict(zip(assessment["item_id"], assessment["item"]))
    flags: dict[str, list[str]] = {}
    if dependencies is not None:
        for r in dependencies[dependencies["starts_later"]].itertuples():
            flags.setdefault(r.measure_id, []).append(i18n.t("roadmap.dependency_flag", language, dependency=r.dependency, start=fiscal_year_label(r.dependency_start_fy, language=language)))
    rows = []
    for r in measures.sort_values(["start_fy", "measure_id"], kind="stable").itertuples():
        rec = {
            "measure_id": r.measure_id, "measure": r.measure,
            "items": ";".join(r.items), "item_names": i18n.t("list.sep", language).join(names.get(i, i) for i in r.items),
            "segments": ";".join(str(s) for s in r.segments),
            "segment_names": i18n.t("list.sep", language).join(f"{s} {segment_names[s]}" for s in r.segments if s in segment_names) if segment_names else "",
            "start_fy": int(r.start_fy), "end_fy": int(r.end_fy),
            "period": (fiscal_year_label(r.start_fy, language=language) if r.start_fy == r.end_fy
                       else i18n.t("roadmap.period", language, start=fiscal_year_label(r.start_fy, language=language), end=fiscal_year_label(r.end_fy, language=language))),
            "depends_on": ";".join(r.depends_on), "dependency_flag": i18n.t("list.sep", language).join(flags.get(r.measure_id, [])), "kpi": r.kpi or "",
        }
        for fy in target_years(measures):
            rec[f"{TARGET_PREFIX}{fy}"] = getattr(r, f"{TARGET_PREFIX}{fy}")
        rows.append(rec)
    tcols = [f"{TARGET_PREFIX}{fy}" for fy in target_years(measures)]
    cols = ["measure_id", "measure", "items", "item_names", "segments", "segment_names", "start_fy", "end_fy", "period", "depends_on", "dependency_flag", "kpi", *tcols]
    out = pd.DataFrame(rows, columns=cols)
    for c in tcols:
        out[c] = compact_numbers(out[c])
    return out


def kpi_targets(measures: pd.DataFrame, *, language: str = "ja") -> pd.DataFrame:
    """KPI targets as a long table, one row per measure and fiscal year with a target.

    Returns
    -------
    DataFrame
        ``measure_id``, ``measure``, ``kpi``, ``fiscal_year`` (int), ``fy_label``
        (令和N年度), ``target`` (number — whole numbers as int — or text as entered), ``in_period`` (the year is
        within the measure's start–end years).
    """
    rows = []
    for r in measures.sort_values(["start_fy", "measure_id"], kind="stable").itertuples():
        for fy in target_years(measures):
            v = getattr(r, f"{TARGET_PREFIX}{fy}")
            if _blank(v):
                continue
            rows.append({"measure_id": r.measure_id, "measure": r.measure, "kpi": r.kpi or "", "fiscal_year": fy, "fy_label": fiscal_year_label(fy, language=language), "target": v, "in_period": bool(r.start_fy <= fy <= r.end_fy)})
    out = pd.DataFrame(rows, columns=["measure_id", "measure", "kpi", "fiscal_year", "fy_label", "target", "in_period"])
    out["target"] = compact_numbers(out["target"])
    return out


def kpi_wide(kpis: pd.DataFrame) -> pd.DataFrame:
    """KPI targets with one column per fiscal year (``fy_<FY>``), for display and Excel.

    Returns
    -------
    DataFrame
        ``measure_id``, ``measure``, ``kpi``, then ``fy_<FY>`` columns (target or NaN).
    """
    if kpis.empty:
        return pd.DataFrame(columns=["measure_id", "measure", "kpi"])
    order = list(dict.fromkeys(kpis["measure_id"]))
    wide = kpis.pivot_table(index=["measure_id", "measure", "kpi"], columns="fiscal_year", values="target", aggfunc="first").reset_index()
    wide.columns = [c if isinstance(c, str) else f"fy_{c}" for c in wide.columns]
    wide = wide.set_index("measure_id").loc[order].reset_index()
    wide.columns.name = None
    for c in wide.columns:
        if c.startswith("fy_"):
            wide[c] = compact_numbers(wide[c])
    return wide


def fy_labels(columns: Sequence[str], language: str = "ja") -> dict[str, str]:
    """Display headers for ``fy_<FY>`` / ``target_<FY>`` columns: 令和N年度 / 令和N年度目標 (FY2027 target); also the Excel sheets' headers."""
    out = {}
    for c in columns:
        m = re.match(r"(fy|target)_(\d{4})$", str(c))
        if m:
            fy = fiscal_year_label(int(m.group(2)), language=language)
            out[c] = i18n.t("roadmap.fy_target", language, fy=fy) if m.group(1) == "target" else fy
    return out


# --------------------------------------------------------------------------- findings text
def rank_text(rank: int, tied: bool = False, *, language: str = "ja") -> str:
    """「2位」 or, for a shared rank, 「2位(同点)」 (#2, #2 (tied))."""
    return i18n.t("roadmap.rank", language, rank=int(rank)) + (i18n.t("roadmap.tied", language) if tied else "")


# --------------------------------------------------------------------------- Excel
HEADER_FILL = "0B4F8A"  # the report's accent colour
ACTIVE_FILL = "9CC3E6"
FLAG_FILL = "F4B183"


def _display_width(text) -> int:
    """Column width in Excel characters: East Asian wide characters count twice."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _write_sheet(ws, df: pd.DataFrame, labels: Mapping[str, str], formats: Mapping[str, str], *, max_width: int = 60) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for j, c in enumerate(df.columns, start=1):
        cell = ws.cell(row=1, column=j, value=neutralise_formula(labels.get(c, c)))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, (c, v) in enumerate(zip(df.columns, row), start=1):
            if _blank(v):
                v = None
            elif isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.floating,)):
                v = float(v)
            elif isinstance(v, (np.bool_, bool)):
                v = "○" if v else ""
            cell = ws.cell(row=i, column=j, value=neutralise_formula(v))  # a measure named "=…" must not become a formula
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(v, str) and _display_width(v) > max_width)
            if c in formats:
                cell.number_format = formats[c]
    for j, c in enumerate(df.columns, start=1):
        widths = [_display_width(labels.get(c, c))] + [_display_width(v) for v in df[c] if not _blank(v)]
        ws.column_dimensions[get_column_letter(j)].width = min(max(widths) + 2, max_width)
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(len(df) + 1, 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


#: Sheet names of ``roadmap.xlsx``.
SHEETS = {"gaps": "優先順位", "roadmap": "ロードマップ", "kpis": "KPI"}


def write_roadmap_workbook(path: Path | str, *, gaps: pd.DataFrame, roadmap: pd.DataFrame, kpis: pd.DataFrame, title: str | None = None) -> Path:
    """Write ``roadmap.xlsx``: ranked gaps, the roadmap by fiscal year, and the KPIs.

    Sheets (Japanese headers, header fill, frozen header row, auto-filter, column widths,
    number formats, landscape fit-to-width printing):

    * 優先順位 — :func:`gap_scores` in rank order (levels ``0.0``, score ``0.0``, rank ``0``;
      a shared rank is marked ○ in 同点).
    * ロードマップ — :func:`roadmap_table` plus one column per fiscal year, filled where the
      measure runs (■), so the sheet reads as a Gantt chart; a flagged dependency is
      highlighted.
    * KPI — :func:`kpi_wide`: one row per measure, one column per fiscal year.

    Returns the path written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, PatternFill

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEETS["gaps"]
    gcols = ["rank", "tied", "item_id", "item", "domain", "current", "current_source", "target", "gap", "importance", "feasibility", "priority_score"]
    _write_sheet(ws, gaps.sort_values("rank")[gcols], COLUMN_LABELS, {"rank": "0", "current": "0.0", "target": "0.0", "gap": "0.0", "importance": "0", "feasibility": "0", "priority_score": "0.0"})

    ws = wb.create_sheet(SHEETS["roadmap"])
    years = list(range(int(roadmap["start_fy"].min()), int(roadmap["end_fy"].max()) + 1)) if len(roadmap) else []
    rm = roadmap[["measure_id", "measure", "item_names", "segments", "segment_names", "start_fy", "end_fy", "depends_on", "dependency_flag", "kpi"]].copy()
    for fy in years:
        rm[f"fy_{fy}"] = ["■" if s <= fy <= e else "" for s, e in zip(roadmap["start_fy"], roadmap["end_fy"])]
    labels = {**COLUMN_LABELS, **fy_labels(rm.columns)}
    _write_sheet(ws, rm, labels, {"start_fy": "0", "end_fy": "0"})
    first_fy_col = len(rm.columns) - len(years) + 1
    for i, r in enumerate(rm.itertuples(index=False), start=2):
        for k in range(len(years)):
            cell = ws.cell(row=i, column=first_fy_col + k)
            cell.alignment = Alignment(horizontal="center")
            if cell.value:
                cell.fill = PatternFill("solid", fgColor=FLAG_FILL if r.dependency_flag else ACTIVE_FILL)

    ws = wb.create_sheet(SHEETS["kpis"])
    kw = kpi_wide(kpis)
    fmts = {}
    for c in kw.columns:
        if c.startswith("fy_"):
            nums = [v for v in kw[c] if isinstance(v, (int, float)) and not _blank(v)]
            fmts[c] = "#,##0" if nums and all(float(v).is_integer() for v in nums) else "General"
    _write_sheet(ws, kw, {**COLUMN_LABELS, **fy_labels(kw.columns)}, fmts)
    if title:
        wb.properties.title = title
    wb.save(path)
    return path
