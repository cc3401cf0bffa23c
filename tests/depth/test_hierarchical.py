"""Hierarchical targets, thresholds, layer-wise training and the stage-1 map (small sizes)."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from overlapdyn.cli import main
from overlapdyn.depth.config import DepthConfig, KappaSweep, Network, Training
from overlapdyn.depth.experiment import DepthResult, run_depth
from overlapdyn.depth.first_layer import stage1_constants, stage1_theory, validate_stage1
from overlapdyn.depth.ridge import quadratic_features, ridge_loo
from overlapdyn.depth.targets import (
    HierarchicalTarget,
    compositional_exponents,
    inner_polynomial,
    thresholds,
)
from overlapdyn.depth.training import run_instance, stage1
from overlapdyn.derive.hermite import gauss_hermite_rule
from overlapdyn.errors import ConfigError
from overlapdyn.io.toml import load_depth_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depth" / "fig2.toml"


# ------------------------------------------------------------------ targets and normalisation


def _gauss_moments(f):
    nodes, weights = gauss_hermite_rule(64)
    values = f(nodes)
    return float(values @ weights), float(values**2 @ weights)


@pytest.mark.parametrize("inner", ["P3", "P2", "He2(x) + 2*He3(x) + He4(x)"])
def test_normalised_inner_polynomial_has_mean_0_variance_1(inner):
    target = HierarchicalTarget(d=16, inner=inner)
    mean, second = _gauss_moments(target.inner_function())   # independent: quadrature
    assert abs(mean) < 1e-12 and second == pytest.approx(1.0, abs=1e-12)


def test_code_variant_is_not_normalised_and_has_variance_two_thirds():
    target = HierarchicalTarget(d=16, inner="P3-code", normalize=False)
    z = np.linspace(-3, 3, 7)
    direct = (z**2 - 1) / 2 + (z**3 - 3 * z) / 6
    np.testing.assert_allclose(target.inner_function()(z), direct, atol=1e-12)
    assert _gauss_moments(target.inner_function())[1] == pytest.approx(2 / 3, abs=1e-12)
    c, variance = inner_polynomial("P3")
    assert variance == pytest.approx(8.0) and c[2] == pytest.approx(1 / math.sqrt(8))


@pytest.mark.parametrize("r", [1, 2])
def test_first_level_features_have_unit_variance(r):
    target = HierarchicalTarget(d=256, levels=(0.5,), r=r)
    instance = target.draw(0)
    np.testing.assert_allclose(instance.W @ instance.W.T, np.eye(target.d_eff), atol=1e-12)
    x = np.random.default_rng(1).standard_normal((40_000, target.d))
    for level in instance.features(x):                       # Monte Carlo, 5σ tolerances
        assert np.all(np.abs(level.mean(axis=0)) < 5 * 2 / math.sqrt(len(x)))
        assert np.all(np.abs(level.var(axis=0) - 1) < 5 * 0.03)


def test_deeper_levels_are_centred_only_up_to_the_skewness_of_finite_blocks():
    """Level 2 applies P to block sums of 4 terms: E[P(h)] = c3 E[h³] ≠ 0 at finite size."""
    target = HierarchicalTarget(d=256, levels=(0.75, 0.5))
    instance = target.draw(0)
    c = target.polynomial()
    P3 = _gauss_moments(target.inner_function())[0]
    nodes, weights = gauss_hermite_rule(64)
    EP3 = float(target.inner_function()(nodes) ** 3 @ weights)           # E[P(z)³]
    labels1, labels2 = target.blocks()
    a1, a2 = instance.signs
    b = np.bincount(labels1)
    skew = np.array([np.sum(a1[labels1 == j] ** 3) for j in range(len(b))]) * EP3 / b**1.5
    expected = np.sum(a2 * c[3] * skew) / math.sqrt(len(a2))
    x = np.random.default_rng(2).standard_normal((60_000, target.d))
    top = instance.features(x)[-1][:, 0]
    assert abs(P3) < 1e-12 and abs(expected) > 0.05
    assert top.mean() == pytest.approx(expected, abs=5 * top.std() / math.sqrt(len(x)))


def test_sight_label_matches_the_formula():
    target = HierarchicalTarget(d=64)
    instance = target.draw(3)
    x = np.random.default_rng(0).standard_normal((5, 64))
    z = x @ instance.W.T
    P = ((z**2 - 1) + (z**3 - 3 * z)) / math.sqrt(8)
    h = P @ instance.signs[0] / math.sqrt(8)
    np.testing.assert_allclose(instance.clean_labels(x), np.tanh(3 * h), atol=1e-12)


def test_bad_targets_are_refused_with_the_key_named():
    with pytest.raises(ConfigError, match="levels"):
        HierarchicalTarget(d=64, levels=(0.5, 0.7))
    with pytest.raises(ConfigError, match="polynomial"):
        HierarchicalTarget(d=64, inner="tanh(x)")
    with pytest.raises(ConfigError, match="unknown keys \\['eps'\\]"):
        HierarchicalTarget.from_dict({"d": 64, "eps": 0.5})
    with pytest.raises(ConfigError, match="unknown keys \\['p3'\\] in \\[network\\]"):
        DepthConfig.from_dict({"target": {"d": 64}, "network": {"p3": 5}})
    with pytest.raises(ConfigError, match="batches"):
        DepthConfig.from_dict({"target": {"d": 64}, "training": {"batches": "twice"}})


# ---------------------------------------------------------------- exponents and thresholds


def test_compositional_exponents_and_assumptions():
    report = compositional_exponents(HierarchicalTarget(d=64))
    assert (report["ie_outer"], report["ie_inner"], report["assumptions_hold"]) == (1, 2, True)
    assert report["per_level"] == [2, 1]
    bad = compositional_exponents(HierarchicalTarget(d=64, inner="He3(x)", outer="He2(x)"))
    assert not bad["assumptions_hold"] and "not 1" in bad["reason"] and "not 2" in bad["reason"]
    assert bad["per_level"] == [6, 2]


def test_thresholds_match_the_paper():
    # SIGHT, ε = 1/2, k = 3 (the Fig. 2 setting): W* at 1 + ε, h* at kε = 3/2.
    report = thresholds(0.5, 3)
    assert report.subspace == (1.5,) and report.features == (1.5,) and report.deep == 1.5
    assert report.without_preconditioning == 3.0          # 2kε
    assert report.kernel[:3] == (1.0, 2.0, 3.0)
    assert report.two_layer[:4] == (1.5, 1.5, 1.5, 2.0)    # max(1 + ε, qε)
    # kε > 1 + ε: h* is the bottleneck
    assert thresholds(0.5, 4).features == (2.0,)
    deep = thresholds((0.6, 0.3), 2)
    assert deep.subspace == pytest.approx((1.6, 1.6)) and deep.deep == pytest.approx(1.6)
    assert "W*" in report.describe()
    with pytest.raises(ConfigError):
        thresholds(1.2, 3)


def test_deep_might_thresholds_follow_the_papers_eq_16():
    """Dandi et al. 2025, eq. (16): for levels (ε₁, ε₂) the jumps are at d^(1+ε₁) (W*),
    d^(kε₁+ε₂) (the span of d^ε₂ degree-k polynomials of d^ε₁ variables) and d^(kε₂) (the
    top features). A level-by-level count with ε₁ + ε₂ for the middle jump gave 2.4 here."""
    report = thresholds((0.8, 0.4), 3)
    assert report.deep == pytest.approx(2.8)
    assert report.subspace == pytest.approx((1.8, 2.8))
    assert report.features == pytest.approx((2.8, 2.8))
    assert report.jumps == pytest.approx((1.8, 2.8, 1.2))
    # the middle jump is the bottleneck only when kε₁ + ε₂ > 1 + ε₁
    assert thresholds((0.5, 0.2), 2).jumps == pytest.approx((1.5, 1.2, 0.4))
    assert thresholds((0.5, 0.2), 2).deep == pytest.approx(1.5)
    # three levels: 1 + ε₁, kε₁ + ε₂, kε₂ + ε₃, kε₃
    three = thresholds((0.9, 0.6, 0.3), 2)
    assert three.jumps == pytest.approx((1.9, 2.4, 1.5, 0.6))
    assert three.deep == pytest.approx(2.4)
    assert "2.8" in report.describe()
    # a file written with the old count (version 1) is recomputed on load
    fields, _ = report.archive()
    old = {**fields, "version": 1, "subspace": [1.8, 2.4], "features": [2.4, 2.4], "deep": 2.4}
    assert type(report).from_archive(old, {}) == report


# ------------------------------------------------------------------------------ numerics


def test_ridge_matches_a_direct_solve_and_leave_one_out():
    rng = np.random.default_rng(0)
    for p in (6, 60):                                    # n > p and n < p branches
        F = rng.standard_normal((40, p))
        y = F[:, 0] - F[:, 1] + 0.3 * rng.standard_normal(40)
        fit = ridge_loo(F, y, np.linspace(-3, 1, 9), loo=True)
        coef, lam, loo = fit.coef, fit.penalty, fit.loo_values
        Fc, yc = F - F.mean(0), y - y.mean()
        direct = np.linalg.solve(Fc.T @ Fc + 40 * lam * np.eye(p), Fc.T @ yc)
        np.testing.assert_allclose(coef, direct, atol=1e-8)
        i = 7
        keep = np.arange(40) != i
        ridge_loo(F[keep], y[keep], [np.log10(lam)])
        # the refit with one point fewer uses the penalty scale of 39 points: same λ·n rule
        Fk, yk = F[keep] - F[keep].mean(0), y[keep] - y[keep].mean()
        ref = np.linalg.solve(Fk.T @ Fk + 40 * lam * np.eye(p), Fk.T @ yk)
        pred = y[keep].mean() + (F[i] - F[keep].mean(0)) @ ref
        assert loo[i] == pytest.approx(pred, abs=1e-8)


def test_ridge_falls_back_to_the_constant_when_features_carry_nothing():
    rng = np.random.default_rng(3)
    y = rng.standard_normal(30)
    fit = ridge_loo(rng.standard_normal((30, 100)), y, [-6.0, -3.0], loo=True)
    coef, c0, lam, loo = fit.coef, fit.intercept, fit.penalty, fit.loo_values
    assert lam == np.inf and not coef.any() and c0 == pytest.approx(y.mean())
    np.testing.assert_allclose(loo, y.mean())


def test_ridge_penalty_chosen_on_held_out_points_minimises_their_error():
    rng = np.random.default_rng(5)
    grid = np.linspace(-3, 1, 9)
    for p in (6, 60):                                    # n > p and n < p branches
        F, F_val = rng.standard_normal((40, p)), rng.standard_normal((300, p))
        w = rng.standard_normal(p) / np.sqrt(p)
        y = F @ w + 0.5 * rng.standard_normal(40)
        y_val = F_val @ w + 0.5 * rng.standard_normal(300)
        fit = ridge_loo(F, y, grid, validation=(F_val, y_val))
        coef, c0, lam = fit.coef, fit.intercept, fit.penalty
        Fc, yc = F - F.mean(0), y - y.mean()
        scale = np.sum(Fc ** 2) / (40 * p)
        errors = {np.inf: np.mean((y_val - y.mean()) ** 2)}
        for g in grid:
            direct = np.linalg.solve(Fc.T @ Fc + 40 * scale * 10 ** g * np.eye(p), Fc.T @ yc)
            errors[scale * 10 ** g] = np.mean((y_val - y.mean() - (F_val - F.mean(0)) @ direct)
                                              ** 2)
        assert lam == pytest.approx(min(errors, key=errors.get), rel=1e-9)
        assert np.mean((y_val - c0 - F_val @ coef) ** 2) == pytest.approx(min(errors.values()))
    with pytest.raises(ValueError, match="do not match"):
        ridge_loo(F, y, grid, validation=(F_val[:, :3], y_val))


def test_removing_the_linear_part_leaves_a_residual_orthogonal_to_x():
    from overlapdyn.depth.training import _without_linear_part
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    y = x @ np.arange(5.0) + 1 + np.sin(x[:, 0] * x[:, 1])
    r = _without_linear_part(x, y)
    np.testing.assert_allclose(x.T @ r, 0, atol=1e-9)
    assert abs(r.sum()) < 1e-9


def test_quadratic_features_reproduce_the_kernel():
    x = np.random.default_rng(0).standard_normal((5, 7))
    F = quadratic_features(x)
    G = x @ x.T
    np.testing.assert_allclose(F @ F.T, G**2 + G + 1, atol=1e-10)


@pytest.mark.parametrize("sigma", ["relu", "tanh"])
def test_stage1_step_is_the_spherical_correlation_step(sigma):
    """The batched, in-place step against the formula written out, neuron by neuron."""
    from overlapdyn.depth.training import _act
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((300, 16)), rng.standard_normal(300)
    W = rng.standard_normal((12, 16))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    b, s = rng.uniform(-1, 1, 12), rng.choice([-1.0, 1.0], 12)
    _, dsigma = _act(sigma)
    expected = W.copy()
    for _ in range(3):
        for j, w in enumerate(expected):
            g = (y * dsigma(x @ w + b[j])) @ x / len(y)
            w = w + 2.0 * s[j] * (g - (g @ w) * w)
            expected[j] = w / np.linalg.norm(w)
    # each step's batch given as two chunks (how large batches are streamed)
    trained, _ = stage1(W, b, s, [[(x[:100], y[:100]), (x[100:], y[100:])]] * 3, 2.0, sigma)
    np.testing.assert_allclose(trained, expected, atol=1e-12)


def test_stage1_keeps_rows_on_the_sphere_and_follows_the_population_gradient():
    target = HierarchicalTarget(d=32)
    instance = target.draw(0)
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 32))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    x, y = instance.sample(200, rng)
    W1, m = stage1(W, np.zeros(4), np.ones(4), [(x, y)], 1e-3, "relu", instance.W)
    np.testing.assert_allclose(np.linalg.norm(W1, axis=1), 1, atol=1e-12)
    g = ((y[:, None] * (x @ W.T > 0)).T @ x) / 200          # the same step by hand
    g -= np.sum(g * W, axis=1, keepdims=True) * W
    expected = W + 1e-3 * g
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(W1, expected, atol=1e-12)
    assert m.shape == (2, 4)


# ----------------------------------------------------------------------- stage-1 theory


def test_stage1_constants_match_the_leading_order_and_the_gradient():
    target = HierarchicalTarget(d=64)
    instance = target.draw(0)
    c = stage1_constants(instance, samples=200_000)
    # θ± = ±c1(g*) c2(P)/√d1 to leading order in 1/√d1 (d1 = 8: within 25 %)
    assert c.theta_plus == pytest.approx(c.theta_limit, rel=0.25)
    assert c.theta_minus == pytest.approx(-c.theta_limit, rel=0.25)
    # the population gradient (Monte Carlo in x) is 2μ1 A w + μ0 L, projected
    rng = np.random.default_rng(2)
    w = rng.standard_normal(64)
    w /= np.linalg.norm(w)
    x, y = instance.sample(300_000, rng)
    g = (y * (x @ w > 0)) @ x / len(y)
    a = instance.signs[0]
    A = instance.W.T @ np.diag(np.where(a > 0, c.theta_plus, c.theta_minus)) @ instance.W
    L = instance.W.T @ np.where(a > 0, c.l_plus, c.l_minus)
    predicted = 2 * (1 / math.sqrt(2 * math.pi)) * A @ w + 0.5 * L
    gs, ps = instance.W @ (g - (g @ w) * w), instance.W @ (predicted - (predicted @ w) * w)
    assert gs @ ps / np.linalg.norm(gs) / np.linalg.norm(ps) > 0.98


def test_stage1_theory_without_signal_is_the_uniform_overlap():
    from overlapdyn.depth.first_layer import Stage1Constants
    zero = Stage1Constants(0.0, 0.0, 0.0, 0.0, 4, 4, 1.0, 0.0)
    mw = stage1_theory(zero, 64, 10_000, 1.0, 5, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(mw, math.sqrt(8 / 64), atol=1e-12)   # noise is isotropic


def test_stage1_theory_matches_simulation_with_a_gap_shrinking_in_d():
    v = validate_stage1((32, 128), alpha=4.0, eta_bar=2.0, steps=4, p1=32, seeds=4,
                        mc_samples=100_000)
    assert v.gap[0] < 0.1 and v.gap[1] < 0.06
    assert v.gap[1] < v.gap[0]
    assert v.simulated[:, :, -1].mean() > 0.6           # the overlap did grow


# ------------------------------------------------------------------ depth beats width


def test_depth_beats_width_for_the_normalised_p3_target():
    """The issue's target, P3 = (He2 + He3)/√8, d = 64, n = 8000 ≈ d^2.16, four seeds."""
    target = HierarchicalTarget(d=64)
    config = DepthConfig(target, Network(p1=512, p2=64),
                         Training(steps1=8, eta1=5.0, remove_linear=True),
                         KappaSweep(methods=("three_layer", "two_layer")))
    instance = target.draw(0)
    x_test, y_test = instance.sample(2000, np.random.default_rng(1))
    test = (x_test, y_test, instance.h_star(x_test)[:, 0])
    wins = []
    for seed in range(4):
        run = run_instance(config, instance, 8000, np.random.default_rng([7, seed]), test)
        wins.append(run["error_two_layer"] - run["error_three_layer"])
        assert run["M_h"] > 0.5 and run["error_three_layer"] < 0.6 * np.var(y_test)
    assert min(wins) > 0.01 and np.mean(wins) > 0.02


def test_depth_beats_width_on_a_fixed_small_instance():
    """Three-layer layer-wise vs the two-layer net on the same first layer and data, with
    the authors' code variant of P3 (its stronger He2 part makes d = 64 enough)."""
    target = HierarchicalTarget(d=64, inner="P3-code", normalize=False)
    config = DepthConfig(target, Network(p1=512, p2=64), Training(steps1=3, eta1=20.0),
                         KappaSweep(methods=("three_layer", "two_layer")))
    instance = target.draw(0)
    rng = np.random.default_rng(1)
    x_test, y_test = instance.sample(2000, rng)
    test = (x_test, y_test, instance.h_star(x_test)[:, 0])
    wins = []
    for seed in range(4):
        run = run_instance(config, instance, 6000, np.random.default_rng([7, seed]), test)
        wins.append(run["error_two_layer"] - run["error_three_layer"])
        assert run["M_W"] > 0.8
    assert min(wins) > 0 and np.mean(wins) > 0.02


def _stage1_runs(target, n, validation, seeds=3):
    config = DepthConfig(target, Network(p1=256, p2=32),
                         Training(steps1=8, eta1=5.0, remove_linear=True, validation=validation),
                         KappaSweep(methods=("three_layer", "two_layer")))
    instance = target.draw(0)
    x_test, y_test = instance.sample(1000, np.random.default_rng(1))
    test = (x_test, y_test, instance.h_star(x_test)[:, 0])
    runs = [run_instance(config, instance, n, np.random.default_rng([3, s]), test)
            for s in range(seeds)]
    return runs, float(np.var(y_test))


def test_the_finite_d_weak_recovery_point_sets_the_scale_of_stage_1():
    """In units of n* = d d₁/λ (overlapdyn.depth.recovery) the first layer behaves the same
    for both P3 conventions, although their n* differ by 3× (1024 vs 341 at d = 64): at
    n*/4 M_W sits at its random value √(d₁/d) = 0.35, at 4 n* it is ≈ 0.8."""
    from overlapdyn.depth.recovery import weak_recovery
    at = {}
    for inner, normalize in (("P3", True), ("P3-code", False)):
        target = HierarchicalTarget(d=64, inner=inner, normalize=normalize)
        n_star = weak_recovery(target).n
        at[inner] = [np.mean([r["M_W"] for r in _stage1_runs(target, int(f * n_star), 0)[0]])
                     for f in (0.25, 4.0)]
    for below, above in at.values():
        assert below < 0.42 and above > 0.75
    assert abs(at["P3"][1] - at["P3-code"][1]) < 0.05


def test_held_out_penalties_stop_the_reused_first_layer_from_overfitting():
    """Below the threshold the reused first layer has fitted the training labels; ridge
    penalties by leave-one-out trust those features (test error above Var y), penalties
    chosen on held-out points fall back to the constant."""
    target = HierarchicalTarget(d=64)
    loo, var = _stage1_runs(target, 256, 0)
    held_out, _ = _stage1_runs(target, 256, 1000)
    assert np.mean([r["error_three_layer"] for r in loo]) > 1.1 * var
    for r in held_out:
        assert r["error_three_layer"] < 1.02 * var and r["error_two_layer"] < 1.02 * var


@pytest.mark.parametrize("batches", ["fresh", "split"])
def test_other_data_modes_and_the_joint_variant_run(batches):
    target = HierarchicalTarget(d=16)
    config = DepthConfig(target, Network(p1=32, p2=8), Training(
        batches=batches, steps1=2, joint_steps=5, joint_p1=16, remove_linear=True),
        KappaSweep(methods=("three_layer", "two_layer", "joint")))
    instance = target.draw(0)
    x, y = instance.sample(100, np.random.default_rng(0))
    run = run_instance(config, instance, 400, np.random.default_rng(1),
                       (x, y, instance.h_star(x)[:, 0]))
    for key in ("error_three_layer", "error_two_layer", "error_joint", "M_W", "M_h"):
        assert np.isfinite(run[key])
    assert 0 < run["M_W_joint"] <= 1


def test_m_h_is_the_multiple_correlation_with_the_top_features():
    from overlapdyn.depth.training import _multiple_correlation
    rng = np.random.default_rng(4)
    H = rng.standard_normal((500, 2))
    u = 2 * H[:, 0] + rng.standard_normal(500)
    assert _multiple_correlation(u, H[:, 0]) == pytest.approx(abs(np.corrcoef(u, H[:, 0])[0, 1]))
    assert _multiple_correlation(H[:, 0] - 3 * H[:, 1] + 1, H) == pytest.approx(1.0)
    assert _multiple_correlation(np.ones(500), H) == 0.0
    assert _multiple_correlation(np.full(2000, 0.1), H[0].repeat(1000)) == 0.0   # mean ≠ 0.1
    # a MIGHT run: ĥ is one direction in span(h*_1, h*_2), measured against both
    target = HierarchicalTarget(d=64, r=2, inner="P3-code", normalize=False)
    config = DepthConfig(target, Network(p1=256, p2=16), Training(steps1=8, eta1=5.0,
                                                                  remove_linear=True),
                         KappaSweep(methods=("three_layer", "two_layer")))
    instance = target.draw(0)
    x_te, y_te = instance.sample(1000, np.random.default_rng(1))
    run = run_instance(config, instance, 6000, np.random.default_rng(2),
                       (x_te, y_te, instance.h_star(x_te)))
    assert run["M_h"] > 0.7 and run["error_three_layer"] < 0.45 * np.var(y_te)


def test_joint_training_keeps_the_best_validated_iterate():
    from overlapdyn.depth.training import joint_training
    target = HierarchicalTarget(d=16)
    config = DepthConfig(target, Network(p1=32, p2=8), Training(joint_steps=60, joint_p1=16,
                                                                 joint_lr=0.05))
    instance = target.draw(0)
    x, y = instance.sample(200, np.random.default_rng(0))
    x_te, y_te = instance.sample(300, np.random.default_rng(1))
    final, _, step = joint_training(config, instance, x, y, np.random.default_rng(2), x_te, y_te)
    assert step == 60
    # validated on the test points themselves: the kept iterate is the best checkpoint, which
    # includes the last one, so its test error cannot exceed the final iterate's
    best, _, step = joint_training(config, instance, x, y, np.random.default_rng(2), x_te, y_te,
                                   (x_te, y_te))
    assert 0 < step < 60 and best < final
    # it is exactly the iterate at that step: training for `step` steps gives the same net
    shorter = dataclasses.replace(config, training=dataclasses.replace(config.training,
                                                                       joint_steps=step))
    again, _, _ = joint_training(shorter, instance, x, y, np.random.default_rng(2), x_te, y_te)
    assert again == pytest.approx(best, rel=1e-12)


def test_sweep_result_saves_and_loads(tmp_path):
    target = HierarchicalTarget(d=16)
    config = DepthConfig(target, Network(p1=32, p2=8, rf_features=16),
                         Training(steps1=2), KappaSweep(kappa_min=1.0, kappa_max=2.0, points=2,
                                                   seeds=2, n_test=50))
    result = run_depth(config, progress=False)
    assert result.values["error_kernel"].shape == (2, 2)
    result.save(tmp_path / "r.npz")
    back = DepthResult.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.values["M_W"], result.values["M_W"])
    assert back.config == config and "three_layer" in back.describe()
    assert "3-layer < 2-layer (of 2)" in back.describe()
    meta = json.loads((tmp_path / "r.json").read_text())
    assert meta["weak_recovery"]["d"] == 16 and meta["weak_recovery"]["kappa"] > 1.5


def test_onset_is_the_half_rise_point_and_crossover_needs_a_crossing():
    target = HierarchicalTarget(d=16)
    config = DepthConfig(target, Network(p1=32, p2=8), Training(steps1=2),
                         KappaSweep(kappa_min=1.0, kappa_max=2.0, points=3, seeds=2))
    kappa = np.array([1.0, 1.5, 2.0])
    m_w = np.array([[0.3, 0.3], [0.5, 0.5], [0.9, 0.9]])   # half rise 0.6: κ = 1.625
    m_h = np.array([[0.0, 0.0], [0.4, 0.4], [0.8, 0.8]])   # half rise 0.4: κ = 1.5
    result = DepthResult(config, kappa, np.array([16, 64, 256]),
                         {"M_W": m_w, "M_h": m_h}, np.ones(2))
    assert result.onset("M_W") == pytest.approx(1.625)
    assert result.onset("M_h") == pytest.approx(1.5)
    assert result.crossover() is None                       # M_h stays below M_W
    flat = DepthResult(config, kappa, np.array([16, 64, 256]),
                       {"M_W": np.full((3, 2), 0.35)}, np.ones(2))
    assert flat.onset("M_W") is None


def test_a_larger_he2_share_moves_the_stage1_transition_earlier():
    """At d = 64 the κ of the transition depends on how much of h*'s variance sits on He2
    (what stage 1 learns from): (He2 + He3)/√8 has 25 %, He2/√2 alone 100 %."""
    overlaps = {}
    for inner in ("He2(x) + He3(x)", "He2(x)"):
        target = HierarchicalTarget(d=64, inner=inner)
        config = DepthConfig(target, Network(p1=256, p2=16),
                             Training(steps1=8, eta1=5.0, remove_linear=True),
                             KappaSweep(methods=("three_layer",)))
        instance = target.draw(0)
        x_test, y_test = instance.sample(500, np.random.default_rng(1))
        test = (x_test, y_test, instance.h_star(x_test)[:, 0])
        overlaps[inner] = [run_instance(config, instance, 1000, np.random.default_rng([3, s]),
                                        test)["M_W"] for s in range(2)]
    assert min(overlaps["He2(x)"]) > max(overlaps["He2(x) + He3(x)"]) + 0.05


def test_example_config_loads_and_cli_runs_a_tiny_sweep(tmp_path, capsys):
    config = load_depth_config(EXAMPLE)
    assert config.target.d == 64 and config.target.inner == "P3"
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("p2 = 128", "p_2 = 128"))
    assert main(["depth", str(bad), "--quiet"]) == 2
    assert "p_2" in capsys.readouterr().err
    small = tmp_path / "small.toml"
    small.write_text(EXAMPLE.read_text().replace("p1 = 1024", "p1 = 64")
                     .replace("rf_features = 1024", "rf_features = 32")
                     .replace("n_test = 2000", "n_test = 100"))
    assert main(["depth", str(small), "--out", str(tmp_path / "o"), "--points", "2",
                 "--seeds", "1", "--d", "16", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "W*" in out and "wall time" in out
    for name in ("result.npz", "result.json", "fig2.png", "table.md", "thresholds.txt"):
        assert (tmp_path / "o" / name).stat().st_size > 0
