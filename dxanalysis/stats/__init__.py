"""Statistics by kind, used by the step modules (survey, segments, roadmap, training, text, waves).

One function per statistic, returning numbers or a tidy frame whose columns the docstring
lists; each is checked in the tests against an independent implementation (R, statsmodels).

==================  ====================================================================
module              holds
==================  ====================================================================
``proportions``     :func:`wilson_interval`, :func:`paired_share_difference_ci` (Newcombe)
``weighting``       :func:`rake_weights`, :func:`poststratify_weights`,
                    :func:`kish_design_effect`, :func:`weighted_mean` (design-based SE)
``effects``         :func:`rank_biserial_independent` (Mann–Whitney r) with DeLong's
                    :func:`rank_biserial_ci` and TOST :func:`rank_biserial_equivalence_p`;
                    :func:`rank_biserial_paired` (matched pairs, Pratt ranks)
``tests``           :func:`mann_whitney_p`, :func:`wilcoxon_pratt`, :func:`mcnemar_test`,
                    :func:`bh_adjust`, :func:`bh_adjust_by_family`
``reliability``     :func:`cronbach_alpha`
==================  ====================================================================

This package imports nothing else from dxanalysis (see tests/test_layers.py).
"""

from .effects import (
    EQUIVALENCE_MARGIN,
    rank_biserial_ci,
    rank_biserial_degenerate,
    rank_biserial_equivalence_p,
    rank_biserial_independent,
    rank_biserial_paired,
)
from .proportions import paired_share_difference_ci, wilson_interval
from .reliability import cronbach_alpha
from .tests import (
    MCNEMAR_EXACT_BELOW,
    WILCOXON_EXACT_MAX,
    bh_adjust,
    bh_adjust_by_family,
    mann_whitney_p,
    mcnemar_test,
    pratt_exact_pvalue,
    pratt_ranks,
    wilcoxon_pratt,
)
from .weighting import (
    kish_design_effect,
    poststratify_weights,
    rake_weights,
    weighted_mean,
)

__all__ = [
    "EQUIVALENCE_MARGIN", "MCNEMAR_EXACT_BELOW", "WILCOXON_EXACT_MAX",
    "bh_adjust", "bh_adjust_by_family", "cronbach_alpha", "kish_design_effect", "mann_whitney_p", "mcnemar_test",
    "paired_share_difference_ci", "poststratify_weights", "pratt_exact_pvalue", "pratt_ranks", "rake_weights",
    "rank_biserial_ci", "rank_biserial_degenerate", "rank_biserial_equivalence_p", "rank_biserial_independent",
    "rank_biserial_paired", "weighted_mean", "wilcoxon_pratt", "wilson_interval",
]
