"""Sphinx configuration of the overlapdyn documentation (``make docs``).

The API reference is autodoc on the package's Google-style docstrings (napoleon); the guide
and conventions pages are Markdown (MyST); the notebooks in ``notebooks/`` (linked here as
``docs/notebooks``) are rendered by MyST-NB as stored, never executed. Builds run with
warnings as errors and ``nitpicky``, so a cross-reference to a moved or renamed name fails
the build (``tests/test_docs.py``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, not whichever copy is installed

import overlapdyn  # noqa: E402

project = "overlapdyn"
author = "overlapdyn contributors"
copyright = "overlapdyn contributors"
release = version = overlapdyn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",
]

exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}

# -- MyST / notebooks ------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the test suite runs the notebooks; the docs only show them
# The stored notebooks predate nbformat's cell ids; rendering does not need them.
warnings.filterwarnings("ignore", message="Cell is missing an id field")

# -- autodoc -----------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# Every reference to an overlapdyn name must resolve; names of other libraries are not
# documented here (no intersphinx: the build needs no network).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sympy|xarray|matplotlib|dask|distributed|numba|pathlib|"
               r"collections|typing|os|types|argparse|functools|sys|importlib)\..*"),
    (r"py:class", r"overlapdyn\.storage\.memo\.[FM]"),  # type variables
    (r"py:class", r"Figure|Axes"),  # Matplotlib's, named in string annotations
]

# -- HTML ------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"overlapdyn {release}"
html_theme_options = {"description": "Overlap ODEs of two-layer networks", "fixed_sidebar": True}
html_static_path: list[str] = []


# -- references by the names the code uses ------------------------------------------------------
# The reference documents each object where it is defined (``overlapdyn.ode.trajectory.
# Trajectory``). A docstring may also name it where users import it from
# (``overlapdyn.ode.Trajectory``), or by the short name its own module imports
# (``Trajectory`` in ``overlapdyn.ode.integrator``): a reference that does not resolve as
# written is looked up the way Python would, and retried at the object's defining module.
# A short name that is not in its module's namespace resolves if exactly one documented
# object has it; one that names nothing (or several things) stays a warning.
def _import_prefix(dotted: str):
    """The longest importable module prefix of ``dotted`` and the attribute path after it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            return importlib.import_module(".".join(parts[:cut])), parts[cut:]
        except ImportError:
            continue
    return None, parts


def _defining_name(dotted: str) -> str | None:
    """``owner.qualname`` of the object ``dotted`` names, or None if that is not found; an
    attribute without a home of its own (a dataclass field) keeps its class's."""
    obj, rest = _import_prefix(dotted)
    if obj is None:
        return None
    home, tail = None, []
    for position, name in enumerate(rest):
        if not hasattr(obj, name):
            if home is None or position != len(rest) - 1:
                return None
            tail = [name]
            break
        obj = getattr(obj, name)
        owner, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if isinstance(owner, str) and isinstance(qualname, str) and owner.startswith("overlapdyn"):
            home, tail = f"{owner}.{qualname}", []
        elif home is not None:
            tail.append(name)
    if home is None and len(rest) == 1 and obj is not None:
        return _exporting_module(dotted, obj)
    if home is None:
        return None
    return ".".join([home, *tail])


def _exporting_module(dotted: str, value) -> str | None:
    """A module-level value (no ``__module__`` of its own) belongs to the submodule that
    lists it in ``__all__``."""
    package, name = dotted.rsplit(".", 1)
    owners = sorted(module for module, loaded in list(sys.modules.items())
                    if module.startswith(package) and module != package
                    and name in getattr(loaded, "__all__", ())
                    and getattr(loaded, name, None) is value)
    return f"{owners[0]}.{name}" if len(owners) == 1 else None


def _resolve_by_python_names(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    if target.startswith("overlapdyn."):
        candidates = [target]
    else:
        context = node.get("py:module") or ""
        candidates = [f"{context}.{target}"] if context.startswith("overlapdyn") else []
    domain = env.get_domain("py")
    for candidate in candidates:
        defining = _defining_name(candidate)
        if defining is None or defining == node["reftarget"]:
            continue
        found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                    defining, node, contnode)
        if found is not None:
            return found
    if not target.startswith("overlapdyn."):
        matches = {name for name, _ in domain.find_obj(env, None, None, target,
                                                          node["reftype"], 1)}
        if len(matches) == 1:
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                       matches.pop(), node, contnode)
    return None


# -- a stage's public names ---------------------------------------------------------------------
class PublicNames(SphinxDirective):
    """``.. overlapdyn-names:: overlapdyn.ode``: a table of the names a subpackage exports
    (its ``__all__``), each linked to where it is documented, with its summary line."""

    required_arguments = 1

    def run(self):
        package = importlib.import_module(self.arguments[0])
        # each by its defining name, so that a constant's summary is its ``#:`` comment
        names = [_defining_name(f"{package.__name__}.{name}") or f"{package.__name__}.{name}"
                 for name in package.__all__ if not name.startswith("__")]
        lines = [f".. currentmodule:: {package.__name__}", "", ".. autosummary::",
                 "   :nosignatures:", "",
                 *(f"   ~{name.removeprefix(package.__name__ + '.')}" for name in names)]
        return self.parse_text_to_nodes("\n".join(lines))


# -- the command line's help texts --------------------------------------------------------------
class CommandHelp(SphinxDirective):
    """``.. overlapdyn-help:: COMMAND``: the ``--help`` text of ``overlapdyn COMMAND`` (or of
    ``overlapdyn`` itself without an argument), from the parser the command uses."""

    optional_arguments = 1

    def run(self):
        from overlapdyn.cli import build_parser

        parser = build_parser()
        if self.arguments:
            (commands,) = (action for action in parser._actions
                           if isinstance(action, argparse._SubParsersAction))
            parser = commands.choices[self.arguments[0]]
        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "92"  # argparse wraps to the terminal; fix the width
        try:
            text = parser.format_help()
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.connect("missing-reference", _resolve_by_python_names)
    app.add_directive("overlapdyn-help", CommandHelp)
    app.add_directive("overlapdyn-names", PublicNames)
