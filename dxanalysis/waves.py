"""Change over time (notebook 06 経年変化): this year's survey against earlier waves.

An earlier wave is listed under ``waves`` in municipality.yaml and read by
:func:`dxanalysis.io.load_waves` exactly like this year's survey. Here each wave is raked
to **its own** roster, items are matched **by id** (headers may differ between years),
departments renamed or merged since then are mapped (``renames``), and the two waves are
compared as independent samples:

* :func:`item_matching` — which items and tools are in both years, added or dropped;
* :func:`wave_data` — per wave: survey with this year's attribute values, weights,
  construct scores on the items common to every wave;
* :func:`wave_estimates` — weighted estimate per wave, measure (construct, item, tool);
* :func:`wave_changes` — change with a 95% interval and BH q-values (``wave_changes.csv``);
* :func:`changes_by_group` — the same by attribute value or segment;
* :func:`segment_shift` — segment shares per wave with this year's model applied to both;
* :func:`kpi_progress` — roadmap KPIs (measures.csv targets) against actual values.

Numbers and codes are returned (``match``, ``status``); the words — labels of the codes,
headers, sentences, display tables — are in :mod:`dxanalysis.views.waves`. Method: docs/waves.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import i18n
from . import survey as _survey

# The KPI input checks live in io (one input boundary); re-exported here for older code.
from .io import ACTUALS_REQUIRED, nfkc, read_actuals, read_table  # noqa: F401
from .io import check_wave_inputs as check_inputs
from .roadmap import TARGET_PREFIX, fiscal_year_label, parse_fiscal_year

__all__ = [
    "WaveData",
    "add_segments",
    "changes_by_group",
    "check_inputs",
    "item_matching",
    "kpi_progress",
    "read_actuals",
    "segment_shift",
    "wave_changes",
    "wave_data",
    "wave_estimates",
]

Q_LEVEL = _survey.Q_LEVEL
STATUSES = ("ahead", "on_track", "behind", "baseline", "no_target")
# --------------------------------------------------------------------------- matching
def item_matching(m) -> pd.DataFrame:
    """Items and tools of every wave, matched by id.

    Returns
    -------
    DataFrame
        One row per item or tool id in any wave: ``kind`` (item / tool), ``measure_id``,
        ``label`` (this year's short label, else the earlier one), ``match`` (``both``,
        ``added`` = only this year, ``dropped`` = only in an earlier wave; its words:
        :func:`dxanalysis.views.waves.label_matching`),
        ``header_before`` (the earliest wave's header), ``header_now``, ``header_changed``
        (the wording differs after NFKC).
    """
    rows = []
    books = [w.codebook for w in m.waves]
    now = m.codebook
    for kind, get_ids, get_header, get_label in [
        ("item", lambda cb: cb.item_ids, lambda cb, i: cb.item(i).header, lambda cb, i: cb.item(i).short or cb.item(i).header),
        ("tool", lambda cb: cb.tool_ids, lambda cb, i: next(t.header for t in cb.tools.items if t.id == i), lambda cb, i: next(t.label for t in cb.tools.items if t.id == i)),
    ]:
        ids = list(get_ids(now)) + [i for cb in books for i in get_ids(cb) if i not in get_ids(now)]
        for i in dict.fromkeys(ids):
            before = next((cb for cb in books if i in get_ids(cb)), None)
            in_all = all(i in get_ids(cb) for cb in books)
            is_now = i in get_ids(now)
            match = "both" if is_now and in_all else ("added" if is_now else "dropped")
            hb = get_header(before, i) if before is not None else None
            hn = get_header(now, i) if is_now else None
            rows.append({"kind": kind, "measure_id": i, "label": get_label(now if is_now else before, i), "match": match,
                         "header_before": hb, "header_now": hn,
                         "header_changed": bool(hb is not None and hn is not None and nfkc(hb) != nfkc(hn))})
    return pd.DataFrame(rows, columns=["kind", "measure_id", "label", "match", "header_before", "header_now", "header_changed"])


# --------------------------------------------------------------------------- per-wave data
@dataclass
class WaveData:
    """One wave ready for comparison (see :func:`wave_data`).

    Attributes
    ----------
    fiscal_year : int
    survey : DataFrame
        Responses with attribute columns in **this year's** values (renames applied);
        plus ``segment`` after :func:`add_segments`.
    scores : DataFrame
        Construct scores on the items common to every wave (same index as ``survey``).
    weights : Series
        Raked to that wave's own roster.
    margin_frame : DataFrame
        The raking margins in that wave's own values (for the design-based SEs).
    codebook
        That wave's codebook (scales, reverse flags, labels).
    notes : list of str
        Problems of the weighting (:func:`dxanalysis.segments.rake_with_notes`).
    """

    fiscal_year: int
    survey: pd.DataFrame
    scores: pd.DataFrame
    weights: pd.Series
    margin_frame: pd.DataFrame
    codebook: object
    notes: list = field(default_factory=list)
    current: bool = False


def common_ids(m) -> dict[str, list[str]]:
    """Item and tool ids asked in every wave (this year's order)."""
    items = [i for i in m.codebook.item_ids if all(i in w.codebook.item_ids for w in m.waves)]
    tools = [t for t in m.codebook.tool_ids if all(t in w.codebook.tool_ids for w in m.waves)]
    return {"items": items, "tools": tools}


def _scoring_codebook(wave_cb, current_cb, items: Sequence[str]):
    """That wave's codebook restricted to ``items``, with this year's construct of each item."""
    its = [wave_cb.item(i).model_copy(update={"construct": current_cb.item(i).construct}) for i in items]
    return wave_cb.model_copy(update={"items": its, "constructs": current_cb.constructs})


def _map_attributes(survey: pd.DataFrame, wave_cb, current_cb, renames: dict) -> pd.DataFrame:
    out = survey.copy()
    for aid, attr in current_cb.attributes.items():
        cats = list(dict.fromkeys(nfkc(v) for v in attr.values))
        if aid not in out.columns:
            out[aid] = pd.Categorical([np.nan] * len(out), categories=cats, ordered=True)
            continue
        mapping = renames.get(aid, {})
        vals = out[aid].astype(object).map(lambda v, mp=mapping: mp.get(v, v) if isinstance(v, str) else v)
        out[aid] = pd.Categorical(vals, categories=cats, ordered=True)
    return out


def wave_data(m, *, margins: Sequence[str] | None = None) -> list[WaveData]:
    """Every wave (earlier ones first, this year last) prepared for comparison.

    Parameters
    ----------
    m
        A loaded municipality with ``m.waves``.
    margins
        Roster attributes to rake to; default every attribute of each wave's roster
        (:func:`dxanalysis.survey.weighting_margins`, as notebook 01). A margin missing
        from a wave's roster is skipped for that wave.

    Notes
    -----
    Each wave is raked to its own roster **in that year's categories** (a department
    merged since then is still raked to its own staff then); renames are applied after
    weighting. Construct scores use only the items asked in every wave, each scored with
    its own year's scale and reverse flag and this year's construct, so a construct means
    the same questions in both years.
    """
    from .segments import rake_with_notes  # local: segments imports survey, not waves

    if not m.waves:
        raise ValueError("wave_data: no earlier waves (waves: in municipality.yaml)")
    common = common_ids(m)
    out = []
    for w in [*m.waves, None]:
        cb = m.codebook if w is None else w.codebook
        sv, roster = (m.survey, m.roster) if w is None else (w.survey, w.roster)
        mg = [a for a in (margins or _survey.weighting_margins(roster)) if a in roster.columns and a in sv.columns]
        weights, notes = rake_with_notes(sv, roster, margins=mg, codebook=cb, language=m.language)
        scores = _survey.construct_scores(sv, _scoring_codebook(cb, m.codebook, common["items"]))
        mapped = sv if w is None else _map_attributes(sv, cb, m.codebook, w.renames)
        fy = m.config.fiscal_year if w is None else w.fiscal_year
        notes = [f"{fiscal_year_label(fy)}: {n}" for n in notes]
        out.append(WaveData(fiscal_year=fy, survey=mapped, scores=scores, weights=weights, margin_frame=sv[mg], codebook=cb, notes=notes, current=w is None))
    return out


def _measures(d: WaveData, current_cb, common: dict) -> list[tuple]:
    """(kind, id, label, statistic, values) for every compared measure of one wave."""
    out = []
    for cid, c in current_cb.constructs.items():
        if cid in d.scores.columns and d.scores[cid].notna().any():
            out.append(("construct", cid, c.label, "mean", d.scores[cid].to_numpy(dtype=float)))
    for iid in common["items"]:
        item = d.codebook.item(iid)
        raw = d.survey[iid].to_numpy(dtype=float)
        neutral = d.codebook.scales[item.scale].neutral
        out.append(("item", iid, current_cb.item(iid).short or current_cb.item(iid).header, "share_positive", np.where(np.isnan(raw), np.nan, (raw > neutral).astype(float))))
    for tid in common["tools"]:
        label = next(t.label for t in current_cb.tools.items if t.id == tid)
        out.append(("tool", tid, label, "share_using", d.survey[tid].to_numpy(dtype=float)))
    return out


def _estimate(y, d: WaveData, statistic: str) -> dict:
    return _survey.weighted_mean(y, d.weights.to_numpy(dtype=float), margins=d.margin_frame if len(d.margin_frame.columns) else None, share=statistic != "mean")


ESTIMATE_COLUMNS = ["fiscal_year", "fy_label", "kind", "measure_id", "label", "statistic", "n", "unweighted", "estimate", "se", "ci_low", "ci_high"]


def wave_estimates(data: Sequence[WaveData], m) -> pd.DataFrame:
    """Whole-staff estimate of every compared measure in every wave.

    Returns
    -------
    DataFrame
        ``wave_estimates.csv``: one row per wave and measure — ``fiscal_year``, ``fy_label``
        (令和N年度), ``kind`` (construct / item / tool), ``measure_id``, ``label``,
        ``statistic`` (``mean`` of the construct score 1–5, ``share_positive`` share
        answering above the scale midpoint, ``share_using``), ``n`` (respondents with a
        value), ``unweighted``, ``estimate`` (weighted to that wave's roster), ``se``
        (design-based, linearisation for the raked design = R ``svymean``), ``ci_low``,
        ``ci_high`` (95%; normal for means, Wilson with the design effective n for shares).
    """
    common = common_ids(m)
    rows = []
    for d in data:
        for kind, mid, label, statistic, y in _measures(d, m.codebook, common):
            est = _estimate(y, d, statistic)
            has = ~np.isnan(y)
            rows.append({"fiscal_year": d.fiscal_year, "fy_label": fiscal_year_label(d.fiscal_year, language=m.language), "kind": kind, "measure_id": mid, "label": label,
                         "statistic": statistic, "n": int(has.sum()), "unweighted": float(np.mean(y[has])) if has.any() else np.nan, "estimate": est["mean"],
                         "se": est["se"], "ci_low": est["ci_low"], "ci_high": est["ci_high"]})
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


CHANGE_COLUMNS = ["measure_id", "label", "fy_from", "fy_to", "estimate_from", "estimate_to", "change", "ci_low", "ci_high", "p_value", "q_value"]


def change_interval(est_from: float, se_from: float, est_to: float, se_to: float, *, confidence: float = 0.95) -> dict:
    """Change between two independent estimates: ``change``, ``se``, ``ci_low``, ``ci_high``, ``p_value``.

    ``se = sqrt(se_from² + se_to²)`` (independent samples: two surveys, two designs);
    normal interval ``change ± z · se`` and two-sided z-test p-value.
    """
    change = est_to - est_from
    se = float(np.hypot(se_from, se_to))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    if not np.isfinite(se) or se <= 0:
        return {"change": change, "se": se, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    return {"change": change, "se": se, "ci_low": change - z * se, "ci_high": change + z * se, "p_value": float(2 * stats.norm.sf(abs(change) / se))}


def wave_changes(estimates: pd.DataFrame, *, to_year: int | None = None) -> pd.DataFrame:
    """Change of every measure from each earlier wave to this year's.

    Parameters
    ----------
    estimates
        :func:`wave_estimates`.
    to_year
        The later wave (default: the latest fiscal year).

    Returns
    -------
    DataFrame
        ``wave_changes.csv``: ``measure_id``, ``label``, ``fy_from``, ``fy_to``,
        ``estimate_from``, ``estimate_to``, ``change`` (to − from), ``ci_low``, ``ci_high``
        (95%), ``p_value`` (two-sided z-test), ``q_value`` (Benjamini–Hochberg over the
        measures of the same kind — constructs, items or tools — and pair of years), then ``kind``, ``statistic``, ``se``,
        ``n_from``, ``n_to`` and ``n`` (the smaller of the two, for suppression),
        ``clear`` (q < 0.05).

    Notes
    -----
    The two waves are independent samples (different respondents, each raked to its
    own roster), so the variance of the difference is the sum of the two design-based
    variances: the same as ``svycontrast`` on the two raked designs combined (docs/waves.md).
    """
    to_year = int(estimates["fiscal_year"].max()) if to_year is None else to_year
    later = estimates[estimates["fiscal_year"] == to_year].set_index("measure_id")
    rows = []
    for fy in sorted(set(estimates["fiscal_year"]) - {to_year}):
        if fy > to_year:
            continue
        earlier = estimates[estimates["fiscal_year"] == fy]
        for r in earlier.itertuples():
            if r.measure_id not in later.index:
                continue
            b = later.loc[r.measure_id]
            ch = change_interval(r.estimate, r.se, b["estimate"], b["se"])
            rows.append({"measure_id": r.measure_id, "label": r.label, "fy_from": fy, "fy_to": to_year, "estimate_from": r.estimate, "estimate_to": b["estimate"],
                         "change": ch["change"], "ci_low": ch["ci_low"], "ci_high": ch["ci_high"], "p_value": ch["p_value"], "q_value": np.nan,
                         "kind": r.kind, "statistic": r.statistic, "se": ch["se"], "n_from": int(r.n), "n_to": int(b["n"]), "n": int(min(r.n, b["n"]))})
    out = pd.DataFrame(rows, columns=[*CHANGE_COLUMNS, "kind", "statistic", "se", "n_from", "n_to", "n"])
    for idx in out.groupby(["fy_from", "kind"]).groups.values():
        out.loc[idx, "q_value"] = _bh(out.loc[idx, "p_value"])
    out["clear"] = out["q_value"] < Q_LEVEL
    return out


def _bh(p: pd.Series) -> np.ndarray:
    q = np.full(len(p), np.nan)
    ok = p.notna().to_numpy()
    if ok.any():
        q[ok] = _survey.bh_adjust(p.to_numpy(dtype=float)[ok])
    return q


# --------------------------------------------------------------------------- groups and segments
def add_segments(data: Sequence[WaveData], seg, m) -> list[WaveData]:
    """Add this year's segments to every wave (column ``segment``, ordered Categorical of names).

    This year's respondents keep the segments of notebook 02 (``seg`` from
    :func:`dxanalysis.segments.fit_segments` with 02's parameters). Earlier respondents are
    assigned by the same fitted model (``seg.model.predict``) on their construct scores
    standardised with **this year's** mean and SD, so a segment means the same answers in
    both years. Earlier construct scores use that year's items of each construct.
    """
    feats_cols = list(seg.features.columns)
    mean, sd = pd.Series(seg.features.attrs["mean"]), pd.Series(seg.features.attrs["sd"])
    names = dict(zip(seg.names["segment"], seg.names["segment_name"]))
    order = [names[k] for k in sorted(names)]
    out = []
    for d in data:
        if d.current:
            labels = seg.assignment["segment"].to_numpy()
        else:
            scores = _survey.construct_scores(d.survey, d.codebook)
            if any(c in m.codebook.tool_ids for c in feats_cols):
                scores = pd.concat([scores, d.survey[[c for c in feats_cols if c in d.survey.columns and c not in scores.columns]].astype(float)], axis=1)
            X = (scores.reindex(columns=feats_cols) - mean[feats_cols]) / sd[feats_cols]
            ok = X.notna().all(axis=1).to_numpy()
            labels = np.full(len(X), np.nan)
            if ok.any():
                labels[ok] = seg.model.predict(X[ok])
        sv = d.survey.copy()
        sv["segment"] = pd.Categorical([names.get(int(v)) if pd.notna(v) else np.nan for v in labels], categories=order, ordered=True)
        sv["segment_number"] = pd.array([int(v) if pd.notna(v) else pd.NA for v in labels], dtype="Int64")
        out.append(WaveData(**{**d.__dict__, "survey": sv}))
    return out


GROUP_COLUMNS = ["attribute", "attribute_label", "group", "measure_id", "label", "fy_from", "fy_to", "n_from", "n_to", "n",
                 "estimate_from", "estimate_to", "change", "ci_low", "ci_high", "p_value", "q_value", "clear"]


def changes_by_group(data: Sequence[WaveData], m, *, attributes: Sequence[str], measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Change of construct means within each value of each attribute (and segment).

    Parameters
    ----------
    data
        :func:`wave_data` (with :func:`add_segments` for ``"segment"``).
    attributes
        Attribute ids of this year's codebook, and/or ``"segment"``.
    measures
        Construct ids (default every compared construct).

    Returns
    -------
    DataFrame
        One row per attribute, group, construct and earlier wave: ``attribute``,
        ``attribute_label``, ``group``, ``measure_id``, ``label``, ``fy_from``, ``fy_to``,
        ``n_from``, ``n_to``, ``n`` (the smaller: a group under the privacy threshold in
        either year is hidden by ``Publisher.table``), ``estimate_from``, ``estimate_to``,
        ``change``, ``ci_low``, ``ci_high``, ``p_value``, ``q_value`` (BH over the rows of
        one attribute and pair of years: every group × construct), ``clear``.

    Notes
    -----
    Domain estimates: the group's mean in the whole raked design of its wave (respondents
    outside the group stay in the design with zero influence), as R ``svyby``; the two
    waves are independent, so the variances add.
    """
    current = data[-1]
    cons = [c for c in (measures or m.codebook.constructs) if c in current.scores.columns]
    rows = []
    for d in data[:-1]:
        for attr in attributes:
            if attr not in d.survey.columns or attr not in current.survey.columns:
                continue
            label = i18n.t("waves.segment", m.language) if attr == "segment" else m.codebook.label_of(attr)
            groups = list(current.survey[attr].cat.categories) if hasattr(current.survey[attr], "cat") else sorted(current.survey[attr].dropna().unique())
            for g in groups:
                ins = [(x.survey[attr] == g).to_numpy() for x in (d, current)]
                for cid in cons:
                    ys = [np.where(i, x.scores[cid].to_numpy(dtype=float), np.nan) for i, x in zip(ins, (d, current))]
                    ests = [_estimate(y, x, "mean") for y, x in zip(ys, (d, current))]
                    ch = change_interval(ests[0]["mean"], ests[0]["se"], ests[1]["mean"], ests[1]["se"])
                    n0, n1 = ests[0]["n"], ests[1]["n"]
                    rows.append({"attribute": attr, "attribute_label": label, "group": str(g), "measure_id": cid, "label": m.codebook.constructs[cid].label,
                                 "fy_from": d.fiscal_year, "fy_to": current.fiscal_year, "n_from": n0, "n_to": n1, "n": min(n0, n1),
                                 "estimate_from": ests[0]["mean"], "estimate_to": ests[1]["mean"], "change": ch["change"], "ci_low": ch["ci_low"], "ci_high": ch["ci_high"],
                                 "p_value": ch["p_value"], "q_value": np.nan})
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    for idx in out.groupby(["fy_from", "attribute"]).groups.values():
        out.loc[idx, "q_value"] = _bh(out.loc[idx, "p_value"])
    out["clear"] = out["q_value"] < Q_LEVEL
    return out


SHIFT_COLUMNS = ["segment", "segment_name", "fy_from", "fy_to", "n_from", "n_to", "n", "share_from", "share_to", "change", "ci_low", "ci_high", "p_value", "q_value", "clear"]


def segment_shift(data: Sequence[WaveData]) -> pd.DataFrame:
    """Weighted share of staff in each segment per wave, and its change.

    Returns
    -------
    DataFrame
        ``segment_shift.csv``: one row per segment and earlier wave — ``segment`` (number),
        ``segment_name``, ``fy_from``, ``fy_to``, ``n_from``, ``n_to`` (respondents in the
        segment), ``n`` (the smaller), ``share_from``, ``share_to`` (weighted share of
        the staff, among respondents with a segment), ``change``, ``ci_low``, ``ci_high``
        (95%, design-based SEs of the two shares combined), ``p_value``, ``q_value`` (BH
        over the segments), ``clear``.
    """
    current = data[-1]
    seg_col = current.survey["segment"]
    names = list(seg_col.cat.categories)
    rows = []
    for d in data[:-1]:
        for num, name in enumerate(names, start=1):
            ests = []
            for x in (d, current):
                s = x.survey["segment"]
                y = np.where(s.isna(), np.nan, (s == name).astype(float))
                ests.append({**_estimate(y, x, "share"), "count": int((s == name).sum())})
            ch = change_interval(ests[0]["mean"], ests[0]["se"], ests[1]["mean"], ests[1]["se"])
            rows.append({"segment": num, "segment_name": name, "fy_from": d.fiscal_year, "fy_to": current.fiscal_year, "n_from": ests[0]["count"], "n_to": ests[1]["count"],
                         "n": min(ests[0]["count"], ests[1]["count"]), "share_from": ests[0]["mean"], "share_to": ests[1]["mean"], "change": ch["change"],
                         "ci_low": ch["ci_low"], "ci_high": ch["ci_high"], "p_value": ch["p_value"], "q_value": np.nan})
    out = pd.DataFrame(rows, columns=SHIFT_COLUMNS)
    for idx in out.groupby("fy_from").groups.values():
        out.loc[idx, "q_value"] = _bh(out.loc[idx, "p_value"])
    out["clear"] = out["q_value"] < Q_LEVEL
    return out


# --------------------------------------------------------------------------- KPIs
KPI_COLUMNS = ["measure_id", "measure", "kpi", "source", "fiscal_year", "fy_label", "actual", "ci_low", "ci_high", "expected", "expected_basis",
               "target", "next_target_fy", "next_target", "status"]


def _number(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def kpi_progress(m, estimates: pd.DataFrame, *, language: str | None = None) -> pd.DataFrame:
    """Roadmap KPIs: actual values per fiscal year against the targets of measures.csv.

    Actual values come from the survey where the measure has ``kpi_survey`` (a construct
    mean 1–5, or a share in **percent** for an item or tool, each wave's weighted
    estimate with its 95% interval), otherwise from ``actuals.csv`` (no interval).

    Returns
    -------
    DataFrame
        ``kpi_progress.csv``: one row per measure and fiscal year with an actual —
        ``measure_id``, ``measure``, ``kpi``, ``source`` (``survey:<id>`` or ``actuals``),
        ``fiscal_year``, ``fy_label``, ``actual``, ``ci_low``, ``ci_high`` (survey only),
        ``expected`` (where the plan puts that year), ``expected_basis`` (``target``: a
        target for that year; ``interpolated``: on the straight line from the first
        actual (the baseline) to the next target; ``none``), ``target`` (that year's),
        ``next_target_fy``, ``next_target``, ``status`` (its words: :func:`dxanalysis.views.waves.label_kpis`).

    Notes
    -----
    Status: ``baseline`` for the first actual when there is no target that year;
    ``no_target`` when no expected value exists; otherwise, with an interval,
    ``ahead`` when the whole interval is above the expected value, ``behind`` when it is
    below, else ``on_track``; without one (counts, decisions), ``ahead`` / ``behind``
    when the actual is above / below the expected value, ``on_track`` when equal.
    """
    lang = language or m.language
    if m.measures is None:
        return pd.DataFrame(columns=KPI_COLUMNS)
    meas = m.measures
    target_cols = {}
    for c in meas.columns:
        if c.startswith(TARGET_PREFIX):
            try:
                target_cols[parse_fiscal_year(c[len(TARGET_PREFIX):])] = c
            except ValueError:
                continue
    actuals = getattr(m, "actuals", None)
    rows = []
    for _, r in meas.iterrows():
        mid = str(r["measure_id"])
        targets = {fy: _number(r[c]) for fy, c in sorted(target_cols.items()) if _number(r[c]) is not None}
        src = r.get("kpi_survey") if "kpi_survey" in meas.columns else None
        series = []
        if isinstance(src, str) and src.strip():
            est = estimates[estimates["measure_id"] == src].sort_values("fiscal_year")
            scale = 1.0 if (est["statistic"] == "mean").all() else 100.0
            series = [(int(e.fiscal_year), e.estimate * scale, e.ci_low * scale, e.ci_high * scale) for e in est.itertuples()]
            source = f"survey:{src}"
        elif actuals is not None and len(actuals):
            a = actuals[actuals["measure_id"] == mid].sort_values("fiscal_year")
            series = [(int(x.fiscal_year), float(x.actual), np.nan, np.nan) for x in a.itertuples()]
            source = "actuals"
        if not series:
            continue
        base_fy, base_val = series[0][0], series[0][1]
        for fy, val, lo, hi in series:
            nxt = next(((t, v) for t, v in targets.items() if t > fy), (None, None))
            if fy in targets:
                expected, basis = targets[fy], "target"
            elif fy > base_fy and nxt[0] is not None:
                expected = base_val + (nxt[1] - base_val) * (fy - base_fy) / (nxt[0] - base_fy)
                basis = "interpolated"
            else:
                expected, basis = np.nan, "none"
            if basis == "none":
                status = "baseline" if fy == base_fy and targets else "no_target"
            elif np.isfinite(lo) and np.isfinite(hi):
                status = "ahead" if lo > expected else ("behind" if hi < expected else "on_track")
            else:
                status = "ahead" if val > expected else ("behind" if val < expected else "on_track")
            rows.append({"measure_id": mid, "measure": r["measure"], "kpi": r.get("kpi") if isinstance(r.get("kpi"), str) else "", "source": source,
                         "fiscal_year": fy, "fy_label": fiscal_year_label(fy, language=lang), "actual": val, "ci_low": lo, "ci_high": hi,
                         "expected": expected, "expected_basis": basis, "target": targets.get(fy, np.nan), "next_target_fy": nxt[0], "next_target": nxt[1],
                         "status": status})
    out = pd.DataFrame(rows, columns=KPI_COLUMNS)
    out["next_target_fy"] = out["next_target_fy"].astype("Int64")
    return out
