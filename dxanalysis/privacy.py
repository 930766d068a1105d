"""What shared outputs may show: minimum group size, complementary suppression, redaction.

Every table that reaches a shared report passes through :func:`suppress_small_groups`
(``dxanalysis.report.Publisher.table`` calls it), so a group under ``min_group_size``
never shows a count, share, score or chart, and a hidden cell cannot be recovered by
subtracting the others from a total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import ABSOLUTE_MIN_GROUP_SIZE

#: Columns that identify respondents or hold their own words; never in a shared table.
PRIVATE_COLUMNS = {"respondent_id", "key", "comment", "training_comment", "text", "raw_text"}

#: Roster columns: public organisation figures, not respondent data, so never hidden.
PUBLIC_COLUMNS = {"staff"}

SUPPRESSED_MARK = {"ja": "非表示(少人数)", "en": "hidden (small group)"}


def check_min_group_size(min_size: int) -> int:
    """Return ``min_size`` or raise ValueError when it is below the absolute floor (3)."""
    if int(min_size) < ABSOLUTE_MIN_GROUP_SIZE:
        raise ValueError(f"min_group_size は {ABSOLUTE_MIN_GROUP_SIZE} 以上にしてください / min_group_size must be at least {ABSOLUTE_MIN_GROUP_SIZE} (got {min_size})")
    return int(min_size)


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    n_col: str = "n",
    min_size: int = 5,
    by: str | Sequence[str] | None = None,
    value_cols: Sequence[str] | None = None,
    complementary: bool = True,
    partitions: Sequence[Sequence[str]] | None = None,
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

    Returns
    -------
    DataFrame
        A copy with hidden values set to NaN and a boolean column ``suppressed``
        (``primary`` or ``complementary`` in ``suppression_reason``).

    Notes
    -----
    The primary rule follows employee-survey practice (no result for fewer than 5
    respondents); complementary suppression is the standard disclosure-control step of
    statistical offices (hide a second cell when one is hidden in a row with a total).
    """
    min_size = check_min_group_size(min_size)
    if n_col not in table.columns:
        raise KeyError(f"suppress_small_groups: column {n_col!r} not in table (columns: {list(table.columns)})")
    out = table.copy()
    keys = {by} if isinstance(by, str) else set(by or ())
    keys |= {c for p in (partitions or ()) for c in (p or ())}
    if value_cols is None:  # grouping columns identify the row and stay visible
        value_cols = [c for c in out.columns if (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])) and c not in PUBLIC_COLUMNS | keys | {"suppressed"}]
    n = pd.to_numeric(out[n_col], errors="coerce")
    primary = n.notna() & (n < min_size)
    reason = pd.Series(np.where(primary, "primary", ""), index=out.index, dtype=object)
    if complementary:
        if partitions is None:
            partitions = [None] if by is None else [[by] if isinstance(by, str) else list(by)]
        parts = [[out.index] if keys is None else [pd.Index(i) for i in out.groupby(keys[0] if len(keys) == 1 else list(keys), observed=True, sort=False).groups.values()] for keys in partitions]
        for _ in range(len(out) + 1):  # each pass hides at least one more cell, or stops
            changed = False
            for groups in parts:
                for idx in groups:
                    hidden = reason.loc[idx] != ""
                    if hidden.sum() == 1 and len(idx) > 1:
                        candidates = n.loc[idx][~hidden].sort_values(kind="stable")
                        if len(candidates):
                            reason.loc[candidates.index[0]] = "complementary"
                            changed = True
            if not changed:
                break
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
