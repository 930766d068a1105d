"""Words of notebook 04 (研修評価): alt texts and display tables from :mod:`dxanalysis.training`.

Every function takes ``language`` and builds its text from the catalogue keys
``training.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages.
"""

from __future__ import annotations

import pandas as pd

from .. import i18n
from ..privacy import SUPPRESSED_MARK
from ..training import COLUMN_LABELS, format_interval, format_percent, publish
from ..training import effect_matrix as _effect_matrix


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"training.{key}", language, **params)


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def effect_matrix(table: pd.DataFrame, *, language: str = "ja", alpha: float = 0.05) -> pd.DataFrame:
    """:func:`dxanalysis.training.effect_matrix` in ``language`` (a view for ``Publisher.table``)."""
    return _effect_matrix(table, language=language, alpha=alpha)


def describe_distribution(dist: pd.DataFrame, *, at_least: int = 4, language: str = "ja") -> str:
    """One sentence listing the distribution and the share at or above ``at_least``."""
    vis = dist.dropna(subset=["share"])
    if vis.empty:
        return _t("distribution.none", language)
    parts = i18n.t("list.sep", language).join(_t("distribution.part", language, label=r.label, count=int(r.count), share=format_percent(int(r.count), int(r.n), language=language))
                                             for r in vis.itertuples())
    top = vis[vis["value"] >= at_least]
    n = int(vis["n"].iloc[0])
    k = int(top["count"].sum())
    return _t("distribution", language, parts=parts, at_least=at_least, share=format_percent(k, n, language=language), k=k, n=n)


def describe_changes(tests: pd.DataFrame, language: str = "ja") -> str:
    """Which item had the most and fewest pairs rising, and how many fell."""
    vis = tests.dropna(subset=["share_improved"])
    if vis.empty:
        return _t("changes.none", language)
    hi = vis.loc[vis["share_improved"].idxmax()]
    lo = vis.loc[vis["share_improved"].idxmin()]
    wmin = vis.loc[vis["share_worse"].idxmin()]
    wmax = vis.loc[vis["share_worse"].idxmax()]

    def pct(r, col: str) -> str:
        return format_percent(int(r[f"n_{col}"]), int(r["n_pairs"]), language=language)

    return _t("changes", language, high=hi["label"], high_share=pct(hi, "improved"), low=lo["label"], low_share=pct(lo, "improved"),
              worse_min=pct(wmin, "worse"), worse_max=pct(wmax, "worse"))


def describe_effects(table: pd.DataFrame, *, label_col: str = "label", unit: str = "", alpha: float = 0.05, language: str = "ja") -> str:
    """Largest and smallest effect with intervals, and how many items changed (q < ``alpha``).

    The count of "changed" items uses the q-values (the decision rule of the tables), not
    whether an interval includes 0: the intervals and the tests are different methods and
    may disagree near the boundary. Rows without an interval (all changed the same way)
    say so.
    """
    col = "effect_size" if "effect_size" in table.columns else "estimate"
    vis = table.dropna(subset=[col])
    if vis.empty:
        return _t("effects.none", language)
    hi = vis.loc[vis[col].idxmax()]
    lo = vis.loc[vis[col].idxmin()]
    hidden = int(table[col].isna().sum())

    def one(r):
        if pd.notna(r["ci_low"]):
            ci = _t("effects.ci", language, low=f"{r['ci_low']:.2f}", high=f"{r['ci_high']:.2f}")
        elif isinstance(r.get("ci_note"), str) and r["ci_note"]:
            ci = _t("effects.same_way", language)
        else:
            ci = ""
        return _t("effects.one", language, label=r[label_col], value=_signed(r[col]) + unit, ci=ci)

    text = _t("effects", language, high=one(hi), low=one(lo))
    if "q_value" in vis.columns:
        tested = vis.dropna(subset=["q_value"])
        k = int((tested["q_value"] < alpha).sum())
        text += _t("effects.changed", language, alpha=alpha, n=len(tested), k=k)
    if hidden:
        text += _t("effects.hidden", language, n=hidden)
    return text


def describe_did(did: pd.DataFrame, language: str = "ja") -> str:
    """The difference-in-differences per item in one sentence (for alt text)."""
    if did is None or did.empty:
        return _t("did.none", language)
    parts = i18n.t("list.sep", language).join(
        _t("did.part", language, label=r.label, estimate=_signed(r.estimate), ci=_t("did.ci", language, low=f"{r.ci_low:.2f}", high=f"{r.ci_high:.2f}") if pd.notna(r.ci_low) else "")
        for r in did.dropna(subset=["estimate"]).itertuples())
    return _t("did", language, parts=parts)


def describe_shares_by_wave(data: pd.DataFrame, language: str = "ja") -> str:
    """Share per wave for each item, as 「item」a%→b%→c%."""
    parts = []
    for label, sub in data.groupby("label", sort=False):
        seq = "→".join(_t("wave_share", language, wave=w, share=format_percent(int(k), int(n), language=language))
                       for w, s, k, n in zip(sub["wave_label"], sub["share"], sub["numerator"], sub["n"]) if pd.notna(s))
        parts.append(_t("shares.part", language, label=label, seq=seq))
    n = int(data["n"].max()) if len(data) else 0
    return _t("shares", language, n=n, parts=i18n.t("list.sep", language).join(parts))


def did_caveat(did: pd.DataFrame, *, language: str = "ja") -> str:
    """Plain-language reading of :func:`~dxanalysis.training.did_estimates`, or why there is none."""
    if did is None or did.empty:
        return _t("did.no_comparison", language)
    return _t("did.caveat", language)


def did_finding(did: pd.DataFrame, *, language: str = "ja") -> str:
    """A short key finding from the (privacy-filtered) DID table, with its assumptions.

    Likert estimates are in scale points (点), yes/no estimates in percentage points
    (ポイント). Without an estimate, the sentence says the change cannot be attributed.
    """
    vis = did.dropna(subset=["estimate"]) if did is not None and len(did) else pd.DataFrame()
    if vis.empty:
        return did_caveat(vis, language=language)

    def one(r) -> str:
        if pd.isna(r["ci_low"]):
            return _t("did.item_none", language, label=r["label"])
        if r["kind"] == "yesno":
            return _t("did.item_share", language, label=r["label"], value=f"{r['estimate'] * 100:+.0f}", low=f"{r['ci_low'] * 100:.0f}", high=f"{r['ci_high'] * 100:.0f}")
        return _t("did.item_mean", language, label=r["label"], value=f"{r['estimate']:+.2f}", low=f"{r['ci_low']:.2f}", high=f"{r['ci_high']:.2f}")

    k = int((vis["ci_low"] > 0).sum())
    parts = _t("did.sep", language).join(one(r) for r in vis.to_dict("records"))
    return _t("did.finding", language, n=len(vis), k=k, parts=parts)


# --------------------------------------------------------------------------- headlines and notes (was training.share_sentence, headline_text, role_note, publish_headlines)
#: Japanese headers of the headline table (English: ``i18n.COLUMN_LABELS_EN``).
HEADLINE_LABELS = {**COLUMN_LABELS, "metric": "指標", "label": "内容", "sentence": "見出し(人数と95%信頼区間つき)"}


def role_note(role: str, *, language: str = "ja") -> str:
    """The one-line note shown instead of a section whose role has no item (was ``training.role_note``)."""
    return _t(f"role_missing.{role}", language)


def share_sentence(label: str, numerator: int, n: int, ci_low: float, ci_high: float, *, language: str = "ja") -> str:
    """「label: 26%(8/31人、95%信頼区間 13.7–43.2%)」: never a bare percentage (was ``training.share_sentence``).

    The share is a whole percent (:func:`~dxanalysis.training.format_percent`: 100%/0% only
    when all/none), both interval ends have one decimal (「88.6–100.0%」).
    """
    if not n:
        return _t("share.none", language, label=label)
    return _t("share", language, label=label, pct=format_percent(numerator, n, language=language), num=numerator, n=n, ci=format_interval(ci_low, ci_high))


def with_sentences(heads: pd.DataFrame, *, language: str = "ja") -> pd.DataFrame:
    """:func:`~dxanalysis.training.headlines` with ``sentence``, the headline in words
    (「研修後、「デジタル化に前向き」に「はい」と回答: 100%(30/30人、95%信頼区間 88.6–100.0%)」)."""
    return heads.assign(sentence=[share_sentence(r.label, r.numerator, r.n, r.ci_low, r.ci_high, language=language) for r in heads.itertuples()])


def headline_text(heads: pd.DataFrame, metric: str, *, min_group_size: int, language: str = "ja") -> str:
    """The sentence of one headline, or a plain note when it is missing or too small to show (was ``training.headline_text``)."""
    row = heads[heads["metric"] == metric]
    if row.empty:
        return _t("headline.none", language)
    r = row.iloc[0]
    if r["n"] < min_group_size:
        return f"{r['label']}: " + SUPPRESSED_MARK.get(language, SUPPRESSED_MARK["ja"])
    return r["sentence"]


def publish_headlines(pub, heads: pd.DataFrame, *, name: str = "training_headlines", caption: str | None = None, section: str | None = None) -> pd.DataFrame:
    """Publish the headline table and record each visible sentence with ``pub.finding`` (was ``training.publish_headlines``).

    A headline whose ``n`` is under ``pub.min_group_size`` is hidden: its numbers are
    blanked by the privacy filter and its sentence replaced, so the count never leaks
    through the text. Returns the filtered table.
    """
    heads = heads.copy()
    hidden = heads["n"] < pub.min_group_size
    heads.loc[hidden, "sentence"] = SUPPRESSED_MARK.get(pub.language, SUPPRESSED_MARK["ja"])
    shown = publish(pub, heads, name, caption=caption, n_col="n", by="metric", labels=HEADLINE_LABELS,
                    columns=["label", "numerator", "n", "share", "ci_low", "ci_high"])
    for r in shown.itertuples():
        if not r.suppressed:
            pub.finding(r.sentence, section=section, kind="training")
    return shown
