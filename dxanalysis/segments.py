"""Staff segments and the opportunity each segment needs (notebook 02).

The advisor's key decision is *which staff get which opportunity*. This module turns the
construct scores of :mod:`dxanalysis.survey` into segments that are real structure in the
data (chosen by stated criteria), stable (same seed → same segments; resampling →
similar segments), numbered the same way on every run, named in plain Japanese and
matched to the opportunity catalogue (``opportunities.yaml``).

Layers, from the bottom:

* :func:`construct_features` — standardised construct scores, one row per respondent.
* :class:`SegmentModel` — a scikit-learn estimator: k-means and a Gaussian mixture fitted
  over a range of k, the criteria per k (silhouette, BIC, resampling ARI), a stated rule
  for k, deterministic numbering, merging of too-small segments.
* :func:`name_segments`, :func:`match_opportunities`, :func:`segment_table`,
  :func:`segment_composition` — tidy tables from a fitted model.
* :func:`fit_segments` — everything notebook 02 shows, in one call;
  :func:`assign_segments` — the respondent → segment table other notebooks recompute.

Method, formulas and every output column are in ``docs/segments.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn import config_context
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import survey as _survey
from .privacy import suppress_small_groups

#: Seed of every random draw in this module unless the caller gives another.
DEFAULT_RANDOM_STATE = 20251126
#: A segment mean this many standard deviations (SD) below / above the staff mean counts
#: as low / high (naming, weak constructs, numbering bands).
LEVEL_THRESHOLD = 0.3
#: A k counts as stable when its mean resampling adjusted Rand index reaches this.
STABILITY_THRESHOLD = 0.8
#: Attributes shown in the composition table (those present in the survey are used).
COMPOSITION_ATTRIBUTES = ("department", "age_band", "grade")
METHODS = ("kmeans", "gmm")
METHOD_LABELS = {"ja": {"kmeans": "k平均法", "gmm": "混合ガウスモデル"}, "en": {"kmeans": "k-means", "gmm": "Gaussian mixture"}}


def _category(values, categories=None) -> pd.Categorical:
    """Segment numbers (or ranks) as an ordered categorical.

    They are labels, not quantities: as a categorical they stay ``1``, ``2`` … in shared
    tables (the privacy filter turns numeric columns into floats) and sort in order.
    """
    v = pd.Series(values).astype(int)
    cats = sorted(set(v)) if categories is None else list(categories)
    return pd.Categorical(v, categories=cats, ordered=True)


# =========================================================================== features
def motivation_constructs(codebook) -> list[str]:
    """Constructs of the motivation side (DXリテラシー標準 マインド・スタンス and Why).

    A construct belongs to it when its ``area`` starts with ``マインド`` or ``Why`` (case
    ignored) or is ``mind``; every other construct (What, How) is on the skill side.
    """
    out = []
    for cid, c in codebook.constructs.items():
        area = str(c.area).strip().lower()
        if area.startswith(("マインド", "why", "mind")):
            out.append(cid)
    return out


def construct_features(m, *, include_tools: bool = False, min_item_share: float = _survey.MIN_ITEM_SHARE) -> pd.DataFrame:
    """Standardised construct scores: the features segments are found in.

    Parameters
    ----------
    m
        A loaded :class:`~dxanalysis.io.Municipality`.
    include_tools
        Also use the yes/no tool questions (1 = uses the tool) as features.
    min_item_share
        Passed to :func:`dxanalysis.survey.construct_scores` (a construct score needs at
        least this share of its items answered).

    Returns
    -------
    DataFrame
        Indexed by ``respondent_id`` (every respondent of ``m.survey``, in survey order);
        one float column per construct id in codebook order (then tool ids when
        ``include_tools``). Each column is ``(score − mean) / SD`` with the mean and the
        population SD (``ddof=0``) over the respondents with complete features, so 0 is
        the respondents' average and 1 one standard deviation. ``attrs["mean"]`` and
        ``attrs["sd"]`` hold the unstandardised mean and SD of each column.

    Notes
    -----
    Missing-data rule: a construct score follows the survey rule (mean of the answered
    items when at least half of them are answered, otherwise missing). A respondent with
    any feature missing keeps a row of NaN in the missing columns and is **not segmented**
    (``segment`` is NaN in :func:`assign_segments`; the number is reported). Nothing is
    imputed: an imputed score would pull the respondent towards the average segment.
    Standardising gives every construct the same weight in the distances k-means uses.
    """
    scores = _survey.construct_scores(m.survey, m.codebook, min_item_share=min_item_share)
    if include_tools and m.codebook.tool_ids:
        scores = pd.concat([scores, m.survey[m.codebook.tool_ids].astype(float)], axis=1)
    scores.index = pd.Index(m.survey["respondent_id"].astype(str), name="respondent_id")
    complete = scores.notna().all(axis=1)
    mean = scores[complete].mean()
    sd = scores[complete].std(ddof=0).replace(0.0, np.nan)
    out = (scores - mean) / sd
    out.attrs["mean"] = mean.to_dict()
    out.attrs["sd"] = sd.to_dict()
    return out


# =========================================================================== estimator
def adjusted_rand(labels_true, labels_pred) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985) of two labelings by non-negative integers.

    ``sklearn.metrics.adjusted_rand_score`` with the same integer pair counts and the same
    final formula, so the same float; from one dense ``bincount`` contingency table instead
    of scikit-learn's checks and sparse matrix (it runs once per stability resample).
    """
    a = np.asarray(labels_true, dtype=np.int64)
    b = np.asarray(labels_pred, dtype=np.int64)
    n = len(a)
    width = int(b.max()) + 1 if n else 1
    cont = np.bincount(a * width + b, minlength=(int(a.max()) + 1 if n else 1) * width).reshape(-1, width)
    n_c, n_k = cont.sum(axis=1), cont.sum(axis=0)
    sum_squares = int((cont**2).sum())
    tp = sum_squares - n
    fp = int((cont @ n_k).sum()) - sum_squares
    fn = int((cont.T @ n_c).sum()) - sum_squares
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


class SegmentModel(ClusterMixin, BaseEstimator):
    """Staff segments by clustering standardised scores, with k chosen by a stated rule.

    Parameters
    ----------
    n_segments : int or None, default None
        Number of segments. ``None``: chosen by the rule below from ``k_range``.
    k_range : (int, int), default (2, 8)
        Smallest and largest k fitted (both included).
    method : {"kmeans", "gmm"}, default "kmeans"
        Which fitted model gives the segments. Both are always fitted so their criteria
        can be compared.
    random_state : int, RandomState or None, default 20251126
        Seed of every fit and of the resamples. Same int → identical labels.
    n_resamples : int, default 20
        Subsamples per k and method for the stability index (0 = skip).
    resample_fraction : float, default 0.8
        Size of each subsample as a share of the respondents (drawn without replacement).
    stability_threshold : float, default 0.8
        A k is *stable* when its mean resampling ARI reaches this.
    n_init : int, default 10
        k-means restarts (the best inertia is kept).
    gmm_n_init : int, default 1
        Gaussian-mixture restarts (the best likelihood is kept).
    covariance_type : str, default "full"
        Covariance of the Gaussian mixture (see ``sklearn.mixture.GaussianMixture``).
    min_segment_size : int or None, default None
        A segment smaller than this is merged into the segment with the nearest centre
        (repeated until none is smaller); ``None`` keeps every segment.
    order_features : list of str or int, or None, default None
        Features whose mean sets the first key of the numbering (see Notes).
    order_threshold : float, default 0.3
        Band half-width (in the units of X) of the first numbering key.
    silhouette_sample_size : int, default 5000
        Above this many rows the silhouette is computed on a random subset of this size.
    max_resample_size : int, default 5000
        Upper bound of the subsample size (keeps large data sets fast).
    selection_sample_size : int or None, default 10000
        Above this many rows, k is chosen (silhouette, BIC, stability) on a seeded random
        subset of this many rows, and the chosen model is then refitted on all rows,
        starting from the subset's solution (see Notes). ``None`` or 0: always all rows.
        Data of this size or smaller are fitted exactly as without it.

    Attributes
    ----------
    labels_ : ndarray of int, shape (n_samples,)
        Segment of each row, numbered 1..``n_segments_``.
    n_segments_ : int
        Number of segments after merging.
    k_ : int
        k chosen (or given) before merging small segments.
    method_ : str
        Method that gave the labels.
    selection_ : DataFrame
        One row per k and method: ``k``, ``method``, ``silhouette``, ``bic`` (Gaussian
        mixture only, NaN for k-means), ``stability_ari`` (mean adjusted Rand index between
        the full-data labels and the labels predicted by a model refitted on each
        subsample), ``stability_sd``, ``stable`` (``stability_ari ≥ stability_threshold``),
        ``chosen`` (the row whose labels are used). The first row is always the Gaussian
        mixture with **k = 1** (no segments: one Gaussian for everybody; silhouette and
        stability are undefined there, NaN, and the row counts as stable).
    criterion_k_ : dict
        k that each criterion alone would choose among stable k: ``{"silhouette": …,
        "bic": …}`` (silhouette of k-means over ``k_range``; BIC of the Gaussian mixture
        over k = 1 and ``k_range``, so ``"bic"`` is 1 when one group fits best).
    structure_found_ : bool
        False when the one-component Gaussian mixture has a BIC at least as small as every
        mixture with k ≥ 2 in ``k_range``: the data show no clear segment structure.
    bic_single_ : float
        BIC of the one-component Gaussian mixture (k = 1).
    rule_ : str
        ``"given"``, ``"silhouette"`` or ``"bic"`` (plus ``"_unstable"`` when no k reached
        the stability threshold and the criterion was applied to every k).
    stability_ : DataFrame
        Every resample: ``k``, ``method``, ``resample``, ``ari``.
    cluster_centers_ : ndarray, shape (n_segments_, n_features)
        Mean of X in each segment (row i = segment i + 1).
    profiles_ : DataFrame
        Indexed by ``segment``: ``n``, ``share``, then the mean of each feature.
    merged_ : list of dict
        Merges done for ``min_segment_size``: ``segment`` (pre-merge label), ``n``,
        ``into``.
    model_ : estimator
        The fitted ``KMeans`` or ``GaussianMixture`` behind ``labels_``.
    label_map_ : ndarray
        Model label → segment number.
    selection_rows_ : int
        Rows the criteria of ``selection_`` and ``stability_`` were computed on (all rows,
        or ``selection_sample_size``).
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Notes
    -----
    **Rule for k** (when ``n_segments`` is None): among the stable k of ``method``, take
    the k with the largest mean silhouette width for k-means, or the smallest BIC for the
    Gaussian mixture (each method's own criterion; ties → smaller k). When no k is stable
    the criterion is applied to every k and ``rule_`` says so. The other criterion is kept
    in ``criterion_k_`` so a report can say whether both agree.

    **No segments (k = 1)**: a one-component Gaussian mixture is always fitted and its BIC
    compared with the mixtures of ``k_range``. When it is the smallest, the data show no
    clear segment structure (``structure_found_`` is False). With ``method="gmm"`` the
    rule then returns one segment (everybody together). The silhouette cannot score
    k = 1, so with ``method="kmeans"`` the partition is still chosen by the silhouette
    but ``structure_found_`` tells the report to say plainly that it divides a continuum
    for convenience rather than separating distinct groups.

    **Stability** (Ben-Hur, Elisseeff & Guyon 2002; Lange et al. 2004): for each of
    ``n_resamples`` subsamples (the same subsamples for every k and method), refit on the
    subsample, predict every row, and compare with the full-data labels by the adjusted
    Rand index (Hubert & Arabie 1985): 1 = identical partitions, 0 = chance agreement.

    **Large data** (more rows than ``selection_sample_size``): the criteria are computed on
    a random subset of ``selection_sample_size`` rows drawn without replacement with the
    seed (the same subset on every run), then the chosen k and method are refitted on all
    rows, initialised at the subset's centres (k-means) or means, weights and precisions
    (Gaussian mixture), so the segments are the same structure with centres estimated
    from everybody. At 10,000 rows the silhouette is already estimated on 5,000 rows and
    each stability refit on 5,000 (``silhouette_sample_size``, ``max_resample_size``); a
    centre of a segment with ≥ 5 % of the staff is estimated from ≥ 500 rows (standard
    error ≤ 0.05 SD of a standardised feature), far below the separation that decides k.
    The BIC is that of a 10,000-respondent survey: structure too faint to show in 10,000
    respondents is not reported as segments. Fitting every k on 100,000 rows cost ≈ 50
    CPU-s for the same k (``benchmarks/bench_segments.py``).

    **Numbering**: segments are sorted by (1) the mean of ``order_features`` in three
    bands (above ``+order_threshold``, between, below ``−order_threshold``), high band
    first, then (2) the mean of all features, high first. Without ``order_features`` only
    (2) applies. Segment 1 is therefore the same group on every run of the same data.

    All fits run on one thread (``threadpoolctl``): identical results on every machine and
    no oversubscription when several notebooks run at once.
    """

    def __init__(
        self,
        n_segments=None,
        k_range=(2, 8),
        method="kmeans",
        random_state=DEFAULT_RANDOM_STATE,
        n_resamples=20,
        resample_fraction=0.8,
        stability_threshold=STABILITY_THRESHOLD,
        n_init=10,
        gmm_n_init=1,
        covariance_type="full",
        min_segment_size=None,
        order_features=None,
        order_threshold=LEVEL_THRESHOLD,
        silhouette_sample_size=5000,
        max_resample_size=5000,
        selection_sample_size=10000,
    ):
        self.n_segments = n_segments
        self.k_range = k_range
        self.method = method
        self.random_state = random_state
        self.n_resamples = n_resamples
        self.resample_fraction = resample_fraction
        self.stability_threshold = stability_threshold
        self.n_init = n_init
        self.gmm_n_init = gmm_n_init
        self.covariance_type = covariance_type
        self.min_segment_size = min_segment_size
        self.order_features = order_features
        self.order_threshold = order_threshold
        self.silhouette_sample_size = silhouette_sample_size
        self.max_resample_size = max_resample_size
        self.selection_sample_size = selection_sample_size

    # ------------------------------------------------------------------ helpers
    def _check_params(self, n: int) -> list[int]:
        if self.method not in METHODS:
            raise ValueError(f"SegmentModel: method must be one of {METHODS} (got {self.method!r})")
        try:
            k_min, k_max = (int(k) for k in self.k_range)
        except (TypeError, ValueError):
            raise ValueError(f"SegmentModel: k_range must be two integers (min, max), got {self.k_range!r}") from None
        if not 2 <= k_min <= k_max:
            raise ValueError(f"SegmentModel: k_range must satisfy 2 <= min <= max (got {self.k_range!r})")
        if self.n_resamples < 0 or not 0 < self.resample_fraction <= 1:
            raise ValueError("SegmentModel: n_resamples must be >= 0 and resample_fraction in (0, 1]")
        ks = [k for k in range(k_min, k_max + 1) if k < n]
        if self.n_segments is not None:
            k = int(self.n_segments)
            if not 2 <= k < n:
                raise ValueError(f"SegmentModel: n_segments must be between 2 and n_samples − 1 = {n - 1} (got {self.n_segments})")
            ks = sorted(set(ks) | {k})
        if not ks:
            raise ValueError(f"SegmentModel: {n} rows are too few for k_range {self.k_range}")
        return ks

    def _estimator(self, method: str, k: int, seed: int):
        if method == "kmeans":
            return KMeans(n_clusters=k, n_init=self.n_init, random_state=seed)
        return GaussianMixture(n_components=k, covariance_type=self.covariance_type, n_init=self.gmm_n_init, random_state=seed)

    @staticmethod
    def _labels(est, X) -> np.ndarray:
        return est.labels_ if hasattr(est, "labels_") else est.predict(X)

    def _silhouette(self, X, labels, seed: int, sampled=None) -> float:
        if len(np.unique(labels)) < 2:
            return float("nan")
        if sampled is not None:  # (indices, their distance matrix): the subset silhouette_score(sample_size=…) draws, computed once
            idx, dist = sampled
            return float(silhouette_score(dist, labels[idx], metric="precomputed"))
        size = self.silhouette_sample_size if self.silhouette_sample_size and len(X) > self.silhouette_sample_size else None
        return float(silhouette_score(X, labels, sample_size=size, random_state=seed))

    def _order_columns(self) -> list[int] | None:
        if self.order_features is None:
            return None
        names = list(getattr(self, "feature_names_in_", []))
        cols = []
        for f in self.order_features:
            if isinstance(f, (int, np.integer)):
                cols.append(int(f))
            elif f in names:
                cols.append(names.index(f))
            else:
                raise ValueError(f"SegmentModel: order feature {f!r} is not a column of X ({names})")
        return cols or None

    def _refit(self, est, method: str, k: int, seed: int, X):
        """``est`` (fitted on a subset) refitted on ``X``, initialised at its solution."""
        if method == "kmeans":
            return KMeans(n_clusters=k, init=est.cluster_centers_, n_init=1, random_state=seed).fit(X)
        return GaussianMixture(n_components=k, covariance_type=self.covariance_type, n_init=1, random_state=seed,
                               weights_init=est.weights_, means_init=est.means_, precisions_init=est.precisions_).fit(X)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit both methods over the k range, choose k, number the segments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Complete features (no NaN), e.g. ``construct_features(m).dropna()``.
        y : ignored

        Returns
        -------
        self
        """
        from threadpoolctl import threadpool_limits

        if isinstance(X, pd.DataFrame) and X.isna().any().any():
            raise ValueError("SegmentModel.fit: X has missing values; drop incomplete rows first (construct_features(m).dropna())")
        X_all = validate_data(self, X, dtype=np.float64)
        n_all = X_all.shape[0]
        self._check_params(n_all)
        rs = check_random_state(self.random_state)
        base_seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else int(rs.randint(0, 2**31 - 1))
        # large data: the criteria on a seeded subset (its own generator, so smaller data draw exactly as before)
        cap = int(self.selection_sample_size or 0)
        if cap and n_all > cap:
            X = X_all[np.sort(np.random.RandomState(base_seed).choice(n_all, size=cap, replace=False))]
        else:
            X = X_all
        n = X.shape[0]
        self.selection_rows_ = n
        ks = self._check_params(n)
        # the same subsamples for every k and method (paired comparison)
        sub_n = max(2, min(int(round(self.resample_fraction * n)), int(self.max_resample_size)))
        resamples = [(np.sort(rs.choice(n, size=sub_n, replace=False)), int(rs.randint(0, 2**31 - 1))) for _ in range(int(self.n_resamples))]

        rows, stab_rows, fitted = [], [], {}
        # X is checked above (validate_data): the ~300 fits of the criteria skip scikit-learn's
        # per-call parameter and finiteness checks (same numbers, less overhead per fit)
        with threadpool_limits(limits=1), config_context(assume_finite=True, skip_parameter_validation=True):
            sampled = None
            if self.silhouette_sample_size and n > self.silhouette_sample_size:
                # the rows silhouette_score(sample_size=…, random_state=base_seed) would draw; their distances once for all k and methods
                idx = check_random_state(base_seed).permutation(n)[: int(self.silhouette_sample_size)]
                sampled = (idx, pairwise_distances(X[idx]))
            # k = 1: one Gaussian for everybody, the "no segments" model the BIC compares against
            single = self._estimator("gmm", 1, base_seed).fit(X)
            fitted[(1, "gmm")] = (single, np.zeros(n, dtype=int))
            rows.append({"k": 1, "method": "gmm", "silhouette": float("nan"), "bic": float(single.bic(X)),
                         "stability_ari": float("nan"), "stability_sd": float("nan")})
            for k in ks:
                for method in METHODS:
                    est = self._estimator(method, k, base_seed).fit(X)
                    labels = self._labels(est, X)
                    fitted[(k, method)] = (est, labels)
                    aris = []
                    for r, (idx, seed) in enumerate(resamples):
                        sub = self._estimator(method, k, seed).fit(X[idx])
                        a = adjusted_rand(labels, sub.predict(X))
                        aris.append(a)
                        stab_rows.append({"k": k, "method": method, "resample": r, "ari": a})
                    rows.append({
                        "k": k,
                        "method": method,
                        "silhouette": self._silhouette(X, labels, base_seed, sampled),
                        "bic": float(est.bic(X)) if method == "gmm" else float("nan"),
                        "stability_ari": float(np.mean(aris)) if aris else float("nan"),
                        "stability_sd": float(np.std(aris, ddof=1)) if len(aris) > 1 else float("nan"),
                    })
            del sampled
        sel = pd.DataFrame(rows)
        sel["stable"] = sel["stability_ari"].isna() | (sel["stability_ari"] >= self.stability_threshold)
        self.stability_ = pd.DataFrame(stab_rows, columns=["k", "method", "resample", "ari"])

        def best(method: str, criterion: str) -> tuple[int, bool]:
            d = sel[sel["method"] == method]
            multi = d[d["k"] >= 2]
            stable = multi[multi["stable"]]
            # k = 1 (Gaussian mixture only) is always a candidate: one group needs no stability check
            pool = pd.concat([d[d["k"] == 1], stable if len(stable) else multi])
            asc = criterion == "bic"
            pool = pool.dropna(subset=[criterion]).sort_values([criterion, "k"], ascending=[asc, True], kind="stable")
            if pool.empty:
                return int(multi["k"].min()), False
            k = int(pool["k"].iloc[0])
            return k, bool(len(stable)) or k == 1

        k_sil, stable_sil = best("kmeans", "silhouette")
        k_bic, stable_bic = best("gmm", "bic")
        self.criterion_k_ = {"silhouette": k_sil, "bic": k_bic}
        gmm_bic = sel.loc[sel["method"] == "gmm"].set_index("k")["bic"]
        self.bic_single_ = float(gmm_bic.loc[1])
        self.structure_found_ = bool(self.bic_single_ > gmm_bic.drop(index=1).min())
        if self.n_segments is not None:
            k, rule = int(self.n_segments), "given"
        elif self.method == "kmeans":
            k, rule = k_sil, "silhouette" if stable_sil else "silhouette_unstable"
        else:
            k, rule = k_bic, "bic" if stable_bic else "bic_unstable"
        sel["chosen"] = (sel["k"] == k) & (sel["method"] == self.method)
        self.selection_ = sel[["k", "method", "silhouette", "bic", "stability_ari", "stability_sd", "stable", "chosen"]].reset_index(drop=True)
        self.rule_ = rule
        self.k_ = k
        self.method_ = self.method
        self.model_, raw = fitted[(k, self.method)]
        if X is not X_all:  # refit the chosen model on all rows, from the subset's solution
            with threadpool_limits(limits=1):
                self.model_ = self._refit(self.model_, self.method if k > 1 else "gmm", k, base_seed, X_all)
                raw = self._labels(self.model_, X_all)
            X, n = X_all, n_all

        # merge segments below min_segment_size into the nearest centre
        n_raw = k
        group = np.arange(n_raw)  # model label → merged group (a model label)
        # a component that no respondent falls into (possible for a Gaussian mixture) takes
        # the group of the nearest used component, so predict() never meets an unknown label
        model_centres = getattr(self.model_, "cluster_centers_", None)
        model_centres = getattr(self.model_, "means_", None) if model_centres is None else model_centres
        used = np.unique(raw)
        for j in np.setdiff1d(np.arange(n_raw), used):
            group[j] = used[np.argmin(((model_centres[used] - model_centres[j]) ** 2).sum(axis=1))]
        self.merged_ = []
        if self.min_segment_size is not None:
            min_size = int(self.min_segment_size)
            while True:
                g = group[raw]
                ids, counts = np.unique(g, return_counts=True)
                if len(ids) <= 1 or counts.min() >= min_size:
                    break
                small = ids[np.argmin(counts)]
                centres = {i: X[g == i].mean(axis=0) for i in ids}
                others = [i for i in ids if i != small]
                into = min(others, key=lambda i: (float(np.sum((centres[i] - centres[small]) ** 2)), i))
                self.merged_.append({"segment": int(small), "n": int(counts.min()), "into": int(into)})
                group[group == small] = into

        # deterministic numbering
        g = group[raw]
        ids = np.unique(g)
        centres = np.vstack([X[g == i].mean(axis=0) for i in ids])
        overall = centres.mean(axis=1)
        cols = self._order_columns()
        if cols:
            sub = centres[:, cols].mean(axis=1)
            t = float(self.order_threshold)
            band = np.where(sub > t, 0, np.where(sub < -t, 2, 1))
        else:
            band = np.zeros(len(ids), dtype=int)
        order = sorted(range(len(ids)), key=lambda i: (band[i], -round(float(overall[i]), 12), int(ids[i])))
        number = {int(ids[i]): rank + 1 for rank, i in enumerate(order)}
        self.label_map_ = np.array([number[int(group[j])] for j in range(n_raw)])
        for mrg in self.merged_:
            mrg["segment"] = int(mrg["segment"])
            mrg["into"] = number[int(group[mrg["into"]])]
        self.labels_ = self.label_map_[raw].astype(int)
        self.n_segments_ = len(ids)
        self.cluster_centers_ = np.vstack([X[self.labels_ == s].mean(axis=0) for s in range(1, self.n_segments_ + 1)])
        names = list(getattr(self, "feature_names_in_", [f"x{j}" for j in range(X.shape[1])]))
        counts = np.bincount(self.labels_, minlength=self.n_segments_ + 1)[1:]
        prof = pd.DataFrame(self.cluster_centers_, columns=names)
        prof.insert(0, "share", counts / n)
        prof.insert(0, "n", counts)
        prof.index = pd.Index(range(1, self.n_segments_ + 1), name="segment")
        self.profiles_ = prof
        return self

    def predict(self, X) -> np.ndarray:
        """Segment number (1..n_segments_) of new rows, by the fitted model."""
        check_is_fitted(self, "labels_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self.label_map_[self.model_.predict(X)].astype(int)


# =========================================================================== names
NAME_GRID = {
    "ja": {
        ("high", "high"): "意欲もスキルも高い推進役候補",
        ("high", "mid"): "意欲が高い",
        ("high", "low"): "意欲は高いがスキルに不安",
        ("mid", "high"): "スキルが強み",
        ("mid", "mid"): "平均的",
        ("mid", "low"): "スキルに不安",
        ("low", "high"): "スキルはあるがDXに懐疑的",
        ("low", "mid"): "DXに消極的",
        ("low", "low"): "意欲・スキルとも低い",
    },
    "en": {
        ("high", "high"): "Motivated and skilled (potential champions)",
        ("high", "mid"): "Motivated",
        ("high", "low"): "Willing but unsure of their skills",
        ("mid", "high"): "Skilled",
        ("mid", "mid"): "Average",
        ("mid", "low"): "Unsure of their skills",
        ("low", "high"): "Skilled but sceptical of DX",
        ("low", "mid"): "Reluctant",
        ("low", "low"): "Low motivation and skills",
    },
}
OVERALL_NAMES = {"ja": {"high": "全体に高い", "mid": "平均的", "low": "全体に低い"}, "en": {"high": "High overall", "mid": "Average", "low": "Low overall"}}


def _level(z: float, threshold: float) -> str:
    if np.isnan(z):
        return "mid"
    return "high" if z > threshold else "low" if z < -threshold else "mid"


def _check_names(names, segments) -> dict[int, str]:
    if not names:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(f"segment names must be a dict such as {{1: '推進役'}} (got {type(names).__name__})")
    out = {}
    for key, val in names.items():
        try:
            k = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"segment names: key {key!r} is not a segment number") from None
        if k not in set(segments):
            raise ValueError(f"segment names: there is no segment {k} (segments: {sorted(segments)})")
        if not str(val).strip():
            raise ValueError(f"segment names: the name of segment {k} is empty")
        out[k] = str(val).strip()
    return out


def name_segments(profile_z: pd.DataFrame, codebook, *, threshold: float = LEVEL_THRESHOLD, names: Mapping | None = None, language: str = "ja") -> pd.DataFrame:
    """A short Japanese name for each segment, generated from its profile.

    Parameters
    ----------
    profile_z
        Segment × construct mean of the standardised scores (index ``segment``; columns
        construct ids), e.g. ``model.profiles_[constructs]``.
    codebook
        Gives the construct areas (motivation vs skill side) and labels.
    threshold
        Level bands in SD units: above ``+threshold`` high, below ``−threshold`` low.
    names
        Advisor's names ``{segment number: name}``; they replace the generated ones.
    language
        ``ja`` or ``en``.

    Returns
    -------
    DataFrame
        ``segment``, ``segment_name`` (final name), ``auto_name`` (generated),
        ``motivation_z`` and ``skill_z`` (mean standardised score of the motivation-side
        and skill-side constructs), ``motivation_level``, ``skill_level`` (high / mid /
        low), ``lowest`` (construct id with the lowest mean), ``overridden`` (bool).

    Notes
    -----
    Motivation side = constructs of the DXリテラシー標準 areas マインド・スタンス and Why
    (:func:`motivation_constructs`); skill side = What and How. Each side is high, mid or
    low by ``threshold`` and the pair picks the name from a 3 × 3 grid
    (:data:`NAME_GRID`, e.g. high × low → 「意欲は高いがスキルに不安」). When one side has no
    construct, the overall mean picks 「全体に高い / 平均的 / 全体に低い」. Two segments with
    the same name get their lowest construct added: 「平均的(データ活用が最も低い)」.
    """
    lang = language if language in NAME_GRID else "ja"
    constructs = [c for c in profile_z.columns if c in codebook.constructs]
    if not constructs:
        raise ValueError("name_segments: profile_z has no construct columns")
    mot = [c for c in motivation_constructs(codebook) if c in constructs]
    skill = [c for c in constructs if c not in mot]
    rows = []
    for seg, r in profile_z[constructs].iterrows():
        mz = float(r[mot].mean()) if mot else float("nan")
        sz = float(r[skill].mean()) if skill else float("nan")
        if mot and skill:
            ml, sl = _level(mz, threshold), _level(sz, threshold)
            auto = NAME_GRID[lang][(ml, sl)]
        else:
            ml = sl = _level(float(r.mean()), threshold)
            auto = OVERALL_NAMES[lang][ml]
        rows.append({"segment": int(seg), "auto_name": auto, "motivation_z": mz, "skill_z": sz, "motivation_level": ml, "skill_level": sl, "lowest": str(r.idxmin())})
    out = pd.DataFrame(rows)
    dup = out["auto_name"].duplicated(keep=False)
    for i in out.index[dup]:
        low = codebook.label_of(out.at[i, "lowest"])
        out.at[i, "auto_name"] = f"{out.at[i, 'auto_name']}({low}が最も低い)" if lang == "ja" else f"{out.at[i, 'auto_name']} (lowest: {low})"
    dup = out["auto_name"].duplicated(keep=False)
    out.loc[dup, "auto_name"] = out.loc[dup, "auto_name"] + out.loc[dup, "segment"].map(lambda s: f"・{s}")
    override = _check_names(names, out["segment"])
    out["segment_name"] = [override.get(s, a) for s, a in zip(out["segment"], out["auto_name"])]
    out["overridden"] = out["segment"].isin(list(override))
    return out[["segment", "segment_name", "auto_name", "motivation_z", "skill_z", "motivation_level", "skill_level", "lowest", "overridden"]]


# =========================================================================== opportunities
def _catalogue(opportunities: Sequence[Mapping]) -> list[dict]:
    out = []
    for i, o in enumerate(opportunities or []):
        if not isinstance(o, Mapping) or "id" not in o or "addresses" not in o:
            raise ValueError(f"opportunities.yaml entry {i + 1}: needs at least 'id' and 'addresses' (got {o!r})")
        addresses = o.get("addresses") or []
        if isinstance(addresses, str):
            addresses = [addresses]
        out.append({**o, "id": str(o["id"]), "name": str(o.get("name", o["id"])), "addresses": [str(a) for a in addresses], "order": i})
    return out


def match_opportunities(
    profile_z: pd.DataFrame,
    opportunities: Sequence[Mapping],
    codebook,
    *,
    names: pd.DataFrame | Mapping | None = None,
    sizes: pd.Series | Mapping | None = None,
    threshold: float = LEVEL_THRESHOLD,
    n_top: int = 2,
    leader_opportunities: Sequence[str] = (),
    language: str = "ja",
) -> pd.DataFrame:
    """The opportunities each segment needs, matched to its weakest constructs.

    Parameters
    ----------
    profile_z
        Segment × construct mean of the standardised scores (index ``segment``).
    opportunities
        The catalogue (``Municipality.opportunities``): each entry has ``id``, ``name``,
        ``format``, ``addresses`` (construct ids it strengthens), ``description`` and
        optionally ``level: advanced`` (meant for staff who lead others).
    codebook
        For construct labels.
    names
        Segment names: :func:`name_segments` output or ``{segment: name}``.
    sizes
        Respondents per segment (``{segment: n}``); copied to column ``n`` so the privacy
        filter can hide a small segment.
    threshold
        A construct is *weak* in a segment when its mean is at least ``threshold`` SD
        below the staff mean (z ≤ −threshold).
    n_top
        Opportunities listed per segment.
    leader_opportunities
        Ids treated like ``level: advanced`` entries (e.g. ``["leader_track"]``).

    Returns
    -------
    DataFrame
        One row per segment × recommended opportunity: ``segment``, ``segment_name``,
        ``n``, ``rank`` (1 = first choice), ``opportunity_id``, ``opportunity`` (name),
        ``format``, ``addresses`` (labels of the constructs it strengthens), ``basis``
        (``weakness`` / ``strength`` / ``relative``), ``weak_constructs`` (labels of the
        segment's constructs the match is based on, with their z), ``score``,
        ``coverage`` (share of the segment's total gap the opportunity addresses; NaN for
        other bases), ``reason`` (one sentence).

    Notes
    -----
    For segment s with standardised construct means z_c:

    * **weakness** (some z_c ≤ −threshold; W = those constructs): score(o) =
      Σ_{c ∈ addresses(o) ∩ W} (−z_c), the part of the segment's gap the opportunity
      addresses; coverage = score / Σ_{c ∈ W} (−z_c). Opportunities with score 0 and
      advanced ones are not offered.
    * **strength** (no weak construct, mean z ≥ +threshold, and advanced opportunities
      exist): score(o) = Σ_{c ∈ addresses(o)} max(z_c, 0) over advanced opportunities:
      a group above the staff on everything is offered the role of leading others.
    * **relative** (otherwise): W = the two lowest constructs, score = Σ_{c ∈
      addresses(o) ∩ W} (z_max − z_c). A segment whose z are all equal (the single
      segment of k = 1, where every z is 0) gets no recommendation.

    Ties keep catalogue order. The same rule is applied to every segment, so the reason
    shown is the whole justification.
    """
    # construct ids the codebook lacks (the package's default catalogue in a town with other
    # constructs) are dropped here; the loader already listed them in Municipality.warnings
    cat = [{**o, "addresses": [a for a in o["addresses"] if a in codebook.constructs]} for o in _catalogue(opportunities)]
    constructs = [c for c in profile_z.columns if c in codebook.constructs]
    if isinstance(names, pd.DataFrame):
        name_of = dict(zip(names["segment"], names["segment_name"]))
    else:
        name_of = {int(k): v for k, v in (names or {}).items()}
    size_of = {int(k): v for k, v in (dict(sizes) if sizes is not None else {}).items()}
    leaders = {o["id"] for o in cat if str(o.get("level", "")).lower() == "advanced"} | {str(x) for x in leader_opportunities or []}
    lab = codebook.label_of
    ja = language != "en"
    rows = []
    for seg, r in profile_z[constructs].iterrows():
        z = r.astype(float)
        weak = z[z <= -threshold].sort_values()
        cands = []
        if len(weak):
            basis = "weakness"
            total = float((-weak).sum())
            for o in cat:
                if o["id"] in leaders:
                    continue
                hit = [c for c in weak.index if c in o["addresses"]]
                score = float(sum(-z[c] for c in hit))
                if score > 0:
                    cands.append((o, score, score / total, hit))
        elif z.mean() >= threshold and any(o["id"] in leaders for o in cat):
            basis = "strength"
            for o in cat:
                if o["id"] not in leaders:
                    continue
                hit = [c for c in o["addresses"] if c in z.index and z[c] > 0]
                cands.append((o, float(sum(z[c] for c in hit)), float("nan"), sorted(hit, key=lambda c: -z[c])))
        elif float(z.max() - z.min()) < 1e-9:
            continue  # one segment for everybody: every z is 0, nothing is relatively low
        else:
            basis = "relative"
            low = z.sort_values().index[:2]
            for o in cat:
                if o["id"] in leaders:
                    continue
                hit = [c for c in low if c in o["addresses"]]
                score = float(sum(z.max() - z[c] for c in hit))
                if hit:
                    cands.append((o, score, float("nan"), hit))
        cands.sort(key=lambda t: (-round(t[1], 12), t[0]["order"]))
        for rank, (o, score, cov, hit) in enumerate(cands[:n_top], start=1):
            parts = ("・" if ja else ", ").join(f"{lab(c)}({z[c]:+.2f}SD)" if ja else f"{lab(c)} ({z[c]:+.2f} SD)" for c in hit)
            if basis == "weakness":
                reason = f"職員全体より低い {parts} を強める" if ja else f"strengthens {parts}, below the staff average"
            elif basis == "strength":
                reason = f"目立った弱みがなく、強み {parts} を生かして周囲を牽引する" if ja else f"no clear weakness; builds on strengths {parts} to lead others"
            else:
                reason = f"目立った弱みはないが、相対的に低い {parts} を補う" if ja else f"no clear weakness; supports the relatively lowest {parts}"
            rows.append({
                "segment": int(seg), "segment_name": name_of.get(int(seg), str(seg)), "n": size_of.get(int(seg), np.nan),
                "rank": rank, "opportunity_id": o["id"], "opportunity": o["name"], "format": str(o.get("format", "")),
                "addresses": ("・" if ja else ", ").join(lab(a) for a in o["addresses"]), "basis": basis,
                "weak_constructs": parts, "score": score, "coverage": cov, "reason": reason,
            })
    cols = ["segment", "segment_name", "n", "rank", "opportunity_id", "opportunity", "format", "addresses", "basis", "weak_constructs", "score", "coverage", "reason"]
    out = pd.DataFrame(rows, columns=cols)
    out["segment"] = _category(out["segment"], sorted(int(x) for x in profile_z.index))
    out["rank"] = _category(out["rank"], range(1, max(n_top, 1) + 1))
    return out


def training_targets(opportunities: pd.DataFrame, opportunity_id: str) -> pd.DataFrame:
    """Segments whose first recommended opportunity is ``opportunity_id``.

    These are the target segment(s) of the training evaluated in notebook 04. Returns the
    matching rows of :func:`match_opportunities` output (rank 1 only).
    """
    if opportunity_id and opportunity_id not in set(opportunities["opportunity_id"]):
        known = sorted(set(opportunities["opportunity_id"]))
        warnings.warn(f"training_targets: {opportunity_id!r} is recommended to no segment (recommended: {known})", stacklevel=2)
    return opportunities[(opportunities["rank"] == 1) & (opportunities["opportunity_id"] == opportunity_id)].reset_index(drop=True)


# =========================================================================== tables
def segment_profiles(scores: pd.DataFrame, features: pd.DataFrame, labels: pd.Series, codebook, *, names: pd.DataFrame | None = None) -> pd.DataFrame:
    """Construct means per segment, long format (for the heatmap).

    Parameters
    ----------
    scores
        Raw construct scores (1..5), indexed by respondent_id.
    features
        Standardised features (:func:`construct_features`), same index.
    labels
        Segment per respondent (same index; NaN = not segmented).

    Returns
    -------
    DataFrame
        ``segment``, ``segment_name``, ``n``, ``construct``, ``construct_label``, ``mean``
        (mean raw score, scale units), ``staff_mean`` (mean over all segmented
        respondents), ``z`` (mean standardised score: SD above (+) or below (−) the
        segmented respondents' average).
    """
    constructs = [c for c in scores.columns if c in codebook.constructs]
    ok = labels.notna()
    lab = labels[ok].astype(int)
    raw = scores.loc[ok, constructs]
    z = features.loc[ok, constructs]
    means = raw.groupby(lab).mean()
    zs = z.groupby(lab).mean()
    n = lab.value_counts().sort_index()
    staff = raw.mean()
    name_of = dict(zip(names["segment"], names["segment_name"])) if names is not None else {}
    rows = []
    for seg in means.index:
        for c in constructs:
            rows.append({"segment": int(seg), "segment_name": name_of.get(int(seg), str(seg)), "n": int(n[seg]), "construct": c,
                         "construct_label": codebook.label_of(c), "mean": float(means.at[seg, c]), "staff_mean": float(staff[c]), "z": float(zs.at[seg, c])})
    out = pd.DataFrame(rows)
    out["segment"] = _category(out["segment"])
    return out


def segment_table(profiles: pd.DataFrame, labels: pd.Series, weights: pd.Series | None = None, *, confidence: float = 0.95) -> pd.DataFrame:
    """One row per segment: size, share, weighted share with its interval, construct means.

    Parameters
    ----------
    profiles
        :func:`segment_profiles` output.
    labels
        Segment per respondent (NaN = not segmented).
    weights
        Respondent weights to the roster (e.g. :func:`dxanalysis.survey.rake_weights`),
        same index as ``labels``; ``None`` leaves the weighted columns empty.
    confidence
        Level of the interval of ``weighted_share``.

    Returns
    -------
    DataFrame
        ``segment``, ``name``, ``n`` (respondents), ``share`` (n / segmented respondents),
        ``weighted_share`` (Σ weights in the segment / Σ weights of segmented respondents
        with a weight: the estimated share of the whole staff), ``weighted_ci_low``,
        ``weighted_ci_high`` (its Wilson interval with Kish's effective sample size),
        then one column per construct id with the segment's mean raw score.
        ``attrs``: ``deff`` (Kish design effect of the weights), ``n_eff`` (effective
        number of respondents), ``confidence``.

    Notes
    -----
    Interval, as :func:`dxanalysis.survey.weighted_estimates` does for weighted shares:
    ``deff = n Σw² / (Σw)²`` over the m segmented respondents with a weight (Kish 1965),
    ``n_eff = m / deff``, and the Wilson score interval (Wilson 1927) of the proportion
    ``weighted_share`` with ``n_eff`` trials. Unequal weights make ``n_eff`` smaller
    than m and the interval wider than the unweighted one. It treats the respondents as
    a sample of the staff; it ignores the small variance reduction that raking to known
    margins brings, so it errs on the wide side.
    """
    wide = profiles.pivot(index="segment", columns="construct", values="mean")
    wide = wide[list(dict.fromkeys(profiles["construct"]))]
    first = profiles.drop_duplicates("segment").set_index("segment")
    ok = labels.notna()
    lab = labels[ok].astype(int)
    out = pd.DataFrame({"segment": _category(wide.index), "name": first.loc[wide.index, "segment_name"].to_numpy(), "n": first.loc[wide.index, "n"].astype(int).to_numpy()})
    out["share"] = out["n"] / int(ok.sum())
    deff = n_eff = float("nan")
    if weights is not None:
        w = weights.reindex(labels.index)[ok]
        has = w.notna()
        tot = w[has].groupby(lab[has]).sum()
        p = out["segment"].astype(int).map(tot / tot.sum()).astype(float).fillna(0.0).to_numpy()
        deff = _survey.kish_design_effect(w[has].to_numpy(dtype=float))
        n_eff = float(has.sum()) / deff if has.any() else float("nan")
        lo, hi = _survey.wilson_interval(p * n_eff, np.full(len(p), n_eff), confidence=confidence)
        out["weighted_share"] = p
        out["weighted_ci_low"] = np.asarray(lo, dtype=float)
        out["weighted_ci_high"] = np.asarray(hi, dtype=float)
    else:
        out["weighted_share"] = out["weighted_ci_low"] = out["weighted_ci_high"] = np.nan
    for c in wide.columns:
        out[c] = wide[c].to_numpy()
    out.attrs.update({"deff": deff, "n_eff": n_eff, "confidence": confidence})
    return out


def segment_composition(survey: pd.DataFrame, assignment: pd.DataFrame, codebook, *, attributes: Sequence[str] = COMPOSITION_ATTRIBUTES) -> pd.DataFrame:
    """Who is in each segment: counts by department, age band and grade.

    Parameters
    ----------
    survey
        ``Municipality.survey`` (attribute columns).
    assignment
        :func:`assign_segments` output (same row order as ``survey``).
    attributes
        Attribute ids (those missing from the survey are skipped).

    Returns
    -------
    DataFrame
        One row per segment × attribute × group: ``segment``, ``segment_name``,
        ``attribute``, ``attribute_label``, ``group``, ``n`` (respondents of the group in
        the segment), ``share`` (n / segment size: the segment's make-up),
        ``group_share`` (n / segmented respondents of the group: how the group splits
        over segments). Use :func:`suppress_composition` before sharing it.
    """
    ok = assignment["segment"].notna().to_numpy()
    seg = assignment.loc[ok, "segment"].astype(int).to_numpy()
    names = dict(zip(assignment.loc[ok, "segment"].astype(int), assignment.loc[ok, "segment_name"]))
    rows = []
    for attr in [a for a in attributes if a in survey.columns]:
        col = survey.loc[ok, attr]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
        tab = pd.crosstab(pd.Categorical(seg, categories=sorted(names)), pd.Categorical(col.astype(object), categories=cats), dropna=False)
        seg_tot = pd.Series(seg).value_counts()
        grp_tot = tab.sum(axis=0)
        for s in sorted(names):
            for g in cats:
                n = int(tab.at[s, g])
                rows.append({"segment": s, "segment_name": names[s], "attribute": attr, "attribute_label": codebook.label_of(attr), "group": str(g), "n": n,
                             "share": n / seg_tot[s], "group_share": n / grp_tot[g] if grp_tot[g] else np.nan})
    out = pd.DataFrame(rows, columns=["segment", "segment_name", "attribute", "attribute_label", "group", "n", "share", "group_share"])
    out["segment"] = _category(out["segment"], sorted(names))
    return out


def suppress_composition(composition: pd.DataFrame, *, min_size: int) -> pd.DataFrame:
    """Privacy filter for a segment × group table whose two margins are both published.

    The segment sizes (``segments.csv``) and the group sizes (notebook 01) are public, so
    a hidden cell could be recovered by subtraction along either margin. This applies
    :func:`dxanalysis.privacy.suppress_small_groups` (primary rule + complementary
    suppression) within each segment × attribute *and* within each attribute × group,
    repeating until neither margin has exactly one hidden cell.

    Returns the table with hidden cells' numbers set to NaN and the columns
    ``suppressed`` and ``suppression_reason`` (``primary`` / ``complementary``), as
    :func:`~dxanalysis.privacy.suppress_small_groups` does.
    """
    return suppress_small_groups(composition.reset_index(drop=True), n_col="n", min_size=min_size,
                                 value_cols=[c for c in ("n", "share", "group_share") if c in composition.columns],
                                 partitions=COMPOSITION_PARTITIONS)


#: The two margins of a segment × group table that are both published elsewhere.
COMPOSITION_PARTITIONS = [["segment", "attribute"], ["attribute", "group"]]


# =========================================================================== weights
#: A weighted margin further than this (relative) from its roster total means raking did not converge.
RAKING_TOLERANCE = 1e-4


def rake_with_notes(survey: pd.DataFrame, roster: pd.DataFrame, *, margins: Sequence[str], codebook=None, language: str = "ja") -> tuple[pd.Series, list[str]]:
    """Raking weights and the problems of the weighting, as sentences for the report.

    Calls :func:`dxanalysis.survey.rake_weights` and turns what it could only warn about
    into notes a reader of the report sees (``pub.note``), instead of hiding them.

    Parameters
    ----------
    survey, roster
        ``Municipality.survey`` and ``Municipality.roster``.
    margins
        Attribute ids raked to (see :func:`dxanalysis.survey.rake_weights`).
    codebook
        For the Japanese names of the attributes (optional).

    Returns
    -------
    (Series, list of str)
        The weights (indexed like ``survey``) and zero or more notes:

        * a roster category with staff but no respondent (its staff are spread over the
          other categories, so no estimate represents them);
        * raking that did not converge: the largest relative difference between a
          weighted margin and its roster total, when above :data:`RAKING_TOLERANCE`;
        * respondents without a value on a margin (no weight; left out of the estimates);
        * any other warning of ``rake_weights``, passed on as it is.

    The first two are computed here from the data, not parsed from warning texts.
    """
    margins = list(margins)
    en = language == "en"
    label = (lambda a: codebook.label_of(a)) if codebook is not None else str  # noqa: E731
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = _survey.rake_weights(survey, roster, margins=margins)
    notes: list[str] = []
    complete = survey[margins].notna().all(axis=1).to_numpy()
    total = float(roster["staff"].sum())
    worst = 0.0
    for a in margins:
        staff = roster.groupby(a, observed=True)["staff"].sum()
        staff.index = staff.index.astype(str)
        staff = staff[staff > 0].astype(float)
        values = survey.loc[complete, a].astype(str)
        present = set(values.unique())
        empty = [g for g in staff.index if g not in present]
        if empty:
            groups = "」「".join(empty)
            notes.append(f"Roster {label(a)} '{groups}' has staff but no respondent: its staff were spread over the other categories, so the whole-staff estimates do not represent them."
                         if en else f"名簿の{label(a)}「{groups}」には職員がいますが回答者がいません。その職員数は同じ{label(a)}のほかの区分に人数の比で割り振ったため、職員全体の推定はこの区分の職員を代表していません。")
        target = staff[~staff.index.isin(empty)]
        target = target * total / target.sum()
        got = w[complete].groupby(values.to_numpy()).sum().reindex(target.index).fillna(0.0)
        worst = max(worst, float(((got - target).abs() / target).max()))
    if worst > RAKING_TOLERANCE:
        notes.append(f"Raking did not converge: a weighted margin is up to {worst:.1%} off its roster total. Read the whole-staff estimates as approximate."
                     if en else f"重み付け(レイキング)が収束せず、重み付きの人数が名簿の人数と最大{worst * 100:.1f}%ずれています。職員全体の推定割合は目安として読んでください。")
    n_unweighted = int((~complete).sum())
    if n_unweighted:
        attrs = "・".join(label(a) for a in margins)
        notes.append(f"{n_unweighted} respondents left {attrs} blank: they have no weight and are left out of the whole-staff estimates."
                     if en else f"{attrs}のどれかが空欄の回答者{n_unweighted:,}人は重みを付けられないため、職員全体の推定から除きました(回答者に占める割合には含めています)。")
    for c in caught:
        text = str(c.message)
        if "no respondent" in text or "converge" in text:
            continue  # reported above from the data
        notes.append(f"Weighting warning: {text}" if en else f"重み付けの警告: {text}")
    return w, notes


# =========================================================================== one call
@dataclass
class SegmentResult:
    """Everything notebook 02 shows (see :func:`fit_segments`).

    Attributes
    ----------
    model : SegmentModel
        The fitted estimator (``selection_``, ``stability_``, ``merged_`` …).
    features : DataFrame
        :func:`construct_features` (all respondents, NaN rows kept).
    scores : DataFrame
        Raw construct scores (1..5), indexed by respondent_id.
    assignment : DataFrame
        ``respondent_id``, ``segment`` (Int64, NA = not segmented), ``segment_name``.
    names : DataFrame
        :func:`name_segments` output.
    profiles : DataFrame
        :func:`segment_profiles` output (long).
    table : DataFrame
        :func:`segment_table` output (``segments.csv``).
    selection : DataFrame
        ``model.selection_`` with ``method_label`` (``segment_selection.csv``).
    composition : DataFrame
        :func:`segment_composition` output (not yet privacy-filtered).
    opportunities : DataFrame
        :func:`match_opportunities` output (``segment_opportunities.csv``).
    weights : Series or None
        Raking weights used for ``weighted_share``.
    n_unsegmented : int
        Respondents without complete features (not segmented).
    weight_margins : list of str
        Roster attributes raked to.
    notes : list of str
        Problems of the weighting for the report (:func:`rake_with_notes`).
    design_effect, n_eff : float
        Kish design effect of the weights and effective number of respondents behind
        the intervals of ``weighted_share``.
    """

    model: SegmentModel
    features: pd.DataFrame
    scores: pd.DataFrame
    assignment: pd.DataFrame
    names: pd.DataFrame
    profiles: pd.DataFrame
    table: pd.DataFrame
    selection: pd.DataFrame
    composition: pd.DataFrame
    opportunities: pd.DataFrame
    weights: pd.Series | None = None
    n_unsegmented: int = 0
    weight_margins: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    design_effect: float = float("nan")
    n_eff: float = float("nan")


def _fit_and_name(m, *, n_segments, k_range, method, random_state, n_resamples, names, include_tools, threshold, cache):
    """Features, the (cached) fitted model, names and the respondent → segment table (the part 03 and 04 need)."""
    feats = construct_features(m, include_tools=include_tools)
    complete = feats.notna().all(axis=1)
    if complete.sum() < 3:
        raise ValueError(f"fit_segments: only {int(complete.sum())} respondents have every construct score; segments need more")
    constructs = [c for c in feats.columns if c in m.codebook.constructs]
    model = SegmentModel(
        n_segments=n_segments, k_range=tuple(k_range), method=method, random_state=random_state, n_resamples=n_resamples,
        min_segment_size=m.min_group_size, order_features=[c for c in motivation_constructs(m.codebook) if c in constructs] or None,
        order_threshold=threshold,
    )
    X = feats[complete]
    if cache is None:
        model.fit(X)
    else:
        from . import cache as _cache

        key = _cache.digest("SegmentModel", X, model.get_params(), _cache.package_key())
        model = _cache.cached(cache, "segment_model", key, lambda: model.fit(X))
    labels = pd.Series(np.nan, index=feats.index)
    labels[complete.to_numpy()] = model.labels_
    nm = name_segments(model.profiles_[constructs], m.codebook, threshold=threshold, names=names, language=m.language)
    name_of = dict(zip(nm["segment"], nm["segment_name"]))
    assignment = pd.DataFrame({
        "respondent_id": feats.index.to_numpy(),
        "segment": pd.array(labels.to_numpy(), dtype="Int64"),
    })
    assignment["segment_name"] = assignment["segment"].map(name_of).astype(object)
    return feats, complete, constructs, model, nm, assignment


def fit_segments(
    m,
    *,
    n_segments: int | None = None,
    k_range: Sequence[int] = (2, 8),
    method: str = "kmeans",
    random_state: int = DEFAULT_RANDOM_STATE,
    n_resamples: int = 20,
    names: Mapping | None = None,
    include_tools: bool = False,
    weight_margins: Sequence[str] | None = None,
    leader_opportunities: Sequence[str] = (),
    composition_attributes: Sequence[str] = COMPOSITION_ATTRIBUTES,
    threshold: float = LEVEL_THRESHOLD,
    n_top: int = 2,
    cache: Path | str | None = None,
) -> SegmentResult:
    """Segments, their profiles, names and opportunities for one municipality.

    Parameters
    ----------
    m
        A loaded :class:`~dxanalysis.io.Municipality`.
    n_segments, k_range, method, random_state, n_resamples
        Passed to :class:`SegmentModel` (``n_segments=None``: chosen by its rule).
    names
        Advisor's segment names ``{number: name}`` replacing generated ones.
    include_tools
        Also cluster on the tool-use questions (see :func:`construct_features`).
    weight_margins
        Roster attributes to rake to for ``weighted_share``; ``None`` or empty: every
        attribute of the roster (:func:`dxanalysis.survey.weighting_margins`, as notebook
        01 does). Attributes absent from the roster or survey are skipped.
    leader_opportunities
        Catalogue ids offered to a segment above the staff on every construct.
    composition_attributes
        Attributes of the composition table.
    threshold, n_top
        See :func:`name_segments` and :func:`match_opportunities`.
    cache
        A folder (``Publisher.cache_dir``) where the fitted :class:`SegmentModel` is kept,
        so notebooks 02, 03, 04 and 06 fit it once per municipality. Keyed by the
        complete features, the model's parameters and the package hash
        (:mod:`dxanalysis.cache`): a model for other data, parameters or code is never
        used. ``None``: always fit.

    Returns
    -------
    SegmentResult
        Problems of the weighting (a roster category without respondents, raking that
        did not converge, respondents without a weight) are in ``notes`` for the report.

    Notes
    -----
    Segments smaller than ``m.min_group_size`` are merged into the nearest segment, so no
    segment in a shared table is a small group. Segments are numbered motivation first
    (:func:`motivation_constructs`, in bands of ``threshold``), then by overall level.
    """
    feats, complete, constructs, model, nm, assignment = _fit_and_name(
        m, n_segments=n_segments, k_range=k_range, method=method, random_state=random_state, n_resamples=n_resamples, names=names,
        include_tools=include_tools, threshold=threshold, cache=cache)
    labels = pd.Series(np.nan, index=feats.index)
    labels[complete.to_numpy()] = model.labels_
    zprof = model.profiles_[constructs]
    scores = _survey.construct_scores(m.survey, m.codebook)
    scores.index = feats.index
    profiles = segment_profiles(scores, feats, labels, m.codebook, names=nm)

    margins = [a for a in (weight_margins or _survey.weighting_margins(m.roster)) if a in m.roster.columns and a in m.survey.columns]
    weights, notes = None, []
    if margins:
        w, notes = rake_with_notes(m.survey, m.roster, margins=margins, codebook=m.codebook, language=m.language)
        weights = pd.Series(w.to_numpy(), index=feats.index, name="weight")
    table = segment_table(profiles, labels, weights)
    sel = model.selection_.copy()
    sel.insert(2, "method_label", sel["method"].map(METHOD_LABELS.get(m.language, METHOD_LABELS["ja"])))
    comp = segment_composition(m.survey, assignment, m.codebook, attributes=composition_attributes)
    opps = match_opportunities(zprof, m.opportunities, m.codebook, names=nm, sizes=model.profiles_["n"], threshold=threshold,
                               n_top=n_top, leader_opportunities=leader_opportunities, language=m.language)
    return SegmentResult(model=model, features=feats, scores=scores, assignment=assignment, names=nm, profiles=profiles, table=table,
                         selection=sel, composition=comp, opportunities=opps, weights=weights, n_unsegmented=int((~complete).sum()), weight_margins=margins,
                         notes=notes, design_effect=float(table.attrs.get("deff", np.nan)), n_eff=float(table.attrs.get("n_eff", np.nan)))


def assign_segments(m, *, n_segments: int | None = None, random_state: int = DEFAULT_RANDOM_STATE, names: Mapping | None = None, **options) -> pd.DataFrame:
    """Respondent → segment, exactly as notebook 02 shows it.

    Other notebooks call this instead of reading notebook 02's files. Pass the same
    parameters notebook 02 used (``n_segments``, ``random_state``, ``names`` and, when
    changed there, ``k_range``, ``method``, ``n_resamples``, ``include_tools`` as
    ``options``; see :func:`fit_segments`). Pass ``cache=pub.cache_dir`` to reuse the
    model notebook 02 (or another notebook of the run) fitted.

    Returns
    -------
    DataFrame
        ``respondent_id`` (str), ``segment`` (Int64, 1..k; NA for respondents without
        every construct score, whose number is in ``attrs["n_unsegmented"]``),
        ``segment_name``. Same row order as ``m.survey``. Respondent-level: private
        output only.
    """
    allowed = {"k_range", "method", "n_resamples", "include_tools", "weight_margins", "leader_opportunities", "threshold", "cache"}
    bad = set(options) - allowed
    if bad:
        raise TypeError(f"assign_segments: unknown options {sorted(bad)}; allowed: {sorted(allowed)}")
    # only the model and the names: weights, profiles, composition and opportunities are 02's tables
    opts = {"k_range": (2, 8), "method": "kmeans", "n_resamples": 20, "include_tools": False, "threshold": LEVEL_THRESHOLD, "cache": None,
            **{k: v for k, v in options.items() if k not in {"weight_margins", "leader_opportunities"}}}
    _, complete, _, _, _, assignment = _fit_and_name(m, n_segments=n_segments, random_state=random_state, names=names, **opts)
    out = assignment.copy()
    out.attrs["n_unsegmented"] = int((~complete).sum())
    return out


# =========================================================================== labels
#: Japanese headers of this module's tables (``labels=`` of ``Publisher.table``).
LABELS = {
    "segment": "セグメント", "name": "名称", "segment_name": "名称", "n": "回答者数", "share": "回答者に占める割合",
    "weighted_share": "職員全体の推定割合", "weighted_ci_low": "推定割合の95%信頼区間(下限)", "weighted_ci_high": "推定割合の95%信頼区間(上限)", "k": "セグメント数 k", "method": "方法ID", "method_label": "方法", "silhouette": "平均シルエット幅",
    "bic": "BIC", "stability_ari": "安定性(ARI平均)", "stability_sd": "安定性(ARI標準偏差)", "stable": "安定", "chosen": "採用",
    "attribute_label": "属性", "group": "集団", "group_share": "集団に占める割合", "rank": "順位", "opportunity": "機会",
    "format": "形式", "addresses": "強める構成概念", "reason": "理由", "motivation_z": "意欲(職員平均との差)",
    "skill_z": "スキル(職員平均との差)", "motivation_level": "意欲の水準", "skill_level": "スキルの水準", "auto_name": "自動でつけた名称",
    "weak_constructs": "根拠の構成概念", "score": "一致度", "coverage": "弱みのうち補う割合",
}
#: Share columns of :func:`segment_table` to show as percentages (``percent_cols=`` of ``Publisher.table``).
PERCENT_COLUMNS = ["weighted_ci_low", "weighted_ci_high"]


def column_labels(codebook) -> dict[str, str]:
    """:data:`LABELS` plus the codebook's construct labels (for construct-mean columns)."""
    return {**LABELS, **{c: codebook.label_of(c) for c in codebook.constructs}}
