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


def _register_bold_alias() -> None:
    """Let ``fontweight="bold"`` resolve to IPAexGothic's only (regular) face.

    IPAexGothic ships one weight. Without an entry of weight 700, every bold label makes
    matplotlib log ``findfont: Failed to find font weight bold`` — which JupyterLab shows
    the advisor as a pink warning under the cell. The alias points at the same file, so
    the glyphs are unchanged (the chart simply has no faux bold).
    """
    from dataclasses import replace

    from matplotlib import font_manager

    entries = [f for f in font_manager.fontManager.ttflist if f.name == FONT_FAMILY]
    if not entries or any(f.weight == 700 for f in entries):
        return
    font_manager.fontManager.ttflist.append(replace(entries[0], weight=700))
    font_manager.fontManager._findfont_cached.cache_clear()


def setup_style(dpi: int = 110) -> None:
    """Set the Japanese font, palette and sizes for every chart (idempotent)."""
    import matplotlib_fontja  # noqa: F401  registers IPAexGothic with matplotlib

    matplotlib_fontja.japanize()
    _register_bold_alias()
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
