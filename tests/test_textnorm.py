"""The two NFKC functions and the jobs they differ on."""

import math

from dxanalysis import config, io, text
from dxanalysis.textnorm import nfkc, nfkc_text


def test_value_cells_are_normalised_and_stripped():
    assert nfkc(" ３０代\u3000") == "30代"  # full-width digits and the ideographic space
    assert nfkc(3) == 3 and math.isnan(nfkc(float("nan"))) and nfkc(None) is None  # non-text left as it is


def test_free_text_is_not_stripped_and_missing_is_empty():
    assert nfkc_text(" ＤＸ研修\n") == " DX研修\n"
    assert nfkc_text(None) == "" and nfkc_text(float("nan")) == ""
    assert nfkc_text(12) == "12"


def test_old_names_still_import():
    assert io.nfkc is nfkc and config._nfkc is nfkc
    assert text.nfkc is nfkc_text
