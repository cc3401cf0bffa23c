"""The (κ, δ) phase diagram of Veiga et al. 2022 (overlapdyn.scaling.phases).

Independent computations: the paper's boundaries (κ + δ = 0, −δ = (κ + 1)/2) for the
classification of points deep inside each region; the full overlap ODE
(overlapdyn.ode.integrate, p = 2) for the noise excess D = E − E_gf that classifies a point,
and the prediction D ∝ ε = γ/p ∝ d^-(κ+δ) for its exponent.
"""

import numpy as np
import pytest

from overlapdyn.errors import OverlapdynError
from overlapdyn.ode import SaveAt, Solver, integrate
from overlapdyn.plot import plot_phase_diagram
from overlapdyn.scaling.phases import (
    PhaseDiagram,
    PhaseSetup,
    boundary_distance,
    paper_phase,
    phase_diagram,
    phase_point,
    time_exponent,
)

# the erf committee of tests/ode/test_wide.py (k = 2), at p = p₀ = 2 for κ = 0; short runs
SMALL = PhaseSetup(k=2, p0=2.0, gamma0=2.0, noise=1e-2, dims=(1e3, 1e4), alpha_end=100.0,
                   rtol=1e-8, atol=1e-10)


def test_points_deep_inside_each_region_have_the_papers_phase(tmp_path):
    diagram = phase_diagram([0.0], [-0.25, 0.0, 0.5], SMALL)
    assert list(diagram.measured[0]) == ["noise", "plateau", "perfect"]
    assert diagram.agreement == 1.0 and diagram.disagreements() == []
    slope = diagram.slope[0]
    assert slope[0] > 0.2 and abs(slope[1]) < 1e-6 and slope[2] == pytest.approx(-0.5, abs=0.01)
    path = tmp_path / "phases.npz"
    diagram.save(path)
    loaded = PhaseDiagram.load(path)
    assert loaded.setup == SMALL
    for name in ("kappas", "deltas", "phase", "predicted", "slope", "excess", "gradient"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(diagram, name))
    fig = plot_phase_diagram(loaded)
    assert "100 %" in fig.axes[0].get_title()


def test_the_noise_excess_and_its_exponent_are_the_full_odes():
    """κ = 0, δ = 0.25 (0.18 from the plateau line): D(d) from the symmetric ansatz equals
    the full ODE's at p = 2, and its exponent is −(κ + δ)."""
    point = phase_point(0.0, 0.25, SMALL)
    solver = Solver("DOP853", rtol=1e-9, atol=1e-11)
    M, Q = SMALL.start * np.eye(2), np.eye(2)
    full = []
    for d in SMALL.dims:
        t_end = SMALL.alpha_end * d ** time_exponent(0.0, 0.25)
        risks = [integrate(SMALL.model(0.0, 0.25, d, terms), (M, Q), SaveAt(t_end, 2, log=False),
                           solver=solver).risk[-1] for terms in ("all", "gradient-flow")]
        full.append(risks[0] - risks[1])
    np.testing.assert_allclose(point.noise_excess, full, rtol=1e-4)
    assert point.slope == pytest.approx(-0.25, abs=0.01)
    assert (point.phase, point.predicted) == ("perfect", "perfect")


def test_the_papers_boundaries():
    assert [paper_phase(k, d) for k, d in ((0, 0.1), (1, -1), (0.5, -0.7), (0, -0.5), (2, -1.6))
            ] == ["perfect", "plateau", "noise", "no-ode", "perfect"]
    assert boundary_distance(0.0, 0.5) == pytest.approx(0.5)   # to the corner (0, 0)
    assert boundary_distance(1.0, 0.0) == pytest.approx(1 / np.sqrt(2))
    assert boundary_distance(0.0, -0.45) == pytest.approx(0.05)   # to the end (δ, κ) = (−½, 0)
    assert boundary_distance(0.5, -0.7) == pytest.approx(0.1 / np.sqrt(5))
    assert time_exponent(0.5, 0.0) == 0.5 and time_exponent(0.0, -0.25) == -0.5


@pytest.mark.parametrize(("call", "match"), [
    (lambda: phase_point(-0.1, 0.5, SMALL), "κ = -0.1 < 0"),
    (lambda: phase_point(0.0, -0.6, SMALL), "no-ODE region"),
    (lambda: paper_phase(0.0, float("nan")), "finite"),
    (lambda: PhaseSetup(dims=(1e4, 1e3)), "increasing"),
    (lambda: PhaseSetup(noise=0.0), "noise"),
    (lambda: PhaseSetup(dims=(1e3, 1e6)).width(1.0, 1e6), "above the largest width"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(OverlapdynError, match=match):
        call()
