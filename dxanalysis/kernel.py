"""What the advisor sees in a Jupyter kernel when an input is wrong.

A :class:`~dxanalysis.validate.InputError` raised in a notebook cell is shown as one short
box with the Japanese (or English) list of problems — file, row, column, value, what to
do — and no Python traceback. The cell still fails, so papermill, nbval and "Run All"
stop there exactly as before. Installed automatically when ``dxanalysis`` is imported in
an IPython kernel (see :func:`install`); nothing happens outside IPython.
"""

from __future__ import annotations

import sys

from .validate import InputError


def input_error_lines(err: InputError) -> list[str]:
    """The lines shown for ``err``: the heading, then one line per problem."""
    return err.format().splitlines()


def _show_input_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    # IPython's run_code ignores the handler's return value, so show the lines ourselves:
    # they become the cell's error output (the red box) in place of the traceback.
    lines = input_error_lines(value)
    shell._showtraceback(etype, value, lines)
    return lines


def install(shell=None) -> bool:
    """Register the short error display for InputError in the running IPython shell.

    Returns True when a shell was found. Idempotent; other exceptions keep IPython's
    normal traceback (they are bugs, and the traceback is what a developer needs).
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    shell.set_custom_exc((InputError,), _show_input_error)
    return True
