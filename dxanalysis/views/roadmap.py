"""Words of notebook 03 (ロードマップ): sentences, alt texts and display tables from :mod:`dxanalysis.roadmap`.

Every function takes ``language`` and builds its text from the catalogue keys
``roadmap.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages.
"""

from __future__ import annotations

import pandas as pd

from .. import i18n
from ..roadmap import QUADRANT_LABELS, RoadmapInputs, fiscal_year_label


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
    labels = QUADRANT_LABELS["en" if language == "en" else "ja"]
    focus = quad[quad["large_gap"] & quad["high_importance"]]
    counts = i18n.t("list.sep", language).join(_t("quadrants.count", language, label=lab, n=int((quad["quadrant"] == lab).sum())) for lab in labels.values())
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
