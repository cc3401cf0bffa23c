"""The equations written out: the formulas evaluate to the compiled drift, and the LaTeX and
Mathematica texts say the same (Mathematica parsed back by SymPy's own parser)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy
from configs import MODELS, SAAD_SOLLA_TOML
from sympy.parsing.mathematica import parse_mathematica

from overlapdyn.cli import main
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.derive.equations import drift_equations
from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target

SAAD_SOLLA = Model(Target(k=2, activation="erf", c_k=1.0),
                   Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5))
SPHERICAL = Model(Target(k=1, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=0.1, spherical=True, n_b=2))

CASES = {
    "erf committee, closed form": SAAD_SOLLA,
    "multi-index, noise, weight decay, trained readout": MODELS["trained readout + weight decay"],
    "correlation loss, n_b = 8": MODELS["correlation loss He2, n_b=8"],
    "spherical": SPHERICAL,
}


def _state(model: Model, seed: int):
    """A random admissible state: Ω = [[Q, M], [Mᵀ, P]] positive definite."""
    rng = np.random.default_rng(seed)
    p, k = model.p, model.k
    W = rng.normal(size=(p, p + k)) * 0.4 + np.hstack([np.zeros((p, k)), np.eye(p)])
    U = np.hstack([np.eye(k), np.zeros((k, p))])
    M, Q = W @ U.T, W @ W.T
    if model.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        M, Q = M / norms[:, None], Q / np.outer(norms, norms)
    return M, Q, rng.normal(size=p)


@pytest.mark.parametrize("name", CASES)
def test_the_formulas_evaluate_to_the_compiled_drift(name):
    model = CASES[name]
    compiled = CompiledModel(model)
    equations = compiled.equations("sympy")
    assert equations.method == compiled.method
    M, Q, a = _state(model, seed=len(name))
    a = a if model.student.train_readout else None
    dM, dQ, da, risk = equations.evaluate(M, Q, a)
    want_dM, want_dQ, want_da = compiled.drift(M, Q, a)
    scale = np.abs(np.concatenate([want_dM.ravel(), want_dQ.ravel()])).max()
    assert scale > 1e-3         # a state where the drift is not trivially zero
    np.testing.assert_allclose(dM, want_dM, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(dQ, want_dQ, rtol=1e-10, atol=1e-12 * scale)
    if model.student.train_readout:
        np.testing.assert_allclose(da, want_da, rtol=1e-10, atol=1e-12)
    else:
        assert da is None and "da/dt" not in equations.rates
    assert risk == pytest.approx(compiled.risk(M, Q, a), rel=1e-11, abs=1e-13)
    with pytest.raises(OverlapdynError, match="M, Q and a must have shapes"):
        equations.evaluate(M[:, :0], Q)


def test_the_latex_names_every_piece():
    text = drift_equations(MODELS["trained readout + weight decay"]).latex()
    assert text.startswith(r"\begin{align*}") and text.endswith(r"\end{align*}")
    for piece in (r"\frac{dM_{jr}}{dt} &= ", r"\frac{dQ_{jl}}{dt}", r"\frac{da_{j}}{dt}",
                  r"\omega", r"\Delta", r"\sum_{l=1}^{p}", r"I_{4}^{sss}\left(Q_{jj}",
                  r"T_{gz}", r"T_{gz}^{(2)}\left(q_{11}", r"g(z) &= ",
                  r"\mathbb{E}[\sigma'(x_1)\,\sigma'(x_2)\,\sigma(x_3)\,\sigma(x_4)]"):
        assert piece in text, piece
    # ω and Δ are zero for the committee: their terms are left out
    plain = drift_equations(SAAD_SOLLA).latex(kernels=False)
    assert r"\omega" not in plain and r"\Delta" not in plain and "I_{2}^{ss}" in plain
    # σ and σ* are stated with the kernels (erf as erf(x/√2)), and left out without them
    full = drift_equations(SAAD_SOLLA).latex()
    assert r"\sigma(x) &= \operatorname{erf}(x/\sqrt{2})" in full
    assert r"\sigma^*(x) &= \operatorname{erf}(x/\sqrt{2})" in full
    assert r"\sigma(x) &=" not in plain


def _from_mathematica(expr: sympy.Expr) -> sympy.Expr:
    """What parse_mathematica gives back for one of our expressions: indexed symbols as
    function calls, names without underscores, D as Dsigma."""
    expr = expr.replace(lambda e: isinstance(e, sympy.Indexed),
                        lambda e: sympy.Function({"D": "Dsigma"}.get(str(e.base), str(e.base)))(
                            *e.indices))
    renamed = {symbol: sympy.Symbol(symbol.name.replace("_", ""))
               for symbol in expr.free_symbols | _bound(expr)}
    return expr.xreplace(renamed)


def _bound(expr):
    return {limit[0] for s in expr.atoms(sympy.Sum) for limit in s.limits}


def _parse(text: str) -> sympy.Expr:
    """parse_mathematica, with Mathematica's Sum as SymPy's (it gives an undefined one)."""
    return parse_mathematica(text).replace(
        lambda e: type(e).__name__ == "Sum" and not isinstance(e, sympy.Sum),
        lambda e: sympy.Sum(*e.args))


def _same(parsed: sympy.Expr, ours: sympy.Expr, model: Model) -> bool:
    """Equal once the sums over p neurons and k directions are written out."""
    sizes = {sympy.Symbol("p"): model.p, sympy.Symbol("k"): model.k}
    difference = (parsed - _from_mathematica(ours)).xreplace(sizes).doit()
    return sympy.expand(difference) == 0


def test_the_mathematica_parses_back_to_the_same_formulas():
    model = MODELS["trained readout + weight decay"]
    equations = drift_equations(model)
    text = equations.mathematica()
    definitions = dict(re.findall(r"^(\w+)\[[^\]]*\] := (.*)$", text, flags=re.M))
    assert set(definitions) >= {"dM", "dQ", "da", "Az", "Al", "B", "Dsigma", "I4sss", "Tgg"}
    assert "_" not in "".join(definitions.values())   # underscores are patterns there
    for symbol, value in equations.expectations.items():
        name = {"D": "Dsigma"}.get(str(symbol.base), str(symbol.base))
        parsed = _parse(definitions[name])
        assert _same(parsed, value, model), name
    for name, rate in equations.rates.items():
        parsed = _parse(definitions[name[:2]])
        assert _same(parsed, rate, model), name
    args, formula = equations.kernels["I4sss"]
    parsed = _parse(definitions["I4sss"])
    assert _same(parsed, formula, model)
    # the parameters are assignments with the model's values
    assert "eta = 0.2;" in text and "omega = 0.05;" in text and "Delta = 0.1;" in text


def test_numeric_kernels_are_named_and_not_evaluated():
    model = Model(Target(k=1, activation="tanh"), Student(p=1, activation="tanh"),
                  Protocol(eta=0.5))
    equations = drift_equations(model)
    assert equations.method == "quadrature" and equations.kernels["I3ss"][1] is None
    assert r"\text{(quadrature, at run time)}" in equations.latex()
    assert "(* I3ss: quadrature, computed at run time *)" in equations.mathematica()
    with pytest.raises(OverlapdynError, match="kernels I2ss, I3ss, I4sss.* are computed "
                                              "numerically .*use CompiledModel.drift"):
        equations.evaluate(np.zeros((1, 1)), np.eye(1))
    with pytest.raises(OverlapdynError, match="unknown format 'tex'.*latex, mathematica"):
        equations.text("tex")


def test_cli_prints_and_writes_the_equations(tmp_path, capsys):
    config = tmp_path / "erf.toml"
    config.write_text(SAAD_SOLLA_TOML)
    assert main(["equations", str(config), "--no-kernels"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\begin{align*}") and r"I_{3}^{st}" in out
    assert r"\arcsin" not in out        # --no-kernels: no formulas
    assert main(["equations", str(config), "--format", "mathematica",
                 "--out", str(tmp_path / "erf.m")]) == 0
    assert "wrote the mathematica equations of erf" in capsys.readouterr().out
    written = (tmp_path / "erf.m").read_text()
    assert "I2ss[c11_, c12_, c22_] := 2*ArcSin[" in written
    assert main(["equations", str(config), "--format", "sympy"]) == 0
    assert "dM/dt[j, r] = eta*Az[j, r]" in capsys.readouterr().out
