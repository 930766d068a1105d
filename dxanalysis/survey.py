"""Step 2 of the programme: the staff survey.

Response rates against the roster, item distributions, construct scores and their
reliability, whole-staff (weighted) estimates, group differences and the advisor's
hypothesis register. Every function takes tidy frames and returns a tidy frame whose
columns are listed in its docstring.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

# The statistics live in dxanalysis.stats; re-exported here for notebooks and older code.
from .stats._util import _as_list, _check_columns
from .stats.effects import (
    EQUIVALENCE_MARGIN,
    rank_biserial_ci,
    rank_biserial_degenerate,
    rank_biserial_equivalence_p,
)
from .stats.effects import rank_biserial_independent as rank_biserial
from .stats.proportions import wilson_interval
from .stats.reliability import cronbach_alpha
from .stats.tests import bh_adjust
from .stats.tests import bh_adjust_by_family as _bh_family
from .stats.tests import mann_whitney_p as _mann_whitney
from .stats.weighting import (  # noqa: F401
    RAKING_SWEEPS,
    kish_design_effect,
    poststratify_weights,
    rake_weights,
    weighted_mean,
)

#: Response rates under this share are flagged (``low_response``).
LOW_RESPONSE_RATE = 0.20


def response_rates(survey: pd.DataFrame, roster: pd.DataFrame, *, by: str | Sequence[str], low_rate: float = LOW_RESPONSE_RATE,
                   roster_file: str = "roster.csv", codebook=None) -> pd.DataFrame:
    """Respondents against the roster, per group, with Wilson 95% intervals.

    Parameters
    ----------
    survey
        Tidy responses (``Municipality.survey``).
    roster
        Staff counts (``Municipality.roster``) with column ``staff``.
    by
        One attribute id, or several: a long table with one block per attribute.
    roster_file
        Name of the roster file, used in the error message (e.g.
        ``m.config.input_path("roster").name``).
    codebook
        When given, the error message names attributes by their labels.

    Returns
    -------
    DataFrame
        ``attribute``, ``group``, ``staff``, ``n`` (respondents), ``response_rate``
        (n / staff), ``ci_low``, ``ci_high`` (Wilson 95%), ``low_response`` (rate below
        ``low_rate``). The interval treats respondents as a sample of the staff; it
        describes uncertainty about the willingness to answer, not a census error.

    Raises
    ------
    dxanalysis.validate.InputError
        When a group has more respondents than staff in the roster (usually an outdated
        roster, or answers with the wrong department). One :class:`~dxanalysis.validate.Problem`
        per group names the roster file, the attribute, the group, both numbers and what to
        do. A rate above 100% has no meaning and its interval would silently be NaN.
    """
    from .validate import InputError, Problem

    attrs = [by] if isinstance(by, str) else list(by)
    blocks, problems = [], []
    for attr in attrs:
        if attr not in roster.columns:
            raise KeyError(f"response_rates: roster has no column {attr!r}; roster columns: {list(roster.columns)}")
        staff = roster.groupby(attr, observed=False)["staff"].sum()
        n = survey.groupby(attr, observed=False).size()
        n.index = n.index.astype(str)
        staff.index = staff.index.astype(str)
        n_all = n.reindex(staff.index.union(n.index, sort=False), fill_value=0)
        staff_all = staff.reindex(n_all.index, fill_value=0)
        label = codebook.label_of(attr) if codebook is not None else attr
        for group in n_all.index[(n_all > staff_all).to_numpy()]:
            k, s = int(n_all[group]), int(staff_all[group])
            problems.append(Problem(
                file=roster_file, code="bad_value", column=label, value=group,
                params={"detail": f"{label}「{group}」の回答者 {k} 人が名簿の職員数 {s} 人より多く、回答率を計算できません。"
                                  f"名簿が古いか、回答の{label}が誤っている可能性があります。調査時点の職員数に名簿を直すか、回答の{label}を確認してください。"
                                  f" / {k} respondents in {attr} {group!r} but {s} staff in the roster: update the roster to the survey date or check the answers."}))
        n = n.reindex(staff.index, fill_value=0)
        block = pd.DataFrame({"attribute": attr, "group": staff.index.astype(str), "staff": staff.values.astype(int), "n": n.values.astype(int)})
        block = block[block["staff"] > 0]
        blocks.append(block)
    if problems:
        raise InputError(problems)
    out = pd.concat(blocks, ignore_index=True)
    out["response_rate"] = out["n"] / out["staff"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["n"], out["staff"])
    out["low_response"] = out["response_rate"] < low_rate
    return out


#: A construct score needs at least this share of its items answered.
MIN_ITEM_SHARE = 0.5


def reverse_coded(survey: pd.DataFrame, codebook) -> pd.DataFrame:
    """Item answers with reverse-coded items flipped (``min + max − x``); item columns only."""
    out = survey[codebook.item_ids].copy()
    for item in codebook.items:
        if item.reverse:
            sc = codebook.scales[item.scale]
            out[item.id] = sc.min + sc.max - out[item.id]
    return out


def construct_scores(survey: pd.DataFrame, codebook, *, min_item_share: float = MIN_ITEM_SHARE) -> pd.DataFrame:
    """Construct score per respondent: the mean of its items after reverse coding.

    Missing-item rule: a respondent gets a score when at least ``min_item_share`` (default
    half, rounded up) of the construct's items are answered; the mean is taken over the
    answered items. Otherwise the score is NaN (counted, not imputed).

    Returns
    -------
    DataFrame
        Same index as ``survey``; one float column per construct id, in codebook order.
    """
    items = reverse_coded(survey, codebook)
    out = {}
    for construct in codebook.constructs:
        cols = codebook.items_of(construct)
        if not cols:
            continue
        answered = items[cols].notna().sum(axis=1)
        need = int(np.ceil(min_item_share * len(cols)))
        out[construct] = items[cols].mean(axis=1).where(answered >= need)
    return pd.DataFrame(out, index=survey.index)


# =========================================================================== shared helpers
#: Label of the whole-staff row in tables that also hold groups.
OVERALL = "全体"
#: Attribute id of the whole-staff block in long tables.
OVERALL_ATTRIBUTE = "overall"
#: Verdict codes of the hypothesis register; the words (支持, 反証, 判定不能, 差は小さい)
#: come from the catalogue (:func:`dxanalysis.views.survey.verdict_label`, ``i18n.TEXT["verdict.<code>"]``).
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
#: Refinement of inconclusive: the difference is shown to be smaller than the margin (equivalence).
SMALL_DIFFERENCE = "equivalent"
#: Every verdict, in the order tables and summaries list them.
VERDICTS = (SUPPORTED, CONTRADICTED, SMALL_DIFFERENCE, INCONCLUSIVE)
#: Two compared groups whose response rates differ by at least this ratio get a caveat.
RESPONSE_RATIO = 1.5
#: Significance level for verdicts, support needs and heatmap markers (on BH q-values).
Q_LEVEL = 0.05
#: Constructs whose alpha is below this are flagged (``flag_low``).
LOW_ALPHA = 0.6


def section_link(notebook: str, heading: str) -> str:
    """Link to a ``## heading`` of a rendered notebook (nbconvert percent-encodes the id)."""
    from urllib.parse import quote

    return f"{notebook}.html#{quote(heading)}"


def area_order(codebook) -> list[str]:
    """DXリテラシー標準 areas in the order their constructs appear in the codebook."""
    seen: list[str] = []
    for c in codebook.constructs.values():
        if c.area not in seen:
            seen.append(c.area)
    return seen


def weighting_margins(roster: pd.DataFrame) -> list[str]:
    """Attribute columns of the roster (every one can serve as a raking margin)."""
    return [c for c in roster.columns if c != "staff"]


# =========================================================================== reliability
def reliability(survey: pd.DataFrame, codebook, *, low_alpha: float = LOW_ALPHA) -> pd.DataFrame:
    """Cronbach's alpha of every construct, with its Feldt 95% interval.

    Returns
    -------
    DataFrame
        One row per construct (codebook order): ``construct`` (id), ``label``, ``area``
        (DXリテラシー標準 area), ``n_items``, ``n`` (respondents with at least one answered
        item of the construct), ``alpha`` (raw alpha, = R psych::alpha raw_alpha),
        ``ci_low``, ``ci_high`` (Feldt 95%), ``note`` (why alpha is missing, e.g. a
        construct of one item; "" otherwise), ``flag_low`` (alpha below ``low_alpha``,
        default 0.6: the construct score is too noisy to compare groups with).

    Notes
    -----
    Items are reverse coded first (:func:`reverse_coded`); see :func:`cronbach_alpha`.
    """
    items = reverse_coded(survey, codebook)
    rows = []
    for cid, c in codebook.constructs.items():
        cols = codebook.items_of(cid)
        if not cols:
            continue
        res = cronbach_alpha(items[cols])
        note = ""
        if not np.isfinite(res["alpha"]):
            note = "one_item" if res["n_items"] < 2 else "few" if res["n"] < 3 else "no_variance"  # a code of ALPHA_NOTES; words in views.survey
        rows.append({"construct": cid, "label": c.label, "area": c.area, "n_items": res["n_items"], "n": res["n"], "alpha": res["alpha"], "ci_low": res["ci_low"], "ci_high": res["ci_high"], "note": note})
    out = pd.DataFrame(rows, columns=["construct", "label", "area", "n_items", "n", "alpha", "ci_low", "ci_high", "note"])
    out["flag_low"] = out["alpha"] < low_alpha
    return out


#: Why alpha is missing: the codes of ``reliability()["note"]`` (words: ``i18n.TEXT["survey.alpha_note.<code>"]``).
ALPHA_NOTES = ("one_item", "few", "no_variance")


def alpha_if_dropped(survey: pd.DataFrame, codebook) -> pd.DataFrame:
    """Alpha of each construct without each of its items.

    Returns
    -------
    DataFrame
        ``construct``, ``label`` (construct), ``item_id``, ``item`` (short label), ``reverse``, ``alpha`` (of the
        whole construct), ``alpha_if_dropped``, ``change`` (alpha_if_dropped − alpha;
        positive = the item lowers the reliability), ``r_drop`` (item–rest correlation;
        psych ``r.drop``). An item with ``change > 0`` and a low ``r_drop`` measures
        something else than its construct, or its reverse coding is wrong.
    """
    items = reverse_coded(survey, codebook)
    out_cols = ["construct", "label", "item_id", "item", "reverse", "alpha", "alpha_if_dropped", "change", "r_drop"]
    frames = []
    for cid in codebook.constructs:
        cols = codebook.items_of(cid)
        if not cols:
            continue
        res = cronbach_alpha(items[cols])
        d = res["if_dropped"].copy()
        d["construct"] = cid
        d["label"] = codebook.constructs[cid].label
        d["item"] = [codebook.label_of(i) for i in d["item_id"]]
        d["reverse"] = [codebook.item(i).reverse for i in d["item_id"]]
        d["alpha"] = res["alpha"]
        d["change"] = d["alpha_if_dropped"] - d["alpha"]
        frames.append(d[out_cols])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=out_cols)


# =========================================================================== distributions
def _groups(survey: pd.DataFrame, by) -> list[tuple[str, str, pd.Series]]:
    """(attribute, group, mask) for the whole staff and each group of each attribute in ``by``."""
    out = [(OVERALL_ATTRIBUTE, OVERALL, pd.Series(True, index=survey.index))]
    for attr in _as_list(by):
        col = survey[attr]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
        for g in cats:
            out.append((attr, str(g), col == g))
    return out


def item_distribution(survey: pd.DataFrame, codebook, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Share of every answer of every Likert item, for the whole staff and by group.

    Parameters
    ----------
    by
        Attribute id(s); each adds one block per group after the whole-staff block.

    Returns
    -------
    DataFrame
        One row per item × group × answer value: ``item_id``, ``item`` (short label),
        ``construct``, ``area`` (DXリテラシー標準), ``reverse`` (answers are shown as given;
        for a reverse-coded item agreeing is the negative answer), ``attribute``
        (``overall`` for the whole staff), ``group`` (全体 for the whole staff), ``value``,
        ``label`` (answer text), ``n`` (answers with this value), ``n_group`` (group
        members who answered the item: the count the privacy filter uses), ``share``
        (n / n_group).
    """
    by = _as_list(by)
    _check_columns(survey, [*codebook.item_ids, *by], "item_distribution")
    # one integer code per respondent and attribute (the group's position; -1 outside every group),
    # so every group's counts of an item come from one bincount instead of a mask per group
    codes = [(OVERALL_ATTRIBUTE, [OVERALL], np.zeros(len(survey), dtype=np.int64))]
    for attr in by:
        col = survey[attr]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
        codes.append((attr, [str(g) for g in cats], pd.Categorical(col, categories=cats).codes.astype(np.int64)))
    attributes = np.concatenate([[a] * len(gs) for a, gs, _ in codes])
    group_names = np.concatenate([gs for _, gs, _ in codes])
    n_blocks = len(group_names)
    parts = []
    for order, item in enumerate(codebook.items):
        sc = codebook.scales[item.scale]
        con = codebook.constructs[item.construct]
        values = np.arange(sc.min, sc.max + 1)
        width = len(values)
        x = pd.to_numeric(survey[item.id], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(x)
        in_scale = answered & (x >= sc.min) & (x <= sc.max) & (x == np.round(x))
        pos = np.where(in_scale, x - sc.min, 0).astype(np.int64)
        n, n_group = [], []
        for _, gs, code in codes:
            ok = code >= 0
            n.append(np.bincount(code[ok & in_scale] * width + pos[ok & in_scale], minlength=len(gs) * width).reshape(len(gs), width))
            n_group.append(np.bincount(code[ok & answered], minlength=len(gs)))
        n, n_group = np.vstack(n), np.concatenate(n_group)
        parts.append(pd.DataFrame({
            "_block": np.repeat(np.arange(n_blocks), width), "_order": order,
            "item_id": item.id, "item": item.short or item.header, "construct": item.construct, "area": con.area, "reverse": item.reverse,
            "attribute": np.repeat(attributes, width), "group": np.repeat(group_names, width), "value": np.tile(values, n_blocks),
            "label": np.tile([sc.labels.get(int(v), str(v)) for v in values], n_blocks), "n": n.ravel(), "n_group": np.repeat(n_group, width),
        }))
    columns = ["item_id", "item", "construct", "area", "reverse", "attribute", "group", "value", "label", "n", "n_group", "share"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True).sort_values(["_block", "_order"], kind="stable").reset_index(drop=True)
    out["share"] = np.where(out["n_group"] > 0, out["n"] / out["n_group"].where(out["n_group"] > 0, 1), np.nan)
    return out[columns]


def positive_shares(dist: pd.DataFrame, codebook) -> pd.DataFrame:
    """Negative / neutral / positive shares per item and group, from :func:`item_distribution`.

    Returns
    -------
    DataFrame
        ``item_id``, ``item``, ``construct``, ``area``, ``reverse``, ``attribute``, ``group``,
        ``n_group``, ``share_negative`` (answers below the scale midpoint),
        ``share_neutral`` (at the midpoint), ``share_positive`` (above it). Answers are
        as given (a reverse-coded item's "positive" is agreement with its wording).
        Hidden groups (NaN shares after privacy filtering) stay NaN.
    """
    d = dist.copy()
    # the privacy filter blanks every numeric column of a hidden row (value, reverse too): take
    # the item's facts from the codebook, and keep hidden rows as rows of NaN shares
    d["reverse"] = d["item_id"].map(lambda i: codebook.item(i).reverse)
    mid = d["item_id"].map(lambda i: codebook.scales[codebook.item(i).scale].neutral)
    d["side"] = np.where(d["value"] < mid, "share_negative", np.where(d["value"] > mid, "share_positive", "share_neutral"))
    keys = ["item_id", "item", "construct", "area", "reverse", "attribute", "group"]
    d["_row"] = d.groupby(keys, sort=False, dropna=False).ngroup()
    wide = d.groupby(["_row", "side"], sort=False)["share"].sum(min_count=1).unstack("side")
    for c in ("share_negative", "share_neutral", "share_positive"):
        if c not in wide.columns:
            wide[c] = 0.0
    first = d.drop_duplicates("_row").set_index("_row")[[*keys, "n_group"]]
    out = first.join(wide).reset_index(drop=True)
    return out[[*keys, "n_group", "share_negative", "share_neutral", "share_positive"]]


# =========================================================================== weighted estimates
def weighted_estimates(survey: pd.DataFrame, codebook, *, weights: pd.Series, scores: pd.DataFrame | None = None, confidence: float = 0.95,
                       margins: Sequence[str] | None = None) -> pd.DataFrame:
    """Whole-staff estimates, unweighted and weighted to the roster, side by side.

    Parameters
    ----------
    weights
        From :func:`rake_weights` or :func:`poststratify_weights` (same index as survey).
    scores
        Construct scores (:func:`construct_scores`); computed when omitted.
    margins
        The raking margins of ``weights`` (columns of ``survey``); default
        ``weights.attrs["margins"]`` as set by :func:`rake_weights`. With none, the
        weights are treated as fixed sampling weights in the standard errors.

    Returns
    -------
    DataFrame
        One row per construct, Likert item and tool: ``kind`` (construct / item / tool),
        ``measure_id``, ``label``, ``area``, ``statistic`` (``mean`` of the construct score,
        ``share_positive`` = share answering above the scale midpoint, ``share_using`` =
        share using the tool), ``n`` (respondents with a value), ``n_weighted``
        (of those, respondents with a weight), ``unweighted``, ``weighted``, ``difference``
        (weighted − unweighted), ``deff`` (Kish design effect of the weights used),
        ``n_eff`` (n_weighted / deff), ``ci_low``, ``ci_high`` (95% interval of the weighted
        estimate, from ``se``: normal for means, Wilson with the design-based effective
        sample size for shares), ``se`` (standard error of the weighted estimate,
        linearisation for the raked design = R ``survey::svymean``).

    Notes
    -----
    See :func:`weighted_mean` for the standard error and the intervals. ``deff`` and
    ``n_eff`` describe how unequal the weights are (Kish); the interval uses the design
    variance, which also credits the raking for what the margins explain. Shares of items
    use the answers as given.
    """
    if not weights.index.equals(survey.index):
        raise ValueError("weighted_estimates: weights must have the survey's index (use rake_weights(survey, ...))")
    if scores is None:
        scores = construct_scores(survey, codebook)
    margins = _as_list(weights.attrs.get("margins") if margins is None else margins)
    _check_columns(survey, margins, "weighted_estimates")
    margin_frame = survey[margins] if margins else None
    w_all = weights.to_numpy(dtype=float)
    measures = []
    for cid, c in codebook.constructs.items():
        if cid in scores.columns:
            measures.append(("construct", cid, c.label, c.area, "mean", scores[cid].to_numpy(dtype=float)))
    for item in codebook.items:
        sc = codebook.scales[item.scale]
        raw = survey[item.id].to_numpy(dtype=float)
        measures.append(("item", item.id, item.short or item.header, codebook.constructs[item.construct].area, "share_positive", np.where(np.isnan(raw), np.nan, (raw > sc.neutral).astype(float))))
    for tool in codebook.binary_measures:
        measures.append(("tool", tool.id, tool.label, "", "share_using", survey[tool.id].to_numpy(dtype=float)))
    rows = []
    for kind, mid, label, area, statistic, y in measures:
        has = ~np.isnan(y)
        hw = has & ~np.isnan(w_all)
        deff = kish_design_effect(w_all[hw])
        n_eff = hw.sum() / deff if hw.sum() else np.nan
        unweighted = float(np.mean(y[has])) if has.any() else np.nan
        est = weighted_mean(y, w_all, margins=margin_frame, share=statistic != "mean", confidence=confidence)
        weighted = est["mean"]
        rows.append({"kind": kind, "measure_id": mid, "label": label, "area": area, "statistic": statistic, "n": int(has.sum()), "n_weighted": int(hw.sum()),
                     "unweighted": unweighted, "weighted": weighted, "difference": weighted - unweighted, "deff": deff, "n_eff": n_eff,
                     "ci_low": est["ci_low"], "ci_high": est["ci_high"], "se": est["se"]})
    return pd.DataFrame(rows)


# =========================================================================== group comparisons
def group_differences(scores: pd.DataFrame, survey: pd.DataFrame, *, attributes: str | Sequence[str], constructs: Sequence[str] | None = None) -> pd.DataFrame:
    """Construct scores of each group against the rest of the respondents.

    Parameters
    ----------
    scores
        Construct scores (:func:`construct_scores`), same index as ``survey``.
    survey
        Tidy responses holding the attribute columns.
    attributes
        Attribute ids, e.g. ``["department", "grade", "age_band", "employment"]``.
    constructs
        Columns of ``scores`` to compare (default: all).

    Returns
    -------
    DataFrame
        One row per construct × attribute × group with at least one respondent:
        ``construct``, ``attribute``, ``group``, ``n`` (group members with a score),
        ``mean`` (group mean score), ``diff`` (group mean − mean of all respondents with
        a score and a value of the attribute), ``effect_size`` (rank-biserial correlation,
        group vs the rest: +1 = every member above everyone else), ``p_value``
        (two-sided Mann–Whitney, group vs the rest), ``q_value`` (Benjamini–Hochberg over
        every distinct test of the table: the two rows of a two-group attribute are one
        test, whose q both rows carry).

    Notes
    -----
    Scores are means of ordinal items, so groups are compared by ranks (Mann–Whitney U,
    normal approximation with tie and continuity corrections = R ``wilcox.test(exact=
    FALSE)``) rather than by t-tests; the rank-biserial correlation is its effect size
    (|r| ≈ 0.1 small, 0.3 medium, 0.5 large). One group against the rest gives one
    interpretable number per heatmap cell. The q-values control the false discovery
    rate across all constructs, attributes and groups (statsmodels
    ``multipletests(method="fdr_bh")`` = R ``p.adjust(method="BH")``). When an attribute
    has only two groups with respondents (e.g. employment type), "A vs the rest" and
    "B vs the rest" are the same test with the same p-value; it enters the BH family once.
    """
    attrs = _as_list(attributes)
    _check_columns(survey, attrs, "group_differences")
    if not scores.index.equals(survey.index):
        raise ValueError("group_differences: scores and survey must share the index (construct_scores(survey, ...))")
    constructs = list(scores.columns) if constructs is None else list(constructs)
    rows = []
    for cid in constructs:
        y = scores[cid].to_numpy(dtype=float)
        for attr in attrs:
            col = survey[attr]
            known = col.notna().to_numpy() & ~np.isnan(y)
            overall = y[known].mean() if known.any() else np.nan
            cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
            for g in cats:
                in_g = (col == g).to_numpy() & known
                if not in_g.any():
                    continue
                rest = known & ~in_g
                a, b = y[in_g], y[rest]
                rows.append({"construct": cid, "attribute": attr, "group": str(g), "n": int(in_g.sum()), "mean": float(a.mean()), "diff": float(a.mean() - overall),
                             "effect_size": rank_biserial(a, b), "p_value": _mann_whitney(a, b)})
    out = pd.DataFrame(rows, columns=["construct", "attribute", "group", "n", "mean", "diff", "effect_size", "p_value"])
    out["q_value"] = _bh_family(out["p_value"], _comparison_keys(out, ["construct", "attribute"]))
    return out


def _comparison_keys(table: pd.DataFrame, block: Sequence[str]) -> list:
    """One key per distinct test: the two groups of a two-group block share one key.

    "A vs the rest" and "B vs the rest" are the same test when a block (e.g. one construct
    × a two-level attribute such as employment) holds only two groups.
    """
    if table.empty:
        return []
    sizes = table.groupby(list(block), sort=False, dropna=False)["group"].transform("size").to_numpy()
    blocks = list(table[list(block)].itertuples(index=False, name=None))
    return [b if k == 2 else (*b, g) for b, k, g in zip(blocks, sizes, table["group"])]


def support_needs(diffs: pd.DataFrame, codebook, opportunities: Sequence[dict] = (), *, q_level: float = Q_LEVEL) -> pd.DataFrame:
    """Who needs what: groups clearly below the whole staff on a construct, with matching opportunities.

    Parameters
    ----------
    diffs
        :func:`group_differences` output **after** privacy filtering (hidden groups have
        NaN and are skipped, so no small group is named).
    opportunities
        ``Municipality.opportunities`` (each with ``name`` and ``addresses``: construct ids).

    Returns
    -------
    DataFrame
        ``attribute``, ``attribute_label``, ``group``, ``construct``, ``label``, ``n``,
        ``diff``, ``effect_size``, ``q_value``, ``opportunities`` (names joined by "、"),
        sorted from the largest gap. Only rows with ``q_value < q_level`` and ``diff < 0``.
    """
    cols = ["attribute", "attribute_label", "group", "construct", "label", "n", "diff", "effect_size", "q_value", "opportunities"]
    d = diffs.dropna(subset=["diff", "q_value"])
    d = d[(d["q_value"] < q_level) & (d["diff"] < 0)].sort_values("diff")
    if d.empty:
        return pd.DataFrame(columns=cols)
    by_construct: dict[str, list[str]] = {}
    for o in opportunities or []:
        for c in o.get("addresses", []) or []:
            by_construct.setdefault(c, []).append(str(o.get("name", o.get("id", ""))))
    out = d.assign(
        attribute_label=d["attribute"].map(codebook.label_of),
        label=d["construct"].map(codebook.label_of),
        opportunities=d["construct"].map(lambda c: "、".join(by_construct.get(c, []))),
    )
    return out[cols].reset_index(drop=True)


# =========================================================================== hypotheses
def _measure_values(m, measure: str, scores: pd.DataFrame) -> tuple[pd.Series, str]:
    cb = m.codebook
    if measure in scores.columns:
        return scores[measure], "construct"
    if measure in cb.item_ids:
        return m.survey[measure], "item"
    if measure in cb.tool_ids:
        return m.survey[measure], "tool"
    raise KeyError(f"hypothesis measure {measure!r} is not a construct, item or tool id of the codebook")


def _pooled_response_rate(m, attr: str, values: Sequence[str] | None, exclude: Sequence[str] = ()) -> float:
    """Respondents / staff of the groups ``values`` of ``attr`` (all other values when None)."""
    roster = getattr(m, "roster", None)
    if roster is None or attr not in getattr(roster, "columns", []) or attr not in m.survey.columns:
        return float("nan")
    r_col, s_col = roster[attr].astype(str), m.survey[attr].astype(object)
    if values:
        in_r, in_s = r_col.isin(list(values)), s_col.isin(list(values))
    else:
        in_r, in_s = ~r_col.isin(list(exclude)), s_col.notna() & ~s_col.isin(list(exclude))
    staff = float(roster.loc[in_r.to_numpy(), "staff"].sum())
    return float(in_s.sum()) / staff if staff > 0 else float("nan")


def test_hypotheses(m, scores: pd.DataFrame | None = None, *, q_level: float = Q_LEVEL, min_n: int | None = None, confidence: float = 0.95,
                    equivalence_margin: float = EQUIVALENCE_MARGIN, equivalence_alpha: float = 0.05, response_ratio: float = RESPONSE_RATIO) -> pd.DataFrame:
    """Verdict on each prior hypothesis of ``hypotheses.yaml``: 支持, 反証, 差は小さい or 判定不能.

    Parameters
    ----------
    m
        The loaded municipality (``m.hypotheses``, ``m.survey``, ``m.codebook``, and
        ``m.roster`` for the response rates).
    scores
        Construct scores (:func:`construct_scores`); computed when omitted.
    min_n
        Smallest group compared (default ``m.min_group_size``); below it the verdict is
        判定不能 and the figures are hidden by the privacy filter.
    equivalence_margin
        Differences with ``|r|`` below this are "no meaningful difference" (default 0.1,
        Cohen's "small"). Declare it before seeing the data.
    equivalence_alpha
        Level of the two one-sided tests (TOST) for 差は小さい: the ``1 − 2α`` interval
        (90%) must lie inside ``±equivalence_margin``.
    response_ratio
        A caveat is added when the response rate of one side is at least this many times
        that of the other (default 1.5).

    Returns
    -------
    DataFrame
        ``hypothesis_id``, ``statement``, ``verdict`` (code: ``supported`` 支持 / ``refuted`` 反証 / ``equivalent`` 差は小さい / ``inconclusive`` 判定不能; words from :func:`verdict_label`),
        ``effect_size`` (rank-biserial correlation, group vs versus: positive = the group
        is higher), ``ci_low``, ``ci_high`` (95%, DeLong, **not** adjusted for multiple
        comparisons; NaN when degenerate, see :func:`rank_biserial_ci`), ``p_value``
        (two-sided Mann–Whitney), ``q_value`` (Benjamini–Hochberg over the register), then
        the details: ``measure``, ``kind`` (construct / item / tool), ``attribute``,
        ``group``, ``versus`` (the register's values joined by "・"; "" when omitted),
        ``versus_rest`` (True when ``versus`` is the rest of the staff, 「…以外」), ``expected``
        (higher / lower), ``n_group``, ``n_versus``, ``n`` (the smaller of the two, used by
        the privacy filter), ``value_group``, ``value_versus`` (mean score or answer; share
        using for tools), ``note`` (codes joined by ";": ``few_respondents``
        no verdict, ``no_interval``, ``response_rates`` caveat, ``clear_but_small``; the
        words come from :func:`dxanalysis.views.survey.hypothesis_note`), then ``equivalence_ci_low``,
        ``equivalence_ci_high`` (the ``1 − 2·equivalence_alpha`` = 90% DeLong interval used
        for 差は小さい), ``equivalence_p`` (TOST p that ``|r| < equivalence_margin``,
        unadjusted), ``response_rate_group``, ``response_rate_versus`` (respondents /
        staff of each side, from the roster; NaN when the roster lacks the attribute),
        ``response_caveat`` (True when the two rates differ by ``response_ratio`` or more).

    Notes
    -----
    Verdicts (docs/data-contract.md, refined): **支持** when the effect is in the expected
    direction with BH ``q < q_level``; **反証** when it is in the other direction with
    ``q < q_level`` (reports word it 「このデータでは予想と逆」); otherwise **差は小さい**
    when the TOST shows ``|r| < equivalence_margin`` (``equivalence_p < equivalence_alpha``,
    i.e. the 90% interval inside the margin; Schuirmann 1987), else **判定不能** (the
    interval is too wide to tell). 差は小さい refines the contract's 判定不能: both mean "no
    clear difference"; 差は小さい adds that a meaningful one is unlikely. The equivalence
    test is per hypothesis (not adjusted over the register); ``equivalence_p`` lets a
    reader apply BH. Items are compared as answered (not reverse coded), so a hypothesis
    on an item reads like its wording. For a yes/no tool the rank-biserial correlation
    equals the difference in the share using it.

    Respondents are compared as they answered (unweighted). When the compared groups
    answered at very different rates, the answers of each side may not represent its
    staff equally; ``response_caveat`` flags it and ``note`` has ``response_rates``.
    """
    cols = ["hypothesis_id", "statement", "verdict", "effect_size", "ci_low", "ci_high", "p_value", "q_value", "measure", "kind", "attribute",
            "group", "versus", "versus_rest", "expected", "n_group", "n_versus", "n", "value_group", "value_versus", "note",
            "equivalence_ci_low", "equivalence_ci_high", "equivalence_p", "response_rate_group", "response_rate_versus", "response_caveat"]
    if scores is None:
        scores = construct_scores(m.survey, m.codebook)
    min_n = m.min_group_size if min_n is None else min_n
    rows = []
    for h in m.hypotheses:
        hid = str(h.get("id", ""))
        missing = [k for k in ("id", "measure", "attribute", "group", "expected") if k not in h]
        if missing:
            raise ValueError(f"hypotheses.yaml {hid or '?'}: missing keys {missing}")
        expected = str(h["expected"])
        if expected not in ("higher", "lower"):
            raise ValueError(f"hypotheses.yaml {hid}: expected must be 'higher' or 'lower' (got {expected!r})")
        attr = h["attribute"]
        if attr not in m.codebook.attributes:
            raise KeyError(f"hypotheses.yaml {hid}: unknown attribute {attr!r}; known: {m.codebook.attribute_ids}")
        allowed = set(m.codebook.attributes[attr].values)
        group, versus = _as_list(h["group"]), _as_list(h.get("versus"))
        unknown = sorted(set(group + versus) - allowed)
        if unknown:
            raise ValueError(f"hypotheses.yaml {hid}: {attr} has no value(s) {unknown}; values: {sorted(allowed)}")
        values, kind = _measure_values(m, h["measure"], scores)
        col = m.survey[attr].astype(object)
        in_g = col.isin(group).to_numpy()
        in_v = col.isin(versus).to_numpy() if versus else (col.notna().to_numpy() & ~in_g)
        y = values.to_numpy(dtype=float)
        a, b = y[in_g & ~np.isnan(y)], y[in_v & ~np.isnan(y)]
        g_name = "・".join(group)  # the group's values, as the register names them (data)
        v_name = "・".join(versus)  # "" with versus_rest: the words "<group>以外" come from views.survey
        row = {"hypothesis_id": hid, "statement": h.get("statement", ""), "measure": h["measure"], "kind": kind, "attribute": attr,
               "group": g_name, "versus": v_name, "versus_rest": not versus, "expected": expected,
               "n_group": len(a), "n_versus": len(b), "n": min(len(a), len(b)),
               "value_group": float(a.mean()) if len(a) else np.nan, "value_versus": float(b.mean()) if len(b) else np.nan, "note": "",
               "equivalence_ci_low": np.nan, "equivalence_ci_high": np.nan, "equivalence_p": np.nan,
               "response_rate_group": np.nan, "response_rate_versus": np.nan, "response_caveat": False}
        if min(len(a), len(b)) < max(min_n, 2):
            row.update(effect_size=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan, note="few_respondents")
        else:
            notes = []
            lo, hi = rank_biserial_ci(a, b, confidence=confidence)
            eq_lo, eq_hi = rank_biserial_ci(a, b, confidence=1 - 2 * equivalence_alpha)
            if rank_biserial_degenerate(a, b):
                notes.append("no_interval")
            rg = _pooled_response_rate(m, attr, group)
            rv = _pooled_response_rate(m, attr, versus, exclude=group)
            caveat = bool(np.isfinite(rg) and np.isfinite(rv) and min(rg, rv) > 0 and max(rg, rv) / min(rg, rv) >= response_ratio)
            if caveat:
                notes.append("response_rates")
            row.update(effect_size=rank_biserial(a, b), ci_low=lo, ci_high=hi, p_value=_mann_whitney(a, b),
                       equivalence_ci_low=eq_lo, equivalence_ci_high=eq_hi, equivalence_p=rank_biserial_equivalence_p(a, b, margin=equivalence_margin),
                       response_rate_group=rg, response_rate_versus=rv, response_caveat=caveat, note=";".join(notes))
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in cols if c not in ("verdict", "q_value")])
    out["response_caveat"] = out["response_caveat"].astype(bool)
    out["versus_rest"] = out["versus_rest"].astype(bool)
    out["q_value"] = bh_adjust(out["p_value"]) if len(out) else []
    sign = np.where(out["expected"] == "higher", 1.0, -1.0) if len(out) else np.array([])
    aligned = out["effect_size"].to_numpy(dtype=float) * sign
    clear = out["q_value"].to_numpy(dtype=float) < q_level
    small = out["equivalence_p"].to_numpy(dtype=float) < equivalence_alpha
    out["verdict"] = np.select([clear & (aligned > 0), clear & (aligned < 0), ~clear & small], [SUPPORTED, CONTRADICTED, SMALL_DIFFERENCE], INCONCLUSIVE)
    tiny_but_clear = clear & small
    if tiny_but_clear.any():
        out.loc[tiny_but_clear, "note"] = [";".join(filter(None, [t, "clear_but_small"])) for t in out.loc[tiny_but_clear, "note"]]
    return out[cols]


test_hypotheses.__test__ = False  # not a pytest test, despite the name


# =========================================================================== tools
def tool_use(survey: pd.DataFrame, codebook, by: str | Sequence[str] | None = None, *, confidence: float = 0.95) -> pd.DataFrame:
    """Share of respondents using each digital tool, whole staff and by group.

    Returns
    -------
    DataFrame
        ``tool_id``, ``label``, ``attribute`` (``overall`` for the whole staff), ``group``,
        ``n`` (group members who answered the question), ``n_using``, ``share``
        (n_using / n), ``ci_low``, ``ci_high`` (Wilson 95%).
    """
    by = _as_list(by)
    _check_columns(survey, [*codebook.tool_ids, *by], "tool_use")
    # per tool: who answered and who answered 1, once; per group only a count of a mask (no copy of the survey per group)
    answers = []
    for tool in codebook.binary_measures:
        col = survey[tool.id]
        answered = col.notna().to_numpy()
        answers.append((tool, answered, answered & (col == 1).fillna(False).to_numpy(dtype=bool)))
    rows = []
    for attr, group, mask in _groups(survey, by):
        m = mask.to_numpy(dtype=bool)
        for tool, answered, using in answers:
            rows.append({"tool_id": tool.id, "label": tool.label, "attribute": attr, "group": group, "n": int(np.count_nonzero(m & answered)),
                         "n_using": int(np.count_nonzero(m & using))})
    out = pd.DataFrame(rows, columns=["tool_id", "label", "attribute", "group", "n", "n_using"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(out["n"] > 0, out["n_using"] / out["n"].where(out["n"] > 0, 1), np.nan)
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_using"], out["n"], confidence=confidence)
    return out


# =========================================================================== measures by group
def _measure_column(survey: pd.DataFrame, codebook, measure: str, scores: pd.DataFrame | None) -> tuple[np.ndarray, str]:
    """One measure's values (float, NaN = no answer) and its kind (``construct``, ``item`` or ``tool``)."""
    if measure in codebook.constructs:
        return scores[measure].to_numpy(dtype=float), "construct"
    if measure in codebook.item_ids:
        return survey[measure].to_numpy(dtype=float), "item"
    if measure in codebook.tool_ids:
        return survey[measure].to_numpy(dtype=float), "tool"
    raise KeyError(f"measure_by_group: {measure!r} is not a construct, item or tool id")


def _group_codes(col: pd.Series) -> tuple[list, np.ndarray]:
    """An attribute's groups (categories in order, else sorted values) and each respondent's group number (-1: none)."""
    cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
    return cats, np.asarray(pd.Categorical(col, categories=cats).codes)


def group_summaries(survey: pd.DataFrame, codebook, *, measures: Sequence[str], attribute: str, scores: pd.DataFrame | None = None,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Several constructs, items or tools summarised by the groups of one attribute at once.

    The first columns of :func:`measure_by_group` for every measure, from one sort of the
    respondents by group (no per-group frame filtering, one vectorised t quantile call):
    the offline explorer asks for every measure × attribute.

    Returns
    -------
    DataFrame
        One block per measure (in the order given): the whole staff first, then each group
        with at least one answer. ``measure``, ``attribute``, ``group``, ``n``, ``mean``,
        ``ci_low``, ``ci_high`` (95%: t interval for means, Wilson for tool shares),
        ``share_negative``, ``share_neutral``, ``share_positive`` (Likert items; NaN
        otherwise). The same numbers, bit for bit, as :func:`measure_by_group`: each
        group's answers are summed in the survey's row order.
    """
    _check_columns(survey, [attribute], "group_summaries")
    if scores is None and any(mid in codebook.constructs for mid in measures):
        scores = construct_scores(survey, codebook)
    cats, codes = _group_codes(survey[attribute])
    order = np.argsort(codes, kind="stable")  # stable: each group keeps the survey's row order
    bounds = np.searchsorted(codes[order], np.arange(len(cats) + 1))
    names = [str(g) for g in cats]
    rows: list[tuple] = []  # measure, kind, attribute, group, n, mean, sd, successes, negative, neutral, positive
    for mid in measures:
        yv, kind = _measure_column(survey, codebook, mid, scores)
        neutral = codebook.scales[codebook.item(mid).scale].neutral if kind == "item" else None
        ys = yv[order]
        blocks = [(OVERALL_ATTRIBUTE, OVERALL, yv)] + [(attribute, names[g], ys[bounds[g]:bounds[g + 1]]) for g in range(len(cats))]
        for attr, group, a in blocks:
            a = a[~np.isnan(a)]
            if len(a) == 0:
                continue
            shares = (np.count_nonzero(a < neutral), np.count_nonzero(a == neutral), np.count_nonzero(a > neutral)) if neutral is not None else (np.nan,) * 3
            rows.append((mid, kind, attr, group, len(a), float(a.mean()), a.std(ddof=1) if len(a) > 1 else np.nan, a.sum(), *shares))
    cols = ["measure", "kind", "attribute", "group", "n", "mean", "sd", "successes", "negative", "neutral", "positive"]
    out = pd.DataFrame(rows, columns=cols)
    n, mean = out["n"].to_numpy(dtype=float), out["mean"].to_numpy()
    tool = (out["kind"] == "tool").to_numpy()
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * out["sd"].to_numpy() / np.sqrt(n)
    low, high = wilson_interval(np.where(tool, out["successes"].to_numpy(), 0.0), n, confidence=confidence)
    out["ci_low"] = np.where(tool, low, mean - half)
    out["ci_high"] = np.where(tool, high, mean + half)
    for part, share in (("negative", "share_negative"), ("neutral", "share_neutral"), ("positive", "share_positive")):
        out[share] = out[part].to_numpy(dtype=float) / n
    out["n"] = out["n"].astype(int)
    return out[["measure", "attribute", "group", "n", "mean", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive"]]


def measure_by_group(survey: pd.DataFrame, codebook, *, measure: str, attribute: str, scores: pd.DataFrame | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """One construct, item or tool summarised by the groups of one attribute (the explorer's table).

    Returns
    -------
    DataFrame
        Whole staff first, then each group with at least one answer: ``attribute``,
        ``group``, ``n``, ``mean`` (score, answer or share using), ``ci_low``, ``ci_high``
        (95%: t interval for means, Wilson for tool shares), ``share_negative``,
        ``share_neutral``, ``share_positive`` (Likert items only; NaN otherwise),
        ``diff`` (group − whole staff), ``effect_size`` (rank-biserial, group vs the rest),
        ``p_value`` (Mann–Whitney, group vs the rest), ``q_value`` (BH over the groups;
        with two groups their common test counts once). The first columns are
        :func:`group_summaries`.
    """
    _check_columns(survey, [attribute], "measure_by_group")
    if measure in codebook.constructs and scores is None:
        scores = construct_scores(survey, codebook)
    yv, _kind = _measure_column(survey, codebook, measure, scores)
    out = group_summaries(survey, codebook, measures=[measure], attribute=attribute, scores=scores, confidence=confidence).drop(columns="measure")
    cats, codes = _group_codes(survey[attribute])
    number = {str(g): i for i, g in enumerate(cats)}
    known = (codes >= 0) & ~np.isnan(yv)
    effect, p = [], []
    for attr, group in zip(out["attribute"], out["group"]):
        if attr == OVERALL_ATTRIBUTE:
            effect.append(np.nan)
            p.append(np.nan)
            continue
        in_group = codes == number[group]
        a, rest = yv[in_group & known], yv[known & ~in_group]
        effect.append(rank_biserial(a, rest))
        p.append(_mann_whitney(a, rest))
    out["effect_size"], out["p_value"] = effect, p
    overall = out.loc[out["attribute"] == OVERALL_ATTRIBUTE, "mean"].iloc[0] if len(out) else np.nan
    out["diff"] = np.where(out["attribute"] == OVERALL_ATTRIBUTE, np.nan, out["mean"] - overall)
    groups = out[out["attribute"] != OVERALL_ATTRIBUTE]
    out["q_value"] = np.nan
    out.loc[groups.index, "q_value"] = _bh_family(groups["p_value"], _comparison_keys(groups, ["attribute"]))
    return out[["attribute", "group", "n", "mean", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive", "diff", "effect_size", "p_value", "q_value"]]


# =========================================================================== response warnings
def clear_differences(diffs: pd.DataFrame, codebook, *, q_level: float = Q_LEVEL) -> pd.DataFrame:
    """The visible rows of :func:`group_differences` with ``q_value < q_level``, labelled.

    Returns ``attribute_label``, ``group``, ``label`` (construct), ``n``, ``mean``,
    ``diff``, ``effect_size``, ``q_value``, sorted by attribute then difference.
    """
    d = diffs.dropna(subset=["diff", "q_value"])
    d = d[d["q_value"] < q_level]
    out = d.assign(attribute_label=d["attribute"].map(codebook.label_of), label=d["construct"].map(codebook.label_of))
    return out.sort_values(["attribute", "diff"], kind="stable")[["attribute_label", "group", "label", "n", "mean", "diff", "effect_size", "q_value"]].reset_index(drop=True)


def respondent_scores(survey: pd.DataFrame, scores: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """Respondent-level table for private outputs: ``respondent_id``, attribute columns,
    one column per construct score, and ``weight`` when given. Never for shared reports."""
    attrs = [c for c in survey.columns if isinstance(survey[c].dtype, pd.CategoricalDtype)]
    out = pd.concat([survey[["respondent_id", *attrs]], scores], axis=1)
    if weights is not None:
        out["weight"] = weights
    return out
