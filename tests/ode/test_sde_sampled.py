"""The SDE's sampled noise (overlapdyn.ode.sde, ``noise="sampled"``) against its cubature:
the increments' mean and covariance at a fixed state, and the paths' escape-time
distribution, mean and spread. Reuses the models (and the shared SDE loop) of
tests/ode/test_sde.py: no new compiled module.
"""

import numba
import numpy as np
import pytest
from scipy.stats import ks_2samp

from overlapdyn.errors import ConfigError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.sde import SDEPaths, diffusion, integrate_sde, sampled_noise


def _neuron():
    return Model(Target(k=1, activation="He2"), Student(p=1, activation="He2"),
                 Protocol(eta=0.1, n_b=1, loss="mse"))


def _moments_with_errors(x, batches=20):
    """Mean (n,), covariance (n, n) of the rows of x (N, n), and their standard errors from
    the spread over ``batches`` equal parts (Ψ is heavy-tailed: no normal theory)."""
    parts = np.array_split(x, batches)
    covs = np.array([np.cov(part.T) for part in parts])
    means = np.array([part.mean(axis=0) for part in parts])
    root = np.sqrt(batches)
    return (x.mean(axis=0), means.std(axis=0, ddof=1) / root, np.cov(x.T),
            covs.std(axis=0, ddof=1) / root)


@pytest.mark.parametrize("spherical, samples", [(False, 4), (True, 1)])
def test_the_sampled_increments_have_the_cubature_covariance(spherical, samples):
    """The He2 committee p = k = 2 (correlation loss, n_b = 8) at a generic state: draws of
    the sampled noise have mean 0 and covariance C of the exact cubature (z-scores of every
    entry below 4.5, and a χ² of the mean), for m = 4 and even m = 1."""
    model = Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=0.2, n_b=8, loss="correlation", spherical=spherical))
    M = np.array([[0.3, 0.05], [0.1, -0.2]])
    Q = np.array([[1.0, 0.2], [0.2, 1.0]]) if spherical else np.array([[1.2, 0.2], [0.2, 0.9]])
    C = diffusion(model, M, Q).C
    x = sampled_noise(model, M, Q, draws=40_000, samples=samples, seed=3)
    assert x.shape == (40_000, C.shape[0])
    mean, mean_se, cov, cov_se = _moments_with_errors(x)
    z = (cov - C) / cov_se
    assert np.abs(z).max() < 4.5, z
    # the mean is 0: a χ² over the coordinates with the full covariance of the mean
    chi2 = mean @ np.linalg.solve(C / x.shape[0], mean)
    assert chi2 < 3.0 * C.shape[0], chi2
    assert np.abs(mean / mean_se).max() < 4.5
    # the scale can fail: the sample-mean-centred sum Σ(Ψ_i − Ψ̄)/√m would miss (m−1)/m
    if samples > 1:
        assert np.abs((cov * (samples - 1) / samples - C) / cov_se).max() > 4.5


def test_sampled_and_cubature_paths_have_the_same_laws():
    """One He2 neuron at d = 250: escape times from M₀ = 0 (KS), and along a learning curve
    from M₀ = 0.3 the mean and d·Var of M (to 4 joint standard errors) agree between the
    two noise schemes; the scheme is recorded with the paths."""
    model, d = _neuron(), 250
    zero = ([[0.0]], [[1.0]])
    escape = {noise: integrate_sde(model, 40.0, d=d, paths=200, init=zero, seed=5,
                                   stop_at_escape=True, n_saves=2, noise=noise).escape_times
              for noise in ("sampled", "cubature")}
    assert all(np.isfinite(t).mean() > 0.95 for t in escape.values())
    late = [np.where(np.isfinite(t), t, np.inf) for t in escape.values()]
    assert ks_2samp(*late).pvalue > 0.01
    start = (np.array([[0.3]]), np.array([[1.0]]))
    # m = 16 > d·dt·n_b ≈ 7: a single sample weighs no more than in SGD (the module
    # docstring), so a rare large one throws no path further than SGD's own steps do
    curves = {noise: integrate_sde(model, 3.0, d=d, paths=800, init=start, seed=6,
                                   n_saves=4, noise=noise, samples=16).M[:, 1:, 0, 0]
              for noise in ("sampled", "cubature")}
    (a, b) = curves.values()
    n = a.shape[0]
    assert np.all(np.abs(a.mean(0) - b.mean(0))
                  < 4 * np.sqrt((a.var(0) + b.var(0)) / n))

    def var_se(x):   # the standard error of the variance, from the fourth moment
        c = x - x.mean(0)
        return np.sqrt(((c ** 4).mean(0) - c.var(0) ** 2) / n)
    assert np.all(np.abs(a.var(0) - b.var(0)) < 4 * np.hypot(var_se(a), var_se(b)))
    assert np.all(d * a.var(0) > 0.3)   # the spread is there (d·Var ≈ 0.9 at t = 1–3)


def test_the_scheme_is_recorded_reproducible_and_checked(tmp_path):
    model = _neuron()
    run = integrate_sde(model, 1.0, d=500, paths=6, seed=2, n_saves=3, samples=5)
    again = integrate_sde(model, 1.0, d=500, paths=6, seed=2, n_saves=3, samples=5)
    assert np.array_equal(run.states, again.states)
    assert (run.noise, run.samples) == ("sampled", 5) and "5 samples per step" in run.describe()
    loaded = SDEPaths.load(run.save(tmp_path / "sampled.npz"))
    assert (loaded.noise, loaded.samples) == ("sampled", 5)
    cubature = integrate_sde(model, 1.0, d=500, paths=2, n_saves=2, noise="cubature")
    assert (cubature.noise, cubature.samples) == ("cubature", 0)
    # per-path streams: the paths do not depend on the number of threads
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        alone = integrate_sde(model, 1.0, d=500, paths=6, seed=2, n_saves=3, samples=5)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(alone.states, run.states)
    with pytest.raises(ConfigError, match="noise must be one of"):
        integrate_sde(model, 1.0, d=500, noise="gaussian")
    with pytest.raises(ConfigError, match="samples"):
        integrate_sde(model, 1.0, d=500, samples=0)
