"""The template files: complete modules, lint-clean, never imported, rendered verbatim."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from overlapdyn.compile import render
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.compile.pointwise import model_functions
from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.sgd.simulator import _sgd_loop

FOLDER = Path(render.__file__).parent / "templates"
TEMPLATES = ("prelude", "addresses", "cubature", "committee_target", "kernel_table",
             "gradient_table", "drift_loops", "sgd_loop", "kinked", "committee_target_gradient",
             "drift_jacobian", "state_evolution", "ranked_cubature", "reuse_gd",
             "reuse_dmft", "reuse_online", "output_channel", "gamp_products",
             "two_field_channel", "two_field_output", "wide_loops", "sde_loop",
             "polynomial_table", "table_kernels")


def _kernel_names() -> set[str]:
    """The kernels every model's module defines: ``KERNEL_NAMES`` of ``kernel_table.py``."""
    for node in ast.parse(render.template_body("kernel_table")).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "KERNEL_NAMES":
            return set(ast.literal_eval(node.value))
    raise AssertionError("kernel_table.py assigns no KERNEL_NAMES")


def _stand_ins(name: str) -> set[str]:
    """The names a template imports ``from generated``: what the generated module defines."""
    tree = ast.parse(render.template_text(name))
    return {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
            and node.module == "generated" for alias in node.names}


def _defined(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def test_the_templates_are_the_files_of_the_folder():
    assert sorted(path.stem for path in FOLDER.glob("*.py") if path.stem != "__init__") == sorted(
        TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_is_a_module_whose_body_is_valid_python(name):
    text = render.template_text(name)
    assert text == (FOLDER / f"{name}.py").read_text()
    compile(text, name, "exec")
    body = render.template_body(name)
    assert text.endswith(body) and "from generated import" not in body
    compile(body, name, "exec")


def test_the_templates_are_lint_clean():
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None or not (FOLDER.parents[2] / "pyproject.toml").exists():
        pytest.skip("ruff or the project's configuration is not here")
    result = subprocess.run([ruff, "check", "--no-cache", str(FOLDER)], capture_output=True,
                            text=True, cwd=FOLDER.parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_overlapdyn_imports_no_template():
    code = ("import sys, overlapdyn; "
            "print([m for m in sys.modules if m.startswith('overlapdyn.compile.templates.')])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_constants_are_set_once_or_refused():
    body = render.template_body("cubature", XI2="np.array([1.0])")
    assert "XI2 = np.array([1.0])\n" in body and "XI2 = np.empty(0)" not in body
    assert "WEIGHTS2 = np.empty(0)" in body
    with pytest.raises(OverlapdynError, match="METHOD"):
        render.template_body("cubature", METHOD="'exact'")


def test_the_stand_ins_are_what_the_generated_modules_define():
    committee = CompiledModel(Model(Target(k=2, activation="He2"),
                                    Student(p=2, activation="He2"), Protocol(eta=0.3)))
    multi_index = CompiledModel(Model(Target(k=2, expression="z1*z2"),
                                      Student(p=2, activation="He2"), Protocol(eta=0.3)))
    loops = committee.loops_source
    assert multi_index.loops_source == loops   # one module of loops for every model
    for name in ("addresses", "kernel_table", "drift_loops", "state_evolution"):
        assert _stand_ins(name) <= _defined(loops)
        assert render.template_body(name) in loops
    for compiled in (committee, multi_index):
        assert len(_kernel_names()) == 10 and _kernel_names() <= _defined(compiled.source)
        assert render.template_body("drift_loops") not in compiled.source
    assert _stand_ins("committee_target") <= _defined(committee.source)
    assert render.template_body("committee_target") in committee.source
    assert _stand_ins("cubature") <= _defined(render.module_source("test", []))
    assert _stand_ins("ranked_cubature") <= _defined(render.module_source("test", []))
    quadrature = CompiledModel(Model(Target(k=2, expression="tanh(z1 + z2)"),
                                     Student(p=2, activation="tanh"), Protocol(eta=0.5)))
    assert quadrature.method == "quadrature"   # generated and imported, not compiled here
    defined = _defined(quadrature.source)
    assert _kernel_names() <= defined and _stand_ins("ranked_cubature") <= defined
    assert {"_semidefinite_cholesky", "g_target", "Tg1", "Tgs", "Eg2"} <= defined
    body = render.ranked_cubature_prelude(16, 5, [[1.0, 0.0], [0.0, 1.0]])
    assert body in quadrature.source
    loops_module, gradient_module, _ = committee._jacobian_parts
    jacobian_loops = Path(loops_module.__file__).read_text()
    gradients = Path(gradient_module.__file__).read_text()
    for name in ("gradient_table", "drift_jacobian"):   # one module for every model
        assert _stand_ins(name) <= _defined(jacobian_loops)
        assert render.template_body(name) in jacobian_loops
    assert _stand_ins("committee_target_gradient") <= _defined(gradients)
    assert render.template_body("committee_target_gradient") in gradients
    simulator = Path(_sgd_loop().__file__).read_text()   # one loop for every model
    assert _stand_ins("sgd_loop") <= _defined(simulator)
    assert render.template_body("sgd_loop") in simulator
    functions = _defined(Path(model_functions(committee.model).__file__).read_text())
    assert {"sig", "dsig", "target"} <= functions and "run" not in functions


def test_the_digest_follows_the_template_text(tmp_path, monkeypatch):
    before = render.template_digest()
    copy = tmp_path / "templates"
    shutil.copytree(FOLDER, copy)
    monkeypatch.setattr(render, "_templates", lambda: copy)
    assert render.template_digest() == before
    path = copy / "drift_loops.py"
    path.write_text(path.read_text() + "\n# an edit\n")
    assert render.template_digest() != before
