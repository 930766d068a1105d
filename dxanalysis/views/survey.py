"""Words of notebook 01 (現状把握): sentences, alt texts and display tables from :mod:`dxanalysis.survey`.

Every function takes ``language`` (``"ja"`` or ``"en"``) and builds its text from the
catalogue keys ``survey.*`` of :data:`dxanalysis.i18n.TEXT`; the statistics stay in
:mod:`dxanalysis.survey`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import i18n
from ..survey import (
    CONTRADICTED,
    EQUIVALENCE_MARGIN,
    LOW_RESPONSE_RATE,
    OVERALL_ATTRIBUTE,
    Q_LEVEL,
    SMALL_DIFFERENCE,
    VERDICTS,
    positive_shares,
)


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"survey.{key}", language, **params)


def _sep(language: str) -> str:
    return i18n.t("list.sep", language)


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _q_text(q: float) -> str:
    """``<0.001`` or ``=0.012`` (as the report tables show q-values)."""
    return "<0.001" if q < 0.001 else f"={q:.3f}"


def verdict_label(code: str, language: str = "ja") -> str:
    """The word for a verdict code (``supported`` → 支持 / supported); unknown codes unchanged."""
    key = f"verdict.{code}"
    return i18n.t(key, language) if key in i18n.TEXT else str(code)


def overall_label(language: str = "ja") -> str:
    """Name of the whole-staff row (全体 / All staff)."""
    return _t("overall", language)


def in_language(df: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """A long table whose whole-staff rows (``attribute == "overall"``) name that group in ``language``."""
    if "attribute" not in df.columns or "group" not in df.columns:
        return df
    out = df.copy()
    overall = out["attribute"] == OVERALL_ATTRIBUTE
    if overall.any():
        out["group"] = out["group"].astype(object)
        out.loc[overall, "group"] = overall_label(language)
    return out


# --------------------------------------------------------------------------- response rates
def describe_response_rates(rates: pd.DataFrame, overall: float | None = None, codebook=None, *, language: str = "ja") -> str:
    """Sentences stating the overall and the lowest/highest visible rates (for alt text).

    With ``codebook``, the text starts by naming the attributes drawn, from their labels
    (e.g. 「職層・年代・雇用形態別の回答率と95%信頼区間の横棒グラフ。」), so it stays true
    for a roster with any subset of the attributes.
    """
    head = ""
    if codebook is not None and len(rates):
        names = i18n.t("list.dot", language).join(codebook.label_of(a) for a in dict.fromkeys(rates["attribute"]))
        head = _t("rates.chart", language, names=names)
    if overall is not None:
        head += _t("rates.overall", language, rate=_pct(overall))
    vis = rates.dropna(subset=["response_rate"])
    if vis.empty:
        return head + _t("rates.none", language)
    lo = vis.loc[vis["response_rate"].idxmin()]
    hi = vis.loc[vis["response_rate"].idxmax()]
    return head + _t("rates.range", language, high=hi["group"], high_rate=_pct(hi["response_rate"]), low=lo["group"], low_rate=_pct(lo["response_rate"]))


def low_response_warning(rates: pd.DataFrame, codebook=None, language: str = "ja") -> str | None:
    """A warning sentence naming visible groups whose response rate is low, or None."""
    low = rates[rates["low_response"].astype(bool) & rates["response_rate"].notna()]
    if low.empty:
        return None
    names = _sep(language).join(_t("rates.low_group", language, attribute=(codebook.label_of(r.attribute) + " ") if codebook is not None else "", group=r.group, rate=_pct(r.response_rate))
                                for r in low.itertuples())
    return _t("rates.low_warning", language, threshold=_pct(LOW_RESPONSE_RATE), names=names)


def rates_view(rates: pd.DataFrame, codebook, language: str = "ja") -> pd.DataFrame:
    """Display frame of :func:`~dxanalysis.survey.response_rates`: attribute ids replaced by their labels."""
    view = rates.copy()
    view["attribute"] = view["attribute"].map(codebook.label_of)
    return view


# --------------------------------------------------------------------------- weighting
def describe_margins(margins: Sequence[str], codebook=None, *, language: str = "ja") -> str:
    """Which roster attributes the weights reproduce, as a sentence for the report.

    A roster may hold any subset of the attributes (e.g. only 所属部署), so the report
    says which ones were used instead of assuming all four. With one attribute, raking
    is post-stratification, and the sentence says so.

    Examples
    --------
    >>> describe_margins(["department"])
    '重み付けに使った職員名簿の属性: department(1つだけなので、この属性の集団ごとの人数に合わせる事後層化と同じです)。'
    """
    margins = list(margins)
    label = codebook.label_of if codebook is not None else str
    names = i18n.t("list.dot", language).join(label(a) for a in margins)
    tail = _t("margins.one", language) if len(margins) == 1 else ""
    return _t("margins", language, names=names, tail=tail)


def describe_weighted_estimates(est: pd.DataFrame, language: str = "ja") -> str:
    """Alt text: the construct whose mean changes most when weighted, and the design effect."""
    con = est[est["kind"] == "construct"].dropna(subset=["difference"])
    if con.empty:
        return _t("weighted.none", language)
    big = con.loc[con["difference"].abs().idxmax()]
    return _t("weighted.alt", language, label=big["label"], unweighted=f"{big['unweighted']:.2f}", weighted=f"{big['weighted']:.2f}", diff=f"{big['difference']:+.2f}",
              deff=f"{con['deff'].median():.2f}", n_eff=f"{con['n_eff'].median():.0f}")


def _num(v, fmt: str) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


def _interval(lo, hi, fmt: str, language: str = "ja") -> str:
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in (lo, hi)):
        return "—"
    return i18n.t("range", language, low=format(lo, fmt), high=format(hi, fmt))


def _keep_flags(view: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    for c in ("suppressed", "suppression_reason"):
        if c in source.columns:
            view[c] = source[c].to_numpy()
    return view


def statistic_label(statistic: str, language: str = "ja") -> str:
    key = f"survey.statistic.{statistic}"
    return i18n.t(key, language) if key in i18n.TEXT else statistic


def estimates_view(est: pd.DataFrame, *, kinds: Sequence[str] = ("construct", "tool"), language: str = "ja") -> pd.DataFrame:
    """Display frame of :func:`~dxanalysis.survey.weighted_estimates` for the given kinds: ``label``,
    ``statistic``, ``n``, ``unweighted``, ``weighted``, ``weighted_ci``, ``difference``
    (all as text: points for means, % for shares), ``deff``, ``n_eff``."""
    e = est[est["kind"].isin(list(kinds))]
    rows = []
    for r in e.itertuples():
        share = r.statistic != "mean"
        f = (lambda v: _num(v * 100, ".1f") + "%" if not (isinstance(v, float) and np.isnan(v)) else "—") if share else (lambda v: _num(v, ".2f"))
        d = (lambda v: i18n.t("points", language, value=_num(v * 100, "+.1f")) if not np.isnan(v) else "—") if share else (lambda v: _num(v, "+.2f"))
        rows.append({"label": r.label, "statistic": statistic_label(r.statistic, language), "n": r.n, "unweighted": f(r.unweighted), "weighted": f(r.weighted),
                     "weighted_ci": i18n.t("range", language, low=f(r.ci_low), high=f(r.ci_high)), "difference": d(r.difference), "deff": r.deff, "n_eff": _num(r.n_eff, ".0f")})
    view = pd.DataFrame(rows, columns=["label", "statistic", "n", "unweighted", "weighted", "weighted_ci", "difference", "deff", "n_eff"])
    return _keep_flags(view, e)


# --------------------------------------------------------------------------- reliability and distributions
def describe_reliability(rel: pd.DataFrame, language: str = "ja") -> str:
    """One sentence for alt text: range of alpha and the constructs under the threshold."""
    rel = rel[rel["alpha"].notna()] if "alpha" in rel else rel
    if rel.empty:
        return _t("reliability.none", language)
    lo, hi = rel.loc[rel["alpha"].idxmin()], rel.loc[rel["alpha"].idxmax()]
    low = rel.loc[rel["flag_low"], "label"].tolist()
    tail = _t("reliability.low", language, labels=_sep(language).join(low)) if low else _t("reliability.all_ok", language)
    return _t("reliability.alt", language, low=lo["label"], low_alpha=f"{lo['alpha']:.2f}", high=hi["label"], high_alpha=f"{hi['alpha']:.2f}", tail=tail)


def alpha_note(code, language: str = "ja") -> str:
    """Why a construct has no alpha (a code of :data:`dxanalysis.survey.ALPHA_NOTES`) in words."""
    if code is None or (isinstance(code, float) and np.isnan(code)) or not str(code):
        return ""
    key = f"survey.alpha_note.{code}"
    return i18n.t(key, language) if key in i18n.TEXT else str(code)


def reliability_view(rel: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """Display frame of :func:`~dxanalysis.survey.reliability`: ``label``, ``area``, ``n_items``, ``n``,
    ``alpha``, ``alpha_ci`` (Feldt 95% as text), ``flag_low``, and ``note`` (why alpha is
    —) when some construct has none."""
    view = pd.DataFrame({
        "label": rel["label"], "area": rel["area"], "n_items": rel["n_items"].map(lambda v: _num(v, ".0f")), "n": rel["n"],
        "alpha": rel["alpha"], "alpha_ci": [_interval(lo, hi, ".2f", language) for lo, hi in zip(rel["ci_low"], rel["ci_high"])], "flag_low": rel["flag_low"],
    })
    if "note" in rel and rel["note"].fillna("").astype(bool).any():
        view["note"] = [alpha_note(n, language) for n in rel["note"]]
    return _keep_flags(view, rel)


def describe_item_distribution(dist: pd.DataFrame, codebook, language: str = "ja") -> str:
    """Alt text: the items with the highest and lowest share of positive answers (whole staff)."""
    pos = positive_shares(dist, codebook)
    pos = pos[pos["attribute"] == OVERALL_ATTRIBUTE].dropna(subset=["share_positive"])
    if pos.empty:
        return _t("items.none", language)
    hi, lo = pos.loc[pos["share_positive"].idxmax()], pos.loc[pos["share_positive"].idxmin()]
    return _t("items.alt", language, n=len(pos), high=hi["item"], high_share=_pct(hi["share_positive"]), low=lo["item"], low_share=_pct(lo["share_positive"]))


# --------------------------------------------------------------------------- group differences
def describe_group_differences(diffs: pd.DataFrame, codebook, *, q_level: float = Q_LEVEL, language: str = "ja") -> str:
    """Alt text: how many visible cells differ clearly, and the largest gaps each way."""
    vis = diffs.dropna(subset=["diff", "q_value"])
    sig = vis[vis["q_value"] < q_level]
    if sig.empty:
        return _t("differences.none", language, n=len(vis), q=q_level)
    lo = sig.loc[sig["diff"].idxmin()]
    hi = sig.loc[sig["diff"].idxmax()]
    text = _t("differences.count", language, n=len(vis), n_clear=len(sig), q=q_level)
    if lo["diff"] < 0:
        text += _t("differences.lowest", language, group=lo["group"], construct=codebook.label_of(lo["construct"]), diff=f"{lo['diff']:+.2f}")
    if hi["diff"] > 0:
        text += _t("differences.highest", language, group=hi["group"], construct=codebook.label_of(hi["construct"]), diff=f"{hi['diff']:+.2f}")
    return text


def support_findings(needs: pd.DataFrame, *, max_items: int = 5, q_level: float = Q_LEVEL, language: str = "ja") -> list[str]:
    """One sentence per group of :func:`~dxanalysis.survey.support_needs` (largest gap first), for pub.finding.

    Each names the constructs where the group is clearly below the whole staff, with the
    gap in points, and the opportunities that address them (most often matched first).
    """
    out = []
    if needs.empty:
        return out
    for (attr_label, group), block in needs.groupby(["attribute_label", "group"], sort=False):
        gaps = _sep(language).join(_t("needs.gap", language, label=r.label, diff=f"{r.diff:+.2f}") for r in block.itertuples())
        counts: dict[str, int] = {}
        for text in block["opportunities"]:
            for o in filter(None, str(text).split("、")):  # support_needs joins the names with 、 (data, not words)
                counts[o] = counts.get(o, 0) + 1
        opp = sorted(counts, key=lambda o: -counts[o])
        tail = _t("needs.fits", language, names=_sep(language).join(opp[:3])) if opp else ""
        out.append(_t("needs.finding", language, attribute=attr_label, group=group, n=int(block["n"].iloc[0]), gaps=gaps, q=q_level, tail=tail))
        if len(out) >= max_items:
            break
    return out


# --------------------------------------------------------------------------- hypotheses
def _caveat_text(r, language: str = "ja") -> str:
    if not bool(r["response_caveat"]) or pd.isna(r["response_rate_group"]) or pd.isna(r["response_rate_versus"]):
        return ""
    return _t("hypotheses.caveat", language, group=group_name(r, language), group_rate=_pct(r["response_rate_group"]), versus=versus_name(r, language), versus_rate=_pct(r["response_rate_versus"]))


def hypothesis_findings(hyp: pd.DataFrame, *, equivalence_margin: float = EQUIVALENCE_MARGIN, language: str = "ja") -> list[str]:
    """Sentences for the report summary: a count of verdicts, each hypothesis that came out
    the other way (「このデータでは予想と逆」), then each expected difference that is small.

    Built from the privacy-filtered table: hidden rows (NaN effect) are not described.
    Intervals are labelled unadjusted (the verdicts use the BH q-values); a response-rate
    caveat follows when the compared groups answered at very different rates.
    """
    if hyp.empty:
        return []
    counts = hyp["verdict"].value_counts()
    parts = [_t("hypotheses.count_part", language, verdict=verdict_label(v, language), n=counts.get(v, 0)) for v in VERDICTS if v != SMALL_DIFFERENCE or counts.get(v, 0)]
    out = [_t("hypotheses.counts", language, n=len(hyp), parts=i18n.t("list.dot", language).join(parts))]
    for _, r in hyp[(hyp["verdict"] == CONTRADICTED) & hyp["effect_size"].notna()].iterrows():
        out.append(_t("hypotheses.opposite", language, id=r["hypothesis_id"], statement=r["statement"], group=group_name(r, language), versus=versus_name(r, language),
                      direction=_t("higher" if r["effect_size"] > 0 else "lower", language), r=f"{r['effect_size']:+.2f}",
                      low=f"{r['ci_low']:+.2f}", high=f"{r['ci_high']:+.2f}", q=_q_text(r["q_value"])) + _caveat_text(r, language))
    for _, r in hyp[(hyp["verdict"] == SMALL_DIFFERENCE) & hyp["effect_size"].notna()].iterrows():
        out.append(_t("hypotheses.small", language, id=r["hypothesis_id"], statement=r["statement"], group=group_name(r, language), versus=versus_name(r, language), r=f"{r['effect_size']:+.2f}",
                      low=f"{r['equivalence_ci_low']:+.2f}", high=f"{r['equivalence_ci_high']:+.2f}", margin=f"{equivalence_margin:g}") + _caveat_text(r, language))
    return out


def describe_hypotheses(hyp: pd.DataFrame, language: str = "ja") -> str:
    """Alt text of the hypothesis chart."""
    if hyp.empty:
        return _t("hypotheses.none", language)
    verdicts = _t("hypotheses.alt_sep", language).join(_t("hypotheses.alt_item", language, id=r.hypothesis_id,
                                      verdict=_t("hypotheses.opposite_short", language) if r.verdict == CONTRADICTED else verdict_label(r.verdict, language))
                                   for r in hyp.itertuples())
    return _t("hypotheses.alt", language, verdicts=verdicts)


def _values(joined, language: str) -> str:
    """Values of the register joined by 「・」 (as :func:`~dxanalysis.survey.test_hypotheses` stores them), joined in ``language``."""
    return i18n.t("list.dot", language).join(str(joined).split("・")) if language != "ja" else str(joined)


def group_name(r, language: str = "ja") -> str:
    """The group of a hypothesis (its values joined)."""
    return _values(r["group"], language)


def versus_name(r, language: str = "ja") -> str:
    """The compared side of a hypothesis: its values, or 「<group>以外」 / "staff other than <group>"."""
    rest = bool(r["versus_rest"]) if "versus_rest" in r and not pd.isna(r["versus_rest"]) else False
    versus = "" if pd.isna(r["versus"]) else str(r["versus"])
    return _t("hypotheses.rest", language, group=group_name(r, language)) if rest or not versus else _values(versus, language)


def hypothesis_note(r, language: str = "ja", *, equivalence_margin: float = EQUIVALENCE_MARGIN) -> str:
    """The ``note`` codes of a :func:`~dxanalysis.survey.test_hypotheses` row as words in ``language``."""
    note = r["note"]
    if note is None or (isinstance(note, float) and np.isnan(note)) or not str(note):
        return ""
    rg, rv = r.get("response_rate_group", np.nan), r.get("response_rate_versus", np.nan)
    params = {"group_rate": "—" if pd.isna(rg) else _pct(rg), "versus_rate": "—" if pd.isna(rv) else _pct(rv), "margin": f"{equivalence_margin:g}"}
    words = []
    for code in str(note).split(";"):
        key = f"survey.hypotheses.note.{code}"
        words.append(i18n.t(key, language, **params) if key in i18n.TEXT else code)
    return i18n.t("sentence.sep", language).join(words)


def hypotheses_view(hyp: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """Display frame of :func:`~dxanalysis.survey.test_hypotheses` (after privacy filtering).

    Columns: ``hypothesis_id``, ``statement``, ``verdict``, ``comparison`` (群 vs 比較対象
    with n), ``values`` (mean or share of each side), ``effect_size``, ``effect_ci`` (95%
    interval as text, not adjusted for multiple comparisons), ``q_value``,
    ``response_rates`` (response rate of each side, as text), ``note`` (and the privacy
    flags of ``hyp``).
    """
    pct = hyp["kind"].eq("tool")
    rg = hyp["response_rate_group"] if "response_rate_group" in hyp else pd.Series(np.nan, index=hyp.index)
    rv = hyp["response_rate_versus"] if "response_rate_versus" in hyp else pd.Series(np.nan, index=hyp.index)
    vs = i18n.t("versus", language)
    versus = [versus_name(r, language) for _, r in hyp.iterrows()]
    groups = [group_name(r, language) for _, r in hyp.iterrows()]
    view = pd.DataFrame({
        "hypothesis_id": hyp["hypothesis_id"],
        "statement": hyp["statement"],
        "verdict": [verdict_label(v, language) for v in hyp["verdict"]],
        "comparison": [f"{g}(n={_num(a, '.0f')}) {vs} {v}(n={_num(b, '.0f')})" for g, v, a, b in zip(groups, versus, hyp["n_group"], hyp["n_versus"])],
        "values": [f"{_num(a * 100 if p else a, '.0f' if p else '.2f')}{'%' if p else ''} {vs} {_num(b * 100 if p else b, '.0f' if p else '.2f')}{'%' if p else ''}"
                   for a, b, p in zip(hyp["value_group"], hyp["value_versus"], pct)],
        "effect_size": hyp["effect_size"],
        "effect_ci": [_interval(lo, hi, "+.2f", language) for lo, hi in zip(hyp["ci_low"], hyp["ci_high"])],
        "q_value": hyp["q_value"],
        "response_rates": ["—" if pd.isna(a) or pd.isna(b) else f"{a * 100:.0f}% {vs} {b * 100:.0f}%" for a, b in zip(rg, rv)],
        "note": [hypothesis_note(r, language) for _, r in hyp.iterrows()] if "note" in hyp else "",
    })
    return _keep_flags(view, hyp)


# --------------------------------------------------------------------------- tools
def describe_tool_use(use: pd.DataFrame, language: str = "ja") -> str:
    """Alt text: most and least used tools (whole staff)."""
    o = use[use["attribute"] == OVERALL_ATTRIBUTE].dropna(subset=["share"])
    if o.empty:
        return _t("tools.none", language)
    hi, lo = o.loc[o["share"].idxmax()], o.loc[o["share"].idxmin()]
    return _t("tools.alt", language, high=hi["label"], high_share=_pct(hi["share"]), low=lo["label"], low_share=_pct(lo["share"]))


#: Japanese column headers for the tables of notebook 01 (``pub.table(..., labels=LABELS)``; English: ``i18n.COLUMN_LABELS_EN``).
LABELS = {
    "label": "名称", "area": "DXリテラシー標準の領域", "flag_low": "α<0.6(要注意)", "construct": "構成概念ID",
    "item_id": "項目ID", "item": "項目", "reverse": "逆転項目", "alpha_if_dropped": "除いた場合のα", "change": "αの変化", "r_drop": "残りとの相関",
    "kind": "種類", "measure_id": "指標ID", "statistic": "統計量", "n_weighted": "重み付けに使った回答者数", "unweighted": "重みなし",
    "weighted": "重み付き(全職員推定)", "difference": "差(重み付き−重みなし)", "deff": "デザイン効果", "n_eff": "有効回答者数",
    "measure": "指標", "versus": "比較対象", "expected": "予想の向き", "n_group": "回答者数(群)", "n_versus": "回答者数(比較対象)",
    "value_group": "値(群)", "value_versus": "値(比較対象)", "note": "備考", "attribute_label": "属性", "opportunities": "合う機会(研修など)",
    "tool_id": "ツールID", "n_using": "利用者数", "share": "利用割合", "staff": "職員数",
}


LABELS.update({
    "comparison": "比較(回答者数)", "values": "値(群 と 比較対象)", "effect_ci": "効果量の95%信頼区間(多重比較の補正なし)", "alpha_ci": "α係数の95%信頼区間",
    "response_rates": "回答率(群 と 比較対象)",
    "weighted_ci": "重み付き推定の95%信頼区間", "statistic": "指標の種類",
})
LABELS["construct_label"] = "構成概念"

#: Japanese headers of the exclusions table (English: ``i18n.COLUMN_LABELS_EN``).
EXCLUSION_LABELS = {"reason": "理由コード", "description": "内容", "rows": "除外した行数", "answers": "欠測扱いの回答数"}


def needs_view(needs: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """:func:`~dxanalysis.survey.support_needs` with its ``opportunities`` (names joined by 、) listed in ``language``."""
    if language == "ja" or "opportunities" not in needs.columns:
        return needs
    return needs.assign(opportunities=[i18n.t("list.sep", language).join(filter(None, str(v).split("、"))) for v in needs["opportunities"].fillna("")])
