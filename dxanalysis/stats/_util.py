"""Argument checks shared by the statistics and the step modules (which import them from here)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], func: str, what: str = "survey") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{func}: {what} has no column(s) {missing}; available: {list(frame.columns)}")
