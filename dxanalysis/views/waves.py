"""Words of notebook 06 (経年変化): sentences, findings and display tables from :mod:`dxanalysis.waves`.

Every function takes ``language`` and builds its text from the catalogue keys
``waves.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages. The display
tables keep their Japanese column ids (headers in English from ``i18n.COLUMN_LABELS_EN``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import i18n
from ..roadmap import fiscal_year_label
from ..waves import KPI_COLUMNS, Q_LEVEL

#: Column headers of the tables of notebook 06 (Japanese; English: ``i18n.COLUMN_LABELS_EN``; was ``waves.LABELS``).
LABELS = {
    "measure_id": "ID", "label": "指標", "kind": "種類", "statistic": "集計", "fiscal_year": "年度", "fy_label": "年度",
    "n": "回答者数", "estimate": "推定値(重み付き)", "unweighted": "重みなし", "se": "標準誤差", "ci_low": "95%下限", "ci_high": "95%上限",
    "fy_from": "前回", "fy_to": "今回", "estimate_from": "前回の推定値", "estimate_to": "今回の推定値", "change": "変化",
    "p_value": "p値", "q_value": "q値", "n_from": "前回の回答者数", "n_to": "今回の回答者数", "attribute": "属性", "group": "区分",
    "segment": "セグメント", "segment_name": "セグメント名", "share_from": "前回の割合", "share_to": "今回の割合",
    "status": "判定", "status_label": "判定", "header_before": "前回の設問文", "header_now": "今回の設問文", "match": "対応",
    "header_changed": "設問文の変更", "measure": "打ち手", "kpi": "KPI", "source": "実績の出どころ", "actual": "実績",
    "expected": "計画線上の値", "expected_basis": "計画線の根拠", "target": "その年度の目標", "clear": "はっきりした変化",
}


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"waves.{key}", language, **params)


def _fmt(v: float, statistic: str, signed: bool = False, language: str = "ja") -> str:
    if statistic == "mean":
        return f"{v:+.2f}" if signed else f"{v:.2f}"
    return i18n.t("points", language, value=f"{v * 100:+.1f}") if signed else f"{v * 100:.1f}%"


def _fy(fy, language: str) -> str:
    return fiscal_year_label(int(fy), language=language)


def statistic_label(statistic: str, language: str = "ja") -> str:
    key = f"survey.statistic.{statistic}"
    return i18n.t(key, language) if key in i18n.TEXT else statistic


def _hidden(language: str) -> str:
    return i18n.t("hidden", language)


# --------------------------------------------------------------------------- sentences
def describe_matching(matching: pd.DataFrame, language: str = "ja") -> str:
    """One sentence: how many items are compared, added, dropped, reworded (was ``waves.describe_matching``)."""
    both = matching[matching["match"] == "both"]
    t = lambda key, **kw: i18n.t(f"waves.matching.{key}", language, **kw)  # noqa: E731
    sep = t("list_sep")
    parts = [t("compared", n=len(both))]
    for key in ("added", "dropped"):
        sub = matching[matching["match"] == key]
        if len(sub):
            parts.append(t(key, labels=sep.join(sub["label"])))
    reworded = both[both["header_changed"]]
    if len(reworded):
        parts.append(t("reworded", labels=sep.join(reworded["label"])))
    return t("sentence_sep").join(parts) + t("end")


def describe_change(r, language: str = "ja") -> str:
    """One sentence about one row of :func:`~dxanalysis.waves.wave_changes` (or a group row with ``statistic``)."""
    st = getattr(r, "statistic", "mean")
    direction = _t("change.up" if r.change > 0 else "change.down", language)
    if not r.q_value < Q_LEVEL:
        direction = _t("change.none", language)
    f = lambda v, signed=False: _fmt(v, st, signed, language)  # noqa: E731
    return _t("change.sentence", language, label=r.label, fy_from=_fy(r.fy_from, language), estimate_from=f(r.estimate_from), fy_to=_fy(r.fy_to, language),
              estimate_to=f(r.estimate_to), change=f(r.change, True), low=f(r.ci_low, True), high=f(r.ci_high, True), q=f"{r.q_value:.3g}", direction=direction)


def describe_changes(changes: pd.DataFrame, *, kind: str = "construct", language: str = "ja") -> list[str]:
    """Sentences for the constructs (or items, tools): clear changes first, then the rest in one sentence."""
    sub = changes[changes["kind"] == kind]
    clear = sub[sub["clear"]].sort_values("change", ascending=False)
    out = [describe_change(r, language) for r in clear.itertuples()]
    rest = sub[~sub["clear"]]
    if len(rest):
        out.append(_t("change.rest", language, labels=i18n.t("list.dot", language).join(rest["label"]), q=Q_LEVEL))
    return out


def describe_group_changes(groups: pd.DataFrame, *, attribute: str = "segment", k: int = 3, language: str = "ja") -> list[str]:
    """The clearest changes within groups of one attribute (hidden rows skipped)."""
    sub = groups[(groups["attribute"] == attribute) & groups["clear"].fillna(False).astype(bool)]
    if "suppressed" in sub.columns:
        sub = sub[~sub["suppressed"].fillna(False).astype(bool)]
    sub = sub.reindex(sub["change"].abs().sort_values(ascending=False).index).head(k)
    return [_t("group_change", language, attribute=r.attribute_label, group=r.group, label=r.label, estimate_from=f"{r.estimate_from:.2f}", estimate_to=f"{r.estimate_to:.2f}",
               change=f"{r.change:+.2f}", low=f"{r.ci_low:+.2f}", high=f"{r.ci_high:+.2f}") for r in sub.itertuples()]


def describe_shift(shift: pd.DataFrame, language: str = "ja") -> str:
    """Alt text / note for the segment shares."""
    if shift.empty:
        return _t("shift.none", language)
    sep = i18n.t("list.sep", language)
    clear = shift[shift["clear"].fillna(False).astype(bool)]
    parts = [f"{r.segment_name} {r.share_from * 100:.0f}% → {r.share_to * 100:.0f}%" for r in shift.itertuples() if pd.notna(r.share_from)]
    tail = _t("shift.clear", language, names=sep.join(clear["segment_name"])) if len(clear) else _t("shift.no_clear", language)
    return _t("shift.sentence", language, parts=sep.join(parts), tail=tail)


def _kpi_number(v) -> str:
    """Whole numbers as they are (4, 10), others with two decimals (2.80, 0.50)."""
    if pd.isna(v):
        return "—"
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


def status_label(status: str, language: str = "ja") -> str:
    """計画より先行 / ahead … for a ``status`` code of :func:`~dxanalysis.waves.kpi_progress` (was ``waves.STATUS_LABELS``)."""
    key = f"waves.status.{status}"
    return i18n.t(key, language) if key in i18n.TEXT else status


def match_label(match: str, language: str = "ja") -> str:
    """両方の年度 / both years … for a ``match`` code of :func:`~dxanalysis.waves.item_matching` (was ``waves.MATCH_LABELS``)."""
    key = f"waves.match.{match}"
    return i18n.t(key, language) if key in i18n.TEXT else match


def label_matching(matching: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """:func:`~dxanalysis.waves.item_matching` with ``match_label`` after ``match`` (the ``wave_items`` table)."""
    out = matching.copy()
    out.insert(out.columns.get_loc("match") + 1, "match_label", [match_label(v, language) for v in out["match"]])
    return out


def label_kpis(kpis: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """:func:`~dxanalysis.waves.kpi_progress` with ``status_label`` last (the ``kpi_progress`` table)."""
    out = kpis.assign(status_label=[status_label(v, language) for v in kpis["status"]])
    return out[[*KPI_COLUMNS, "status_label"]]


def describe_kpis(kpis: pd.DataFrame, language: str = "ja") -> list[str]:
    """One sentence per measure: the latest year's status."""
    if kpis.empty:
        return []
    latest = kpis.sort_values("fiscal_year").groupby("measure_id", sort=False).tail(1)
    out = []
    num = _kpi_number
    for r in latest.sort_values("measure_id").itertuples():
        if r.status in ("baseline", "no_target"):
            continue
        ci = _t("kpi.ci", language, low=num(r.ci_low), high=num(r.ci_high)) if pd.notna(r.ci_low) else ""
        out.append(_t("kpi.sentence", language, measure_id=r.measure_id, measure=r.measure, fy=_fy(r.fiscal_year, language), actual=num(r.actual), ci=ci,
                      expected=num(r.expected), status=status_label(r.status, language)))
    return out


def change_findings(changes: pd.DataFrame, groups: pd.DataFrame | None = None, kpis: pd.DataFrame | None = None, *, max_items: int = 2, language: str = "ja") -> list[str]:
    """The 「前回からの変化」 summary for index.html (kind ``change``).

    In this order (the summary shows the first three): up to ``max_items`` clear construct
    changes (or a sentence that none changed clearly), the KPIs of the latest year by status
    (naming those behind plan), the clearest change within a segment.
    """
    out = [describe_change(r, language) for r in changes[(changes["kind"] == "construct") & changes["clear"]].sort_values("change", ascending=False).head(max_items).itertuples()]
    if not out:
        out.append(_t("findings.no_change", language))
    if kpis is not None and len(kpis):
        latest = kpis.sort_values("fiscal_year").groupby("measure_id").tail(1)
        judged = latest[latest["status"].isin(["ahead", "on_track", "behind"])]
        if len(judged):
            parts = []
            for st in ("behind", "on_track", "ahead"):
                sub = judged[judged["status"] == st]
                if len(sub):
                    names = _t("findings.kpi_names", language, names=i18n.t("list.sep", language).join(sub["measure_id"] + " " + sub["measure"])) if st == "behind" else ""
                    parts.append(_t("findings.kpi_part", language, status=status_label(st, language), n=len(sub), names=names))
            out.append(_t("findings.kpis", language, fy=_fy(judged["fiscal_year"].max(), language), parts=i18n.t("list.sep", language).join(parts)))
    if groups is not None:
        out += describe_group_changes(groups, attribute="segment", k=1, language=language)
    return out


# --------------------------------------------------------------------------- display tables
def estimates_view(est: pd.DataFrame, *, kinds: Sequence[str] = ("construct", "tool"), language: str = "ja") -> pd.DataFrame:
    """Estimates per wave for display: one row per measure, one column per year (estimate and interval)."""
    sub = est[est["kind"].isin(kinds)]
    rows = []
    for (_mid, label, st), g in sub.groupby(["measure_id", "label", "statistic"], sort=False):
        row = {"指標": label, "集計": statistic_label(st, language)}
        for r in g.sort_values("fiscal_year").itertuples():
            row[_fy(r.fiscal_year, language)] = (_t("estimate_cell", language, estimate=_fmt(r.estimate, st), low=_fmt(r.ci_low, st), high=_fmt(r.ci_high, st), n=r.n)
                                                 if pd.notna(r.estimate) else "—")
        rows.append(row)
    return pd.DataFrame(rows)


def changes_view(changes: pd.DataFrame, *, kinds: Sequence[str] = ("construct", "tool"), language: str = "ja") -> pd.DataFrame:
    """wave_changes for display (formatted numbers)."""
    sub = changes[changes["kind"].isin(kinds)]
    f = lambda v, s, signed=False: _fmt(v, s, signed, language)  # noqa: E731
    return pd.DataFrame({
        "指標": sub["label"], "集計": [statistic_label(s, language) for s in sub["statistic"]],
        "前回": [f"{_fy(a, language)} {f(v, s)}" if pd.notna(v) else "—" for a, v, s in zip(sub["fy_from"], sub["estimate_from"], sub["statistic"])],
        "今回": [f"{_fy(a, language)} {f(v, s)}" if pd.notna(v) else "—" for a, v, s in zip(sub["fy_to"], sub["estimate_to"], sub["statistic"])],
        "変化(95%信頼区間)": [_t("change_cell", language, change=f(c, s, True), low=f(lo, s, True), high=f(hi, s, True)) if pd.notna(c) else "—"
                         for c, lo, hi, s in zip(sub["change"], sub["ci_low"], sub["ci_high"], sub["statistic"])],
        "q値": [f"{q:.3g}" if pd.notna(q) else "—" for q in sub["q_value"]],
        "はっきりした変化": ["○" if c else "" for c in sub["clear"]],
    })


def groups_view(groups: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """changes_by_group for display: one row per attribute and group, one column per construct.

    Each cell reads 「+0.24(+0.10〜+0.38)」 with ○ for a clear change; rows hidden by
    ``Publisher.table`` read 非表示(少人数) / hidden (small group).
    """
    hidden = groups["suppressed"].fillna(False).astype(bool) if "suppressed" in groups.columns else pd.Series(False, index=groups.index)
    cells = [_hidden(language) if h or pd.isna(r.change) else _t("change_cell", language, change=f"{r.change:+.2f}", low=f"{r.ci_low:+.2f}", high=f"{r.ci_high:+.2f}") + (" ○" if r.clear else "")
             for r, h in zip(groups.itertuples(), hidden)]
    d = groups.assign(cell=cells)
    wide = d.pivot_table(index=["attribute_label", "group"], columns="label", values="cell", aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(d["label"]))].reset_index()
    wide.columns.name = None
    return wide.rename(columns={"attribute_label": "属性", "group": "区分"})


def shift_view(shift: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    hidden = shift["suppressed"].fillna(False).astype(bool) if "suppressed" in shift.columns else pd.Series(False, index=shift.index)
    return pd.DataFrame({
        "セグメント": shift["segment_name"],
        "前回の割合": [_hidden(language) if h else f"{v * 100:.1f}%" for v, h in zip(shift["share_from"], hidden)],
        "今回の割合": [_hidden(language) if h else f"{v * 100:.1f}%" for v, h in zip(shift["share_to"], hidden)],
        "変化(95%信頼区間)": [_hidden(language) if h else _t("shift_cell", language, change=f"{c * 100:+.1f}", low=f"{lo * 100:+.1f}", high=f"{hi * 100:+.1f}")
                         for c, lo, hi, h in zip(shift["change"], shift["ci_low"], shift["ci_high"], hidden)],
        "q値": ["—" if h else f"{q:.3g}" for q, h in zip(shift["q_value"], hidden)],
    })


def basis_label(basis: str, language: str = "ja") -> str:
    key = f"waves.basis.{basis}"
    return i18n.t(key, language) if key in i18n.TEXT else "—"


def kpi_view(kpis: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    num = _kpi_number
    return pd.DataFrame({
        "打ち手": kpis["measure_id"] + " " + kpis["measure"], "KPI": kpis["kpi"], "年度": [_fy(v, language) for v in kpis["fiscal_year"]],
        "実績(95%信頼区間)": [num(a) + (_t("kpi.cell_ci", language, low=num(lo), high=num(hi)) if pd.notna(lo) else "") for a, lo, hi in zip(kpis["actual"], kpis["ci_low"], kpis["ci_high"])],
        "計画線上の値": [num(v) for v in kpis["expected"]], "根拠": [basis_label(b, language) for b in kpis["expected_basis"]],
        "次の目標": [f"{_fy(fy, language)} {num(v)}" if pd.notna(fy) else "—" for fy, v in zip(kpis["next_target_fy"], kpis["next_target"])],
        "判定": [status_label(s, language) for s in kpis["status"]],
    })


def matching_view(matching: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    sub = matching[(matching["match"] != "both") | matching["header_changed"]]
    return pd.DataFrame({"ID": sub["measure_id"], "設問": sub["label"], "対応": sub["match"].map(lambda v: match_label(v, language)) + np.where(sub["header_changed"], _t("reworded_mark", language), ""),
                         "前回の設問文": sub["header_before"].fillna("—"), "今回の設問文": sub["header_now"].fillna("—")})
