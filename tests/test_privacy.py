"""Minimum group size and complementary suppression."""

import pandas as pd
import pytest

from dxanalysis.privacy import assert_shareable, check_min_group_size, suppress_small_groups


def table():
    return pd.DataFrame({"attribute": ["dept"] * 4 + ["age"] * 3, "group": list("ABCDxyz"), "n": [40, 3, 12, 8, 30, 20, 13], "share": [0.5, 0.9, 0.4, 0.3, 0.5, 0.6, 0.7]})


def test_primary_and_complementary_within_partition():
    out = suppress_small_groups(table(), min_size=5, by="attribute")
    dept = out[out.attribute == "dept"].set_index("group")
    assert dept.loc["B", "suppression_reason"] == "primary" and pd.isna(dept.loc["B", "share"]) and pd.isna(dept.loc["B", "n"])
    # the next smallest (D, n=8) is hidden too, so B = total - shown cannot be recovered
    assert dept.loc["D", "suppression_reason"] == "complementary" and pd.isna(dept.loc["D", "n"])
    assert dept.loc["A", "n"] == 40 and not dept.loc["A", "suppressed"]
    assert not out[out.attribute == "age"]["suppressed"].any()


def test_two_small_cells_need_no_complement():
    df = pd.DataFrame({"group": list("ABC"), "n": [2, 4, 30], "mean": [1.0, 2.0, 3.0]})
    out = suppress_small_groups(df, min_size=5)
    assert out["suppression_reason"].tolist() == ["primary", "primary", ""]


def test_floor_of_three():
    with pytest.raises(ValueError, match="3"):
        check_min_group_size(2)
    with pytest.raises(ValueError):
        suppress_small_groups(table(), min_size=1)


def test_respondent_columns_refused():
    with pytest.raises(ValueError, match="respondent_id"):
        assert_shareable(pd.DataFrame({"respondent_id": [1], "x": [2]}))


def test_nothing_hidden_keeps_integer_counts():
    df = pd.DataFrame({"group": list("AB"), "n": [10, 20]})
    out = suppress_small_groups(df, min_size=5)
    assert out["n"].dtype.kind == "i" and not out["suppressed"].any()
