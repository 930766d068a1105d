"""Words of notebook 02 (セグメント): sentences, alt texts and display tables from :mod:`dxanalysis.segments`.

Every function takes ``language`` and builds its text from the catalogue keys
``segments.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import i18n
from ..segments import SegmentModel, SegmentResult, _category


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"segments.{key}", language, **params)


def level_label(level: str, language: str = "ja") -> str:
    """高い / 平均的 / 低い (high / average / low) for a level code of :func:`~dxanalysis.segments.name_segments`."""
    key = f"segments.level.{level}"
    return i18n.t(key, language) if key in i18n.TEXT else level


def names_table(result: SegmentResult, language: str = "ja") -> pd.DataFrame:
    """How each name was made: ``segment``, ``segment_name``, ``n``, ``motivation_z``,
    ``motivation_level``, ``skill_z``, ``skill_level`` (levels in ``language``), ``auto_name``."""
    sizes = dict(zip(result.table["segment"].astype(int), result.table["n"]))
    nm = result.names.assign(n=result.names["segment"].map(sizes), segment=_category(result.names["segment"]))
    nm["motivation_level"] = nm["motivation_level"].map(lambda v: level_label(v, language))
    nm["skill_level"] = nm["skill_level"].map(lambda v: level_label(v, language))
    return nm[["segment", "segment_name", "n", "motivation_z", "motivation_level", "skill_z", "skill_level", "auto_name"]]


def describe_features(result: SegmentResult, language: str = "ja") -> str:
    """Who was segmented, on which features (one or two sentences)."""
    f = result.features
    n_all = len(f)
    n_seg = n_all - result.n_unsegmented
    label = dict(zip(result.profiles["construct"], result.profiles["construct_label"]))
    cols = i18n.t("list.sep", language).join(str(label.get(c, c)) for c in result.model.feature_names_in_)
    text = _t("features", language, n_all=f"{n_all:,}", n_seg=f"{n_seg:,}", cols=cols)
    if result.n_unsegmented:
        text += _t("features.left_out", language, n=f"{result.n_unsegmented:,}")
    return text


def describe_profiles(profiles: pd.DataFrame, language: str = "ja") -> str:
    """Per segment, the constructs furthest above and below the staff average (alt text)."""
    out = []
    for seg, d in profiles.groupby("segment", sort=True):
        hi = d.loc[d["z"].idxmax()]
        lo = d.loc[d["z"].idxmin()]
        head = _t("profiles.head", language, segment=seg, name=hi["segment_name"])
        if lo["z"] > 0:
            out.append(head + _t("profiles.all_above", language, construct=hi["construct_label"], mean=f"{hi['mean']:.2f}"))
        elif hi["z"] < 0:
            out.append(head + _t("profiles.all_below", language, construct=lo["construct_label"], mean=f"{lo['mean']:.2f}"))
        else:
            out.append(head + _t("profiles.mixed", language, high=hi["construct_label"], high_mean=f"{hi['mean']:.2f}", low=lo["construct_label"], low_mean=f"{lo['mean']:.2f}"))
    return _t("profiles", language, parts=i18n.t("sentence.sep", language).join(out))


def describe_composition(composition: pd.DataFrame, *, attribute: str, language: str = "ja") -> str:
    """For one attribute, the group where each segment is most common (shown cells only)."""
    d = composition[(composition["attribute"] == attribute)].dropna(subset=["group_share"])
    if d.empty:
        return _t("composition.none", language)
    label = d["attribute_label"].iloc[0]
    parts = []
    for seg, g in d.groupby("segment", sort=True):
        top = g.loc[g["group_share"].idxmax()]
        parts.append(_t("composition.part", language, segment=seg, name=top["segment_name"], group=top["group"], share=f"{top['group_share'] * 100:.0f}%"))
    return _t("composition", language, attribute=label, parts=i18n.t("list.sep", language).join(parts))


def describe_compositions(composition: pd.DataFrame, language: str = "ja") -> str:
    """:func:`describe_composition` for every attribute in the table."""
    return "".join(describe_composition(composition, attribute=a, language=language) for a in dict.fromkeys(composition["attribute"]))


def describe_merges(model: SegmentModel, language: str = "ja") -> str | None:
    """A note when small segments were merged (``None`` when none was)."""
    if not model.merged_:
        return None
    return _t("merges", language, min_size=model.min_segment_size, n=len(model.merged_), k=model.k_, n_segments=model.n_segments_)


def describe_weighting(result: SegmentResult, language: str = "ja") -> str | None:
    """How the intervals of the weighted shares were computed (``None`` without weights)."""
    if result.weights is None or np.isnan(result.design_effect):
        return None
    return _t("weighting", language, deff=f"{result.design_effect:.2f}", n=f"{result.n_eff * result.design_effect:,.0f}", n_eff=f"{result.n_eff:,.0f}")


def describe_opportunities(opportunities: pd.DataFrame, *, language: str = "ja") -> str:
    """First recommendation for every segment, one sentence (a finding)."""
    first = opportunities[opportunities["rank"] == 1]
    if first.empty:
        return _t("opportunities.none", language)
    parts = [_t("opportunities.part", language, segment=int(r["segment"]), name=r["segment_name"], opportunity=r["opportunity"]) for _, r in first.iterrows()]
    return _t("opportunities", language, parts=i18n.t("list.sep", language).join(parts))


# --------------------------------------------------------------------------- number of segments and sizes (was segments.describe_*)
def describe_selection(model: SegmentModel, *, language: str = "ja") -> str:
    """How k was chosen and whether the data show segments at all (alt text and report; was ``segments.describe_selection``)."""
    sel = model.selection_
    row = sel[sel["chosen"]].iloc[0]
    k, k_sil, k_bic = model.k_, model.criterion_k_["silhouette"], model.criterion_k_["bic"]
    if model.rule_ == "given":
        head = _t("selection.given", language, k=k)
    elif k == 1:
        head = _t("selection.one", language)
    else:
        crit = _t("selection.crit.silhouette" if model.rule_.startswith("silhouette") else "selection.crit.bic", language)
        head = _t("selection.unstable" if model.rule_.endswith("unstable") else "selection.chosen", language, threshold=f"{model.stability_threshold:.1f}", crit=crit, k=k)
    has_sil = pd.notna(row["silhouette"])
    sil = f"{row['silhouette']:.2f}" if has_sil else ""
    if k == 1:
        stab = ""
    elif not np.isnan(row["stability_ari"]):
        ari = f"{row['stability_ari']:.2f}"
        stab = _t("selection.silhouette_ari", language, k=k, silhouette=sil, ari=ari) if has_sil else _t("selection.ari", language, k=k, ari=ari)
    else:
        stab = _t("selection.silhouette", language, k=k, silhouette=sil) if has_sil else ""
    if not model.structure_found_:
        agree = _t("selection.no_structure", language, bic=f"{model.bic_single_:,.1f}")
        if k >= 2:
            agree += _t("selection.convenience", language, k=k)
    else:
        bic_k = sel.set_index(["method", "k"])["bic"]
        single = _t("selection.single", language, bic=f"{model.bic_single_:,.1f}")
        agree = _t("selection.agree" if k_sil == k_bic else "selection.disagree", language, k_sil=k_sil, k_bic=k_bic, bic=f"{bic_k[('gmm', k_bic)]:,.1f}", single=single)
    return head + stab + agree


def describe_support(model: SegmentModel, language: str = "ja") -> str:
    """The criteria behind the number of segments, in one clause (for finding sentences; was ``segments.describe_support``).

    E.g. 「再標本化の安定性ARI 1.00、平均シルエット幅 0.51が最大、混合ガウスモデルのBICもk=4で最小で、
    分けないモデル(k=1)より小さい」, or a plain statement that no clear structure was found.
    """
    if not model.structure_found_:
        return _t("support.no_structure", language)
    row = model.selection_[model.selection_["chosen"]].iloc[0]
    parts = [_t("support.given", language)] if model.rule_ == "given" else []
    if pd.notna(row["stability_ari"]):
        parts.append(_t("support.ari", language, ari=f"{row['stability_ari']:.2f}"))
    if pd.notna(row["silhouette"]):
        parts.append(_t("support.silhouette", language, silhouette=f"{row['silhouette']:.2f}") + (_t("support.largest", language) if model.criterion_k_["silhouette"] == model.k_ else ""))
    k_bic = model.criterion_k_["bic"]
    if k_bic == model.k_:
        parts.append(_t("support.bic_also" if parts else "support.bic", language, k=k_bic))
    else:
        parts.append(_t("support.bic_differs", language, k=k_bic))
    return i18n.t("list.sep", language).join(parts)


def weighted_text(r, language: str = "ja") -> str:
    """「職員全体では推定31%、95%信頼区間27〜36%」 for one row of the segment table (was ``segments._weighted_text``)."""
    w = r.get("weighted_share")
    if w is None or pd.isna(w):
        return ""
    lo, hi = r.get("weighted_ci_low"), r.get("weighted_ci_high")
    ci = _t("weighted.ci", language, low=f"{lo * 100:.0f}", high=f"{hi * 100:.0f}") if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi) else ""
    return _t("weighted", language, share=f"{w * 100:.0f}", ci=ci)


def _weighted_part(r, language: str) -> str:
    w = weighted_text(r, language)
    return _t("weighted.sep", language, weighted=w) if w else ""


def describe_table(table: pd.DataFrame, *, model: SegmentModel | None = None, language: str = "ja") -> str:
    """Sizes of the segments in one sentence (segment order), unweighted and weighted (was ``segments.describe_table``).

    With ``model``, the sentence names the criteria that support the number of segments
    (:func:`describe_support`) instead of asserting that staff "fall into" k groups, and
    says plainly when no clear segment structure was found.
    """
    t = table.dropna(subset=["n"])
    if t.empty:
        return _t("table.none", language)
    parts = [_t("table.part", language, segment=int(r["segment"]), name=r["name"], n=int(r["n"]), share=f"{r['share'] * 100:.0f}", weighted=_weighted_part(r, language))
             for _, r in t.iterrows()]
    k = len(table)
    if model is None:
        head = _t("table.head", language, k=k)
    elif not model.structure_found_ and k >= 2:
        head = _t("table.head.no_structure", language, k=k, support=describe_support(model, language))
    elif k == 1:
        head = _t("table.head.one", language, support=describe_support(model, language))
    else:
        head = _t("table.head.basis", language, k=k, support=describe_support(model, language))
    return _t("table", language, head=head, parts=i18n.t("list.sep", language).join(parts))


def describe_training_targets(targets: pd.DataFrame, table: pd.DataFrame, opportunity_name: str, *, language: str = "ja") -> str:
    """The finding naming the target segment(s) of the training (notebook 04; was ``segments.describe_training_targets``)."""
    if targets.empty:
        return _t("targets.none", language, opportunity=opportunity_name)
    t = table.set_index("segment")
    parts = []
    for _, r in targets.iterrows():
        s = int(r["segment"])
        share = t.at[s, "share"] if s in t.index else np.nan
        weighted = _weighted_part(t.loc[s], language) if s in t.index else ""
        size = _t("targets.size", language, share=f"{share * 100:.0f}", weighted=weighted) if pd.notna(share) else _t("targets.small", language)
        parts.append(_t("targets.part", language, segment=s, name=r["segment_name"], size=size, reason=r["reason"]))
    return _t("targets", language, opportunity=opportunity_name, parts=i18n.t("list.sep", language).join(parts))
