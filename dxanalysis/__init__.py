"""dxanalysis: analytics workbook for municipal DX-literacy programmes.

Modules follow the programme: ``survey`` (step 2), ``segments``, ``roadmap``
(steps 1 and 3), ``training`` (step 4), with ``io``/``validate`` for inputs,
``privacy`` for what may be shared, ``plots`` for charts and ``runner``/``report``
for executing notebooks and rendering HTML.
"""

__version__ = "0.1.0"


def _install_kernel_hooks() -> None:
    # In a Jupyter kernel, input errors show as a short message without a traceback.
    from . import kernel

    kernel.install()


_install_kernel_hooks()
