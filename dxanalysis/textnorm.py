"""Unicode normalisation (NFKC) of what respondents and advisors typed.

Two functions for two jobs: :func:`nfkc` for cells that are values (codes, attribute
values, headers, codebook entries: also stripped, non-text left as it is; formerly
``io.nfkc`` and ``config._nfkc``) and :func:`nfkc_text` for free-text answers (not
stripped, missing becomes ``""``; formerly ``text.nfkc``).
Full-width ``３０代`` and half-width ``30代`` are the same value after either.
"""

from __future__ import annotations

import unicodedata


def nfkc(value):
    """NFKC-normalise and strip a text cell; other values are returned unchanged."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


def nfkc_text(text) -> str:
    """NFKC-normalised free text: ``''`` for missing values, other values as ``str``.

    Unlike :func:`nfkc` the text is not stripped (spacing and line breaks at its ends are
    kept) and every answer becomes a string, so the text functions (redaction, tokenising,
    key words in context) need no check for missing values. Formerly ``text.nfkc``.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        import pandas as pd  # here, not at the top: `dxanalysis run` on unchanged folders never needs pandas

        if pd.isna(text):
            return ""
    return unicodedata.normalize("NFKC", str(text))
