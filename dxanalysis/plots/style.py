"""Shared chart style: a bundled Japanese font and colour-blind-safe palettes.

matplotlib ships no Japanese glyphs; ``matplotlib_fontja`` bundles IPAexGothic (IPA Font
License) inside the wheel, so charts render Japanese on an isolated network with nothing
downloaded. Palettes: Okabe–Ito for categories, ColorBrewer RdBu-like diverging scale
(blue = positive) that stays distinguishable for the common colour-vision deficiencies.
"""

from __future__ import annotations

import matplotlib

#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
QUALITATIVE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: Diverging 5-step scale for Likert answers: negative (orange/red) → neutral (grey) → positive (blue).
DIVERGING = ["#B2182B", "#EF8A62", "#D9D9D9", "#67A9CF", "#2166AC"]
SEQUENTIAL = "Blues"
DIVERGING_CMAP = "RdBu"
FONT_FAMILY = "IPAexGothic"


def setup_style(dpi: int = 110) -> None:
    """Set the Japanese font, palette and sizes for every chart (idempotent)."""
    import matplotlib_fontja  # noqa: F401  registers IPAexGothic with matplotlib

    matplotlib_fontja.japanize()
    matplotlib.rcParams.update(
        {
            "font.family": FONT_FAMILY,
            "axes.prop_cycle": matplotlib.cycler(color=QUALITATIVE),
            "figure.dpi": dpi,
            "savefig.dpi": 200,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.titleweight": "normal",  # IPAexGothic has no bold face
            "font.size": 10,
            "svg.fonttype": "path",
        }
    )
