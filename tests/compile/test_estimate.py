"""The estimate of a cold build (overlapdyn.compile.estimate): what it counts, that it grows
with the model, and what the build line says. No timings: the constants are calibrated by
benchmarks/bench_build.py, and only their structure is tested here."""

import sys

import pytest

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile.compiled import CompiledModel, plan_build
from overlapdyn.compile.estimate import BASE_S, BuildEstimate, estimate_build
from overlapdyn.derive.methods import ClosedForm, Exact, HermiteTruncation, Quadrature


def committee(activation, p=2, k=2):
    return Model(Target(k=k, activation=activation), Student(p=p, activation=activation),
                 Protocol(eta=0.1))


def multi_index(expression, k, student="He2"):
    return Model(Target(k=k, expression=expression), Student(p=2, activation=student),
                 Protocol(eta=0.1))


def test_expansion_of_a_he2_committee_counted_by_hand():
    """degree + 1 of σ = σ* = He2: 3, of σ' = 2x: 2, of the field x: 2. I2ss 3·3, J2s 2·2,
    I3ss 2·2·3, I4sss 2·2·3·3, and the same with σ* for I2st, I2tt, I3st, I4sst, I4stt."""
    estimate = estimate_build(committee("He2"), Exact())
    assert estimate.expansion == 9 + 4 + 12 + 36 + 9 + 9 + 12 + 36 + 36
    assert estimate.kernels == 9 and estimate.fields == 2 + 2 + 3 + 4 + 2 + 2 + 3 + 4 + 4


def test_a_multi_index_target_has_nine_plus_k_kernels():
    estimate = estimate_build(multi_index("z1*z2*z3", 3), Exact())
    assert estimate.kernels == 9 + 3
    # blocks: 4 student kernels (2, 2, 3, 4), Tg1 and Tgz_r (1 + k), Tgl and Tgg (2 + k),
    # Tgs (3 + k), Eg2 (k)
    assert estimate.fields == 11 + 4 * 4 + 2 * 5 + 6 + 3


@pytest.mark.parametrize(("smaller", "larger"), [
    ((committee("He2"), Exact()), (committee("He4", p=4), Exact())),
    ((multi_index("z1", 3), Exact()), (multi_index("z1 + z1*z2 + z1*z2*z3", 3), Exact())),
    ((multi_index("z1*z2", 2), Exact()), (multi_index("z1*z2", 2, student="He4"), Exact())),
    ((committee("tanh"), HermiteTruncation(3)), (committee("tanh"), HermiteTruncation(7))),
    ((multi_index("z1*z2", 2, "relu"), Quadrature(12)),
     (multi_index("z1*z2*z3", 3, "relu"), Quadrature(12))),
    ((committee("erf"), ClosedForm()), (committee("erf"), HermiteTruncation(9))),
    ((committee("tanh"), Quadrature(16)), (multi_index("tanh(z1)*z2", 2, "tanh"),
                                           Quadrature(16))),
], ids=["degree", "target terms", "student degree", "truncation order", "k", "route",
        "multi-index"])
def test_a_bigger_build_is_estimated_longer(smaller, larger):
    small, large = estimate_build(*smaller), estimate_build(*larger)
    assert large.seconds > small.seconds >= BASE_S
    assert large.fields >= small.fields and large.expansion >= small.expansion


def test_routes_without_symbolic_expansion_expand_nothing():
    assert estimate_build(committee("erf"), ClosedForm()).expansion == 0
    assert estimate_build(committee("tanh"), Quadrature(8)).expansion == 0
    # the number of nodes is a run-time loop bound, not code: the estimate ignores it
    assert estimate_build(committee("tanh"), Quadrature(8)) == \
        estimate_build(committee("tanh"), Quadrature(64))


def test_the_range_is_stated_as_rough_and_in_minutes_when_long():
    estimate = BuildEstimate("exact", 12, 40, 5000, 300.0)
    assert estimate.low < estimate.seconds < estimate.high
    text = estimate.describe()
    assert text == ("12 exact kernels (40 fields, expansion size 5000): roughly 2 min–10 min "
                    "(a rough estimate)")
    assert "expansion" not in BuildEstimate("quadrature", 9, 26, 0, 20.0).describe()


def test_the_build_line_gives_the_estimate_when_cold_and_says_cached_after(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path / "cache"))
    model = committee("He2")
    key = plan_build(model, Exact()).key
    for name in [name for name in sys.modules if name.endswith(key)]:
        monkeypatch.delitem(sys.modules, name)  # imported by another test of this process
    cold = plan_build(model, Exact())
    assert not cold.cached and cold.estimate == estimate_build(model, Exact())
    assert "compiling now 9 exact kernels (26 fields, expansion size 163): roughly" in \
        cold.describe()
    CompiledModel(model, Exact())
    warm = plan_build(model, Exact())
    assert warm.cached and "cached: loading" in warm.describe()
    assert "roughly" not in warm.describe()


def test_an_odd_function_truncated_at_an_even_order_has_the_odd_degree_below():
    """tanh is odd: its Hermite coefficients of even order are zero, so the truncations at
    orders 5 and 6 are the same polynomial, and so are their builds."""
    assert estimate_build(committee("tanh"), HermiteTruncation(5)) == \
        estimate_build(committee("tanh"), HermiteTruncation(6))
    relu = committee("relu")                                   # neither odd nor even
    assert estimate_build(relu, HermiteTruncation(6)).expansion > \
        estimate_build(relu, HermiteTruncation(5)).expansion


def test_a_truncated_multi_index_target_counts_its_dense_monomials():
    """g = tanh(z1 + z2) is odd: truncated at order 6 it has degree 5 and every odd monomial
    of degree ≤ 5 in (z1, z2): 2 + 4 + 6 = 12, more than degree + 1 = 6. σ = tanh: degree 5
    (size 6), σ' size 5, the field x size 2. Student kernels 36 + 25 + 60 + 900; Tg1 6·12,
    Tgz_1 and Tgz_2 5·2·12 each, Tgl 5·2·12, Tgg 5·5·12·12, Tgs 5·5·6·12, Eg2 12·12."""
    model = multi_index("tanh(z1 + z2)", 2, student="tanh")
    estimate = estimate_build(model, HermiteTruncation(6))
    assert estimate.expansion == (36 + 25 + 60 + 900 + 72 + 2 * 120 + 120 + 3600 + 1800
                                  + 144)
    assert estimate == estimate_build(model, HermiteTruncation(5))
