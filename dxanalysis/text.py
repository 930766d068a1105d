"""Free-text answers (自由記述) in a notebook section: compute, then publish.

:func:`publish_comments` is the one call a notebook makes per free-text question. It is
:func:`dxanalysis.freetext.comment_analysis` (redaction, terms, log-odds by group,
co-occurrence, excerpts → a :class:`CommentReport` of tidy frames, no Publisher, no
chart, no file) followed by :func:`render_comments` (tables, charts from
:mod:`dxanalysis.plots.text`, alt text, findings and the private file, all through the
notebook's Publisher). The words of the section (captions, alt text, notes) are here.

Every computing function of :mod:`dxanalysis.freetext` is re-exported, so ``text.redact``,
``text.tokenize``, ``text.log_odds_dirichlet`` … keep working.

This module is in the publishing layer (it draws); :mod:`dxanalysis.freetext` is a step.
See docs/text.md for the method, the thresholds and every output column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .freetext import (  # noqa: F401  (re-exported: text.<name> is the documented API)
    EMAIL_RE,
    KINDS,
    MIN_DOCS,
    NON_SUBSTANTIVE,
    PHONE_KEYWORD_RE,
    PHONE_RE,
    REDACTION_LABELS,
    RESOURCES,
    STAFF_NO_RE,
    VARIANTS,
    CommentReport,
    Span,
    _analyse,
    _find_small_sections,
    _force_layout,
    _grid,
    _group_visibility,
    _name_lists,
    analyse,
    characteristic_terms,
    comment_analysis,
    cooccurrence,
    document_terms,
    find_personal_data,
    get_tokenizer,
    is_substantive,
    kwic,
    load_stopwords,
    log_odds_dirichlet,
    network_layout,
    nfkc,
    redact,
    redact_series,
    redaction_scores,
    term_clusters,
    term_frequencies,
    term_frequencies_by_group,
    tokenize,
)
from .freetext import small_sections as _small_sections
from .privacy import PLACEHOLDERS  # noqa: F401  (was importable as text.PLACEHOLDERS)

small_sections = _small_sections  # re-exported (publish_comments has a parameter of the same name)

MESSAGES = {
    "ja": {
        "too_few": "{title}: 記述のある回答が{n}件で、表示の基準({k}件)に満たないため、語の集計や記述の例は表示しません。",
        "rules": "{title}: 記述のある回答は{n}件です(無回答・「特になし」等{m}件を除く)。氏名・メールアドレス・電話番号・職員番号・少人数の所属名は集計の前に記号に置き換えています。{k}人未満のグループの語は表示せず、{d}件未満の記述にしか出てこない語も表示しません。",
        "redaction_caption": "{title}: 置き換えた個人情報の件数",
        "terms_caption": "{title}: よく使われた語(上位{top}語、{d}件以上の記述に出てくる語)",
        "terms_alt": "{title}でよく使われた語の横棒グラフ(記述{n}件に占める割合)。最も多いのは「{t1}」({s1:.0f}%)、次いで「{t2}」({s2:.0f}%)。",
        "terms_alt1": "{title}でよく使われた語の横棒グラフ(記述{n}件に占める割合)。最も多いのは「{t1}」({s1:.0f}%)。",
        "groups_caption": "{title}: グループ別の記述数(語を表示するのは{k}人以上のグループ)",
        "char_caption": "{title}: グループに特徴的な語(重み付き対数オッズ比のz値が1.96以上、上位{top}語)",
        "char_alt": "{attr}別に特徴的な語の横棒グラフ(z値)。{desc}",
        "char_desc": "{g}では「{t}」(z={z:.1f})",
        "char_none": "どのグループにも統計的に目立つ語はありませんでした。",
        "net_alt": "{title}の共起ネットワーク。同じ記述に一緒に出てくる語を線で結び、色はまとまり(話題)を表す。最大のまとまりは{terms}。",
        "kwic_caption": "{title}: よく使われた語の使われ方(記述の一部、個人情報は置き換え済み)",
        "net_caption": "線で結ばれた語は、同じ記述の中で一緒に使われることが多い語です(線が太いほど強い)。円の大きさは記述数、色は語のまとまり(話題)を表します。",
        "finding": "{title}(記述{n}件)で最も多く触れられた語は「{t1}」(記述の{s1:.0f}%)でした。",
        "no_terms": "{title}: {d}件以上の記述に共通する語がありませんでした。",
        "shown": "語を表示",
        "labels": {"term": "語", "n_docs": "記述数", "doc_share": "記述に占める割合", "count": "出現回数", "rank": "順位", "n": "記述者数", "attribute": "属性", "group": "グループ", "terms": "特徴的な語(z値)", "left": "前", "keyword": "該当箇所", "right": "後", "kind": "種類", "placeholder": "置き換え記号", "description": "内容", "n_comments": "該当した記述数", "shown": "語を表示", "status": "語の表示", "log_odds": "対数オッズ比", "z": "z値", "term_a": "語A", "term_b": "語B", "jaccard": "Jaccard係数"},
    },
    "en": {
        "too_few": "{title}: {n} comments, fewer than the threshold ({k}); no terms or examples are shown.",
        "rules": "{title}: {n} comments ({m} empty or 'nothing' answers left out). Names, e-mail addresses, phone and staff numbers and small section names were replaced before analysis. Groups under {k} and terms in fewer than {d} comments are not shown.",
        "redaction_caption": "{title}: personal data replaced",
        "terms_caption": "{title}: most used terms (top {top}, in at least {d} comments)",
        "terms_alt": "Bar chart of the terms most used in {title} (share of {n} comments). Most frequent: '{t1}' ({s1:.0f}%), then '{t2}' ({s2:.0f}%).",
        "terms_alt1": "Bar chart of the terms most used in {title} (share of {n} comments). Most frequent: '{t1}' ({s1:.0f}%).",
        "groups_caption": "{title}: commenters per group (terms shown for groups of {k} or more)",
        "char_caption": "{title}: terms characteristic of a group (weighted log-odds z ≥ 1.96, top {top})",
        "char_alt": "Bar chart of the terms characteristic of each {attr} group (z). {desc}",
        "char_desc": "{g}: '{t}' (z={z:.1f})",
        "char_none": "No group has a statistically distinctive term.",
        "net_alt": "Co-occurrence network of {title}: terms used in the same comments are linked; colours are groups of terms (topics). Largest group: {terms}.",
        "kwic_caption": "{title}: how the most used terms are used (excerpts, personal data replaced)",
        "net_caption": "Linked terms are often used in the same comment (thicker = stronger). Circle size = comments, colour = group of terms (topic).",
        "finding": "In {title} ({n} comments) the most mentioned term was '{t1}' ({s1:.0f}% of comments).",
        "no_terms": "{title}: no term is shared by {d} or more comments.",
        "shown": "terms shown",
        "labels": {"n": "commenters", "n_docs": "comments", "doc_share": "share of comments", "terms": "characteristic terms (z)", "status": "terms"},
    },
}


def publish_comments(
    pub,
    texts: pd.Series,
    groups: pd.DataFrame | None = None,
    *,
    min_group_size: int,
    small_sections: Sequence[str] = (),
    title: str = "自由記述",
    name: str | None = None,
    section_attribute: str = "department",
    min_docs: int = MIN_DOCS,
    top_n: int = 20,
    kwic_terms: int = 3,
    kwic_examples: int = 3,
    extra_stopwords: Iterable[str] = (),
    finding: bool = True,
    attribute_labels: Mapping[str, str] | None = None,
    random_state: int = 0,
) -> CommentReport:
    """One notebook section for a free-text question: redact, count, chart, examples.

    :func:`comment_analysis` then :func:`render_comments`. Everything goes through the
    Publisher ``pub``; only redacted text and terms of groups with at least
    ``min_group_size`` commenters reach shared outputs.

    Parameters
    ----------
    pub
        :class:`dxanalysis.report.Publisher` of the notebook (its ``language`` and
        ``min_group_size`` are used).
    texts
        The free-text column (``m.survey["comment"]``, ``m.training.post["training_comment"]``).
    groups
        Attributes of the same respondents (same index), e.g.
        ``m.survey[["department", "grade", "age_band"]]``; ``None`` for overall only.
    min_group_size
        The comment threshold, ``m.config.comment_min_group_size`` (default 10); never
        below ``pub.min_group_size``.
    small_sections
        Section names to redact. Values of ``groups[section_attribute]`` with fewer
        than ``min_group_size`` respondents are added automatically.
    title
        Name of the question in captions (e.g. 自由意見, 研修の感想).
    name
        Prefix of output files; default ``texts.name`` (``comment`` →
        ``tables/comment_terms.csv``, ``tables/comment_terms_by_group.csv``).
    section_attribute
        Column of ``groups`` whose small values are redacted as [所属].
    min_docs
        A term must occur in at least this many comments (overall and per group).
    top_n
        Terms in the bar chart.
    kwic_terms, kwic_examples
        Keyword-in-context excerpts: for the ``kwic_terms`` most used terms, up to
        ``kwic_examples`` excerpts each.
    extra_stopwords
        Words to drop for this question only (e.g. 研修 for training comments).
    finding
        Record the most mentioned term as a key finding (index.html).
    random_state
        Seed of the excerpt choice and the network layout.
    attribute_labels
        Display names of the ``groups`` columns (default: 所属部署, 職層, 年代, 雇用形態,
        セグメント for the usual ids; e.g. pass ``{a: m.codebook.label_of(a) ...}``).

    Returns
    -------
    CommentReport
        What was computed (assign it: ``comments = publish_comments(...)``); its frames
        hold attribute ids, the published tables their display names.

    Notes
    -----
    Outputs: ``tables/<name>_redaction.csv`` (placeholder, description, count, n_comments),
    ``tables/<name>_terms.csv`` (term, n_docs, doc_share, count, rank, n),
    ``tables/<name>_groups.csv`` (attribute, group, n, status) and
    ``tables/<name>_terms_by_group.csv`` (see :func:`term_frequencies_by_group`), ``tables/<name>_characteristic.csv``,
    ``tables/<name>_cooccurrence.csv``, ``tables/<name>_kwic.csv`` (term, left, keyword,
    right), ``figures/<name>_terms``, ``figures/<name>_characteristic_<attribute>``,
    ``figures/<name>_network``, and ``private/<name>_redacted.csv`` (respondent-level
    redacted text, private).
    """
    report = comment_analysis(
        texts,
        groups,
        min_group_size=max(int(min_group_size), int(getattr(pub, "min_group_size", 0))),
        small_sections=small_sections,
        name=name,
        section_attribute=section_attribute,
        min_docs=min_docs,
        top_n=top_n,
        kwic_terms=kwic_terms,
        kwic_examples=kwic_examples,
        extra_stopwords=extra_stopwords,
        language=getattr(pub, "language", "ja"),
        random_state=random_state,
    )
    render_comments(report, pub, title=title, finding=finding, attribute_labels=attribute_labels)
    return report


def render_comments(report: CommentReport, pub, *, title: str = "自由記述", finding: bool = True, attribute_labels: Mapping[str, str] | None = None) -> None:
    """Publish a :class:`CommentReport`: notes, tables, charts with alt text, the finding.

    Computes nothing new (only picks rows to draw and formats words). Thresholds and
    language are the report's (``report.min_group_size``, ``min_docs``, ``language``).
    The private file ``private/<name>_redacted.csv`` is written first; when
    ``report.shown`` is false only the note and the redaction counts follow.
    """
    import matplotlib.pyplot as plt

    from .plots import setup_style
    from .plots import text as ptext

    lang = report.language
    msg = MESSAGES.get(lang, MESSAGES["ja"])
    labels = msg["labels"]
    name, min_group_size, min_docs, n_comments = report.name, report.min_group_size, report.min_docs, report.n_comments
    setup_style()

    pub.private_table(report.redacted, f"{name}_redacted")
    summary = report.redaction
    if not report.shown:
        pub.note(msg["too_few"].format(title=title, n=n_comments, k=min_group_size))
        pub.table(summary.drop(columns="kind"), f"{name}_redaction", n_col=None, caption=msg["redaction_caption"].format(title=title), labels=labels)
        return
    pub.note(msg["rules"].format(title=title, n=n_comments, m=report.n_answers - n_comments, k=min_group_size, d=min_docs))
    pub.table(summary.drop(columns="kind"), f"{name}_redaction", n_col=None, caption=msg["redaction_caption"].format(title=title), labels=labels)

    terms = report.terms
    # the chart below shows the same numbers; the full list is in the CSV / tables.xlsx
    pub.table(_whole_numbers(terms, ["n_docs", "count", "rank"]), f"{name}_terms", n_col="n", caption=msg["terms_caption"].format(title=title, top=report.top_n, d=min_docs), labels=labels, percent_cols=["doc_share"], show=False)
    if terms.empty:
        pub.note(msg["no_terms"].format(title=title, d=min_docs))
        return

    top = terms.head(report.top_n)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(top) + 1.2))
    ptext.term_bars(top, ax=ax, language=lang)
    alt_key = "terms_alt" if len(top) > 1 else "terms_alt1"
    second = top.iloc[min(1, len(top) - 1)]
    alt = msg[alt_key].format(title=title, n=n_comments, t1=top["term"].iloc[0], s1=100 * top["doc_share"].iloc[0], t2=second["term"], s2=100 * second["doc_share"])
    pub.figure(fig, f"{name}_terms", alt=alt, caption=msg["terms_caption"].format(title=title, top=len(top), d=min_docs))
    if finding:
        pub.finding(msg["finding"].format(title=title, n=n_comments, t1=top["term"].iloc[0], s1=100 * top["doc_share"].iloc[0]))

    if report.attributes:
        amap = {**_ATTRIBUTE_LABELS, **(attribute_labels or {})} if lang != "en" else dict(attribute_labels or {})
        # one decision for every comment table: groups under the comment threshold, the plan's
        # groups and their complements per attribute; the term tables have no row of them, so no
        # table hides a group whose size another shows (the audit's sized_elsewhere on generated towns)
        sizes = report.group_sizes
        hidden = pub.filter(sizes, n_col="n", by="attribute", value_cols=[], min_size=min_group_size, forced=~sizes["shown"].astype(bool))["suppressed"].astype(bool)
        hidden_pairs = set(zip(sizes["attribute"][hidden], sizes["group"].astype(str)[hidden]))

        def of_visible(df: pd.DataFrame) -> pd.DataFrame:
            return df[[(a, str(g)) not in hidden_pairs for a, g in zip(df["attribute"], df["group"])]] if len(df) else df

        by_group, char = (_label_attributes(of_visible(df), amap) for df in (report.terms_by_group, report.characteristic))
        pub.table(_group_status(_label_attributes(sizes.assign(shown=~hidden), amap), min_group_size, lang), f"{name}_groups", n_col="n", by="attribute", min_size=min_group_size, forced=hidden,
                  caption=msg["groups_caption"].format(title=title, k=min_group_size), labels=labels)
        pub.table(_whole_numbers(by_group, ["n_docs", "count"]), f"{name}_terms_by_group", n_col="n", by=["attribute", "term"], labels=labels, percent_cols=["doc_share"], show=False)
        if not char.empty and char["terms"].eq("—").all():
            pub.table(char, f"{name}_characteristic", n_col="n", by="attribute", labels=labels, show=False)
            pub.note(msg["char_none"])
        elif not char.empty:
            pub.table(char, f"{name}_characteristic", n_col="n", by="attribute", caption=msg["char_caption"].format(title=title, top=5), labels=labels)
            first = report.attributes[0]
            sub = by_group[(by_group["attribute"] == amap.get(first, first)) & (by_group["z"] >= 1.96)]
            if not sub.empty:
                fig = ptext.characteristic_terms_grid(sub, top_n=5, language=lang)
                best = sub.loc[sub.groupby("group", sort=False)["z"].idxmax()]
                desc = "、".join(msg["char_desc"].format(g=g, t=t, z=z) for g, t, z in zip(best["group"], best["term"], best["z"]))
                pub.figure(fig, f"{name}_characteristic_{first}", alt=msg["char_alt"].format(attr=amap.get(first, first), desc=desc + "。"))

    nodes, kept = report.nodes, report.cooccurrence
    if len(kept):
        pub.table(_whole_numbers(kept, ["n_docs"]), f"{name}_cooccurrence", n_col=None, labels=labels, show=False)
        fig, ax = plt.subplots(figsize=(8, 6))
        ptext.cooccurrence_network(nodes, kept, ax=ax)
        biggest = nodes[nodes["cluster"] == 1].nlargest(4, "n_docs")["term"]
        pub.figure(fig, f"{name}_network", alt=msg["net_alt"].format(title=title, terms="「" + "」「".join(biggest) + "」"), caption=msg["net_caption"])

    if len(report.kwic.columns):  # computed (even with no excerpt) whenever terms were shown
        pub.table(report.kwic, f"{name}_kwic", n_col=None, caption=msg["kwic_caption"].format(title=title), labels=labels)


def _label_attributes(df: pd.DataFrame, amap: Mapping[str, str]) -> pd.DataFrame:
    """``attribute`` ids → display names (the published tables and charts show names)."""
    if "attribute" not in df.columns:
        return df
    return df.assign(attribute=df["attribute"].map(lambda a: amap.get(a, a)))


def _whole_numbers(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Integer columns as Python ints (object dtype) so the report shows 53, not 53.00.

    ``privacy.suppress_small_groups`` casts every numeric column to float; these object
    columns of numbers are blanked for a hidden row all the same (``privacy._holds_numbers``):
    a group the comment analysis showed can still be hidden by the municipality's plan.
    """
    out = df.copy()
    for c in cols:
        if c in out.columns:
            out[c] = pd.Series([int(v) for v in out[c]], index=out.index, dtype=object)
    return out


def _group_status(sizes: pd.DataFrame, min_group_size: int, language: str) -> pd.DataFrame:
    """Groups table with a readable ``status`` instead of the boolean ``shown``."""
    # one word for every hidden group: saying which are under the threshold and which are
    # complements would tell a reader which hidden counts are small (see docs/privacy.md)
    words = ("shown", f"hidden (small group, or so one cannot be recovered from the total; threshold {min_group_size})") if language == "en" else \
        ("表示", f"非表示(少人数、または合計から逆算させないため。基準 {min_group_size}人)")
    status = np.where(sizes["shown"], words[0], words[1])
    return sizes.drop(columns="shown").assign(status=status)


_ATTRIBUTE_LABELS = {"department": "所属部署", "grade": "職層", "age_band": "年代", "employment": "雇用形態", "segment": "セグメント", "group": "区分"}
