"""Fixed points: roots outside the PSD cone are refused, and the escape from a plateau on
the cone's boundary starts inside it, with a plateau length ln(1/δ₀)/λ₊."""

import numpy as np
import pytest

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import CovarianceError, OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.analysis import find_fixed_point
from overlapdyn.ode.integrator import RiskBelow, SaveAt, integrate
from overlapdyn.ode.state import check_overlaps


def saad_solla_2(eta: float) -> CompiledModel:
    """K = M = 2 erf (erf(x/√2)), c_p = c_k = 1: the Saad–Solla soft committee."""
    return CompiledModel(Model(Target(k=2, activation="erf", c_k=1.0),
                               Student(p=2, activation="erf", c_p=1.0), Protocol(eta=eta),
                               name=f"saad-solla-2-eta{eta:g}"))


# overlaps of real weights (Ω ⪰ 0) from which the solver reaches a root outside the cone
GUESS_M = np.array([[-0.07, 0.348], [0.23, -0.073]])
GUESS_Q = np.array([[0.132, -0.053], [-0.053, 0.202]])


def test_a_root_outside_the_psd_cone_is_refused_or_flagged():
    compiled = saad_solla_2(2.0)
    check_overlaps(GUESS_M, GUESS_Q, np.eye(2), what="the guess")   # a valid start
    with pytest.raises(CovarianceError, match="not a state of the dynamics.*positive semi"):
        find_fixed_point(compiled, GUESS_M, GUESS_Q)
    with pytest.warns(RuntimeWarning, match="not a state of the dynamics"):
        flagged = find_fixed_point(compiled, GUESS_M, GUESS_Q, on_outside="warn")
    assert flagged.residual < 1e-10                      # a true root of the drift …
    assert flagged.risk == pytest.approx(-0.0426, abs=1e-3)   # … with a negative "risk"
    assert not flagged.in_cone and "positive semi-definite" in flagged.cone_violation
    assert flagged.smallest_covariance_eigenvalue == pytest.approx(-0.0677, abs=1e-3)
    assert "OUTSIDE the PSD cone" in flagged.describe()
    quiet = find_fixed_point(compiled, GUESS_M, GUESS_Q, on_outside="return")
    assert not quiet.in_cone and quiet.risk == flagged.risk
    with pytest.raises(OverlapdynError, match="no state of the dynamics"):
        quiet.perturbed(1e-3)
    with pytest.raises(OverlapdynError, match="on_outside"):
        find_fixed_point(compiled, GUESS_M, GUESS_Q, on_outside="ignore")
    # the learned state is inside, and says nothing about a cone
    learned = find_fixed_point(compiled, 0.9 * np.eye(2)[::-1], np.eye(2))
    assert learned.in_cone and learned.cone_violation is None and learned.risk < 1e-12
    assert "OUTSIDE" not in learned.describe()


def test_plateau_escape_starts_inside_the_cone_and_lasts_log_over_rate():
    """At the symmetric plateau (w_1 = w_2: Q_11 = Q_12, Ω singular) the unstable
    eigenvector moves M_1· and M_2· apart at fixed Q, which leaves the cone at O(δ²); the
    lifted start is inside, and the plateau lasts τ(δ₀) = ln(1/δ₀)/λ₊ + const."""
    compiled = saad_solla_2(0.5)
    plateau = find_fixed_point(compiled, 0.45 * np.ones((2, 2)), 0.55 * np.ones((2, 2)))
    assert plateau.Q[0, 0] == pytest.approx(plateau.Q[0, 1], abs=1e-12)   # coincide
    assert np.ptp(plateau.M) < 1e-12
    rate = plateau.growth_rate
    assert rate > 0
    taus, starts = [], (1e-2, 1e-4, 1e-6)
    for delta in starts:
        M, Q, _ = plateau.perturbed(delta)
        check_overlaps(M, Q, np.eye(2), what="the perturbed plateau")   # inside the cone
        # the lift is the smallest one: Ω lands on the cone's boundary, moved by ~4δ²
        lift = Q[0, 0] - plateau.Q[0, 0]
        assert lift == pytest.approx(4 * delta**2, rel=0.05)
        assert np.abs(np.abs(M - plateau.M) - delta).max() < 1e-12
        run = integrate(compiled, (M, Q), SaveAt(5000.0, 20),
                        events=[RiskBelow(plateau.risk / 2)])
        assert run.status == 1, "the plateau was not left"
        taus.append(run.events[f"risk<{plateau.risk / 2:g}"][0])
    slope = np.polyfit(np.log(1 / np.array(starts)), taus, 1)[0]
    assert slope == pytest.approx(1 / rate, rel=0.01)   # measured: 0.04 % off
    assert plateau.in_cone and plateau.smallest_covariance_eigenvalue == pytest.approx(0, abs=1e-12)
