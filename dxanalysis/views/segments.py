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
