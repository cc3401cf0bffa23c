"""The overlap SDE (overlapdyn.ode.sde) against independent computations: a Monte Carlo of
the per-sample step vector, single SGD steps drawn with NumPy at fixed weights, and the
finite-d simulator (escape times from a random start, the spread around the ODE ∝ 1/d).

Cold compile of the shared SDE loop (templates/sde_loop.py): about 10 s once per cache
folder; warm, the module loads in well under a second.
"""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from overlapdyn.errors import ConfigError, SDEStepError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.integrator import SaveAt, integrate
from overlapdyn.ode.sde import SDEPaths, diffusion, diffusion_nodes, integrate_sde
from overlapdyn.scaling.escape import escape_time
from overlapdyn.sgd.simulator import simulate, warm_start_weights


def he2(x):
    return x * x - 1.0


def _model(loss="mse", eta=0.1, n_b=1, noise=0.0):
    return Model(Target(k=1, activation="He2", noise=noise), Student(p=1, activation="He2"),
                 Protocol(eta=eta, n_b=n_b, loss=loss))


def _psi(fields_lam, z, e, eta, n_b):
    """Ψ = (η G z, 2η G λ + (η²/n_b) G²) of one He2 neuron, c_p = a = 1 (module docstring)."""
    G = 2.0 * fields_lam * e
    return np.stack([eta * G * z, 2.0 * eta * G * fields_lam + eta ** 2 / n_b * G * G])


def _batch_se(samples, batches=20):
    """The covariance of ``samples`` (n, N) and the standard error of each entry, from the
    spread of the covariances of ``batches`` equal parts (heavy tails: no normal theory)."""
    parts = np.array([np.cov(part) for part in np.array_split(samples, batches, axis=1)])
    return np.cov(samples), parts.std(axis=0, ddof=1) / np.sqrt(batches)


@pytest.mark.parametrize("loss, n_b, eta, noise", [("mse", 2, 0.5, 0.0),
                                                    ("correlation", 1, 0.3, 0.25)])
def test_the_cubature_is_the_covariance_of_the_step_vector(loss, n_b, eta, noise):
    model = _model(loss, eta, n_b, noise)
    M, Q = 0.4, 0.8
    D = diffusion(model, [[M]], [[Q]])
    assert D.labels == ("M11", "Q11") and D.nodes == diffusion_nodes(model) == 7
    rng = np.random.default_rng(3)
    n = 200_000
    z = rng.normal(size=n)
    lam = M * z + np.sqrt(Q - M * M) * rng.normal(size=n)
    y = he2(z) + np.sqrt(noise) * rng.normal(size=n)
    psi = _psi(lam, z, y - he2(lam) if loss == "mse" else y, eta, n_b)
    C, se = _batch_se(psi)
    assert np.all(np.abs(D.C - C / n_b) < 5 * se / n_b + 1e-12)
    assert np.all(np.abs(D.drift - psi.mean(axis=1)) < 5 * np.sqrt(np.diag(C) / n))
    # the polynomial rule is exact: one node more changes nothing
    assert np.allclose(diffusion(model, [[M]], [[Q]], nodes=12).C, D.C, rtol=1e-11)


def test_single_sgd_steps_have_the_derived_mean_and_covariance():
    """n SGD steps from one fixed W (d = 1000), drawn with NumPy: per sample, d·ΔX equals
    the mean over the batch of Ψ up to O(d^-1/2); its covariance is C (to its standard error)
    and not C without the (η²/n_b) G G part of Ψ."""
    eta, n_b, d, n = 0.5, 2, 1000, 6_000
    model = _model("mse", eta, n_b)
    M, Q = np.array([[0.4]]), np.array([[0.8]])
    D = diffusion(model, M, Q)
    rng = np.random.default_rng(5)
    W = warm_start_weights(M, Q, np.eye(1), d, rng)[0]
    x = rng.normal(size=(n, n_b, d))
    lam, z = x @ W / np.sqrt(d), x[..., 0]
    G = 2.0 * lam * (he2(z) - he2(lam))
    dW = eta / (np.sqrt(d) * n_b) * np.einsum("nb,nbi->ni", G, x)
    steps = d * np.stack([dW[:, 0] / np.sqrt(d), ((W + dW) ** 2).sum(axis=1) / d - W @ W / d])
    predicted = _psi(lam, z, he2(z) - he2(lam), eta, n_b).mean(axis=2)   # batch means
    gap = np.abs(steps - predicted)
    assert gap.mean(axis=1).max() < 0.05 * np.abs(predicted).mean(axis=1).max()
    C, se = _batch_se(steps)
    assert np.all(np.abs(C - D.C) < 4 * se), (C, D.C, se)
    assert np.allclose(steps.mean(axis=1), D.drift, atol=4 * np.sqrt(np.diag(C) / n))
    # the (η²/n_b) G G part of Ψ is needed: without it the per-sample gap is not small
    without = _psi(lam, z, he2(z) - he2(lam), eta, 1e12).mean(axis=2)
    assert np.abs(steps - without).mean(axis=1).max() > 4 * gap.mean(axis=1).max()


def test_from_the_symmetric_start_the_ode_stays_and_the_sde_leaves():
    """He2 from M₀ = 0 (Q₀ = 1): the ODE never moves, the SDE's paths escape by noise alone,
    at the times SGD's runs from the same start do (d = 250, 24 seeds, KS distance)."""
    model, d, zero = _model(), 250, ([[0.0]], [[1.0]])
    still = integrate(model, zero, SaveAt(40.0, n_points=5))
    assert np.all(still.M == 0.0)
    paths = integrate_sde(model, 40.0, d=d, paths=200, init=zero, seed=1, stop_at_escape=True,
                          n_saves=2)
    sim = simulate(model, d, np.geomspace(1 / d, 40.0, 100), seeds=24, init=zero,
                   stop_overlap=0.5)
    sgd = np.array([escape_time(tr, 0.5) for tr in sim.trajectories])
    assert paths.escaped > 0.9 and np.isfinite(sgd).mean() > 0.9
    late = [np.where(np.isfinite(x), x, np.inf) for x in (paths.escape_times, sgd)]
    assert ks_2samp(*late).pvalue > 0.01


def test_the_spread_around_the_ode_is_that_of_sgd_and_scales_as_one_over_d():
    """A learning curve from M₀ = 0.3: Var M(t) over SDE paths ∝ 1/d, and at d = 250 equal
    to the variance over 128 SGD seeds (χ² standard error ≈ 13 %)."""
    model = _model()
    start = (np.array([[0.3]]), np.array([[1.0]]))
    times = np.linspace(0.0, 3.0, 7)
    var = {}
    for d in (250, 1000):
        paths = integrate_sde(model, 3.0, d=d, paths=1000, init=start, seed=4, n_saves=7)
        assert np.allclose(paths.t, times)
        var[d] = paths.variance("M")[1:, 0, 0]
    assert np.all(np.abs(var[250] / var[1000] / 4 - 1) < 0.2)
    sim = simulate(model, 250, times, seeds=128, init=start)
    sgd = sim.stack("M")[:, 1:, 0, 0].var(axis=0, ddof=1)
    assert np.all(np.abs(sgd / var[250] - 1) < 0.4), sgd / var[250]
    # the mean follows the ODE (its O(1/d) corrections are below the paths' error here)
    ode = integrate(model, start, SaveAt.at(times)).M[:, 0, 0]
    error = np.sqrt(paths.variance("M")[:, 0, 0] / paths.paths)
    assert np.all(np.abs(paths.mean("M")[:, 0, 0] - ode) < 4 * error + 1e-12)


def test_a_run_is_reproducible_saved_and_loaded(tmp_path):
    model = _model()
    first = integrate_sde(model, 1.0, d=500, paths=8, seed=9, n_saves=5)
    again = integrate_sde(model, 1.0, d=500, paths=8, seed=9, n_saves=5)
    assert np.array_equal(first.states, again.states)
    loaded = SDEPaths.load(first.save(tmp_path / "paths.npz"))
    assert np.array_equal(loaded.states, first.states) and loaded.model == model
    assert loaded.dt == first.dt and "8 SDE path(s) at d = 500" in loaded.describe()


def test_bad_input_is_named():
    model = _model()
    with pytest.raises(SDEStepError, match="use dt ≤"):
        integrate_sde(model, 10.0, d=500, paths=2, dt=5.0, init=([[0.5]], [[1.0]]))
    switched = Model(model.target, model.student, Protocol(eta=0.1, terms="gradient"))
    with pytest.raises(ConfigError, match="protocol.terms"):
        integrate_sde(switched, 1.0, d=500)
    with pytest.raises(ConfigError, match="init"):
        integrate_sde(model, 1.0, d=500, init="zero")


def test_the_sde_route_of_the_escape_measurements_compares_with_simulation():
    from overlapdyn.scaling import compare_escape_times, measure_escape_sde
    from overlapdyn.scaling.escape import EscapeTimes, measure_escape_simulated

    model = _model()
    sde = measure_escape_sde(model, [250], paths=200, seed=3, t_max=40.0)
    sim = measure_escape_simulated(model, [250], seeds=24, t_max=40.0, n_saves=100)
    comparison = compare_escape_times(sde, sim)
    assert sde.route == "sde" and sde.times.shape == (1, 200) and sde.escaped[0] > 0.95
    assert comparison.p_values[0] > 0.01 and "KS" in comparison.describe()
    assert abs(comparison.quartiles[0, 0, 1] / comparison.quartiles[1, 0, 1] - 1) < 0.25
    assert "sde route" in sde.describe()
    assert EscapeTimes.from_archive(*sde.archive()).route == "sde"


def test_the_figures_draw_paths_bands_and_escape_ecdfs():
    from overlapdyn.plot import plot_escape_ecdf, plot_sde_bands
    from overlapdyn.scaling import predict_scaling
    from overlapdyn.scaling.escape import EscapeTimes

    model = _model()
    paths = integrate_sde(model, 2.0, d=500, paths=8, seed=1, n_saves=11, threshold=0.1)
    figure = plot_sde_bands(paths, "M", entry=(0, 0))
    assert len(figure.axes[0].lines) == 6   # 5 paths and the mean
    escape = EscapeTimes("sde", model, (500,), (0.1,), paths.escape_times[None, :], 0.1,
                         predict_scaling(model))
    assert len(plot_escape_ecdf([escape, escape]).axes[0].lines) == 2


def test_validate_has_an_sde_route_for_a_noise_driven_escape():
    """He2 from a random start, d = 250: the ODE route's gap does not shrink; the SDE route
    compares the escape-time distributions and the mean curves and passes."""
    from overlapdyn.sgd import SDEValidationReport, validate

    times = np.linspace(0.0, 30.0, 16)
    report = validate(_model(), [250], times, seeds=32, paths=200, route="sde")
    assert isinstance(report, SDEValidationReport)
    assert report.passed, report.describe()
    assert report.escape_sgd.shape == (1, 32) and report.escape_sde.shape == (1, 200)
    assert report.ks[0] < 0.3 and "verdict: PASS" in report.describe()
    assert SDEValidationReport.from_archive(*report.archive()).passed
    assert (report.noise, report.samples) == ("sampled", 8)
    # the test can fail: the SDE's escape times at d = 4000 are told apart from SGD's at 250
    far = integrate_sde(_model(), 30.0, d=4000, paths=200, seed=0, stop_at_escape=True,
                        n_saves=2)
    late = np.where(np.isfinite(far.escape_times), far.escape_times, np.inf)
    assert ks_2samp(report.escape_sgd[0], late).pvalue < report.level


def _psi_committee(model, M, Q, n, rng):
    """Ψ on the reduced coordinates of a He2 committee (any p, k; plain or spherical) at n
    Monte Carlo samples of the fields: (n_coordinates, n), written from the module docstring
    of overlapdyn.ode.sde without its code."""
    p, k = M.shape
    eta, n_b = model.protocol.eta, model.protocol.n_b
    omega = np.block([[Q, M], [M.T, np.eye(k)]])
    fields = np.linalg.cholesky(omega) @ rng.normal(size=(p + k, n))
    lam, z = fields[:p], fields[p:]
    y = model.target.c_k * he2(z).sum(axis=0)
    u = model.student.c_p * np.asarray(model.student.a)[:, None]
    e = y - (u * he2(lam)).sum(axis=0) if model.protocol.loss == "mse" else y
    G = u * e * 2.0 * lam
    s = eta * G * lam + 0.5 * eta ** 2 / n_b * G * G
    spherical = model.protocol.spherical
    rows = [eta * G[j] * z[r] - (M[j, r] * s[j] if spherical else 0.0)
            for j in range(p) for r in range(k)]
    rows += [eta * (G[j] * lam[l] + G[l] * lam[j]) + eta ** 2 / n_b * G[j] * G[l]
             - (Q[j, l] * (s[j] + s[l]) if spherical else 0.0)
             for j in range(p) for l in range(j + int(spherical), p)]
    return np.array(rows)


@pytest.mark.parametrize("spherical", [False, True])
def test_a_committee_p_k_2_diffusion_is_the_covariance_of_its_step_vector(spherical):
    """The He2 committee of the validation table (p = k = 2, correlation loss, n_b = 8),
    plain and spherical: the 4-field cubature against a Monte Carlo of Ψ."""
    model = Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=0.2, n_b=8, loss="correlation", spherical=spherical))
    M = np.array([[0.3, 0.05], [0.1, -0.2]])
    Q = np.array([[1.0, 0.2], [0.2, 1.0]]) if spherical else np.array([[1.2, 0.2], [0.2, 0.9]])
    D = diffusion(model, M, Q)
    psi = _psi_committee(model, M, Q, 200_000, np.random.default_rng(11))
    assert D.C.shape == (len(psi),) * 2 and len(D.labels) == (5 if spherical else 7)
    C, se = _batch_se(psi)
    n_b = model.protocol.n_b
    assert np.all(np.abs(D.C - C / n_b) < 5 * se / n_b + 1e-12)
    assert np.all(np.abs(D.drift - psi.mean(axis=1)) < 5 * np.sqrt(np.diag(C) / psi.shape[1]))


def test_a_spherical_sgd_step_has_the_derived_increments():
    """Single spherical SGD steps (renormalised) from one fixed W, d = 2000: per sample,
    d·ΔM equals Ψ_M − M s (s the renormalisation's share) up to O(d^-1/2), and not Ψ_M."""
    eta, d, n = 0.5, 2000, 2000
    model = Model(Target(k=1, activation="He2"), Student(p=1, activation="He2"),
                  Protocol(eta=eta, n_b=1, spherical=True))
    M = np.array([[0.4]])
    rng = np.random.default_rng(2)
    W = warm_start_weights(M, np.eye(1), np.eye(1), d, rng)[0]
    x = rng.normal(size=(n, d))
    lam, z = x @ W / np.sqrt(d), x[:, 0]
    G = 2.0 * lam * (he2(z) - he2(lam))
    W_new = W + eta / np.sqrt(d) * G[:, None] * x
    W_new *= np.sqrt(d) / np.linalg.norm(W_new, axis=1, keepdims=True)
    steps = d * (W_new[:, 0] / np.sqrt(d) - M[0, 0])
    s = eta * G * lam + 0.5 * eta ** 2 * G * G
    predicted = eta * G * z - M[0, 0] * s
    # the median relative gap (the mean is ruled by rare large G, where the step's
    # second-order terms show): 0.0037, 0.0020, 0.00097 at d = 500, 2000, 8000 — d^(-1/2)
    relative = np.abs(steps - predicted) / np.abs(predicted)
    assert np.median(relative) < 0.005
    assert np.median(np.abs(steps - eta * G * z) / np.abs(predicted)) > 0.2
    assert diffusion(model, M, np.eye(1)).labels == ("M11",)
