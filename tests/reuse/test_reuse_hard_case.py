"""The hard case of data reuse (Arnaboldi et al. 2024): sign(z1 z2 z3) has generative
exponent 3 — reuse does not learn it in O(d log d) samples — while (z1² − 1) + 5 sign(z1 z2 z3)
is learned direction after direction, z1 first (k* = 2 along it). Sized down: p = 4 ReLU
neurons, the papers' step and displacement, d = 128, n up to 150 d log d, three seeds."""

import math

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.limits import predict_scaling_with_reuse
from overlapdyn.reuse import DirectionLearning, OnlineReuse, learn_directions

SIGN = "5*sign(z1*z2*z3)"
STAIRCASE = "(z1**2 - 1) + 5*sign(z1*z2*z3)"


def spec(target: str) -> OnlineReuse:
    """The papers' hard-case setting (their code's SQStair_long): p = 4 ReLU, c_p = 1/p,
    batch one, prefactor 0.01, rho_prefactor 0.1 → η = 0.04, ρ = 0.4; a = 1 here."""
    model = od.Model(od.Target(k=3, expression=target),
                     od.Student(p=4, activation="relu", c_p=0.25), od.Protocol(eta=0.04))
    return OnlineReuse.from_papers(model, rho_prefactor=0.1)


def test_the_parity_has_generative_exponent_three():
    prediction = predict_scaling_with_reuse("sign(z1*z2*z3)")
    assert (prediction.exponent, prediction.sample_exponent) == (3, 2)   # one pass: unchanged
    reuse = prediction.with_reuse()
    assert (reuse.governing, reuse.sample_exponent, reuse.log_factor, reuse.eta_exponent) == (
        3, 2, False, -0.5)


@pytest.fixture(scope="module")
def learned():
    return {target: learn_directions(spec(target), [128], 150.0, seeds=3, n_saves=8)
            for target in (SIGN, STAIRCASE)}


def test_reuse_learns_the_staircase_first_step_but_not_the_parity(learned, tmp_path):
    """At n = 150 d log d: the staircase's z1 is learned in every seed (cosine > 0.8), while
    no direction of the parity has left the random level d^(−1/2) = 0.09 by much (every seed,
    every direction below 0.35)."""
    staircase, parity = learned[STAIRCASE], learned[SIGN]
    end_stair, end_parity = staircase.cosines[0, :, -1], parity.cosines[0, :, -1]   # (S, k)
    assert end_stair[:, 0].min() > 0.8, staircase.describe()
    assert end_parity.max() < 0.35, parity.describe()
    # z1 of the staircase was reached within the horizon, the parity's directions never
    assert np.isfinite(staircase.reached(0.5)[0, :, 0]).all()
    assert np.isnan(parity.reached(0.5)).all()
    assert staircase.x[-1] == 150.0 and staircase.cosines.shape == (1, 3, 8, 3)
    loaded = DirectionLearning.load(staircase.save(tmp_path / "directions.npz"))
    np.testing.assert_array_equal(loaded.cosines, staircase.cosines)
    assert loaded.spec == staircase.spec and "z1" in loaded.describe()
    assert f"{1 / math.sqrt(128):.3f}" in loaded.describe()


def test_the_direction_figure(learned):
    from overlapdyn.plot import plot_direction_learning
    fig = plot_direction_learning([learned[STAIRCASE], learned[SIGN]])
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["direction z1", "direction z2",
                                                   "direction z3"]
