"""The derivation method in model files (``[derivation]``) and on the command line
(``--derivation``), and the line every build prints before and after it."""

from __future__ import annotations

import tomllib

import pytest

from overlapdyn.cli import main
from overlapdyn.compile.cache import is_cached
from overlapdyn.compile.compiled import CompiledModel, plan_build
from overlapdyn.derive.methods import (
    Auto,
    ClosedForm,
    Exact,
    HermiteTruncation,
    Quadrature,
    derivation_from_config,
    parse_derivation,
)
from overlapdyn.errors import ConfigError
from overlapdyn.io.toml import load_derivation, load_model, load_sweep
from overlapdyn.model.spec import model_from_dict
from tests.configs import MODELS, SAAD_SOLLA_TOML

RUN = SAAD_SOLLA_TOML + "[integrate]\nt_end = 1.0\nn_points = 3\n"


@pytest.mark.parametrize("section, expected", [
    ({"method": "exact"}, Exact()),
    ({"method": "closed-form"}, ClosedForm()),
    ({"method": "hermite", "order": 4}, HermiteTruncation(4)),
    ({"method": "hermite"}, HermiteTruncation(6)),
    ({"method": "quadrature", "nodes": 24}, Quadrature(24)),
    ({"method": "auto"}, Auto()),
    ({}, Auto()),
    ({"method": "auto", "order": 3, "nodes": 8, "tolerance": 1e-2},
     Auto(HermiteTruncation(3), Quadrature(8), 1e-2)),
])
def test_derivation_section_is_read_into_its_method(section, expected):
    assert derivation_from_config(section) == expected


@pytest.mark.parametrize("text, expected", [
    ("exact", Exact()), ("closed-form", ClosedForm()), ("hermite:4", HermiteTruncation(4)),
    ("quadrature:24", Quadrature(24)), ("quadrature", Quadrature(16)), ("auto", Auto()),
])
def test_derivation_option_is_read_into_its_method(text, expected):
    assert parse_derivation(text) == expected


@pytest.mark.parametrize("section, named", [
    ({"method": "simpson"}, "'simpson'"),
    ({"method": "quadrature", "nodes": 1}, "nodes"),
    ({"method": "hermite", "order": 0}, "order"),
    ({"method": "hermite", "order": True}, "order"),
    ({"method": "auto", "tolerance": 0.0}, "tolerance"),
    ({"method": "hermite", "nodes": 8}, "nodes"),
    ({"method": "exact", "degree": 2}, "degree"),
])
def test_bad_derivation_section_is_a_named_error(section, named):
    with pytest.raises(ConfigError, match=named) as caught:
        derivation_from_config(section)
    # an unknown method lists the methods, an unknown key the keys
    if "simpson" in named:
        assert "quadrature" in str(caught.value)
    if "degree" in named:
        assert "allowed" in str(caught.value) and "nodes" in str(caught.value)


def test_file_section_is_loaded_and_the_model_ignores_it(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(RUN + '[derivation]\nmethod = "quadrature"\nnodes = 24\n')
    assert load_derivation(path) == Quadrature(24)
    assert load_model(path).p == 2
    bare = tmp_path / "bare.toml"
    bare.write_text(RUN)
    assert load_derivation(bare) is None


def test_sweep_refuses_a_derivation_it_would_ignore(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(RUN + '[derivation]\nmethod = "hermite"\n[sweep]\nkind = "ode"\n'
                    "[sweep.axes]\neta = [0.1, 0.2]\n")
    with pytest.raises(ConfigError, match=r"\[derivation\]"):
        load_sweep(path)


def test_plan_says_compiling_then_cached_with_the_route(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path / "cache"))
    model = MODELS["He2 committee p=k=2"]
    derivation = HermiteTruncation(3)   # a key no other test builds: cold in this cache
    before = plan_build(model, derivation)
    assert (before.method, before.cached) == ("hermite", False)
    assert not is_cached(before.key)
    assert "hermite" in before.describe() and "compiling now" in before.describe()
    compiled = CompiledModel(model, derivation)
    after = plan_build(model, derivation)
    assert compiled.method == after.method and after.key == before.key
    assert after.cached and is_cached(after.key)
    assert "cached" in after.describe() and "compiling" not in after.describe()


def test_plan_reports_the_truncation_error_of_a_truncated_activation():
    model = model_from_dict(tomllib.loads(SAAD_SOLLA_TOML))
    plan = plan_build(model, HermiteTruncation(2))
    assert set(plan.truncation_errors) == {"σ = erf", "σ* = erf"}
    # erf(x/√2)'s Hermite tail beyond order 2 is far from negligible
    assert 0.05 < plan.truncation_errors["σ = erf"] < 0.5
    assert "σ = erf" in plan.describe()
    assert plan_build(model).truncation_errors == {}   # closed form: nothing truncated


def test_cli_option_overrides_the_file_and_the_line_names_route_and_cache(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(RUN + '[derivation]\nmethod = "closed-form"\n')
    assert main(["point", str(path)]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("kernels of m: closed-form (closed-form, as asked)")
    assert "cached" in first   # "cached: loading" or "not cached: compiling now"
    assert "model m: kernels closed-form" in out
    # `ode` needs no Jacobian: one module to compile, not two
    assert main(["ode", str(path), "--derivation", "hermite:2", "--out",
                 str(tmp_path / "ode")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("kernels of m: hermite (hermite, as asked)")
    assert "LSODA (hermite kernels)" in out
    assert "s\n" in out.split("kernels of m: hermite, ")[1][:40]   # "compiled in 0.4 s"


def test_bad_file_section_is_refused_even_when_the_option_overrides_it(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(RUN + '[derivation]\nmethod = "simpson"\n')
    assert main(["point", str(path), "--derivation", "auto"]) == 2
    assert "simpson" in capsys.readouterr().err
