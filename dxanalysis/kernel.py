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


# ----------------------------------------------------------------------------- a warm kernel's clean slate
#: What :func:`reset_state` restores, taken by :func:`snapshot_state` once the warm kernel
#: has imported everything (see ``dxanalysis/executor.py``).
_BASELINE: dict | None = None


def _own_modules() -> dict:
    return {name: mod for name, mod in list(sys.modules.items()) if mod is not None and (name == "dxanalysis" or name.startswith("dxanalysis."))}


def _pandas_options() -> dict:
    pd = sys.modules.get("pandas")
    if pd is None:
        return {}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {key: pd.get_option(key) for key in pd._config.config._registered_options}


def snapshot_state() -> None:
    """Record the state a notebook may change, in a kernel that runs several notebooks one after another.

    Called once, after the warm-up imports and before the first notebook. Records the
    matplotlib rcParams, warnings filters, environment, ``sys.path``, working directory,
    numpy error and print settings, pandas options and the module globals of every
    ``dxanalysis`` module (name → object).
    """
    import os
    import warnings

    global _BASELINE
    base: dict = {"warnings": list(warnings.filters), "environ": dict(os.environ), "sys_path": list(sys.path), "cwd": os.getcwd(), "pandas": _pandas_options(),
                  "modules": {name: dict(vars(mod)) for name, mod in _own_modules().items()}}
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        base["rc"] = {k: v for k, v in mpl.rcParams.items() if k != "backend"}
    np = sys.modules.get("numpy")
    if np is not None:
        base["np_err"], base["np_print"] = np.geterr(), np.get_printoptions()
    _BASELINE = base
    base["modules"][__name__]["_BASELINE"] = base  # restoring this module's globals keeps the snapshot


def _empty_namespace(shell) -> None:
    """What ``%reset -f`` does to the user namespace and output cache, with one garbage collection.

    ``%reset -f`` (``InteractiveShell.reset``) collects garbage three times: in the output
    cache's flush, *before* the namespace is emptied (nothing of the last notebook is
    freed yet), at the end of the magic, and :func:`reset_state` once more. Each full
    collection walks every object of a warm kernel (≈ 0.15 CPU-s); here the flush is left
    out (its work — the ``_N`` variables and ``_oh`` — goes with the namespace and the
    history reset) and :func:`reset_state` collects once at the end.
    """
    hook = shell.displayhook
    full_cache = hook.do_full_cache
    hook.do_full_cache = 0
    try:
        shell.reset(new_session=False)
    finally:
        hook.do_full_cache = full_cache
    hook._ = hook.__ = hook.___ = ""  # the flush's release of the last three outputs


def reset_state(cwd: str) -> None:
    """Give the next notebook a clean slate: as if it ran on a kernel of its own.

    Closes every figure, empties the user namespace (as ``%reset -f``, :func:`_empty_namespace`), restores what
    :func:`snapshot_state` recorded (rcParams, warnings filters, environment variables,
    ``sys.path``, numpy and pandas settings; rebinds every ``dxanalysis`` module global to
    its recorded object and removes globals added since; forgets ``dxanalysis`` modules
    imported since, so they are imported afresh) and changes to ``cwd``. Caches of pure
    functions (``functools.cache`` on resource files, the janome tokenizer) are kept: their
    values depend only on their arguments.
    """
    import gc
    import os
    import warnings

    base = _BASELINE
    if base is None:
        raise RuntimeError("snapshot_state() was not called in this kernel")
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    if shell is not None:
        _empty_namespace(shell)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mpl = sys.modules.get("matplotlib")
        if mpl is not None and "rc" in base:
            mpl.rcParams.update(base["rc"])
        pd = sys.modules.get("pandas")
        if pd is not None:
            for key, value in base["pandas"].items():
                try:
                    if pd.get_option(key) != value:
                        pd.set_option(key, value)
                except Exception:  # noqa: BLE001 - an option that cannot be set back is left as it is
                    pass
    np = sys.modules.get("numpy")
    if np is not None and "np_err" in base:
        np.seterr(**base["np_err"])
        np.set_printoptions(**base["np_print"])
    os.environ.clear()
    os.environ.update(base["environ"])
    sys.path[:] = base["sys_path"]
    saved = base["modules"]
    for name, mod in _own_modules().items():
        if name not in saved:
            sys.modules.pop(name, None)  # imported by the last notebook: imported afresh by the next
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is mod and child not in saved.get(parent, {}):
                delattr(sys.modules[parent], child)
            continue
        space, before = vars(mod), saved[name]
        for key in [k for k in space if k not in before]:
            del space[key]
        for key, value in before.items():
            if key not in space or space[key] is not value:
                space[key] = value
    warnings.filters[:] = base["warnings"]
    warnings._filters_mutated()
    os.chdir(cwd)
    gc.collect()
