"""The package layout's one rule, checked on the source: each subpackage imports only from
those listed before it, the edge (io, plot, jobs, cli) is imported by nothing below it, no
module imports another's private names, and module-level imports have no cycle."""

import ast
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "overlapdyn"

# bottom → top; a module may import from its own layer and the layers before it
LAYERS = (
    ("errors", "storage", "fits", "progress"),
    ("model",),
    ("derive",),
    ("compile",),
    ("ode",),
    ("sgd",),
    ("scaling",),
    ("limits",),
    ("reuse",),
    ("readout",),
    ("depth", "sweeps"),
    ("io",),
    ("plot",),
    ("jobs",),
    ("cli", "__init__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts


def _imports(path: Path, parts: tuple[str, ...]):
    """(absolute dotted module under overlapdyn, imported names, line, at module level)."""
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1] if node.level > 1 else package
            target = (*base, *(node.module.split(".") if node.module else ()))
            names = [alias.name for alias in node.names]
            yield target, names, node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("overlapdyn"):
            target = tuple(node.module.split(".")[1:])
            yield target, [a.name for a in node.names], node.lineno, id(node) in top_level


def _layer(parts: tuple[str, ...]) -> str:
    return parts[0] if parts else "__init__"


def test_every_module_belongs_to_a_layer():
    unplaced = sorted({_layer(parts) for _, parts in _modules()} - set(RANK))
    assert not unplaced, f"modules outside the layer list: {unplaced}"


def test_imports_point_down_the_pipeline():
    upward = []
    for path, parts in _modules():
        for target, _, line, _ in _imports(path, parts):
            if target and RANK[_layer(target)] > RANK[_layer(parts)]:
                upward.append(f"{'/'.join(parts)}.py:{line} imports {'.'.join(target)}")
    assert not upward, "\n".join(upward)


def test_no_private_names_imported_across_modules():
    private = []
    for path, parts in _modules():
        for target, names, line, _ in _imports(path, parts):
            bad = [n for n in names if n.startswith("_") and n != "__version__"]
            if bad:
                private.append(f"{'/'.join(parts)}.py:{line} imports {bad} from "
                               f"{'.'.join(target)}")
    assert not private, "\n".join(private)


def _module_graph() -> dict[str, set[str]]:
    known = {".".join(parts): parts for _, parts in _modules()}
    graph: dict[str, set[str]] = {}
    for path, parts in _modules():
        edges = graph.setdefault(".".join(parts), set())
        for target, names, _, top in _imports(path, parts):
            if not top:
                continue
            for name in names:  # "from . import ode" imports a module
                candidate = ".".join((*target, name))
                if candidate in known or f"{candidate}.__init__" in known:
                    edges.add(candidate if candidate in known else f"{candidate}.__init__")
            joined = ".".join(target)
            if joined in known:
                edges.add(joined)
            elif f"{joined}.__init__" in known:
                edges.add(f"{joined}.__init__")
    return graph


def test_module_level_imports_have_no_cycle():
    graph, state, cycle = _module_graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt.endswith("__init__") and node.startswith(nxt[:-len("__init__")]):
                continue  # a module of a subpackage importing its own package's siblings
            if state.get(nxt) == "open":
                cycle.extend(stack[stack.index(nxt):] + [nxt])
                return True
            if nxt not in state and visit(nxt, [*stack, nxt]):
                return True
        state[node] = "done"
        return False

    for node in sorted(graph):
        if node not in state and visit(node, [node]):
            break
    assert not cycle, " → ".join(cycle)


@pytest.mark.parametrize("name", ["errors", "storage", "model", "derive", "compile", "ode",
                                  "sgd", "scaling", "limits", "reuse", "readout", "depth", "sweeps",
                                  "io", "plot", "jobs"])
def test_namespaces_do_not_shadow_their_modules(name):
    package = importlib.import_module(f"overlapdyn.{name}")
    folder = PACKAGE / name
    if not folder.is_dir():
        return
    for module in folder.glob("[!_]*.py"):
        value = getattr(package, module.stem, None)
        assert value is None or type(value).__name__ == "module", (
            f"overlapdyn.{name}.{module.stem} is a {type(value).__name__}, not the module")


def test_every_import_inside_functions_resolves():
    """Imports inside functions run only when called: check they name what exists."""
    missing = []
    for path, parts in _modules():
        for target, names, line, top in _imports(path, parts):
            if top:
                continue
            module = importlib.import_module(".".join(("overlapdyn", *target)))
            missing += [f"{'/'.join(parts)}.py:{line}: {'.'.join(target)}.{name}"
                        for name in names if not hasattr(module, name)
                        and importlib.util.find_spec(f"{module.__name__}.{name}") is None]
    assert not missing, "\n".join(missing)


def test_test_files_have_names_of_their_own():
    """The test folders are not packages, so two test files of one name collide when pytest
    imports them (an "import file mismatch" that fails the whole run)."""
    names = [path.name for path in (PACKAGE.parent / "tests").rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_import_overlapdyn_loads_no_heavy_library_until_a_name_is_used():
    code = ("import sys, overlapdyn as od\n"
            "heavy = ('numpy', 'sympy', 'scipy.stats', 'scipy.integrate', 'numba', 'matplotlib',\n"
            "         'dask', 'xarray')\n"
            "print([name for name in heavy if name in sys.modules])\n"
            "missing = [name for name in od.__all__ if not hasattr(od, name)]\n"
            "print(missing, od.integrate.__module__, 'scipy.integrate' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines() == ["[]", "[] overlapdyn.ode.integrator True"]


def test_a_run_without_a_progress_bar_imports_no_display_code():
    """tqdm.auto picks Jupyter's widget and warns without ipywidgets: a run that shows no
    bar must not import it (notebooks stored with their outputs showed the warning)."""
    code = ("import sys\nfrom overlapdyn.progress import progress_bar\n"
            "with progress_bar(False, total=3) as bar:\n    bar.update(3)\n"
            "print(sorted(m for m in sys.modules if m.startswith('tqdm.auto')\n"
            "             or m.startswith('tqdm.notebook')), list(progress_bar(False, 'ab')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[] ['a', 'b']" and result.stderr == ""
