"""What shared outputs may show: minimum group size, complementary suppression, redaction.

Every table that reaches a shared report passes through :func:`suppress_small_groups`
(``dxanalysis.report.Publisher.table`` calls it), so a group under ``min_group_size``
never shows a count, share, score or chart, and a hidden cell cannot be recovered by
subtracting the others from a total. :func:`suppression_plan` decides once per
municipality which attribute groups every output hides, so no notebook sizes a group
another one hid; :func:`neutralise_formula` keeps spreadsheet formulas out of CSV/XLSX.
:mod:`dxanalysis.audit` checks the result from outside, sharing none of this code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n
from .config import ABSOLUTE_MIN_GROUP_SIZE

#: Columns that identify respondents or hold their own words; never in a shared table.
PRIVATE_COLUMNS = {"respondent_id", "key", "comment", "training_comment", "text", "raw_text"}

#: Roster columns: public organisation figures, not respondent data, so never hidden.
PUBLIC_COLUMNS = {"staff"}

SUPPRESSED_MARK = {language: i18n.t("hidden", language) for language in i18n.LANGUAGES}  # the words: i18n.TEXT["hidden"]


def check_min_group_size(min_size: int) -> int:
    """Return ``min_size`` or raise ValueError when it is below the absolute floor (3)."""
    if int(min_size) < ABSOLUTE_MIN_GROUP_SIZE:
        raise ValueError(f"min_group_size は {ABSOLUTE_MIN_GROUP_SIZE} 以上にしてください / min_group_size must be at least {ABSOLUTE_MIN_GROUP_SIZE} (got {min_size})")
    return int(min_size)


def _holds_numbers(col: pd.Series) -> bool:
    """An object column of numbers (e.g. counts kept as Python ints so the report shows 53, not 53.00).

    Such a column is a statistic like any numeric one and is blanked for a hidden row; found
    by the audit on generated towns, where a group hidden by the municipality's plan kept its
    term counts in ``comment_terms_by_group`` (issue #17 session 4, `tests/test_privacy.py`).
    """
    if col.dtype != object:
        return False
    values = col.dropna()
    return len(values) > 0 and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    n_col: str = "n",
    min_size: int = 5,
    by: str | Sequence[str] | None = None,
    value_cols: Sequence[str] | None = None,
    complementary: bool = True,
    partitions: Sequence[Sequence[str]] | None = None,
    forced: pd.Series | None = None,
) -> pd.DataFrame:
    """Hide every figure of groups with fewer than ``min_size`` respondents.

    Parameters
    ----------
    table
        One row per group, with a count column ``n_col``.
    n_col
        Column holding the number of respondents behind each row.
    min_size
        Smallest group that may be shown (refused below 3).
    by
        Columns that partition the rows into sets that add up to a known total (for
        example ``"attribute"`` in a long table of groups by several attributes).
        Complementary suppression works within each partition. ``None``: one partition.
    value_cols
        Columns to blank for hidden rows; default every numeric column (``n_col`` included).
    complementary
        When exactly one row of a partition is hidden, also hide the next-smallest row,
        so the hidden count cannot be recovered as total minus the shown rows.
    partitions
        Several ways the rows add up to known totals, e.g. ``[["segment", "attribute"],
        ["attribute", "group"]]`` for a segment × group table whose row and column sums are
        both published. The complementary step repeats over every partition until none has
        exactly one hidden cell (two-way suppression). Overrides ``by``.
    forced
        Boolean Series (same index): rows hidden whatever their own count, because the
        municipality's :class:`SuppressionPlan` hides their group (reason ``plan``).

    Returns
    -------
    DataFrame
        A copy with hidden values set to NaN and a boolean column ``suppressed``
        (``primary``, ``plan`` or ``complementary`` in ``suppression_reason``; that column
        is for ``private/`` only, see :meth:`dxanalysis.report.Publisher.table`).

    Notes
    -----
    The primary rule follows employee-survey practice (no result for fewer than 5
    respondents); complementary suppression is the standard disclosure-control step of
    statistical offices (hide a second cell when one is hidden in a row with a total).
    A line (partition) that hides anything hides at least two cells *and* cells that
    together hold at least ``min_size`` respondents, adding the smallest shown cell
    until both hold: two hidden cells that sum to 1 (or 0) would otherwise pin each
    other down from the published total. The smallest cell loses the least information.
    With several ``partitions`` (rows and columns), interval propagation over all line
    totals then checks that no hidden cell under ``min_size`` is narrowed to fewer than 3
    values, hiding the next-smallest cell of its line until none is.
    """
    min_size = check_min_group_size(min_size)
    if n_col not in table.columns:
        raise KeyError(f"suppress_small_groups: column {n_col!r} not in table (columns: {list(table.columns)})")
    out = table.copy()
    keys = {by} if isinstance(by, str) else set(by or ())
    keys |= {c for p in (partitions or ()) for c in (p or ())}
    if value_cols is None:  # grouping columns identify the row and stay visible
        value_cols = [c for c in out.columns if (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]) or _holds_numbers(out[c]))
                      and c not in PUBLIC_COLUMNS | keys | {"suppressed"}]
    n = pd.to_numeric(out[n_col], errors="coerce")
    primary = n.notna() & (n < min_size)
    reason = pd.Series(np.where(primary, "primary", ""), index=out.index, dtype=object)
    if forced is not None:
        forced = forced.reindex(out.index).fillna(False).astype(bool)
        reason[forced & ~primary] = "plan"
    if complementary:
        if partitions is None:
            partitions = [None] if by is None else [[by] if isinstance(by, str) else list(by)]
        reason = pd.Series(_complementary(n.to_numpy(dtype=float, na_value=np.nan), reason.to_numpy(), _partition_groups(out, partitions), min_size),
                           index=out.index, dtype=object)
    mask = reason != ""
    for col in value_cols if mask.any() else ():  # nothing hidden: keep ints as ints
        if col in out.columns:
            if pd.api.types.is_bool_dtype(out[col]) or not pd.api.types.is_numeric_dtype(out[col]):
                out[col] = out[col].astype(object)  # a flag of a hidden group is hidden too, not shown as 0
                out.loc[mask, col] = None
                continue
            if not pd.api.types.is_float_dtype(out[col]):
                out[col] = out[col].astype(float)
            out.loc[mask, col] = np.nan
    out["suppressed"] = mask.values
    out["suppression_reason"] = reason.values
    return out


def _partition_groups(table: pd.DataFrame, partitions) -> list[tuple[list[np.ndarray], np.ndarray]]:
    """Per partition: its groups as arrays of row positions (in ``groupby(...).groups`` order)
    and each row's group number (-1: a row with an empty key, in no group)."""
    frame = table.reset_index(drop=True)  # positions, whatever the table's index
    out = []
    for keys in partitions:
        if keys is None:
            gid = np.zeros(len(frame), dtype=np.int64)
        else:  # ngroup numbers the groups in the order of .groups (first appearance with sort=False); no Index per group
            ng = frame.groupby(keys[0] if len(keys) == 1 else list(keys), observed=True, sort=False).ngroup().to_numpy(dtype=float, na_value=np.nan)
            gid = np.where(np.isnan(ng) | (ng < 0), -1, ng).astype(np.int64)
        inside = np.flatnonzero(gid >= 0)
        order = inside[np.argsort(gid[inside], kind="stable")]  # positions by group, ascending within each
        groups = np.split(order, np.cumsum(np.bincount(gid[inside]))[:-1]) if len(inside) else []
        out.append((groups, gid))
    return out


def _smallest_shown(n: np.ndarray, gid: np.ndarray, shown: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the position of its smallest shown cell (empty counts last, ties by position; -1: none).

    The order of ``Series.sort_values(kind="stable")`` (NaN last), for every group at once.
    """
    rows = np.flatnonzero(shown & (gid >= 0))
    out = np.full(n_groups, -1, dtype=np.int64)
    if len(rows):
        v = n[rows]
        order = np.lexsort((rows, np.where(np.isnan(v), 0.0, v), np.isnan(v), gid[rows]))
        first = np.r_[True, np.diff(gid[rows][order]) != 0]
        out[gid[rows][order][first]] = rows[order][first]
    return out


def _complementary(n: np.ndarray, reason: np.ndarray, parts, min_size: int) -> np.ndarray:
    """The complementary step of :func:`suppress_small_groups` on row positions.

    ``reason``: "" (shown), "primary" or "plan" per row; returns it with "complementary"
    added. Within one partition the groups are disjoint, so one pass over a partition
    hides, in every group at once, what a loop over its groups would.
    """
    reason = reason.astype(object).copy()
    counts = np.where(np.isnan(n), 0.0, n)
    for _ in range(len(n) + 1):  # each pass hides at least one more cell, or stops
        changed = False
        for groups, gid in parts:
            hidden = reason != ""
            inside = gid >= 0
            size = np.bincount(gid[inside], minlength=len(groups))
            n_hidden = np.bincount(gid[inside & hidden], minlength=len(groups))
            sum_hidden = np.bincount(gid[inside & hidden], weights=counts[inside & hidden], minlength=len(groups))
            need = (n_hidden > 0) & (size >= 2) & ((n_hidden == 1) | (sum_hidden < min_size))
            if not need.any():
                continue
            pick = _smallest_shown(n, gid, ~hidden, len(groups))[need]
            pick = pick[pick >= 0]
            if len(pick):
                reason[pick] = "complementary"
                changed = True
        if not changed and len(parts) > 1:
            # rows and columns together can still pin a hidden cell (e.g. two hidden 0s and
            # a 1 in a rectangle); widen the line of the first such cell and go round again
            for i in _narrow_cells(counts, reason != "", parts, min_size):
                for groups, gid in parts:
                    if gid[i] < 0:
                        continue
                    idx = groups[gid[i]]
                    shown = idx[reason[idx] == ""]
                    if len(shown):
                        reason[_smallest_shown(n, gid, reason == "", len(groups))[gid[i]]] = "complementary"
                        changed = True
                        break
                if changed:
                    break
        if not changed:
            break
    return reason


def _narrow_cells(n: np.ndarray, hidden: np.ndarray, parts, min_size: int, rounds: int = 50) -> list:
    """Hidden cells (positions) that the published line totals narrow to fewer than 3 values, below ``min_size``.

    Interval propagation over every line (partition group) whose total a reader can
    compute: the hidden cells of a line sum to ``S`` (line total minus shown cells), so
    each lies in ``[S − Σ others' upper, S − Σ others' lower]``; repeated until stable.
    A cheaper cousin of the audit's linear programmes (``dxanalysis.audit``), written
    separately on purpose.
    """
    lines = []
    for groups, _ in parts:
        for idx in groups:
            h = [int(i) for i in idx if hidden[i]]
            if h:
                lines.append((h, float(n[h].sum())))
    lo = {int(i): 0.0 for i in np.flatnonzero(hidden)}
    hi = {i: np.inf for i in lo}
    for _ in range(rounds):
        moved = False
        for h, total in lines:
            sum_lo, sum_hi = sum(lo[j] for j in h), sum(hi[j] for j in h)
            for i in h:
                new_lo = max(lo[i], total - (sum_hi - hi[i]))
                new_hi = min(hi[i], total - (sum_lo - lo[i]))
                if new_lo > lo[i] + 1e-9 or new_hi < hi[i] - 1e-9:
                    lo[i], hi[i], moved = new_lo, new_hi, True
        if not moved:
            break
    return [i for i in lo if hi[i] - lo[i] < 2 and lo[i] < min_size]


def assert_shareable(table: pd.DataFrame, name: str = "table") -> None:
    """Refuse a table that carries respondent ids or free text into a shared output."""
    leaked = PRIVATE_COLUMNS & set(map(str, table.columns))
    if leaked:
        raise ValueError(f"{name}: columns {sorted(leaked)} are respondent-level and may only go to private outputs")


# --------------------------------------------------------------------------- redaction
# The patterns and the redaction itself live in dxanalysis.text (redact, redact_series);
# these placeholders are shared so every output uses the same marks.
PLACEHOLDERS = {
    "email": {"ja": "[メール]", "en": "[EMAIL]"},
    "phone": {"ja": "[電話番号]", "en": "[PHONE]"},
    "staff_no": {"ja": "[職員番号]", "en": "[STAFF_NO]"},
    "name": {"ja": "[氏名]", "en": "[NAME]"},
    "section": {"ja": "[所属]", "en": "[SECTION]"},
}


# --------------------------------------------------------------------------- formula text
#: First characters that make a spreadsheet treat a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_formula(value):
    """Text that a spreadsheet would run as a formula, made inert with a leading ``'``.

    OWASP's advice for CSV/XLSX exports: prefix ``'`` to a text cell that starts with
    ``=`` ``+`` ``-`` ``@``, a tab or a carriage return. Numbers stay numbers (a float
    ``-0.5``, and text that is exactly a number such as ``"-3"``, which Excel reads as the
    number it is); everything else (``"+0.8ポイント"``, ``"=HYPERLINK(...)"``) gets the prefix.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value.strip()):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`neutralise_formula` on every text cell (and header) of a table."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]) or isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).map(neutralise_formula)
    out.columns = [neutralise_formula(c) for c in out.columns]
    return out


# --------------------------------------------------------------------------- one plan
@dataclass
class SuppressionPlan:
    """Which groups of a municipality are hidden in every shared output.

    Computed once per run from the survey (:func:`suppression_plan`), deterministically,
    so every notebook (run in parallel, in separate kernels) derives the same plan. Every
    :meth:`dxanalysis.report.Publisher.table` call hides the rows of these groups whatever
    the table's own counts, so a group hidden in one table is never sized by another
    (the leak this closes: a complementary cell hidden in notebook 01 but shown with
    ``n`` and ``group_share`` in notebook 02's segment composition).

    Attributes
    ----------
    min_size
        The municipality's ``min_group_size``.
    groups
        One row per attribute × group: ``attribute``, ``attribute_label``, ``group``,
        ``n`` (respondents), ``hidden`` (bool), ``reason`` (``primary`` /
        ``complementary`` / ""). Private: written to ``private/suppression_plan.csv``.
    """

    min_size: int
    groups: pd.DataFrame

    def hidden(self) -> pd.DataFrame:
        return self.groups[self.groups["hidden"]]

    def forced(self, table: pd.DataFrame) -> pd.Series:
        """Rows of ``table`` that belong to a hidden group (matched on attribute id or label, then group)."""
        out = pd.Series(False, index=table.index)
        hid = self.hidden()
        if not len(hid) or "group" not in table.columns:
            return out
        pairs = set(zip(hid["attribute"], hid["group"].astype(str))) | set(zip(hid["attribute_label"], hid["group"].astype(str)))
        group = table["group"].astype(str)
        attr_col = "attribute" if "attribute" in table.columns else "attribute_label" if "attribute_label" in table.columns else None
        if attr_col is not None:
            attr = table[attr_col].astype(str)
            return pd.Series([(a, g) in pairs for a, g in zip(attr, group)], index=table.index)
        return group.isin(set(hid["group"].astype(str)))  # no attribute column: the group's name alone

    def to_csv(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.groups.to_csv(path, index=False, encoding="utf-8-sig")
        return path


def suppression_plan(survey: pd.DataFrame, codebook, *, min_size: int = 5) -> SuppressionPlan:
    """The municipality's one suppression plan: which attribute groups every output hides.

    Parameters
    ----------
    survey
        ``Municipality.survey`` (one row per respondent, attribute columns).
    codebook
        The codebook (attribute ids, labels and listed values).
    min_size
        ``min_group_size``.

    Returns
    -------
    SuppressionPlan
        Groups under ``min_size`` respondents (``primary``) and, per attribute, the
        smallest other groups needed so that the hidden groups of the attribute are at
        least two and hold at least ``min_size`` respondents together
        (``complementary``), as :func:`suppress_small_groups` does for one table.

    Notes
    -----
    The plan is built from respondent counts, the widest population any notebook
    publishes; a table of a sub-population (answers to one item, one segment) hides
    these groups and then applies its own primary and complementary rules on top.
    """
    min_size = check_min_group_size(min_size)
    rows = []
    for attr in codebook.attribute_ids:
        if attr not in survey.columns:
            continue
        col = survey[attr]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().astype(str).unique())
        counts = col.astype(object).value_counts()
        for g in cats:
            rows.append({"attribute": attr, "attribute_label": codebook.label_of(attr), "group": str(g), "n": int(counts.get(g, 0))})
    groups = pd.DataFrame(rows, columns=["attribute", "attribute_label", "group", "n"])
    if len(groups):
        done = suppress_small_groups(groups, n_col="n", min_size=min_size, by="attribute", value_cols=[])
        groups["hidden"] = done["suppressed"].to_numpy()
        groups["reason"] = done["suppression_reason"].to_numpy()
    else:
        groups["hidden"], groups["reason"] = pd.Series(dtype=bool), pd.Series(dtype=object)
    return SuppressionPlan(min_size=min_size, groups=groups)
