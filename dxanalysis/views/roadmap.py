"""Words of notebook 03 (ロードマップ): sentences, alt texts and display tables from :mod:`dxanalysis.roadmap`.

Every function takes ``language`` and builds its text from the catalogue keys
``roadmap.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages.
"""

from __future__ import annotations

import pandas as pd

from .. import i18n
from ..roadmap import FAMILIES, QUADRANTS, RoadmapInputs, fiscal_year_label, fy_labels, quadrant_label, rank_stability, rank_text  # noqa: F401 (fy_labels: headers of the views too)


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"roadmap.{key}", language, **params)


def _fy(fy, language: str) -> str:
    return fiscal_year_label(int(fy), language=language)


#: Japanese headers of :func:`input_summary` (English: ``i18n.COLUMN_LABELS_EN``).
INPUT_LABELS = {"description": "内容", "value": "件数・値"}

#: ``current_source`` as :func:`dxanalysis.roadmap.fill_current` writes it → catalogue key
SOURCES = {"アンケート": "roadmap.source.survey", "自己評価": "roadmap.source.self"}


def input_summary(inputs: RoadmapInputs, *, fiscal_year: int | None = None, codebook=None, language: str = "ja") -> pd.DataFrame:
    """What was read, in words: items, domains, survey-based items, measures, segments (was ``roadmap.input_summary``).

    With ``codebook``, the survey constructs are named by their labels (「データ活用」),
    not their ids (``data``): the table is for staff.

    Returns
    -------
    DataFrame
        ``description``, ``value`` (both text), one row per fact.
    """
    a, ms = inputs.assessment, inputs.measures
    sv = a[a["survey_construct"].notna()]
    sep = i18n.t("list.sep", language)
    rows = [(_t("inputs.items", language), _t("inputs.items_value", language, n=len(a), domains=a["domain"].nunique()))]
    if fiscal_year is not None:
        rows.append((_t("inputs.years", language), _t("inputs.years_value", language, now=_fy(fiscal_year, language), target=_fy(fiscal_year + 3, language))))
    label = codebook.label_of if codebook is not None else str
    rows.append((_t("inputs.survey_items", language),
                 sep.join(_t("inputs.survey_item", language, item_id=r.item_id, item=r.item, construct=label(r.survey_construct)) for r in sv.itertuples()) or _t("inputs.none", language)))
    rows.append((_t("inputs.measures", language),
                 _t("inputs.measures_value", language, n=len(ms), first=_fy(ms["start_fy"].min(), language), last=_fy(ms["end_fy"].max(), language)) if len(ms)
                 else _t("inputs.no_measures", language)))
    if inputs.segment_names:
        rows.append((_t("inputs.segments", language), sep.join(f"{k} {v}" for k, v in sorted(inputs.segment_names.items()))))
    else:
        rows.append((_t("inputs.segments", language), _t("inputs.no_segment_names", language)))
    return pd.DataFrame(rows, columns=["description", "value"])


def in_language(gaps: pd.DataFrame, language: str = "ja") -> pd.DataFrame:
    """:func:`~dxanalysis.roadmap.gap_scores` with ``current_source`` in ``language`` (アンケート / survey)."""
    if "current_source" not in gaps.columns or language == "ja":
        return gaps
    return gaps.assign(current_source=[i18n.t(SOURCES[v], language) if v in SOURCES else v for v in gaps["current_source"]])


def describe_domain_gaps(domains: pd.DataFrame, language: str = "ja") -> str:
    """One sentence for alt text: the domain with the largest and smallest mean gap."""
    hi = domains.loc[domains["gap_mean"].idxmax()]
    lo = domains.loc[domains["gap_mean"].idxmin()]
    return _t("domain_gaps", language, high=hi["domain"], high_gap=f"{hi['gap_mean']:.1f}", low=lo["domain"], low_gap=f"{lo['gap_mean']:.1f}")


def describe_quadrants(quad: pd.DataFrame, language: str = "ja") -> str:
    """How many items fall in each quadrant, and which are in the focus quadrant."""
    labels = [quadrant_label(a, b, language) for a, b in QUADRANTS]
    focus = quad[quad["large_gap"] & quad["high_importance"]]
    counts = i18n.t("list.sep", language).join(_t("quadrants.count", language, label=lab, n=int((quad["quadrant"] == lab).sum())) for lab in labels)
    ids = i18n.t("list.dot", language).join(focus.sort_values("rank")["item_id"]) or _t("inputs.none", language)
    return _t("quadrants", language, counts=counts, ids=ids)


def describe_roadmap(roadmap: pd.DataFrame, deps: pd.DataFrame, language: str = "ja") -> str:
    """Span of the roadmap and the flagged dependencies, as a sentence."""
    first, last = int(roadmap["start_fy"].min()), int(roadmap["end_fy"].max())
    flagged = deps[deps["starts_later"]]
    s = _t("roadmap.span", language, n=len(roadmap), first=_fy(first, language), last=_fy(last, language))
    if len(flagged):
        s += _t("roadmap.flagged", language, items=i18n.t("list.sep", language).join(
            _t("roadmap.flag", language, measure_id=r.measure_id, measure=r.measure, start=_fy(r.start_fy, language), dependency=r.dependency,
               dependency_measure=(" " + str(r.dependency_measure)) if hasattr(r, "dependency_measure") else "", dependency_start=_fy(r.dependency_start_fy, language))
            for r in flagged.itertuples()))
    else:
        s += _t("roadmap.no_conflict", language)
    return s


def describe_priorities(gaps: pd.DataFrame, k: int = 3, *, language: str = "ja") -> str:
    """The top ``k`` items by priority, as a sentence (every item sharing the k-th rank is named)."""
    g = gaps.sort_values("rank", kind="stable")
    cut = int(g["rank"].iloc[min(k, len(g)) - 1]) if len(g) else 0
    top = g[g["rank"] <= cut]
    tied = top["tied"] if "tied" in top.columns else pd.Series(False, index=top.index)
    items = i18n.t("list.sep", language).join(_t("priorities.item", language, rank=rank_text(r.rank, t, language=language), item_id=r.item_id, item=r.item, score=f"{r.priority_score:.1f}")
                                             for r, t in zip(top.itertuples(), tied))
    return _t("priorities", language, items=items)


def describe_scenarios(sens: pd.DataFrame, language: str = "ja") -> str:
    """What was tried, counted from the result: 「12通りの条件(重み(指数)を1つずつ±50%に: 6通り、…)」."""
    counts = sens.attrs.get("n_scenarios") or sens.groupby("family")["scenario_id"].nunique().to_dict()
    parts = []
    if counts.get("weight"):
        pct = sorted({abs(round((c - 1) * 100)) for c in sens.loc[sens["family"] == "weight", "change"]})
        parts.append(_t("scenarios.weight", language, pct=_t("scenarios.pct_sep", language).join(str(p) for p in pct), n=counts["weight"]))
    if counts.get("rating"):
        step = sens.loc[sens["family"] == "rating", "change"].abs().max()
        parts.append(_t("scenarios.rating", language, step=f"{step:g}", n=counts["rating"]))
    if counts.get("survey"):
        parts.append(_t("scenarios.survey", language, n=counts["survey"]))
    return _t("scenarios", language, n=sum(counts.values()), parts=_t("scenarios.sep", language).join(parts))


def describe_stability(stab: pd.DataFrame, top: int = 10, *, sens: pd.DataFrame | None = None, language: str = "ja") -> str:
    """How the top items' ranks held up under the scenarios actually tried (computed text).

    The sentence names what was tried (from ``sens``, :func:`~dxanalysis.roadmap.rank_sensitivity`
    output) and claims stability only for those scenarios: other weights or ratings may still
    reorder the items.
    """
    stable = stab[stab["rank_range"] == 0]
    worst = stab.sort_values(["rank_range", "base_rank"], ascending=[False, True], kind="stable").iloc[0]
    tried = describe_scenarios(sens, language) if sens is not None and len(sens) else _t("stability.tried_default", language)
    head = _t("stability.head_top", language, top=top) if len(stab) == top else _t("stability.head_ties", language, top=top, n=len(stab))
    out = [_t("stability.lead", language, tried=tried, head=head, n=int(stab["stays_top"].sum()), top=top)]
    if len(stable):
        out.append(_t("stability.stable", language, ids=i18n.t("list.dot", language).join(stable["item_id"])))
    if worst["rank_range"] > 0:
        by = _t("stability.by", language, moved_by=worst["moved_by"]) if "moved_by" in stab.columns and worst["moved_by"] else ""
        out.append(_t("stability.worst", language, item_id=worst["item_id"], item=worst["item"], low=int(worst["rank_min"]), high=int(worst["rank_max"]), by=by))
    out.append(_t("stability.caveat", language))
    return "".join(out)


def sensitivity_summary(sens: pd.DataFrame, *, top: int = 10, language: str = "ja") -> pd.DataFrame:
    """The rank range of each top item per scenario family, for display (was ``roadmap.sensitivity_summary``).

    Returns
    -------
    DataFrame
        ``item_id``, ``item``, ``base_rank``, ``weight_ranks``, ``rating_ranks``,
        ``survey_ranks`` (text such as 「1〜6位」, or 「2位」 when the rank never moves; base
        rank included; empty when the family was not tried), ``rank_min``, ``rank_max``,
        ``stays_top``. The per-scenario ranks are in :func:`sensitivity_table`.
    """
    stab = rank_stability(sens, top=top, language=language)
    out = stab[["item_id", "item", "base_rank"]].copy()
    for fam in FAMILIES:
        d = sens[sens["family"] == fam]
        if d.empty:
            out[f"{fam}_ranks"] = ""
            continue
        lo = d.groupby("item_id")["rank"].min()
        hi = d.groupby("item_id")["rank"].max()
        texts = []
        for iid, base in zip(out["item_id"], out["base_rank"]):
            a, b = min(int(lo.get(iid, base)), int(base)), max(int(hi.get(iid, base)), int(base))
            texts.append(rank_text(a, language=language) if a == b else _t("rank_range", language, low=a, high=b))
        out[f"{fam}_ranks"] = texts
    out = out.merge(stab[["item_id", "rank_min", "rank_max", "stays_top"]], on="item_id")
    return out
