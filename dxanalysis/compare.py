"""Comparing municipalities that used the same instrument (notebook 05).

A prefecture or an advisor serving several cities asks the same questions of each:
who answered, where each stands on the DXリテラシー標準 constructs once the answers are
weighted to its own staff, and how its staff divide into segments. The comparison is
only fair between municipalities that asked the same items, so municipalities are first
grouped by **instrument** (the set of item ids in their codebooks) and the largest group
is compared; the others are listed with the reason.

Every function takes a list of loaded :class:`~dxanalysis.io.Municipality` objects and
returns a tidy frame with a ``municipality`` column; the privacy filter is applied by
:class:`~dxanalysis.report.Publisher.table` (pass ``by="municipality"`` so complementary
suppression stays inside each municipality). The threshold is the largest
``min_group_size`` of the municipalities compared (:func:`min_group_size`).

Method, decisions and every output column are in ``docs/batch.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n
from .config import instrument_groups  # lives in config: the runner decides on the comparison without pandas
from . import survey as _survey

#: Seed of the pooled segment model (the same as notebook 02's default).
DEFAULT_RANDOM_STATE = 20251126

LABELS = {
    "ja": {
        "municipality": "自治体ID", "name": "自治体", "respondents": "回答者数", "staff": "職員数", "n_items": "設問数",
        "compared": "比較対象", "reason": "備考", "construct_label": "構成概念", "area": "領域", "unweighted": "平均(重み付けなし)",
        "weighted": "平均(職員構成で重み付け)", "ci_low": "95%信頼区間(下限)", "ci_high": "95%信頼区間(上限)", "deff": "デザイン効果",
        "n_eff": "有効回答者数", "difference": "全自治体平均との差", "segment": "セグメント", "segment_name": "セグメント名",
        "n_segmented": "分類できた回答者数", "share": "回答者に占める割合", "weighted_share": "職員全体の推定割合", "fiscal_year": "年度",
        "n": "回答者数", "response_rate": "回答率",
    },
    "en": {
        "municipality": "id", "name": "municipality", "respondents": "respondents", "staff": "staff", "n_items": "items",
        "compared": "compared", "reason": "note", "construct_label": "construct", "area": "area", "unweighted": "mean (unweighted)",
        "weighted": "mean (weighted to staff)", "ci_low": "95% CI low", "ci_high": "95% CI high", "deff": "design effect", "n_eff": "effective n",
        "difference": "difference from all", "segment": "segment", "segment_name": "segment name", "n_segmented": "respondents segmented",
        "share": "share of respondents", "weighted_share": "estimated share of staff", "fiscal_year": "fiscal year", "n": "respondents",
        "response_rate": "response rate",
    },
}


# =========================================================================== which municipalities
def load_municipalities(paths: Sequence[str | Path]) -> list:
    """Load municipality folders; a folder of municipality folders is expanded.

    Raises :class:`~dxanalysis.validate.InputError` for a folder that breaks the data
    contract (the batch command passes only folders it has validated).
    """
    from .config import municipality_folders
    from .io import load_municipality

    return [load_municipality(f) for f in municipality_folders([paths] if isinstance(paths, (str, Path)) else paths)]


@dataclass
class Comparison:
    """The municipalities compared and why the others are not.

    Attributes
    ----------
    municipalities : list of Municipality
        The largest group sharing an instrument, in the order given.
    overview : DataFrame
        One row per municipality given: ``municipality`` (id), ``name``, ``fiscal_year`` (text),
        ``respondents``, ``staff``, ``n_items``, ``compared`` (bool), ``reason`` (why
        not compared; empty when compared). Counts of a municipality under
        ``min_group_size`` respondents are hidden by the Publisher (``n_col="respondents"``).
    min_group_size : int
        Largest ``min_group_size`` among the compared municipalities.
    language : str
        Language of the first municipality.
    """

    municipalities: list
    overview: pd.DataFrame
    min_group_size: int = 5
    language: str = "ja"
    item_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """At least two municipalities can be compared."""
        return len(self.municipalities) >= 2


def min_group_size(municipalities: Sequence) -> int:
    """The strictest (largest) ``min_group_size`` of the municipalities compared."""
    return max((m.min_group_size for m in municipalities), default=5)


def plan_comparison(municipalities: Sequence) -> Comparison:
    """Choose the municipalities to compare: the largest group sharing an instrument.

    Duplicate municipality ids are refused (``ValueError``): two folders with the same id
    would be indistinguishable in every table.
    """
    ms = list(municipalities)
    ids = [m.config.id for m in ms]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"compare: municipality ids must be unique; repeated: {dup}")
    lang = ms[0].language if ms else "ja"
    groups = instrument_groups({m.config.id: m.codebook.item_ids for m in ms})
    chosen = set(groups[0]) if groups and len(groups[0]) >= 2 else set()
    reason_text = i18n.t("compare.reason.different", lang)
    alone_text = i18n.t("compare.reason.alone", lang)
    rows = []
    for m in ms:
        compared = m.config.id in chosen
        rows.append({
            "municipality": m.config.id, "name": m.config.name, "fiscal_year": str(m.config.fiscal_year), "respondents": int(len(m.survey)),
            "staff": int(m.roster["staff"].sum()), "n_items": len(m.codebook.item_ids), "compared": compared,
            "reason": "" if compared else (reason_text if chosen else alone_text),
        })
    overview = pd.DataFrame(rows, columns=["municipality", "name", "fiscal_year", "respondents", "staff", "n_items", "compared", "reason"])
    chosen_ms = [m for m in ms if m.config.id in chosen]
    return Comparison(chosen_ms, overview, min_group_size(chosen_ms or ms), lang, sorted(groups[0]) if chosen else [])


# =========================================================================== response rates
def response_rates(municipalities: Sequence, *, confidence: float = 0.95) -> pd.DataFrame:
    """Respondents against the roster per municipality, with Wilson intervals.

    Returns
    -------
    DataFrame
        ``municipality``, ``name``, ``staff`` (roster total), ``n`` (respondents after
        exclusions), ``response_rate`` (n / staff), ``ci_low``, ``ci_high`` (Wilson score
        interval, as :func:`dxanalysis.survey.wilson_interval`).

    Notes
    -----
    A response rate is not a quality score: the municipalities may have surveyed in
    different ways (all staff vs a sample, paper vs online). The interval treats the
    respondents as a sample of the staff (willingness to answer), as in notebook 01.
    """
    rows = [{"municipality": m.config.id, "name": m.config.name, "staff": int(m.roster["staff"].sum()), "n": int(len(m.survey))} for m in municipalities]
    out = pd.DataFrame(rows, columns=["municipality", "name", "staff", "n"])
    out["response_rate"] = out["n"] / out["staff"].where(out["staff"] > 0)
    out["ci_low"], out["ci_high"] = _survey.wilson_interval(out["n"], out["staff"], confidence=confidence)
    return out


# describe_response_rates: moved to dxanalysis.views.compare (words in one place)


# =========================================================================== construct scores
def weights_for(m, *, margins: Sequence[str] | None = None) -> pd.Series:
    """Raking weights of one municipality to its own roster (every roster attribute by default).

    Uses :func:`dxanalysis.survey.rake_weights` on the roster attributes that are also
    survey columns (:func:`dxanalysis.survey.weighting_margins`), as notebook 01 does.
    ``attrs["margins"]`` lists the margins used (empty: equal weights).
    """
    margins = [a for a in (margins or _survey.weighting_margins(m.roster)) if a in m.roster.columns and a in m.survey.columns]
    if not margins:
        w = pd.Series(float(m.roster["staff"].sum()) / max(len(m.survey), 1), index=m.survey.index, name="weight")
        w.attrs["margins"] = []
        return w
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _survey.rake_weights(m.survey, m.roster, margins=margins)


def construct_scores(municipalities: Sequence, *, confidence: float = 0.95, margins: Sequence[str] | None = None, min_size: int | None = None) -> pd.DataFrame:
    """Construct scores per municipality, unweighted and weighted to each one's staff.

    Parameters
    ----------
    municipalities
        The compared municipalities (:attr:`Comparison.municipalities`).
    confidence
        Level of the intervals.
    margins
        Roster attributes to rake to; default every roster attribute (per municipality).
    min_size
        Rows with fewer respondents are left out of the mean behind ``difference`` (they
        will be hidden, and a hidden value must not be recoverable from the differences
        shown). Default: :func:`min_group_size` of the municipalities.

    Returns
    -------
    DataFrame
        One row per municipality and construct: ``municipality``, ``name``,
        ``construct``, ``construct_label``, ``area``, ``n`` (respondents with a score),
        ``unweighted`` (mean score), ``weighted`` (mean weighted to the municipality's
        roster), ``ci_low``, ``ci_high`` (interval of the weighted mean), ``deff`` (Kish
        design effect of the weights), ``n_eff`` (n / deff), ``difference`` (weighted
        mean minus the mean of the weighted means of the municipalities with at least
        ``min_size`` respondents; each municipality counts once).

    Notes
    -----
    Scores and intervals come from :func:`dxanalysis.survey.construct_scores` and
    :func:`dxanalysis.survey.weighted_estimates` (normal interval from the linearisation
    standard error of the raked design, as R ``survey::svymean``), so a municipality's
    figure here equals its notebook 01 figure. ``deff``/``n_eff`` describe how unequal
    the weights are (Kish).
    Weighting matters for comparison: response rates differ by department and age, and
    they differ differently in each municipality.
    """
    blocks = []
    for m in municipalities:
        w = weights_for(m, margins=margins)
        scores = _survey.construct_scores(m.survey, m.codebook)
        est = _survey.weighted_estimates(m.survey, m.codebook, weights=w, scores=scores, confidence=confidence)
        est = est[est["kind"] == "construct"]
        blocks.append(pd.DataFrame({
            "municipality": m.config.id, "name": m.config.name, "construct": est["measure_id"].to_numpy(), "construct_label": est["label"].to_numpy(),
            "area": est["area"].to_numpy(), "n": est["n"].astype(int).to_numpy(), "unweighted": est["unweighted"].to_numpy(), "weighted": est["weighted"].to_numpy(),
            "ci_low": est["ci_low"].to_numpy(), "ci_high": est["ci_high"].to_numpy(), "deff": est["deff"].to_numpy(), "n_eff": est["n_eff"].to_numpy(),
        }))
    cols = ["municipality", "name", "construct", "construct_label", "area", "n", "unweighted", "weighted", "ci_low", "ci_high", "deff", "n_eff"]
    out = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=cols)
    min_size = min_group_size(municipalities) if min_size is None else min_size
    visible = out["weighted"].where(out["n"] >= min_size)
    out["difference"] = out["weighted"] - visible.groupby(out["construct"], sort=False).transform("mean")
    return out


# describe_construct_scores: moved to dxanalysis.views.compare (words in one place)


# =========================================================================== segments
def pooled_features(municipalities: Sequence) -> pd.DataFrame:
    """Construct scores of every respondent of every municipality, standardised together.

    Returns
    -------
    DataFrame
        ``municipality`` then one column per construct id (of the first municipality's
        codebook): ``(score − pooled mean) / pooled SD`` over the respondents with every
        score. Index: ``(municipality, row)``. Standardising the *pooled* scores keeps the
        level differences between municipalities (standardising each municipality on its
        own would make every municipality average by construction).
    """
    constructs = list(municipalities[0].codebook.constructs) if municipalities else []
    parts = []
    for m in municipalities:
        s = _survey.construct_scores(m.survey, m.codebook)
        s = s.reindex(columns=constructs)
        s.insert(0, "municipality", m.config.id)
        s.index = pd.MultiIndex.from_arrays([[m.config.id] * len(s), np.arange(len(s))], names=["municipality", "row"])
        parts.append(s)
    raw = pd.concat(parts) if parts else pd.DataFrame(columns=["municipality", *constructs])
    x = raw[constructs].astype(float)
    complete = x.notna().all(axis=1)
    mean, sd = x[complete].mean(), x[complete].std(ddof=0).replace(0.0, np.nan)
    out = (x - mean) / sd
    out.insert(0, "municipality", raw["municipality"])
    out.attrs["mean"], out.attrs["sd"] = mean.to_dict(), sd.to_dict()
    return out


def segment_shares(
    municipalities: Sequence,
    *,
    n_segments: int | None = None,
    k_range: Sequence[int] = (2, 6),
    random_state: int = DEFAULT_RANDOM_STATE,
    n_resamples: int = 10,
    min_segment_size: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Segment shares per municipality, from one segment model fitted on all of them.

    Parameters
    ----------
    municipalities
        The compared municipalities.
    n_segments, k_range, random_state, n_resamples
        Passed to :class:`dxanalysis.segments.SegmentModel` (k-means; ``n_segments=None``:
        chosen by its stated rule). Fewer resamples than notebook 02 by default, to keep
        the batch lean; the stability criterion is still applied.
    min_segment_size
        Segments smaller than this (pooled) are merged; default :func:`min_group_size`.
    confidence
        Level of the Wilson intervals.

    Returns
    -------
    DataFrame
        One row per municipality and segment: ``municipality``, ``name``, ``segment``
        (1..k, numbered as in notebook 02: motivation first), ``segment_name``, ``n``
        (respondents of that municipality in the segment), ``n_segmented``
        (its respondents with every construct score), ``share`` (n / n_segmented),
        ``ci_low``, ``ci_high`` (Wilson), ``weighted_share`` (share of the
        municipality's raking weights, i.e. the estimated share of its staff).
        ``attrs``: ``n_unsegmented`` (respondents without every score), ``k``, ``rule``.

    Notes
    -----
    Each municipality's notebook 02 finds *its own* segments, which are not comparable
    across municipalities (different k, different centres). Here one model is fitted
    on the pooled, jointly standardised scores so "segment 2" means the same profile in
    every municipality. Larger municipalities weigh more in the pooled fit.
    """
    from .segments import SegmentModel, motivation_constructs, name_segments

    ms = list(municipalities)
    if not ms:
        raise ValueError("segment_shares: no municipality given")
    feats = pooled_features(ms)
    constructs = [c for c in feats.columns if c != "municipality"]
    complete = feats[constructs].notna().all(axis=1)
    X = feats.loc[complete, constructs]
    min_size = min_segment_size if min_segment_size is not None else min_group_size(ms)
    codebook = ms[0].codebook
    model = SegmentModel(
        n_segments=n_segments, k_range=tuple(k_range), random_state=random_state, n_resamples=n_resamples, min_segment_size=min_size,
        order_features=[c for c in motivation_constructs(codebook) if c in constructs] or None,
    ).fit(X)
    names = name_segments(model.profiles_[constructs], codebook, language=ms[0].language)
    name_of = dict(zip(names["segment"].astype(int), names["segment_name"]))
    labels = pd.Series(model.labels_, index=X.index)
    segs = sorted(int(s) for s in np.unique(model.labels_))
    rows = []
    for m in ms:
        mid = m.config.id
        lab = labels[labels.index.get_level_values("municipality") == mid]
        lab.index = lab.index.get_level_values("row")
        w = weights_for(m).reset_index(drop=True)
        wl = w.reindex(lab.index)
        has_w = wl.notna()
        w_tot = float(wl[has_w].sum())
        n_seg = int(len(lab))
        for s in segs:
            n = int((lab == s).sum())
            rows.append({"municipality": mid, "name": m.config.name, "segment": s, "segment_name": name_of.get(s, str(s)), "n": n, "n_segmented": n_seg,
                         "share": n / n_seg if n_seg else np.nan, "weighted_share": float(wl[has_w & (lab == s)].sum()) / w_tot if w_tot > 0 else np.nan})
    out = pd.DataFrame(rows)
    out["ci_low"], out["ci_high"] = _survey.wilson_interval(out["n"], out["n_segmented"], confidence=confidence)
    # a label, not a quantity: as a categorical it survives the privacy filter (which blanks numbers)
    out["segment"] = pd.Categorical(out["segment"], categories=segs, ordered=True)
    out = out[["municipality", "name", "segment", "segment_name", "n", "n_segmented", "share", "ci_low", "ci_high", "weighted_share"]]
    out.attrs.update({"n_unsegmented": int((~complete).sum()), "k": int(model.n_segments_), "rule": str(getattr(model, "rule_", ""))})
    return out


# describe_segment_shares: moved to dxanalysis.views.compare (words in one place)


# =========================================================================== display
def score_matrix(scores: pd.DataFrame, *, value: str = "weighted") -> pd.DataFrame:
    """Construct scores as one row per municipality (for reading, after the privacy filter).

    Returns
    -------
    DataFrame
        ``municipality``, ``name``, ``n`` (respondents of the municipality: the largest
        ``n`` of its rows; 0 when all its rows are hidden, so the Publisher hides the row
        again), then one column per construct *label* holding ``value``. Hidden cells stay NaN.
    """
    if scores.empty:
        return pd.DataFrame(columns=["municipality", "name", "n"])
    order = list(dict.fromkeys(scores["municipality"]))
    labels = list(dict.fromkeys(scores["construct_label"]))
    wide = scores.pivot_table(index="municipality", columns="construct_label", values=value, aggfunc="first", dropna=False).reindex(index=order, columns=labels)
    base = scores.groupby("municipality", sort=False).agg(name=("name", "first"), n=("n", "max")).reindex(order)
    base["n"] = base["n"].fillna(0)  # every row hidden: 0 keeps the row marked hidden in the matrix too
    out = pd.concat([base, wide], axis=1).reset_index()
    out.columns.name = None
    return out


def share_matrix(shares: pd.DataFrame, *, value: str = "share") -> pd.DataFrame:
    """Segment shares as one row per municipality (for reading, after the privacy filter).

    Returns
    -------
    DataFrame
        ``municipality``, ``name``, ``n`` (respondents segmented; 0 when every cell is
        hidden), then one column per segment named 「<number> <name>」 holding ``value``.
        Hidden cells stay NaN.
    """
    if shares.empty:
        return pd.DataFrame(columns=["municipality", "name", "n"])
    d = shares.copy()
    d["segment_label"] = d["segment"].astype(int).astype(str) + " " + d["segment_name"].astype(str)
    order = list(dict.fromkeys(d["municipality"]))
    labels = list(dict.fromkeys(d.sort_values("segment")["segment_label"]))
    wide = d.pivot_table(index="municipality", columns="segment_label", values=value, aggfunc="first", dropna=False).reindex(index=order, columns=labels)
    base = d.groupby("municipality", sort=False).agg(name=("name", "first"), n=("n_segmented", "max")).reindex(order)
    base["n"] = base["n"].fillna(0)  # every cell hidden: 0 keeps the row marked hidden in the matrix too
    out = pd.concat([base, wide], axis=1).reset_index()
    out.columns.name = None
    out.attrs["segment_columns"] = labels
    return out
