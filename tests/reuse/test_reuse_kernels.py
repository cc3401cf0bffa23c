"""The compiled per-sample functions of full-batch GD against NumPy, and their module
against the template's stand-ins."""

import ast
from pathlib import Path

import numpy as np

from overlapdyn.compile import render
from overlapdyn.model import Student, Target
from overlapdyn.reuse import FullBatchGD, GradientKernels
from overlapdyn.reuse.kernels import gaussian_factor


def test_labels_errors_and_gradients_match_numpy():
    spec = FullBatchGD(Target(k=2, expression="tanh(z1 + He3(z2))", noise=0.25),
                       Student(p=3, activation="relu", c_p=0.5, a=(1.0, -2.0, 0.5)),
                       eta=0.3, alpha=2.0)
    rng = np.random.default_rng(0)
    z, lam, xi = rng.normal(size=(500, 2)), rng.normal(size=(500, 3)), rng.normal(size=500)
    kernels = GradientKernels(spec)
    y = kernels.labels(z, xi)
    np.testing.assert_allclose(y, np.tanh(z[:, 0] + z[:, 1] ** 3 - 3 * z[:, 1]) + 0.5 * xi,
                               rtol=1e-12, atol=1e-12)
    G, e, residual2 = kernels.gradients(lam, y)
    ca = 0.5 * np.array([1.0, -2.0, 0.5])
    y_hat = np.maximum(lam, 0) @ ca
    np.testing.assert_allclose(e, y - y_hat, atol=1e-12)
    np.testing.assert_allclose(residual2, (y - y_hat) ** 2, atol=1e-12)
    np.testing.assert_allclose(G, (y - y_hat)[:, None] * ca * (lam > 0), atol=1e-12)
    # the correlation loss: e = y whatever ŷ, the residual still y − ŷ
    corr = GradientKernels(FullBatchGD(spec.target, spec.student, eta=0.3, alpha=2.0,
                                       loss="correlation"))
    G, e, residual2 = corr.gradients(lam, y)
    np.testing.assert_allclose(e, y)
    np.testing.assert_allclose(residual2, (y - y_hat) ** 2, atol=1e-12)


def test_the_module_defines_what_the_template_stands_in_for():
    spec = FullBatchGD(Target(k=1, activation="tanh"), Student(p=1, activation="relu"),
                       eta=0.3, alpha=2.0)
    source = Path(GradientKernels(spec)._compiled.__file__).read_text()
    tree = ast.parse(render.template_text("reuse_gd"))
    stand_ins = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                 and node.module == "generated" for alias in node.names}
    defined = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    assert stand_ins <= defined
    assert render.template_body("reuse_gd") in source


def test_the_gaussian_factor_is_a_square_root_also_when_singular():
    C = np.array([[1.0, 0.5], [0.5, 2.0]])
    A = gaussian_factor(C)
    np.testing.assert_allclose(A @ A.T, C, atol=1e-14)
    np.testing.assert_allclose(A, np.linalg.cholesky(C))
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    A = gaussian_factor(singular)
    np.testing.assert_allclose(A @ A.T, singular, atol=1e-12)
