"""Charts: each takes a tidy frame returned by a statistic and returns the Axes.

One module per stage (``plots.survey``, ``plots.segments``, ``plots.roadmap``,
``plots.training``, ``plots.text``); shared style in :mod:`dxanalysis.plots.style`.
Plot functions never recompute statistics and never call ``plt.show`` or ``savefig``.
"""

from .style import DIVERGING, QUALITATIVE, SEQUENTIAL, setup_style

__all__ = ["setup_style", "DIVERGING", "QUALITATIVE", "SEQUENTIAL"]
