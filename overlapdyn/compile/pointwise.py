r"""A model's pointwise functions compiled for the loops that draw or integrate samples.

The simulator's SGD loop (``templates/sgd_loop.py``) and the overlap SDE's cubature
(``templates/sde_loop.py``) evaluate the student activation σ, its derivative σ' and the
target ``g(z_1..z_k)`` at single points. :func:`model_functions` prints the three from SymPy
into one generated module per (activation, target), cached like every generated module;
the shared loops call them by address (``templates/addresses.py``), in the order
``("sig", "dsig", "target")``: ``sig(x)``, ``dsig(x)`` take and return floats, ``target(zv)``
takes the latent fields as a float64 array of length k.
"""

from __future__ import annotations

from types import ModuleType

import sympy

from ..errors import OverlapdynError
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.spec import Model
from ..storage.versions import __version__
from .cache import load_module, source_key
from .printer import expression_source, kernel_source
from .render import module_source, template_digest

__all__ = ["POINTWISE_VERSION", "model_functions"]

#: bump when the printer or the assembly below changes the modules; the templates are hashed
POINTWISE_VERSION = 7


def model_functions(model: Model) -> ModuleType:
    """The generated module of σ, σ' and g of ``model`` (Numba functions ``sig``, ``dsig``,
    ``target``); a kinked activation (Heaviside, sign) is printed as a Piecewise.

    Raises:
        OverlapdynError: the student activation has no symbolic formula.
    """
    sigma = resolve_activation(model.student.activation).expr
    if sigma is None:
        raise OverlapdynError("the simulator and the SDE need a symbolic student activation")
    g = model.target.function()
    z = sympy.symbols(model.target.latent_names)
    vector = sympy.IndexedBase("zv")
    g_of_vector = g.xreplace({zr: vector[r] for r, zr in enumerate(z)})

    def piecewise(expr):
        return expr.rewrite(sympy.Piecewise) if expr.has(sympy.Heaviside, sympy.sign) else expr

    def source() -> str:
        return module_source("σ, σ' and g of one model, for the simulator", [
            kernel_source("sig", ("x",), piecewise(sigma)),
            kernel_source("dsig", ("x",), piecewise(sympy.diff(sigma, X))),
            expression_source("target", "zv", g_of_vector)])

    key = source_key(__version__, POINTWISE_VERSION, template_digest(), "simulate",
                     model.student.activation, str(g))
    return load_module(key, source, required=("sig", "dsig", "target"))[0]
