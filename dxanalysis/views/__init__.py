"""Views: statistics' tidy results and codes → reader-facing sentences and display tables.

One module per step (``views.survey``, …). A view function takes a step's tidy result
(numbers and codes such as ``verdict="supported"``) and a ``language`` and returns words
looked up in :mod:`dxanalysis.i18n` (``i18n.t("survey.…")``), with one body for both
languages. Views may import steps and ``i18n``; steps never import views
(``tests/test_layers.py``).
"""

from __future__ import annotations

from . import compare, roadmap, segments, survey, training, waves  # noqa: F401

__all__ = ["compare", "roadmap", "segments", "survey", "training", "waves"]
