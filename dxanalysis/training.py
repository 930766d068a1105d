"""Step 4 of the programme: training evaluation with honest uncertainty (notebook 04).

The Kirkpatrick levels, each as one function returning a tidy frame:

* matching of the waves by the anonymous key (:func:`match_waves`), duplicates and
  unmatched keys counted, never dropped silently;
* L1 reaction: answer distribution (:func:`likert_distribution`) and shares with Wilson
  intervals (:func:`share_row`);
* L2 learning: paired pre/post tests per item (:func:`paired_tests`): Wilcoxon
  signed-rank with Pratt's zero handling (exact permutation distribution for up to 25
  non-zero differences) and the matched-pairs rank-biserial correlation for Likert items,
  McNemar's test and Newcombe's interval of the difference in shares for yes/no items,
  Benjamini–Hochberg across items;
* the same effects per segment (:func:`join_segments`, :func:`effects_by_segment`);
* difference-in-differences against non-participants (:func:`did_estimates`);
* L3 follow-up (:func:`followup_change`, :func:`followup_verdicts`);
* headline sentences that always carry numerator, n and interval (:func:`headlines`).

All signs are *after minus before* (post − pre): a positive effect means the answers rose.
See ``docs/training.md`` for the methods and every output column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# The statistics live in dxanalysis.stats; re-exported here for notebooks and older code.
from .stats.effects import rank_biserial_paired as rank_biserial
from . import i18n
from .stats.proportions import paired_share_difference_ci, wilson_interval
from .stats.tests import (  # noqa: F401
    MCNEMAR_EXACT_BELOW,
    WILCOXON_EXACT_MAX,
    bh_adjust,
    mcnemar_test,
    pratt_exact_pvalue,
    pratt_ranks,
    wilcoxon_pratt,
)

#: Waves in time order, and their Japanese names.
WAVES = ("pre", "post", "followup")
WAVE_LABELS = {
    "ja": {"pre": "研修前", "post": "研修直後", "followup": "フォローアップ"},
    "en": {"pre": "before", "post": "after", "followup": "follow-up"},
}
GROUP_LABELS = {
    "ja": {"participant": "受講者", "non_participant": "非受講者"},
    "en": {"participant": "participants", "non_participant": "non-participants"},
}
#: Bootstrap resamples for the rank-biserial interval, and the fixed seed.
N_BOOT = 2000
RANDOM_STATE = 0
#: Follow-up: the largest fall from right after to follow-up that still counts as "held"
#: (rank-biserial correlation for Likert items, difference in share "yes" for yes/no items).
HELD_MARGIN_LIKERT = 0.1
HELD_MARGIN_YESNO = 0.1

PAIR_COLUMNS = ["key", "group", "item", "kind", "before", "after", "row_before", "row_after"]

#: Codes of the plain-language method notes (the ``method`` column); their words are the
#: catalogue keys ``training.method.<code>`` of :data:`dxanalysis.i18n.TEXT`.
METHOD_CODES = ("no_pairs", "one_pair", "no_change", "wilcoxon_exact", "wilcoxon_approx", "mcnemar_exact", "mcnemar_chi2",
                "rank_biserial", "diff_share", "ci_bootstrap", "ci_newcombe", "ci_none", "no_spread")


def _method(code: str, language: str, **params) -> str:
    return i18n.t(f"training.method.{code}", language, **params)


#: Japanese headers of this module's tables (passed as ``labels=`` to the Publisher).
COLUMN_LABELS = {
    "description": "内容", "grouping_label": "比較", "participant": "受講者", "non_participant": "非受講者", "total": "合計",
    "label": "項目", "n_pairs": "前後の組数", "mean_before": "平均(前)", "mean_after": "平均(後)",
    "mean_change": "平均の変化", "n_improved": "上がった人数", "n_same": "同じ人数", "n_worse": "下がった人数",
    "share_improved": "上がった", "share_same": "変わらない", "share_worse": "下がった",
    "statistic": "検定統計量", "effect_size": "効果量(事後−事前)", "ci_low": "95%区間(下限)", "ci_high": "95%区間(上限)",
    "method": "方法", "group": "グループ", "value": "値", "count": "人数", "n": "回答者数",
    "n_participants": "受講者(組)", "n_non_participants": "非受講者(組)", "n_smaller_group": "少ない方の人数",
    "change_participants": "受講者の変化", "change_non_participants": "非受講者の変化", "estimate": "差の差",
    "std_error": "標準誤差", "comparison_label": "比較", "verdict_text": "判定", "effect_pre_followup": "効果量(前→フォローアップ)",
    "effect_post_followup": "効果量(直後→フォローアップ)", "wave_label": "時点", "numerator": "該当人数", "n_comments": "記入数",
    "ci_note": "区間について", "ci_low_post_followup": "直後→フォローアップの95%区間(下限)",
    "ci_high_post_followup": "直後→フォローアップの95%区間(上限)", "margin": "許容する低下幅",
}

#: Text columns that carry counts or shares: blanked with the numbers of a hidden group
#: (headline sentences are replaced by :func:`dxanalysis.views.training.publish_headlines` itself).
TEXT_VALUE_COLUMNS = ("ci_note", "verdict_text")


def _lang(language: str) -> str:
    return "en" if language == "en" else "ja"


# --------------------------------------------------------------------------- items
def item_kinds(codebook, *, kinds: Sequence[str] = ("likert", "yesno")) -> dict[str, str]:
    """Training item id → kind (``likert``/``yesno``/``text``) from ``codebook.training``."""
    if codebook is None or codebook.training is None:
        return {}
    return {it.id: it.kind for it in codebook.training.items if it.kind in kinds}


def item_labels(codebook) -> dict[str, str]:
    """Training item id → display label (``label`` or the exported question)."""
    if codebook is None or codebook.training is None:
        return {}
    return {it.id: it.label or it.header for it in codebook.training.items}


def item_scale(codebook, item: str):
    """The :class:`~dxanalysis.config.Scale` of a training Likert item."""
    it = next((i for i in codebook.training.items if i.id == item), None) if codebook.training else None
    if it is None or it.scale is None:
        raise KeyError(f"item_scale: {item!r} is not a Likert item of codebook.training (items: {list(item_kinds(codebook))})")
    return codebook.scales[it.scale]


#: The item id notebook 04 uses for each role when no item of the codebook has a ``role``
#: (the notebook's parameters ``satisfaction_item``, ``attitude_item``, ``idea_item`` and
#: the comment id override them).
ROLE_DEFAULTS = {"satisfaction": "satisfaction", "attitude": "attitude", "planned_action": "concrete_idea", "comment": "training_comment"}

def item_roles(codebook, *, defaults: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Role → training item id (``None`` when no item plays the role).

    When any item of ``codebook.training.items`` has a ``role``, roles come only from the
    codebook. Otherwise each role falls back to the id in ``defaults`` (notebook 04's
    parameters; :data:`ROLE_DEFAULTS` for those not given), kept only when the codebook
    has an item with that id of a kind the role accepts (see
    :data:`dxanalysis.config.TRAINING_ROLES`).
    """
    from .config import TRAINING_ROLES

    items = list(codebook.training.items) if codebook is not None and codebook.training is not None else []
    out: dict[str, str | None] = dict.fromkeys(TRAINING_ROLES)
    if any(it.role for it in items):
        for it in items:
            if it.role:
                out[it.role] = it.id
        return out
    wanted = {**ROLE_DEFAULTS, **{k: v for k, v in (defaults or {}).items() if v is not None}}
    by_id = {it.id: it for it in items}
    for role, kinds in TRAINING_ROLES.items():
        it = by_id.get(wanted.get(role) or "")
        out[role] = it.id if it is not None and it.kind in kinds else None
    return out


def positive_threshold(scale) -> int:
    """Smallest answer counted as positive on a Likert scale: the values above its midpoint.

    1–5 → 4 (ややそう思う以上), 1–4 → 3, 1–7 → 5, 0–10 → 6. An even scale has no neutral
    answer, so its upper half starts right above the middle.
    """
    return int(np.floor((scale.min + scale.max) / 2)) + 1


def positive_rule(codebook, item: str, *, threshold: int | None = None, language: str = "ja") -> dict:
    """How "positive" is counted for a training item, following its kind and scale.

    Returns
    -------
    dict
        ``kind`` (likert / yesno), ``threshold`` (Likert: smallest positive answer; yes/no:
        1), ``rule`` (code: ``yes`` or ``likert_at_least``), ``text`` (the rule in words,
        e.g. 「4〜5 =「ややそう思う」以上、5段階」 or 「「はい」」).
    """
    it = next((i for i in codebook.training.items if i.id == item), None) if codebook is not None and codebook.training else None
    if it is None or it.kind == "yesno":
        yes = (codebook.training.yes[0] if codebook is not None and codebook.training and codebook.training.yes else "はい")
        return {"kind": "yesno", "threshold": 1, "rule": "yes", "text": i18n.t("training.rule.yes", language, yes=yes)}
    scale = codebook.scales[it.scale]
    t = int(threshold) if threshold else positive_threshold(scale)
    n_points = scale.max - scale.min + 1
    lab = scale.labels.get(t)
    text = (i18n.t("training.rule.likert_label", language, t=t, max=scale.max, label=lab, n_points=n_points) if lab
            else i18n.t("training.rule.likert", language, t=t, max=scale.max, n_points=n_points))
    return {"kind": "likert", "threshold": t, "rule": "likert_at_least", "text": text}


def require_training(m) -> None:
    """Stop with a plain message when the municipality has no training waves."""
    if getattr(m, "training", None) is None:
        raise ValueError("研修の回答(training_pre / training_post)がないため、このノートブックは実行できません。"
                         " / No training waves (training_pre / training_post): notebook 04 cannot run.")


def _infer_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds of item columns when no codebook is given: text, yes/no (0/1) or Likert."""
    out = {}
    for col in frame.columns:
        if col in {"key", "group", "wave", "row"}:
            continue
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s):
            out[col] = "text"
        elif set(s.dropna().unique()) <= {0.0, 1.0}:
            out[col] = "yesno"
        else:
            out[col] = "likert"
    return out


# --------------------------------------------------------------------------- matching
def first_per_key(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the first answer sheet of each key (lowest spreadsheet row); count the rest.

    Rule for duplicate keys: the earliest submission is the answer given at the intended
    time; later submissions of the same key are counted and listed, not analysed.
    Rows without a key cannot be matched and are left out (the loader already reports
    them as errors).
    """
    df = frame[frame["key"].notna()].sort_values("row", kind="stable")
    dup = df["key"].duplicated(keep="first")
    return df.loc[~dup].reset_index(drop=True), int(dup.sum())


def match_waves(training, codebook=None, *, before: str = "pre", after: str = "post", language: str = "ja") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match two training waves by the anonymous key.

    Parameters
    ----------
    training
        :class:`dxanalysis.io.TrainingData` (``.pre``, ``.post``, ``.followup``).
    codebook
        :class:`dxanalysis.config.Codebook`; gives each item's kind. Without it, kinds are
        inferred (0/1 columns are yes/no, other numeric columns Likert, text skipped).
    before, after
        Wave names (``pre``, ``post``, ``followup``); the change is ``after − before``.

    Returns
    -------
    pairs : DataFrame
        Long, one row per matched key and item answered in both waves' files (private: it
        holds the key). Columns ``key``, ``group`` (``participant``/``non_participant``,
        taken from the ``before`` sheet), ``item``, ``kind`` (``likert``/``yesno``),
        ``before``, ``after`` (float, NaN = missing answer), ``row_before``,
        ``row_after`` (spreadsheet rows of the sheets used).
    summary : DataFrame
        The matching table, one row per step: ``step`` (code), ``description``, then
        one count column per group (``participant``, ``non_participant``) and ``total``.
        Steps: answer sheets in each wave, duplicate sheets not used (2nd and later
        sheet of a key), people matched in both waves, only in ``before``, only in
        ``after``, and keys whose group differs between the waves.

    Notes
    -----
    Duplicate keys: the first sheet (lowest row) is used and the others are counted in
    ``duplicates_*``; :func:`matching_issues` lists them by row for the data owner.
    """
    frames = {"pre": training.pre, "post": training.post, "followup": getattr(training, "followup", None)}
    for w in (before, after):
        if w not in frames:
            raise ValueError(f"match_waves: unknown wave {w!r}; use one of {list(frames)}")
        if frames[w] is None:
            raise ValueError(f"match_waves: wave {w!r} is not in the data (no {w} file)")
    a_raw, b_raw = frames[before], frames[after]
    a, dup_a = first_per_key(a_raw)
    b, dup_b = first_per_key(b_raw)
    kinds = item_kinds(codebook) if codebook is not None else {**_infer_kinds(a_raw), **_infer_kinds(b_raw)}
    items = [i for i, k in kinds.items() if k in ("likert", "yesno") and i in a.columns and i in b.columns]

    merged = a.merge(b, on="key", how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    lang = _lang(language)
    wl = WAVE_LABELS[lang]

    def count(df: pd.DataFrame, group_col: str) -> dict[str, int]:
        vc = df[group_col].value_counts() if len(df) else pd.Series(dtype=int)
        return {"participant": int(vc.get("participant", 0)), "non_participant": int(vc.get("non_participant", 0))}

    def dup_counts(raw: pd.DataFrame) -> dict[str, int]:
        df = raw[raw["key"].notna()].sort_values("row", kind="stable")
        return count(df[df["key"].duplicated(keep="first")], "group")

    if lang == "ja":
        desc = {
            "records_before": f"回答票数({wl[before]})",
            "duplicates_before": f"うち同じキーの2枚目以降({wl[before]}、集計に使わない)",
            "records_after": f"回答票数({wl[after]})",
            "duplicates_after": f"うち同じキーの2枚目以降({wl[after]}、集計に使わない)",
            "matched": f"{wl[before]}と{wl[after]}を照合できた人数",
            "before_only": f"{wl[before]}のみ回答(照合できない)",
            "after_only": f"{wl[after]}のみ回答(照合できない)",
            "group_mismatch": "うち区分(受講/非受講)が前後で異なる人数(前の区分を使用)",
        }
    else:
        desc = {
            "records_before": f"answer sheets ({wl[before]})",
            "duplicates_before": f"of which 2nd+ sheet of a key ({wl[before]}, not used)",
            "records_after": f"answer sheets ({wl[after]})",
            "duplicates_after": f"of which 2nd+ sheet of a key ({wl[after]}, not used)",
            "matched": f"matched {wl[before]} and {wl[after]}",
            "before_only": f"{wl[before]} only (cannot be matched)",
            "after_only": f"{wl[after]} only (cannot be matched)",
            "group_mismatch": "of which group differs between waves (earlier group used)",
        }
    steps = {
        "records_before": count(a_raw, "group"),
        "duplicates_before": dup_counts(a_raw),
        "records_after": count(b_raw, "group"),
        "duplicates_after": dup_counts(b_raw),
        "matched": count(both, "group_a"),
        "before_only": count(merged[merged["_merge"] == "left_only"], "group_a"),
        "after_only": count(merged[merged["_merge"] == "right_only"], "group_b"),
        "group_mismatch": count(both[both["group_a"] != both["group_b"]], "group_a"),
    }
    summary = pd.DataFrame(
        [{"step": s, "description": desc[s], **c, "total": sum(c.values())} for s, c in steps.items()],
        columns=["step", "description", "participant", "non_participant", "total"],
    )

    parts = []
    for item in items:
        parts.append(
            pd.DataFrame(
                {
                    "key": both["key"].astype(str).to_numpy(),
                    "group": both["group_a"].to_numpy(),
                    "item": item,
                    "kind": kinds[item],
                    "before": both[f"{item}_a"].astype(float).to_numpy(),
                    "after": both[f"{item}_b"].astype(float).to_numpy(),
                    "row_before": both["row_a"].astype(int).to_numpy(),
                    "row_after": both["row_b"].astype(int).to_numpy(),
                }
            )
        )
    pairs = pd.concat(parts, ignore_index=True)[PAIR_COLUMNS] if parts else pd.DataFrame(columns=PAIR_COLUMNS)
    # the items asked in both waves, so that paired_tests reports an item even when no key matched
    pairs.attrs["items"] = {i: kinds[i] for i in items}
    return pairs, summary


def matching_issues(training, *, waves: Sequence[str] = ("pre", "post")) -> pd.DataFrame:
    """Every sheet that is not analysed, by row, for the data owner (private: has keys).

    Returns
    -------
    DataFrame
        ``wave``, ``row`` (spreadsheet row), ``key``, ``issue`` (``duplicate`` with
        ``first_row`` of the sheet used, or ``only_in_<wave>`` for keys missing from the
        other wave), ``first_row``.
    """
    rows = []
    frames = {w: getattr(training, w) for w in waves if getattr(training, w, None) is not None}
    firsts = {}
    for w, df in frames.items():
        d = df[df["key"].notna()].sort_values("row", kind="stable")
        first_row = d.drop_duplicates("key").set_index("key")["row"]
        firsts[w] = first_row
        for _, r in d[d["key"].duplicated(keep="first")].iterrows():
            rows.append({"wave": w, "row": int(r["row"]), "key": str(r["key"]), "issue": "duplicate", "first_row": int(first_row[r["key"]])})
    names = list(firsts)
    for w in names:
        others = set().union(*[set(firsts[o].index) for o in names if o != w]) if len(names) > 1 else set()
        for key, row in firsts[w].items():
            if len(names) > 1 and key not in others:
                rows.append({"wave": w, "row": int(row), "key": str(key), "issue": f"only_in_{w}", "first_row": int(row)})
    return pd.DataFrame(rows, columns=["wave", "row", "key", "issue", "first_row"])


def wave_answers(training, wave: str, *, group: str | None = "participant") -> pd.DataFrame:
    """One wave's answer sheets, first sheet per key, optionally one group only."""
    df = getattr(training, wave, None)
    if df is None:
        raise ValueError(f"wave_answers: wave {wave!r} is not in the data")
    df, _ = first_per_key(df)
    if group is not None:
        df = df[df["group"] == group]
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- shares (L1, planned action)
def share_row(successes: int, n: int, *, metric: str, label: str, confidence: float = 0.95) -> dict:
    """One share with its Wilson interval as a dict (a row of the headline table)."""
    lo, hi = wilson_interval(successes, n, confidence=confidence)
    return {
        "metric": metric,
        "label": label,
        "numerator": int(successes),
        "n": int(n),
        "share": successes / n if n else np.nan,
        "ci_low": float(lo),
        "ci_high": float(hi),
    }


def likert_distribution(answers: pd.DataFrame, item: str, scale, *, language: str = "ja") -> pd.DataFrame:
    """Distribution of one Likert item's answers with Wilson 95% intervals.

    Parameters
    ----------
    answers
        One wave's sheets (:func:`wave_answers`).
    item
        Item id (column of ``answers``).
    scale
        :class:`dxanalysis.config.Scale` of the item (values and labels), or the
        :class:`~dxanalysis.config.Codebook`, from which the item's scale is taken.

    Returns
    -------
    DataFrame
        One row per scale value, low to high: ``item``, ``value``, ``label``, ``count``
        (answers with that value), ``n`` (non-missing answers), ``share`` (count / n),
        ``ci_low``, ``ci_high`` (Wilson 95%).
    """
    if item not in answers.columns:
        raise KeyError(f"likert_distribution: no column {item!r} (columns: {list(answers.columns)})")
    if hasattr(scale, "training"):
        scale = item_scale(scale, item)
    s = answers[item].dropna()
    values = list(range(scale.min, scale.max + 1))
    counts = s.value_counts().reindex([float(v) for v in values], fill_value=0).to_numpy()
    n = int(len(s))
    lo, hi = wilson_interval(counts, np.full(len(values), n))
    return pd.DataFrame(
        {
            "item": item,
            "value": values,
            "label": [scale.labels.get(v, str(v)) for v in values],
            "count": counts.astype(int),
            "n": n,
            "share": counts / n if n else np.nan,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def format_percent(numerator: int, n: int, *, language: str = "ja") -> str:
    """A share for a sentence: a whole percent, but 「100%」/「0%」 only when all / none.

    When a whole percent would round to 100 or 0 although some but not all counted, one
    decimal is shown (199/200 → 「99.5%」, 1/300 → 「0.3%」), and when that still rounds
    to 100.0 or 0.0, 「99.9%超」 / 「0.1%未満」 (English ">99.9%" / "<0.1%").
    """
    if not n:
        return "—"
    share = numerator / n
    txt = f"{share * 100:.0f}"
    if 0 < numerator < n and txt in ("0", "100"):
        txt = f"{share * 100:.1f}"
        if txt == "100.0":
            return ">99.9%" if language == "en" else "99.9%超"
        if txt == "0.0":
            return "<0.1%" if language == "en" else "0.1%未満"
    return f"{txt}%"


def format_interval(ci_low: float, ci_high: float) -> str:
    """A share interval as 「20.0–46.6」: both ends with one decimal (the caller adds %)."""
    return f"{ci_low * 100:.1f}–{ci_high * 100:.1f}"


def headlines(
    training,
    codebook,
    *,
    satisfaction_item: str | None = "satisfaction",
    attitude_item: str | None = "attitude",
    idea_item: str | None = "concrete_idea",
    satisfied_min: int | None = None,
    positive_min: int | None = None,
    roles: Mapping[str, str | None] | None = None,
    language: str = "ja",
) -> pd.DataFrame:
    """Headline figures of the training, each with numerator, n and Wilson 95% interval.

    Rows (when the item exists): ``satisfied`` (post satisfaction positive),
    ``positive_after`` (post attitude positive), ``improved`` (matched participants whose
    attitude rose, post − pre > 0), ``idea_after`` (post planned action positive).
    "Positive" follows the item's kind and scale (:func:`positive_rule`): a yes/no item
    counts 「はい」; a Likert item counts answers above its scale's midpoint (4–5 of 1–5,
    3–4 of 1–4), unless ``satisfied_min`` / ``positive_min`` set the threshold.
    Participants only; first sheet per key; missing answers excluded from n.

    ``roles`` (from :func:`item_roles`) overrides the three item ids.

    Returns
    -------
    DataFrame
        ``metric``, ``item``, ``label`` (says which rule was used), ``rule`` (``yes`` /
        ``likert_at_least``), ``threshold``, ``numerator``, ``n``, ``share``, ``ci_low``,
        ``ci_high`` (Wilson 95%), ``sentence`` (the headline in words, e.g.
        「研修後、「デジタル化に前向き」に「はい」と回答: 100%(30/30人、95%信頼区間 88.6–100.0%)」).
    """
    if roles is not None:
        satisfaction_item, attitude_item, idea_item = roles.get("satisfaction"), roles.get("attitude"), roles.get("planned_action")
    labels = item_labels(codebook)
    post = wave_answers(training, "post")
    rows = []

    def add(metric: str, item: str, label: str, values: pd.Series, rule: dict | None):
        v = values.dropna()
        rows.append({**share_row(int(v.sum()), int(len(v)), metric=metric, label=label), "item": item,
                     "rule": rule["rule"] if rule else "rose", "threshold": rule["threshold"] if rule else np.nan})

    def hit(item: str, rule: dict) -> pd.Series:
        col = post[item]
        return (col >= rule["threshold"]).astype(float).where(col.notna())

    if satisfaction_item and satisfaction_item in post.columns:
        rule = positive_rule(codebook, satisfaction_item, threshold=satisfied_min, language=language)
        label = i18n.t("training.headline.satisfied_likert" if rule["kind"] == "likert" else "training.headline.satisfied_yes", language, rule=rule["text"])
        add("satisfied", satisfaction_item, label, hit(satisfaction_item, rule), rule)
    if attitude_item and attitude_item in post.columns:
        lab = labels.get(attitude_item, attitude_item)
        rule = positive_rule(codebook, attitude_item, threshold=positive_min, language=language)
        add("positive_after", attitude_item, _positive_label(lab, rule, language), hit(attitude_item, rule), rule)
        pairs, _ = match_waves(training, codebook)
        p = pairs[(pairs["item"] == attitude_item) & (pairs["group"] == "participant")].dropna(subset=["before", "after"])
        if len(p):
            add("improved", attitude_item, i18n.t("training.headline.improved", language, label=lab), (p["after"] > p["before"]).astype(float), None)
    if idea_item and idea_item in post.columns:
        lab = labels.get(idea_item, idea_item)
        rule = positive_rule(codebook, idea_item, threshold=positive_min, language=language)
        add("idea_after", idea_item, _positive_label(lab, rule, language), hit(idea_item, rule), rule)
    return pd.DataFrame(rows, columns=["metric", "item", "label", "rule", "threshold", "numerator", "n", "share", "ci_low", "ci_high"])


def _positive_label(label: str, rule: dict, language: str) -> str:
    return i18n.t("training.headline.positive_likert" if rule["kind"] == "likert" else "training.headline.positive_yes", language, label=label, rule=rule["text"])


# --------------------------------------------------------------------------- paired tests (L2)
def _bootstrap_ci(d: np.ndarray, func, *, n_boot: int, random_state: int, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of ``func`` over resampled pairs (fixed seed)."""
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    vals = func(d[idx])
    a = (1 - confidence) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


PAIRED_COLUMNS = [
    "item", "label", "kind", "n_pairs", "mean_before", "mean_after", "mean_change",
    "n_improved", "n_same", "n_worse", "share_improved", "share_same", "share_worse",
    "statistic", "p_value", "q_value", "effect_size", "ci_low", "ci_high", "ci_note", "method", "testable",
]


def same_direction_note(n_up: int, n_down: int, n: int, *, confidence: float = 0.95, language: str = "ja") -> str:
    """The note shown instead of an effect-size interval when every change went one way.

    States the direction and the share of pairs that moved that way with its Wilson
    interval, e.g. 「全員が同じ向き(変化した6人は全員上がった)。上がった人 100%(6/6人、
    95%信頼区間 61.0–100.0%)」. Empty when the changes go both ways or nobody changed.
    """
    if (n_up > 0) == (n_down > 0):
        return ""
    k = n_up if n_up else n_down
    lo, hi = wilson_interval(k, n, confidence=confidence)
    lo_hi = format_interval(float(lo), float(hi)).split("–")
    way = "up" if n_up else "down"
    return i18n.t("training.same_direction", language, k=k, dir=i18n.t(f"training.same_direction.{way}", language), who=i18n.t(f"training.same_direction.who_{way}", language),
                  pct=format_percent(k, n, language=language), num=k, n=n, lo=lo_hi[0], hi=lo_hi[1])


def _paired_row(item: str, kind: str, before: np.ndarray, after: np.ndarray, *, n_boot: int, random_state: int, confidence: float, language: str) -> dict:
    def text(code: str, **params) -> str:
        return _method(code, language, **params)

    ok = ~(np.isnan(before) | np.isnan(after))
    before, after = before[ok], after[ok]
    d = after - before
    n = int(len(d))
    row = {
        "item": item, "kind": kind, "n_pairs": n,
        "mean_before": float(before.mean()) if n else np.nan,
        "mean_after": float(after.mean()) if n else np.nan,
        "mean_change": float(d.mean()) if n else np.nan,
        "n_improved": int((d > 0).sum()), "n_same": int((d == 0).sum()), "n_worse": int((d < 0).sum()),
        "statistic": np.nan, "p_value": np.nan, "effect_size": np.nan, "ci_low": np.nan, "ci_high": np.nan, "ci_note": "",
        "testable": False,
    }
    for k in ("improved", "same", "worse"):
        row[f"share_{k}"] = row[f"n_{k}"] / n if n else np.nan
    if n == 0:
        row["method"] = text("no_pairs")
        return row
    effect = rank_biserial if kind == "likert" else (lambda x: np.mean(x, axis=-1))
    row["effect_size"] = float(effect(d))
    if n == 1:
        row["method"] = text("one_pair")
        return row
    if (d == 0).all():
        row["method"] = text("no_change")
        return row
    if kind == "likert":
        res = wilcoxon_pratt(before, after)
        test = text("wilcoxon_exact") if res["exact"] else text("wilcoxon_approx")
        eff = text("rank_biserial")
        note = same_direction_note(row["n_improved"], row["n_worse"], n, confidence=confidence, language=language)
        if note:
            # the bootstrap cannot resample a change in the direction never seen: no interval
            lo = hi = np.nan
            ci = text("ci_none")
        else:
            lo, hi = _bootstrap_ci(d, effect, n_boot=n_boot, random_state=random_state, confidence=confidence)
            ci = text("ci_bootstrap", n_boot=n_boot)
            if not hi > lo:
                lo = hi = np.nan
                note = text("no_spread")
                ci = note
    else:
        res = mcnemar_test(before, after)
        test = text("mcnemar_exact") if res["exact"] else text("mcnemar_chi2")
        eff = text("diff_share")
        lo, hi = paired_share_difference_ci(before, after, confidence=confidence)
        ci, note = text("ci_newcombe"), ""
    row["statistic"], row["p_value"] = res["statistic"], res["p_value"]
    row["ci_low"], row["ci_high"], row["ci_note"] = lo, hi, note
    sep = _method("sep", language)
    row["method"] = f"{test}{sep}{eff}{sep}{ci}"
    row["testable"] = True
    return row


def paired_tests(
    pairs: pd.DataFrame,
    *,
    items: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    group: str | None = "participant",
    n_boot: int = N_BOOT,
    random_state: int = RANDOM_STATE,
    confidence: float = 0.95,
    language: str = "ja",
) -> pd.DataFrame:
    """Per item, before vs after in matched pairs: test, effect size with interval, shares.

    Parameters
    ----------
    pairs
        :func:`match_waves` output (``item``, ``kind``, ``before``, ``after``, ``group``).
    items
        Item id → kind (``likert``/``yesno``) to report, so that an item with no matched
        pair still gets a row saying so. Default: ``pairs.attrs["items"]`` set by
        :func:`match_waves`, else the items present in ``pairs``.
    labels
        Item id → label for the ``label`` column (:func:`item_labels`).
    group
        Keep only this group (``participant``); ``None`` uses every pair.
    n_boot, random_state, confidence
        Percentile bootstrap for the rank-biserial interval (resampling pairs); the level
        of every interval.

    Returns
    -------
    DataFrame
        One row per item, in the order of ``pairs``:
        ``item``, ``label``, ``kind``; ``n_pairs`` (pairs with both answers);
        ``mean_before``, ``mean_after``, ``mean_change`` (after − before; for yes/no the
        shares of "yes");
        ``n_improved``, ``n_same``, ``n_worse`` and ``share_improved``, ``share_same``,
        ``share_worse`` (after > / = / < before);
        ``statistic`` (Likert: W+, sum of Pratt ranks of increases, R's V; yes/no: the
        McNemar chi-squared, or the smaller discordant count for the exact test);
        ``p_value`` (two-sided); ``q_value`` (Benjamini–Hochberg across the items of this
        table); ``effect_size`` (Likert: matched-pairs rank-biserial correlation; yes/no:
        share "yes" after minus before; positive = rose); ``ci_low``, ``ci_high``
        (interval of the effect: Likert, percentile bootstrap of pairs; yes/no,
        Newcombe's method 10, :func:`paired_share_difference_ci`; NaN for a Likert item
        whose changes all went one way, see ``ci_note``); ``ci_note`` (empty, or why
        there is no interval: 「全員が同じ向き…」 with the share of pairs that moved that
        way and its Wilson interval, :func:`same_direction_note`); ``method`` (the test
        and interval used, or why no test was possible, in words); ``testable`` (bool).

    Notes
    -----
    Likert: Wilcoxon–Pratt, exact with ≤ 25 non-zero differences (:func:`wilcoxon_pratt`).
    When every non-zero difference has the same sign, the bootstrap of the rank-biserial
    correlation can only reshuffle the changes seen, so its interval is too narrow (it
    collapses to 1.00–1.00 when everyone rose); no interval is given then.
    """
    if not {"item", "kind", "before", "after"} <= set(pairs.columns):
        raise KeyError("paired_tests: pairs must come from match_waves (item, kind, before, after)")
    df = pairs if group is None or "group" not in pairs.columns else pairs[pairs["group"] == group]
    if items is None:
        items = pairs.attrs.get("items") or dict(pairs[["item", "kind"]].drop_duplicates("item").itertuples(index=False))
    rows = []
    for item, kind in items.items():
        sub = df[df["item"] == item]
        rows.append(_paired_row(item, kind, sub["before"].to_numpy(float), sub["after"].to_numpy(float), n_boot=n_boot, random_state=random_state, confidence=confidence, language=language))
    if not rows:
        return pd.DataFrame(columns=PAIRED_COLUMNS)
    out = pd.DataFrame(rows)
    out["label"] = [(labels or {}).get(i, i) for i in out["item"]]
    out["q_value"] = bh_adjust(out["p_value"])
    return out[PAIRED_COLUMNS]


# --------------------------------------------------------------------------- segments
def join_segments(pairs: pd.DataFrame, labels: pd.DataFrame, *, unassigned: str = "区分なし(アンケート未回答など)") -> pd.DataFrame:
    """Add each key's segment (notebook 02) to the pairs; training key = respondent id.

    Parameters
    ----------
    labels
        ``respondent_id``, ``segment`` (number), ``segment_name``: the output of
        :func:`dxanalysis.segments.assign_segments`.

    Returns
    -------
    DataFrame
        ``pairs`` with ``segment`` (float, NaN when the key has no segment) and
        ``segment_name`` (``unassigned`` for keys without a segment: people who did not
        answer the staff survey).
    """
    need = {"respondent_id", "segment", "segment_name"}
    if not need <= set(labels.columns):
        raise KeyError(f"join_segments: labels need columns {sorted(need)} (got {list(labels.columns)})")
    lab = labels[["respondent_id", "segment", "segment_name"]].copy()
    lab["respondent_id"] = lab["respondent_id"].astype(str)
    if lab["respondent_id"].duplicated().any():
        raise ValueError("join_segments: respondent_id is not unique in the segment labels")
    out = pairs.merge(lab, left_on=pairs["key"].astype(str), right_on="respondent_id", how="left").drop(columns=["respondent_id", "key_0"], errors="ignore")
    out["segment"] = pd.to_numeric(out["segment"], errors="coerce")
    out["segment_name"] = out["segment_name"].astype(object).where(out["segment_name"].notna(), unassigned)
    return out


def target_segment(pairs_with_segments: pd.DataFrame, target: int | None = None) -> int | None:
    """The segment the training aimed at: ``target`` if given, else the one most matched
    participants came from (ties: lowest number). ``None`` when nobody has a segment."""
    if target:
        return int(target)
    p = pairs_with_segments[(pairs_with_segments["group"] == "participant") & pairs_with_segments["segment"].notna()]
    if p.empty:
        return None
    counts = p.drop_duplicates("key")["segment"].value_counts()
    return int(min(counts.index[counts == counts.max()]))


def effects_by_segment(
    pairs_with_segments: pd.DataFrame,
    *,
    target: int | None = None,
    labels: Mapping[str, str] | None = None,
    n_boot: int = N_BOOT,
    random_state: int = RANDOM_STATE,
    language: str = "ja",
) -> pd.DataFrame:
    """Paired effects of the participants per segment and for the targeted segment vs others.

    Parameters
    ----------
    pairs_with_segments
        :func:`join_segments` output.
    target
        Segment number the training aimed at; ``None``: :func:`target_segment` decides.

    Returns
    -------
    DataFrame
        :func:`paired_tests` columns, preceded by ``grouping`` (``target`` for the
        targeted segment vs all other participants, ``segment`` for one row block per
        segment), ``group`` (display name) and ``segment`` (number; NaN for "others" and
        for participants without a segment), and at the end ``display_label``
        (item label and group on two lines, for charts). ``q_value`` is adjusted across the rows of
        each ``grouping`` (the ``target`` block repeats one segment's tests).
        Show it through ``pub.table(n_col="n_pairs", by=["grouping", "item"])`` so that
        groups under ``min_group_size`` are hidden.
    """
    p = pairs_with_segments[pairs_with_segments["group"] == "participant"]
    items = dict(p[["item", "kind"]].drop_duplicates("item").itertuples(index=False))
    tgt = target_segment(p, target)
    blocks = []
    if tgt is not None:
        name = p.loc[p["segment"] == tgt, "segment_name"]
        name = name.iloc[0] if len(name) else str(tgt)
        is_t = p["segment"] == tgt
        for sel, grp, seg in [(is_t, i18n.t("training.group.target", language, segment=tgt, name=name), float(tgt)), (~is_t, i18n.t("training.group.others", language), np.nan)]:
            b = paired_tests(p[sel], items=items, labels=labels, group=None, n_boot=n_boot, random_state=random_state, language=language)
            b.insert(0, "segment", seg)
            b.insert(0, "group", grp)
            b.insert(0, "grouping", "target")
            blocks.append(b)
    seg_keys = p[["segment", "segment_name"]].drop_duplicates().sort_values("segment", na_position="last")
    for seg, sname in seg_keys.itertuples(index=False):
        sel = p["segment"] == seg if pd.notna(seg) else p["segment"].isna()
        b = paired_tests(p[sel], items=items, labels=labels, group=None, n_boot=n_boot, random_state=random_state, language=language)
        b.insert(0, "segment", seg)
        b.insert(0, "group", f"{int(seg)} {sname}" if pd.notna(seg) else sname)
        b.insert(0, "grouping", "segment")
        blocks.append(b)
    if not blocks:
        return pd.DataFrame(columns=["grouping", "group", "segment"] + PAIRED_COLUMNS)
    out = pd.concat(blocks, ignore_index=True)
    out["display_label"] = out["label"].astype(str) + "\n" + out["group"].astype(str)
    # one BH family per grouping: the target rows repeat a segment's rows, so pooling both
    # would count the same test twice
    for g in out["grouping"].unique():
        sel = out["grouping"] == g
        out.loc[sel, "q_value"] = bh_adjust(out.loc[sel, "p_value"])
    return out


# --------------------------------------------------------------------------- difference-in-differences
DID_COLUMNS = [
    "item", "label", "kind", "n_participants", "n_non_participants", "n_smaller_group",
    "change_participants", "change_non_participants", "estimate", "std_error", "ci_low", "ci_high",
    "p_value", "q_value", "method",
]


def did_estimates(pairs: pd.DataFrame, *, labels: Mapping[str, str] | None = None, cov_type: str = "cluster", confidence: float = 0.95, min_pairs: int = 2, language: str = "ja") -> pd.DataFrame:
    """Difference-in-differences of participants against non-participants, per item.

    For each item, the long pre/post panel of matched people (two rows per key) is fitted
    by OLS ``y ~ post * participant`` (statsmodels); the coefficient of
    ``post:participant`` is the estimate: the participants' mean change minus the
    non-participants' mean change, in scale points (yes/no items: in shares, a linear
    probability model).

    Parameters
    ----------
    pairs
        :func:`match_waves` output with both groups.
    cov_type
        ``cluster`` (default): standard errors robust to the two answers of one person
        being correlated (clustered by key, CR1 small-sample factor), Student-t with
        G − 1 degrees of freedom (G = number of people); ``HC1``: heteroskedasticity-robust.
    min_pairs
        Fewest matched people per group for an estimate.

    Returns
    -------
    DataFrame
        One row per item that can be estimated (empty when there are no non-participant
        pairs): ``item``, ``label``, ``kind``, ``n_participants``,
        ``n_non_participants`` (matched people with both answers), ``n_smaller_group``
        (the smaller of the two; use as ``n_col`` for privacy), ``change_participants``,
        ``change_non_participants`` (mean after − before), ``estimate`` (their
        difference), ``std_error``, ``ci_low``, ``ci_high``, ``p_value``, ``q_value``
        (Benjamini–Hochberg across items), ``method``.

    Notes
    -----
    The estimate is the training's effect only if both groups would have changed alike
    without it (parallel trends) and if who attended is unrelated to how people would
    have changed anyway (no self-selection). See :func:`dxanalysis.views.training.did_caveat`.
    """
    import statsmodels.formula.api as smf

    rows = []
    for item in pd.unique(pairs["item"]):
        sub = pairs[pairs["item"] == item].dropna(subset=["before", "after"])
        n_p = int((sub["group"] == "participant").sum())
        n_n = int((sub["group"] == "non_participant").sum())
        if n_p < min_pairs or n_n < min_pairs:
            continue
        chg = (sub["after"] - sub["before"]).groupby(sub["group"]).mean()
        base = {
            "item": item, "label": (labels or {}).get(item, item), "kind": sub["kind"].iloc[0],
            "n_participants": n_p, "n_non_participants": n_n, "n_smaller_group": min(n_p, n_n),
            "change_participants": float(chg.get("participant", np.nan)),
            "change_non_participants": float(chg.get("non_participant", np.nan)),
        }
        if (sub["after"] == sub["before"]).all():
            # nobody changed in either group: the estimate is exactly 0 and has no standard error
            rows.append({**base, "estimate": 0.0, "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "q_value": np.nan,
                         "method": _method("no_change_both", language)})
            continue
        long = pd.DataFrame(
            {
                "y": np.concatenate([sub["before"].to_numpy(float), sub["after"].to_numpy(float)]),
                "post": np.repeat([0, 1], len(sub)),
                "participant": np.tile((sub["group"] == "participant").to_numpy(int), 2),
                "cluster": np.tile(pd.factorize(sub["key"])[0], 2),
            }
        )
        model = smf.ols("y ~ post * participant", data=long)
        if cov_type == "cluster":
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": long["cluster"].to_numpy()}, use_t=True)
            meth = "OLS y ~ post × participant, cluster-robust SE (by person, CR1), t(G−1)"
        else:
            fit = model.fit(cov_type=cov_type, use_t=True)
            meth = f"OLS y ~ post × participant, {cov_type} SE"
        name = "post:participant"
        ci = fit.conf_int(alpha=1 - confidence).loc[name]
        rows.append(
            {
                **base,
                "estimate": float(fit.params[name]), "std_error": float(fit.bse[name]),
                "ci_low": float(ci.iloc[0]), "ci_high": float(ci.iloc[1]), "p_value": float(fit.pvalues[name]),
                "q_value": np.nan, "method": meth,
            }
        )
    out = pd.DataFrame(rows, columns=DID_COLUMNS)
    if len(out):
        out["q_value"] = bh_adjust(out["p_value"])
    return out


def did_means(pairs: pd.DataFrame, *, labels: Mapping[str, str] | None = None, language: str = "ja") -> pd.DataFrame:
    """Mean answer of each group before and after (for the DID chart).

    Returns
    -------
    DataFrame
        ``item``, ``label``, ``group`` (``participant``/``non_participant``),
        ``group_label``, ``wave`` (``before``/``after``), ``n`` (people with both
        answers), ``mean``.
    """
    gl = GROUP_LABELS[_lang(language)]
    rows = []
    for (item, group), sub in pairs.dropna(subset=["before", "after"]).groupby(["item", "group"], sort=False):
        for wave in ("before", "after"):
            rows.append({"item": item, "label": (labels or {}).get(item, item), "group": group, "group_label": gl.get(group, group), "wave": wave, "n": int(len(sub)), "mean": float(sub[wave].mean())})
    return pd.DataFrame(rows, columns=["item", "label", "group", "group_label", "wave", "n", "mean"])


# --------------------------------------------------------------------------- follow-up (L3)
def followup_change(training, codebook, *, labels: Mapping[str, str] | None = None, n_boot: int = N_BOOT, random_state: int = RANDOM_STATE, language: str = "ja") -> pd.DataFrame:
    """Whether the change held: participants' post vs follow-up and pre vs follow-up.

    Returns
    -------
    DataFrame
        :func:`paired_tests` columns preceded by ``comparison`` (``post_followup``,
        ``pre_followup``) and ``comparison_label``; empty when there is no follow-up
        wave. ``q_value`` is adjusted across both comparisons and all items.
    """
    if getattr(training, "followup", None) is None:
        return pd.DataFrame(columns=["comparison", "comparison_label"] + PAIRED_COLUMNS)
    wl = WAVE_LABELS[_lang(language)]
    labels = labels if labels is not None else item_labels(codebook)
    blocks = []
    for before, after in [("post", "followup"), ("pre", "followup")]:
        pairs, _ = match_waves(training, codebook, before=before, after=after, language=language)
        b = paired_tests(pairs, labels=labels, n_boot=n_boot, random_state=random_state, language=language)
        b.insert(0, "comparison_label", f"{wl[before]}→{wl[after]}")
        b.insert(0, "comparison", f"{before}_{after}")
        blocks.append(b)
    out = pd.concat(blocks, ignore_index=True)
    out["q_value"] = bh_adjust(out["p_value"])
    return out


VERDICT_COLUMNS = [
    "item", "label", "n_pairs", "effect_pre_followup", "effect_post_followup", "ci_low_post_followup", "ci_high_post_followup",
    "margin", "verdict", "verdict_text",
]


def _levels(r, *, language: str) -> str:
    """「33%→24%」 (yes/no: share "yes") or 「平均3.88→3.81」 (Likert) of one paired row."""
    if pd.isna(r["mean_before"]) or pd.isna(r["mean_after"]):
        return ""
    if r["kind"] == "yesno":
        return f"{r['mean_before'] * 100:.0f}%→{r['mean_after'] * 100:.0f}%"
    return f"{'mean ' if language == 'en' else '平均'}{r['mean_before']:.2f}→{r['mean_after']:.2f}"


def followup_verdicts(fu: pd.DataFrame, *, alpha: float = 0.05, margin_likert: float = HELD_MARGIN_LIKERT, margin_yesno: float = HELD_MARGIN_YESNO,
                      language: str = "ja") -> pd.DataFrame:
    """One plain verdict per item from :func:`followup_change`.

    Rules (q = BH-adjusted, "post→FU" = right after vs follow-up, same people):

    * ``held``: follow-up is above pre (pre→FU q < ``alpha``, effect > 0) **and** the fall
      since right after is shown to be small: the lower end of the post→FU 95% interval
      is at least −``margin`` (``margin_likert`` on the rank-biserial scale,
      ``margin_yesno`` on the difference in share "yes"). Without an interval (Likert
      items whose changes all went one way), held only when nobody fell; when nobody
      changed at all between right after and follow-up, held.
    * ``partly``: above pre, and a clear fall since right after (post→FU q < ``alpha``,
      effect < 0).
    * ``above_pre``: above pre, but whether it fell since right after cannot be judged
      (the interval reaches below −margin without a significant fall, e.g. 4 of 42 went
      yes→no and none no→yes).
    * ``not_shown``: follow-up does not differ from pre; ``below``: below pre;
      ``untestable``: no pre→FU test possible.

    Parameters
    ----------
    fu
        :func:`followup_change` output.
    margin_likert, margin_yesno
        Largest fall since right after that still counts as "held"; fixed before looking
        at the data (defaults :data:`HELD_MARGIN_LIKERT` = 0.1, i.e. less than a small
        rank-biserial effect, and :data:`HELD_MARGIN_YESNO` = 0.1, i.e. 10 percentage points).

    Returns
    -------
    DataFrame
        ``item``, ``label``, ``n_pairs`` (pre–follow-up pairs), ``effect_pre_followup``,
        ``effect_post_followup``, ``ci_low_post_followup``, ``ci_high_post_followup``
        (its interval), ``margin`` (the margin used), ``verdict`` (code), ``verdict_text``
        (with the levels computed from the data, e.g. 「研修前よりは高い。直後からの低下の
        有無は判断できない(33%→24%)」: share "yes" or mean, right after → follow-up).
    """
    rows = []
    for item in pd.unique(fu["item"]):
        pf = fu[(fu["item"] == item) & (fu["comparison"] == "pre_followup")].iloc[0]
        po = fu[(fu["item"] == item) & (fu["comparison"] == "post_followup")]
        po = po.iloc[0] if len(po) else None
        margin = margin_yesno if pf["kind"] == "yesno" else margin_likert
        if not pf["testable"]:
            code = "untestable"
        elif pf["q_value"] < alpha and pf["effect_size"] > 0:
            if po is None:
                code = "above_pre"
            elif po["testable"] and po["q_value"] < alpha and po["effect_size"] < 0:
                code = "partly"
            elif po["testable"] and pd.notna(po["ci_low"]):
                code = "held" if po["ci_low"] >= -margin else "above_pre"
            elif po["testable"]:  # no interval: every change went one way
                code = "held" if po["n_worse"] == 0 else "above_pre"
            else:  # nobody changed since right after (or too few pairs to say)
                code = "held" if po["n_pairs"] >= 2 and po["n_same"] == po["n_pairs"] else "above_pre"
        elif pf["q_value"] < alpha and pf["effect_size"] < 0:
            code = "below"
        else:
            code = "not_shown"
        post_levels = _levels(po, language=language) if po is not None else ""
        text = i18n.t(f"training.verdict.{code}", language, post=post_levels, pre=_levels(pf, language=language)).replace("()", "").replace(": )", ")").replace(":)", ")")
        rows.append({"item": item, "label": pf["label"], "n_pairs": int(pf["n_pairs"]), "effect_pre_followup": pf["effect_size"],
                     "effect_post_followup": po["effect_size"] if po is not None else np.nan,
                     "ci_low_post_followup": po["ci_low"] if po is not None else np.nan, "ci_high_post_followup": po["ci_high"] if po is not None else np.nan,
                     "margin": margin, "verdict": code, "verdict_text": text})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def shares_by_wave(training, codebook, *, items: Sequence[str] | None = None, positive_min: int | None = None, cohort: bool = True, language: str = "ja") -> pd.DataFrame:
    """Share agreeing (Likert ≥ ``positive_min``, by default each item's
    :func:`positive_threshold`) or saying yes, per wave, participants.

    Parameters
    ----------
    cohort
        True: only participants who answered every wave present (a fixed group, so the
        waves are comparable); False: every participant sheet of each wave.

    Returns
    -------
    DataFrame
        ``item``, ``label``, ``wave``, ``wave_label``, ``numerator``, ``n``, ``share``,
        ``ci_low``, ``ci_high`` (Wilson 95%).
    """
    kinds = item_kinds(codebook)
    labels = item_labels(codebook)
    wl = WAVE_LABELS[_lang(language)]
    waves = [w for w in WAVES if getattr(training, w, None) is not None]
    frames = {w: wave_answers(training, w) for w in waves}
    if cohort:
        keys = set.intersection(*[set(f["key"].astype(str)) for f in frames.values()])
        frames = {w: f[f["key"].astype(str).isin(keys)] for w, f in frames.items()}
    items = list(items) if items is not None else [i for i in kinds if all(i in f.columns for f in frames.values())]
    rows = []
    for item in items:
        for w in waves:
            s = frames[w][item].dropna() if item in frames[w].columns else pd.Series(dtype=float)
            hit = (s >= positive_rule(codebook, item, threshold=positive_min)["threshold"]) if kinds.get(item) == "likert" else (s == 1)
            r = share_row(int(hit.sum()), int(len(s)), metric=item, label=labels.get(item, item))
            rows.append({"item": item, "label": r["label"], "wave": w, "wave_label": wl[w], **{k: r[k] for k in ("numerator", "n", "share", "ci_low", "ci_high")}})
    return pd.DataFrame(rows, columns=["item", "label", "wave", "wave_label", "numerator", "n", "share", "ci_low", "ci_high"])


# --------------------------------------------------------------------------- free text
def comment_count(training, codebook, *, wave: str = "post") -> pd.DataFrame:
    """Number of non-empty free-text answers per text item (counts only, no text).

    Returns
    -------
    DataFrame
        ``item``, ``label``, ``n`` (participant sheets of the wave), ``n_comments``.
    """
    if codebook is None or codebook.training is None:
        return pd.DataFrame(columns=["item", "label", "n", "n_comments"])
    df = wave_answers(training, wave)
    rows = []
    for it in codebook.training.items:
        if it.kind == "text" and it.id in df.columns:
            s = df[it.id].astype("string").str.strip()
            rows.append({"item": it.id, "label": it.label or it.header, "n": int(len(df)), "n_comments": int((s.notna() & (s != "")).sum())})
    return pd.DataFrame(rows, columns=["item", "label", "n", "n_comments"])


# --------------------------------------------------------------------------- display
def publish(pub, df: pd.DataFrame, name: str, *, caption: str | None = None, n_col: str | None = "n", by=None, labels: Mapping[str, str] | None = None,
            plain_cols: Sequence[str] = (), percent_cols: Sequence[str] = (), columns: Sequence[str] | None = None, view=None,
            caption_params: Mapping[str, object] | None = None):
    """``pub.table`` for training tables: text columns that quote counts go with the numbers.

    Text columns in :data:`TEXT_VALUE_COLUMNS` (``ci_note``, ``verdict_text``) quote counts
    or shares, so a hidden small group blanks them along with its numbers. Everything else
    (``plain_cols`` for intervals that are not shares, ``columns``, ``view``) is passed to
    :meth:`dxanalysis.report.Publisher.table`. Returns the filtered table.
    """
    from .privacy import PUBLIC_COLUMNS

    value_cols = None
    text_cols = [c for c in TEXT_VALUE_COLUMNS if c in df.columns]
    if text_cols and n_col is not None:
        keys = {by} if isinstance(by, str) else set(by or ())
        value_cols = [c for c in df.columns if (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])) and c not in keys | PUBLIC_COLUMNS] + text_cols
    return pub.table(df, name, caption=caption, n_col=n_col, by=by, labels=labels, value_cols=value_cols, plain_cols=plain_cols,
                     percent_cols=percent_cols, columns=columns, view=view, max_rows=None, caption_params=caption_params)


def effect_matrix(table: pd.DataFrame, *, language: str = "ja", alpha: float = 0.05) -> pd.DataFrame:
    """Compact display of :func:`effects_by_segment` output: one row per group, one column
    per item, cells 「+0.85* (0.69〜0.95)」 (effect, * when q < ``alpha``, interval), or
    「+1.00* (全員が同じ向き)」 when the changes all went one way (no interval).

    Built from the privacy-filtered table, so hidden groups read 「非表示(少人数)」.

    Returns
    -------
    DataFrame
        ``group`` (target and others first, then each segment), ``n`` (largest number of pairs over the items;
        NaN when hidden), then one string column per item label; ``suppressed``.
    """
    from .privacy import SUPPRESSED_MARK

    hidden_mark = SUPPRESSED_MARK.get(language, SUPPRESSED_MARK["ja"])

    same_way = i18n.t("training.same_way", language)

    def cell(r) -> str:
        if pd.isna(r["effect_size"]):
            return hidden_mark if r.get("suppressed", False) else "—"
        if pd.notna(r["ci_low"]):
            ci = " (" + i18n.t("range.tight", language, low=f"{r['ci_low']:.2f}", high=f"{r['ci_high']:.2f}") + ")"
        else:
            ci = f" ({same_way})" if isinstance(r.get("ci_note"), str) and r["ci_note"] else ""
        star = "*" if pd.notna(r["q_value"]) and r["q_value"] < alpha else ""
        return f"{r['effect_size']:+.2f}{star}{ci}"

    rows = []
    for (_grouping, group), sub in table.groupby(["grouping", "group"], sort=False):
        row = {"group": group, "n": sub["n_pairs"].max()}
        for r in sub.to_dict("records"):
            row[r["label"]] = cell(r)
        row["suppressed"] = bool(sub["suppressed"].all()) if "suppressed" in sub.columns else False
        rows.append(row)
    return pd.DataFrame(rows)
