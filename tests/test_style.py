"""Chart style: the bundled Japanese font is used for every weight, without warnings."""

import logging

import matplotlib.pyplot as plt

from dxanalysis.plots.style import FONT_FAMILY, setup_style


def test_bold_text_uses_the_bundled_font_without_findfont_warning(caplog):
    # JupyterLab shows matplotlib's findfont log line to the advisor as a pink warning.
    setup_style()
    fig, ax = plt.subplots()
    ax.text(0, 0, "太字の見出し", fontweight="bold")
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        fig.canvas.draw()
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    assert FONT_FAMILY in plt.rcParams["font.family"]
