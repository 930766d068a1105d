"""Segments: estimator contract, k-selection rule, numbering, names, opportunities, privacy,
and recovery of the planted segments of the sample municipality."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import estimator_checks

from dxanalysis import io, segments
from dxanalysis.config import Codebook
from dxanalysis.plots import segments as pseg
from dxanalysis.segments import SegmentModel
from dxanalysis.views import segments as vseg

from conftest import SAMPLE

FAST = {"n_resamples": 3, "n_init": 3}


# --------------------------------------------------------------------------- synthetic helpers
def blobs(k: int, *, n: int = 240, dim: int = 4, seed: int = 0, std: float = 0.4):
    """Well-separated Gaussian blobs with a known number of groups."""
    rng = np.random.default_rng(seed)
    centres = rng.choice([-3.0, 0.0, 3.0], size=(k, dim))
    while len({tuple(c) for c in centres}) < k:  # distinct centres
        centres = rng.choice([-3.0, 0.0, 3.0], size=(k, dim))
    X, y = make_blobs(n_samples=n, centers=centres, cluster_std=std, random_state=seed)
    return X, y


def codebook(areas: dict[str, str]) -> Codebook:
    """A codebook with one item per construct; ``areas`` maps construct id → area."""
    labels = {"mind": "マインド・スタンス", "why": "DXの背景", "data": "データ活用", "tech": "デジタル技術", "use": "利活用", "caution": "留意点"}
    return Codebook(
        respondent_id="ID",
        attributes={"department": {"header": "所属", "label": "所属部署", "values": ["A", "B"]}},
        scales={"agree5": {"min": 1, "max": 5, "labels": {1: "1", 5: "5"}}},
        constructs={c: {"label": labels.get(c, c), "area": a} for c, a in areas.items()},
        items=[{"id": f"{c}_01", "header": f"{c} header", "construct": c, "scale": "agree5"} for c in areas],
    )


FOUR = codebook({"mind": "マインド・スタンス", "why": "Why(DXの背景)", "data": "What(データ・技術)", "tech": "What(データ・技術)"})


# --------------------------------------------------------------------------- estimator contract
@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_cloneable",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_fit_idempotent",
        "check_n_features_in_after_fitting",
    ],
)
def test_sklearn_contract(check):
    getattr(estimator_checks, check)("SegmentModel", SegmentModel(k_range=(2, 3), n_resamples=2, n_init=2))


def test_clone_keeps_params_and_fit_returns_self():
    est = SegmentModel(n_segments=3, k_range=(2, 5), method="gmm", random_state=7, n_resamples=4)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "labels_")
    X, _ = blobs(3)
    assert est.fit(X) is est
    with pytest.raises(NotFittedError):
        twin.predict(X)


def test_init_does_not_validate_fit_does():
    est = SegmentModel(method="nonsense", k_range=(5, 2))  # no error here: no logic in __init__
    with pytest.raises(ValueError, match="method"):
        est.fit(blobs(2)[0])
    with pytest.raises(ValueError, match="k_range"):
        SegmentModel(k_range=(5, 2)).fit(blobs(2)[0])
    with pytest.raises(ValueError, match="missing values"):
        SegmentModel().fit(pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [1.0, 2.0, 3.0]}))


def test_same_seed_same_labels_other_seed_same_partition():
    X, _ = blobs(3, seed=3)
    a = SegmentModel(random_state=11, k_range=(2, 4), **FAST).fit(X)
    b = SegmentModel(random_state=11, k_range=(2, 4), **FAST).fit(X)
    c = SegmentModel(random_state=12, k_range=(2, 4), **FAST).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.selection_, b.selection_)
    # a different seed may start elsewhere, but numbering is by profile, so labels match too
    np.testing.assert_array_equal(a.labels_, c.labels_)


# --------------------------------------------------------------------------- rule for k
@pytest.mark.parametrize("k_true", [2, 3, 5])
@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_rule_recovers_known_k(k_true, method):
    X, y = blobs(k_true, n=50 * k_true, seed=k_true)
    est = SegmentModel(method=method, k_range=(2, 7), **FAST).fit(X)
    assert est.n_segments_ == k_true
    assert est.rule_ == ("silhouette" if method == "kmeans" else "bic")
    assert est.criterion_k_ == {"silhouette": k_true, "bic": k_true}
    assert adjusted_rand_score(y, est.labels_) == pytest.approx(1.0)
    chosen = est.selection_[est.selection_["chosen"]]
    assert len(chosen) == 1 and int(chosen["k"].iloc[0]) == k_true and chosen["method"].iloc[0] == method
    # well-separated blobs: every resample finds the same partition at the true k
    assert chosen["stability_ari"].iloc[0] == pytest.approx(1.0)


def test_stability_filter_and_fallback():
    X, _ = blobs(3, seed=5)
    est = SegmentModel(k_range=(2, 4), **FAST).fit(X)
    assert est.stability_.groupby(["k", "method"]).size().eq(FAST["n_resamples"]).all()
    multi = est.selection_[est.selection_["k"] >= 2]
    assert multi["stable"].equals(multi["stability_ari"] >= 0.8)
    # k = 1 (one group) has no stability to measure and always counts as stable
    single = est.selection_[est.selection_["k"] == 1]
    assert single["method"].tolist() == ["gmm"] and single["stability_ari"].isna().all() and single["stable"].all()
    # no k can reach an ARI above 1: the rule falls back to every k and says so
    none = SegmentModel(stability_threshold=1.01, k_range=(2, 4), **FAST).fit(X)
    assert not none.selection_.loc[none.selection_["k"] >= 2, "stable"].any() and none.rule_ == "silhouette_unstable" and none.n_segments_ == 3
    # without resampling there is no stability to filter on
    skip = SegmentModel(n_resamples=0, n_init=3, k_range=(2, 4)).fit(X)
    assert skip.selection_["stability_ari"].isna().all() and skip.selection_["stable"].all() and skip.stability_.empty


def test_n_segments_overrides_rule():
    X, _ = blobs(3, seed=1)
    est = SegmentModel(n_segments=2, k_range=(3, 4), **FAST).fit(X)
    assert est.n_segments_ == 2 and est.rule_ == "given"
    assert 2 in set(est.selection_["k"])  # the given k is fitted even outside k_range
    assert sorted(np.unique(est.labels_)) == [1, 2]


# --------------------------------------------------------------------------- no segment structure (k = 1)
def single_blob(n: int = 300, dim: int = 4, seed: int = 0):
    """One correlated Gaussian: no segments to find (correlation 0.5 between features)."""
    rng = np.random.default_rng(seed)
    cov = np.full((dim, dim), 0.5) + 0.5 * np.eye(dim)
    return rng.multivariate_normal(np.zeros(dim), cov, size=n)


def test_single_blob_bic_prefers_one_group():
    from scipy.stats import multivariate_normal

    X = single_blob()
    gmm = SegmentModel(method="gmm", k_range=(2, 6), **FAST).fit(X)
    km = SegmentModel(method="kmeans", k_range=(2, 6), **FAST).fit(X)
    # BIC of one Gaussian by hand: −2 Σ log N(x; x̄, S) + p log n, S the ML covariance (ddof 0),
    # p = d + d(d+1)/2 = 4 + 10 = 14 parameters (scipy.stats.multivariate_normal.logpdf)
    S = np.cov(X, rowvar=False, ddof=0)
    bic1 = -2 * multivariate_normal(X.mean(axis=0), S).logpdf(X).sum() + 14 * np.log(len(X))
    row = gmm.selection_[(gmm.selection_["k"] == 1) & (gmm.selection_["method"] == "gmm")]
    assert row["bic"].iloc[0] == pytest.approx(bic1, abs=1e-3)  # sklearn adds reg_covar 1e-6: second-order effect only
    assert gmm.bic_single_ == pytest.approx(bic1, abs=1e-3)
    assert row["bic"].iloc[0] < gmm.selection_.loc[gmm.selection_["k"] >= 2, "bic"].min()
    # the Gaussian mixture's own rule: one segment for everybody
    assert gmm.criterion_k_["bic"] == 1 and not gmm.structure_found_
    assert gmm.n_segments_ == 1 and gmm.rule_ == "bic" and set(gmm.labels_) == {1}
    assert set(gmm.predict(X[:5])) == {1}
    text = vseg.describe_selection(gmm)
    assert "セグメントには分けませんでした" in text and "明確なセグメント構造が見つかりませんでした" in text
    # k-means still splits (the silhouette cannot score k = 1) but the report says plainly it is a convenience split
    assert km.n_segments_ >= 2 and not km.structure_found_ and km.criterion_k_["bic"] == 1
    text = vseg.describe_selection(km)
    assert "明確なセグメント構造が見つかりませんでした" in text and "便宜上区切ったもの" in text
    assert vseg.describe_support(km).startswith("混合ガウスモデルのBICでは分けないモデル(k=1)が最も良く")


def test_clear_blobs_beat_one_group():
    X, _ = blobs(3, seed=2)
    est = SegmentModel(k_range=(2, 5), **FAST).fit(X)
    assert est.structure_found_ and est.criterion_k_["bic"] == 3
    assert est.bic_single_ > est.selection_.set_index(["method", "k"]).loc[("gmm", 3), "bic"]
    assert "分けないモデル(k=1)より小さい" in vseg.describe_support(est)


def test_staff_facing_text_has_no_method_ids_or_parameter_names():
    X, _ = blobs(3, seed=2)
    est = SegmentModel(k_range=(2, 4), n_segments=3, **FAST).fit(X)
    text = vseg.describe_selection(est) + vseg.describe_support(est)
    # a given k is the advisor's choice, said in plain words (no "パラメータ")
    assert "アドバイザーが3に指定" in text and "数はアドバイザーが指定" in text and "パラメータ" not in text
    assert "k-means" not in text and "kmeans" not in text and "gmm" not in text
    assert "k平均法" in text and "混合ガウスモデル" in text
    axes = pseg.selection_criteria(est.selection_)
    assert sorted(t.get_text() for t in axes[0].get_legend().get_texts()) == ["k平均法", "混合ガウスモデル"]


def test_one_segment_gets_no_opportunity():
    # k = 1: every z is 0, nothing is relatively low, so no recommendation is invented
    z = pd.DataFrame({"mind": [0.0], "why": [0.0], "data": [0.0], "tech": [0.0]}, index=pd.Index([1], name="segment"))
    opp = segments.match_opportunities(z, CATALOGUE, FOUR)
    assert opp.empty
    from dxanalysis.views import segments as vsegments  # the words of notebook 02
    assert "セグメントに合わせて勧められる機会がありませんでした" in vsegments.describe_opportunities(opp)


# --------------------------------------------------------------------------- weighted shares: interval and notes
def test_segment_table_wilson_interval_with_kish_n_hand_computed():
    labels = pd.Series([1, 1, 1, 2, 2], index=list("abcde"), dtype=float)
    weights = pd.Series([1.0, 1.0, 1.0, 2.0, 3.0], index=list("abcde"))
    prof = pd.DataFrame({"segment": [1, 2], "segment_name": ["x", "y"], "n": [3, 2], "construct": ["c", "c"], "mean": [3.0, 4.0]})
    t = segments.segment_table(prof, labels, weights)
    # weighted shares: segment 1 = 3/8 = 0.375, segment 2 = 5/8 = 0.625
    # Kish deff = n Σw² / (Σw)² = 5 × (1+1+1+4+9) / 8² = 80/64 = 1.25; n_eff = 5 / 1.25 = 4
    assert t.attrs["deff"] == pytest.approx(1.25) and t.attrs["n_eff"] == pytest.approx(4.0)
    assert t["weighted_share"].tolist() == pytest.approx([0.375, 0.625])
    # Wilson with x = 0.375 × 4 = 1.5 of n = 4: R Hmisc::binconf(1.5, 4, method="wilson") → 0.09189923 0.7805735
    assert t.loc[0, ["weighted_ci_low", "weighted_ci_high"]].tolist() == pytest.approx([0.09189923, 0.7805735], abs=1e-7)
    # segment 2 is the mirror image: 1 − 0.7805735, 1 − 0.09189923
    assert t.loc[1, ["weighted_ci_low", "weighted_ci_high"]].tolist() == pytest.approx([0.2194265, 0.90810077], abs=1e-7)
    # equal weights: deff 1 and the plain Wilson interval, R Hmisc::binconf(3, 5, method="wilson") → 0.2307243 0.8823792
    eq = segments.segment_table(prof, labels, pd.Series(2.0, index=labels.index))
    assert eq.attrs["deff"] == pytest.approx(1.0)
    assert eq.loc[0, ["weighted_ci_low", "weighted_ci_high"]].tolist() == pytest.approx([0.2307243, 0.8823792], abs=1e-7)
    none = segments.segment_table(prof, labels, None)
    assert none[["weighted_share", "weighted_ci_low", "weighted_ci_high"]].isna().all().all()


def _frames(survey_rows, roster_rows):
    survey = pd.DataFrame(survey_rows, columns=["respondent_id", "department", "grade"])
    roster = pd.DataFrame(roster_rows, columns=["department", "grade", "staff"])
    return survey, roster


def test_raking_problems_become_notes_not_hidden_warnings():
    import warnings

    from dxanalysis import survey as sv

    # 企画部 has staff but no respondent
    survey, roster = _frames([("1", "総務部", "係員"), ("2", "総務部", "係長"), ("3", "福祉部", "係員"), ("4", "福祉部", "係長")],
                             [("総務部", "係員", 10), ("総務部", "係長", 5), ("福祉部", "係員", 8), ("福祉部", "係長", 4), ("企画部", "係員", 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak as a bare warning
        w, notes = segments.rake_with_notes(survey, roster, margins=["department", "grade"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sv.rake_weights(survey, roster, margins=["department", "grade"])
    pd.testing.assert_series_equal(w, ref)  # the weights themselves are rake_weights'
    assert len(notes) == 1 and "「企画部」には職員がいますが回答者がいません" in notes[0]

    # margins that cannot both hold: 総務部 (only 係員 answered) needs 10 係員, but the roster has 2
    survey, roster = _frames([("1", "総務部", "係員"), ("2", "福祉部", "係員"), ("3", "福祉部", "係長")],
                             [("総務部", "係員", 2), ("総務部", "係長", 8), ("福祉部", "係長", 10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, notes = segments.rake_with_notes(survey, roster, margins=["department", "grade"])
    assert any("収束せず" in n for n in notes)

    # a respondent without a department gets no weight, and the note says so
    survey, roster = _frames([("1", "総務部", "係員"), ("2", None, "係長"), ("3", "福祉部", "係員"), ("4", "福祉部", "係長")],
                             [("総務部", "係員", 5), ("総務部", "係長", 5), ("福祉部", "係員", 5), ("福祉部", "係長", 5)])
    w, notes = segments.rake_with_notes(survey, roster, margins=["department", "grade"])
    assert np.isnan(w.iloc[1]) and any("回答者1人は重みを付けられない" in n for n in notes)


# --------------------------------------------------------------------------- numbering and merging
def test_numbering_overall_then_order_features():
    rng = np.random.default_rng(0)
    # A: motivation +1, skill -1.5 (overall -0.25); B: motivation -1, skill +2 (overall +0.5);
    # C: both -2 (overall -2)
    centres = {"A": (1.0, -1.5), "B": (-1.0, 2.0), "C": (-2.0, -2.0)}
    X = np.vstack([rng.normal(c, 0.2, size=(40, 2)) for c in centres.values()])
    truth = np.repeat(list(centres), 40)
    plain = SegmentModel(n_segments=3, k_range=(3, 3), **FAST).fit(X)
    ordered = SegmentModel(n_segments=3, k_range=(3, 3), order_features=[0], **FAST).fit(pd.DataFrame(X, columns=["mot", "skill"]))
    by_name = SegmentModel(n_segments=3, k_range=(3, 3), order_features=["mot"], **FAST).fit(pd.DataFrame(X, columns=["mot", "skill"]))
    first = lambda est, g: int(pd.Series(est.labels_)[truth == g].mode()[0])  # noqa: E731
    assert [first(plain, g) for g in "BAC"] == [1, 2, 3]  # overall mean, high first
    assert [first(ordered, g) for g in "ABC"] == [1, 2, 3]  # motivation band first
    np.testing.assert_array_equal(ordered.labels_, by_name.labels_)
    assert ordered.profiles_.loc[1, "mot"] > 0.5
    np.testing.assert_array_equal(ordered.predict(pd.DataFrame(X, columns=["mot", "skill"])), ordered.labels_)


def test_small_segment_is_merged_into_nearest():
    rng = np.random.default_rng(1)
    big1 = rng.normal((0, 0), 0.3, size=(50, 2))
    big2 = rng.normal((6, 0), 0.3, size=(50, 2))
    tiny = rng.normal((4, 0), 0.05, size=(3, 2))  # nearer to big2
    X = np.vstack([big1, big2, tiny])
    est = SegmentModel(n_segments=3, k_range=(3, 3), min_segment_size=5, **FAST).fit(X)
    assert est.n_segments_ == 2 and est.k_ == 3
    assert est.merged_ and est.merged_[0]["n"] == 3
    assert len(set(est.labels_[100:]) | set(est.labels_[50:100])) == 1  # tiny joined big2
    assert est.profiles_["n"].min() >= 5
    np.testing.assert_array_equal(est.predict(X), est.labels_)


# --------------------------------------------------------------------------- names
def test_names_follow_the_grid():
    z = pd.DataFrame(
        {"mind": [1.0, 1.0, -1.0, -1.0, 0.0, 0.5], "why": [0.8, 0.8, -0.8, -0.8, 0.1, 0.4], "data": [1.0, -1.0, 1.0, -1.0, 0.0, 0.0], "tech": [0.6, -0.6, 0.6, -0.6, -0.1, 0.1]},
        index=pd.Index(range(1, 7), name="segment"),
    )
    nm = segments.name_segments(z, FOUR)
    assert nm["segment_name"].tolist() == ["意欲もスキルも高い推進役候補", "意欲は高いがスキルに不安", "スキルはあるがDXに懐疑的", "意欲・スキルとも低い", "平均的", "意欲が高い"]
    assert nm.loc[0, "motivation_z"] == pytest.approx(0.9)  # mean of mind and why
    assert nm.loc[1, "skill_z"] == pytest.approx(-0.8)  # mean of data and tech
    en = segments.name_segments(z, FOUR, language="en")
    assert en.loc[1, "segment_name"] == "Willing but unsure of their skills"


def test_names_override_duplicates_and_one_sided_codebook():
    z = pd.DataFrame({"mind": [0.0, 0.1], "why": [0.0, 0.0], "data": [0.1, -0.2], "tech": [-0.2, 0.1]}, index=[1, 2])
    nm = segments.name_segments(z, FOUR)
    assert nm["segment_name"].tolist() == ["平均的(デジタル技術が最も低い)", "平均的(データ活用が最も低い)"]
    nm = segments.name_segments(z, FOUR, names={"2": "推進役"})
    assert nm["segment_name"].tolist()[1] == "推進役" and nm["overridden"].tolist() == [False, True]
    with pytest.raises(ValueError, match="no segment 9"):
        segments.name_segments(z, FOUR, names={9: "x"})
    skills_only = codebook({"data": "What", "tech": "What"})
    nm = segments.name_segments(pd.DataFrame({"data": [1.0, -1.0], "tech": [0.5, -0.5]}, index=[1, 2]), skills_only)
    assert nm["segment_name"].tolist() == ["全体に高い", "全体に低い"]


def test_motivation_constructs_from_areas():
    assert segments.motivation_constructs(FOUR) == ["mind", "why"]


# --------------------------------------------------------------------------- opportunities
CATALOGUE = [
    {"id": "hands_on", "name": "ハンズオン", "format": "2時間", "addresses": ["data", "tech"]},
    {"id": "why", "name": "対話", "addresses": ["why", "mind"]},
    {"id": "data_only", "name": "データ", "addresses": ["data", "why"]},
    {"id": "leader", "name": "リーダー", "addresses": ["mind", "data"]},
]


def test_matching_weakness_strength_relative():
    z = pd.DataFrame(
        {"mind": [0.5, 1.0, 0.2], "why": [0.4, 0.9, 0.1], "data": [-1.0, 0.8, 0.0], "tech": [-0.5, 0.7, -0.2]},
        index=pd.Index([1, 2, 3], name="segment"),
    )
    opp = segments.match_opportunities(z, CATALOGUE, FOUR, leader_opportunities=["leader"], sizes={1: 50, 2: 40, 3: 30})
    s1 = opp[opp["segment"] == 1].reset_index(drop=True)
    # weak: data (-1.0), tech (-0.5); hands_on covers both: score 1.5, coverage 1
    assert s1["opportunity_id"].tolist() == ["hands_on", "data_only"]
    assert s1["score"].tolist() == pytest.approx([1.5, 1.0])
    assert s1["coverage"].tolist() == pytest.approx([1.0, 1.0 / 1.5])
    assert set(s1["basis"]) == {"weakness"} and "データ活用(-1.00SD)" in s1.loc[0, "reason"]
    assert "leader" not in set(s1["opportunity_id"])  # leaders' track is not offered to a weak segment
    s2 = opp[opp["segment"] == 2]
    assert s2["opportunity_id"].tolist() == ["leader"] and s2["basis"].iloc[0] == "strength"
    assert s2["score"].iloc[0] == pytest.approx(1.8)  # mind 1.0 + data 0.8
    s3 = opp[opp["segment"] == 3]  # no weakness, not high: the two lowest (tech, data)
    assert s3["basis"].iloc[0] == "relative" and s3["opportunity_id"].iloc[0] == "hands_on"
    assert opp.loc[opp["segment"] == 1, "n"].iloc[0] == 50
    targets = segments.training_targets(opp, "hands_on")
    assert targets["segment"].astype(int).tolist() == [1, 3]


def test_matching_without_leader_uses_relative_and_rejects_bad_catalogue():
    z = pd.DataFrame({"mind": [1.0], "why": [0.9], "data": [0.8], "tech": [0.4]}, index=[1])
    opp = segments.match_opportunities(z, CATALOGUE, FOUR)
    assert opp["basis"].iloc[0] == "relative"
    with pytest.raises(ValueError, match="addresses"):
        segments.match_opportunities(z, [{"id": "x"}], FOUR)


# --------------------------------------------------------------------------- privacy of the composition
def test_two_way_suppression():
    comp = pd.DataFrame(
        {
            "segment": [1, 1, 1, 2, 2, 2],
            "segment_name": ["a"] * 3 + ["b"] * 3,
            "attribute": ["department"] * 6,
            "attribute_label": ["所属部署"] * 6,
            "group": ["X", "Y", "Z"] * 2,
            "n": [3, 20, 30, 12, 25, 40],
        }
    )
    comp["share"] = comp["n"] / comp.groupby("segment")["n"].transform("sum")
    comp["group_share"] = comp["n"] / comp.groupby("group")["n"].transform("sum")
    out = segments.suppress_composition(comp, min_size=5)
    hidden = out.loc[out["suppressed"], ["segment", "group"]].apply(tuple, axis=1).tolist()
    # (1,X) primary; (1,Y) hides it within segment 1; (2,X) within group X; (2,Y) then within segment 2 and group Y
    assert sorted(hidden) == [(1, "X"), (1, "Y"), (2, "X"), (2, "Y")]
    assert out.loc[out["suppressed"], ["n", "share", "group_share"]].isna().all().all()
    for keys in (["segment", "attribute"], ["attribute", "group"]):
        assert (out.groupby(keys)["suppressed"].sum() != 1).all()


# --------------------------------------------------------------------------- features
def test_features_standardised_with_missing_rule(tiny):
    m = io.load_municipality(tiny)
    m.survey.loc[0, ["data_01", "data_02"]] = np.nan  # respondent 1: no data item → not segmented
    f = segments.construct_features(m)
    assert list(f.columns) == ["mind", "data"] and f.index.name == "respondent_id"
    assert f.loc["1"].isna().tolist() == [False, True]
    ok = f.dropna()
    assert len(ok) == 4
    np.testing.assert_allclose(ok.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(ok.std(ddof=0), 1.0)
    # respondent 3 answered data_01 = 2 and わからない: score 2 from the one answered item (half of 2)
    raw_data = np.array([3.5, 2.0, 2.0, 4.5])  # respondents 2..5, mean of data_01, data_02
    np.testing.assert_allclose(ok["data"], (raw_data - raw_data.mean()) / raw_data.std())


# --------------------------------------------------------------------------- sample municipality
@pytest.fixture(scope="module")
def sample(sample_municipality):
    return sample_municipality, segments.fit_segments(sample_municipality, leader_opportunities=["leader_track"])


@pytest.fixture(scope="module")
def planted():
    return pd.read_csv(SAMPLE / "truth" / "planted_segments.csv", dtype={"respondent_id": str}, encoding="utf-8-sig")


def test_sample_recovers_planted_segments(sample, planted):
    m, res = sample
    assert res.model.n_segments_ == planted["segment"].nunique() == 4
    assert res.model.criterion_k_ == {"silhouette": 4, "bic": 4}
    assert res.model.structure_found_ and res.model.bic_single_ > res.selection.set_index(["method", "k"]).loc[("gmm", 4), "bic"]
    mg = res.assignment.merge(planted, on="respondent_id", suffixes=("", "_planted"))
    assert len(mg) == len(planted) == 500 and res.n_unsegmented == 0
    assert adjusted_rand_score(mg["segment_planted"], mg["segment"].astype(int)) >= 0.8
    # the numbering rule (motivation band, then overall level) reproduces the planted numbers
    assert (mg["segment"].astype(int) == mg["segment_planted"]).mean() >= 0.95
    assert res.names["segment_name"].tolist() == ["意欲もスキルも高い推進役候補", "意欲は高いがスキルに不安", "スキルはあるがDXに懐疑的", "意欲・スキルとも低い"]


def test_sample_weighted_shares_match_r_survey(sample, planted):
    """Raked to all four roster margins, as notebook 01. Reference (planted labels = ours):
    R survey 4.1.1: des <- svydesign(ids=~1, data=d); rk <- rake(des, list(~dept, ~grade,
    ~age, ~emp), <roster totals per margin>, control=list(maxit=100, epsilon=1e-10));
    coef(svymean(~factor(segment), rk)) → 0.238126 0.311145 0.187429 0.263299
    Interval: w <- weights(rk); deff <- length(w)*sum(w^2)/sum(w)^2 → 1.209679;
    neff <- length(w)/deff → 413.3329; Hmisc::binconf(p*neff, neff, method="wilson")."""
    _, res = sample
    assert res.table["weighted_share"].round(6).tolist() == [0.238126, 0.311145, 0.187429, 0.263299]
    assert res.design_effect == pytest.approx(1.209679, abs=1e-6) and res.n_eff == pytest.approx(413.3329, abs=1e-4)
    np.testing.assert_allclose(res.table["weighted_ci_low"], [0.1995938, 0.2684242, 0.1527483, 0.2231599], atol=1e-6)
    np.testing.assert_allclose(res.table["weighted_ci_high"], [0.2814815, 0.3573437, 0.2278670, 0.3077982], atol=1e-6)
    assert res.notes == []  # every roster category has respondents and raking converged
    # the sentences carry the interval, rounded as printed
    text = vseg.describe_table(res.table, model=res.model)
    assert "2「意欲は高いがスキルに不安」132人(回答者の26%。職員全体では推定31%、95%信頼区間27〜36%)" in text
    assert text.startswith("回答者を4つのセグメントに分けました(根拠: 再標本化の安定性ARI 1.00、平均シルエット幅 0.51が最大、混合ガウスモデルのBICもk=4で最小")
    assert "に分かれる" not in text
    assert res.table["n"].tolist() == planted["segment"].value_counts().sort_index().tolist()
    assert res.table["share"].sum() == pytest.approx(1.0)


def test_sample_opportunities_and_training_target(sample):
    m, res = sample
    first = res.opportunities[res.opportunities["rank"] == 1].set_index("segment")["opportunity_id"]
    assert first.to_dict() == {1: "leader_track", 2: "hands_on", 3: "why_dialogue", 4: "basics_elearning"}
    targets = segments.training_targets(res.opportunities, "hands_on")
    assert targets["segment"].astype(int).tolist() == [2]  # the sample's training drew most participants from segment 2
    assert "職員全体では推定31%、95%信頼区間27〜36%" in vseg.describe_training_targets(targets, res.table, "ハンズオン研修")
    assert "2" in m.measures.loc[m.measures["measure_id"] == "M01", "segments"].astype(str).iloc[0]


def test_sample_privacy(sample):
    m, res = sample
    assert res.table["n"].min() >= m.min_group_size
    comp = segments.suppress_composition(res.composition, min_size=m.min_group_size)
    shown = comp[~comp["suppressed"]]
    assert (shown["n"] >= m.min_group_size).all()
    assert comp.loc[comp["group"] == "会計課", "suppressed"].all()  # the planted small department
    for keys in (["segment", "attribute"], ["attribute", "group"]):
        assert (comp.groupby(keys, observed=True)["suppressed"].sum() != 1).all()


def test_sample_rerun_gives_identical_tables(sample):
    """Two runs with the same seed (fewer resamples than the default, to keep the test fast)."""
    m, _ = sample
    one, two = (segments.fit_segments(m, n_resamples=4, leader_opportunities=["leader_track"]) for _ in range(2))
    for name in ("table", "selection", "composition", "opportunities", "assignment", "profiles"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name), check_exact=True)
    pd.testing.assert_frame_equal(one.model.stability_, two.model.stability_, check_exact=True)


def test_assign_segments_marks_unsegmented(sample):
    m, res = sample
    m2 = io.Municipality(config=m.config, codebook=m.codebook, survey=m.survey.copy(), roster=m.roster, opportunities=m.opportunities)
    m2.survey.loc[0, m.codebook.items_of("tech")] = np.nan
    out = segments.assign_segments(m2, n_segments=4, k_range=(4, 4), n_resamples=0)
    assert list(out.columns) == ["respondent_id", "segment", "segment_name"]
    assert pd.isna(out.loc[0, "segment"]) and pd.isna(out.loc[0, "segment_name"])
    assert out.attrs["n_unsegmented"] == 1
    assert out["segment"].dropna().between(1, 4).all()
    assert adjusted_rand_score(out["segment"].iloc[1:].astype(int), res.assignment["segment"].iloc[1:].astype(int)) > 0.99
    with pytest.raises(TypeError, match="unknown options"):
        segments.assign_segments(m2, colour="red")


# --------------------------------------------------------------------------- plots
def test_plots_draw_from_tables(sample):
    m, res = sample
    axes = pseg.selection_criteria(res.selection)
    assert len(axes) == 3 and [len(ax.get_lines()) > 0 for ax in axes] == [True] * 3
    assert min(axes[1].get_lines()[0].get_xdata()) == 1  # the BIC panel includes "no segments"
    assert any(t.get_text().startswith("分けない") for t in axes[1].texts)
    fig, ax = plt.subplots()
    assert pseg.segment_sizes(res.table, ax=ax) is ax
    assert len(ax.patches) == 2 * len(res.table)  # share and weighted share
    assert len(ax.collections) == 1 and len(ax.collections[0].get_segments()) == len(res.table)  # one interval per segment
    assert "31%(27〜36%)" in [t.get_text() for t in ax.texts]
    fig, ax = plt.subplots()
    pseg.profile_heatmap(res.profiles, ax=ax)
    assert len(ax.texts) == len(res.profiles)  # one annotated mean per segment × construct
    assert ax.texts[0].get_text() == f"{res.profiles['mean'].iloc[0]:.2f}"
    comp = segments.suppress_composition(res.composition, min_size=m.min_group_size)
    axes = pseg.composition_panels(comp)
    assert len(axes) == comp["attribute"].nunique()
    assert any(p.get_facecolor()[:3] == pytest.approx((0xD9 / 255,) * 3) for p in axes[0].patches)  # hidden part drawn grey
    fig, ax = plt.subplots()
    pseg.segment_map(res.names, res.table, ax=ax)
    assert len(ax.texts) == len(res.names)


# --------------------------------------------------------------------------- large data (issue 17)
#: sha256 of data/sample's respondent → segment column (comma-joined) from fit_segments with the defaults,
#: computed with the code of main at d859cdc, before the large-data path (selection on a subset) existed.
SAMPLE_ASSIGNMENT_SHA256 = "5b6e51beeac9c6a950673bd6330a03e14bf2943072efd26b0cdd7d5c4338d683"


def test_sample_result_unchanged_by_the_large_data_path(sample):
    import hashlib

    _, res = sample
    assert res.model.selection_rows_ == 500 and res.model.k_ == 4 and res.model.rule_ == "silhouette"
    labels = res.assignment["segment"].astype("Int64").astype(str).str.cat(sep=",")
    assert hashlib.sha256(labels.encode()).hexdigest() == SAMPLE_ASSIGNMENT_SHA256


def test_sampled_silhouette_equals_sklearn_sample_size():
    """Above silhouette_sample_size the distances of the sampled rows are computed once; each value must equal
    sklearn's silhouette_score(sample_size=…, random_state=seed) of an independently refitted estimator."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.mixture import GaussianMixture

    X, _ = blobs(3, n=600, seed=5)
    model = SegmentModel(k_range=(2, 4), silhouette_sample_size=200, selection_sample_size=None, random_state=7, **FAST).fit(X)
    for row in model.selection_[model.selection_["k"] >= 2].itertuples():
        if row.method == "kmeans":
            labels = KMeans(n_clusters=row.k, n_init=3, random_state=7).fit(X).labels_
        else:
            labels = GaussianMixture(n_components=row.k, random_state=7).fit(X).predict(X)
        assert row.silhouette == pytest.approx(silhouette_score(X, labels, sample_size=200, random_state=7), abs=1e-9)


@pytest.fixture(scope="module")
def generated_3000(tmp_path_factory):
    from dxanalysis.sample import write_sample

    folder = write_sample(tmp_path_factory.mktemp("large") / "large", n_respondents=3000, seed=11, municipality_id="large", name="大規模市")
    m = io.load_municipality(folder)
    planted = pd.read_csv(folder / "truth" / "planted_segments.csv", dtype={"respondent_id": str}, encoding="utf-8-sig")
    return segments.construct_features(m).dropna(), planted


def test_large_data_k_on_a_subset_equals_the_full_fit(generated_3000):
    """3,000 generated respondents with 4 planted segments: k chosen on 1,000 rows (then refitted on all rows)
    is the k of the fit on all 3,000 rows, with the same partition. (The sizes only need the subset to be
    smaller than the data: 6,000 / 2,000 rows checked the same at about twice the CPU time.)"""
    X, planted = generated_3000
    opts = {"n_resamples": 5, "min_segment_size": 3}
    full = SegmentModel(selection_sample_size=None, **opts).fit(X)
    sub = SegmentModel(selection_sample_size=1000, **opts).fit(X)
    again = SegmentModel(selection_sample_size=1000, **opts).fit(X)
    assert full.selection_rows_ == len(X) > 2900 and sub.selection_rows_ == 1000
    assert sub.k_ == full.k_ == 4 and sub.criterion_k_ == full.criterion_k_ and sub.rule_ == full.rule_ == "silhouette"
    assert len(sub.labels_) == len(X) and sub.profiles_["n"].sum() == len(X)
    assert adjusted_rand_score(full.labels_, sub.labels_) >= 0.99
    np.testing.assert_array_equal(sub.labels_, again.labels_)  # the subset is drawn from the seed
    truth = planted.set_index("respondent_id").loc[X.index.astype(str), "segment"].to_numpy()
    assert adjusted_rand_score(truth, sub.labels_) >= 0.8
    # the centres are the means of all rows per segment (not of the subset)
    for s in range(1, sub.n_segments_ + 1):
        np.testing.assert_allclose(sub.cluster_centers_[s - 1], X.to_numpy()[sub.labels_ == s].mean(axis=0))


def test_adjusted_rand_equals_scikit_learn():
    """The stability resamples' ARI (one bincount table) is scikit-learn's adjusted_rand_score, float for float."""
    from sklearn.metrics import adjusted_rand_score

    from dxanalysis.segments import adjusted_rand

    rng = np.random.default_rng(17)
    cases = [([0, 0, 1, 1], [1, 1, 0, 0]), ([0, 0, 1, 2], [0, 0, 1, 1]), ([0, 0, 0, 0], [0, 1, 2, 3]), ([0, 0, 1, 1], [0, 1, 0, 1]), ([3], [5])]
    for n, ka, kb in [(2, 2, 2), (50, 3, 5), (500, 8, 8), (10_000, 4, 6)]:
        a = rng.integers(0, ka, n)
        cases += [(a, rng.integers(0, kb, n)), (a, np.where(rng.random(n) < 0.9, a, rng.integers(0, kb, n)))]
    for a, b in cases:
        assert adjusted_rand(a, b) == adjusted_rand_score(a, b)
