"""Events as values: what they compute, their names, equality, and the checks on them."""

import math
import pickle

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.ode.events import Event, EventLike, OverlapCrosses, RiskBelow, check_events

RNG = np.random.default_rng(7)
M = RNG.normal(size=(3, 2))
Q = np.array([[2.0, 0.1, 0.0], [0.1, 0.5, 0.2], [0.0, 0.2, 1.5]])
A = np.ones(3)


def test_risk_below_is_the_risk_minus_the_level_crossing_downwards():
    event = RiskBelow(1e-4)
    assert event.function(M, Q, A, 0.25) == 0.25 - 1e-4
    assert (event.name, event.terminal, event.direction) == ("risk<0.0001", True, -1.0)
    assert not RiskBelow(0.5, terminal=False).terminal


def test_overlap_crosses_takes_the_max_over_the_free_indices():
    assert OverlapCrosses(0.9).function(M, Q, A, 0.0) == pytest.approx(
        max(abs(x) for x in M.ravel()) - 0.9, rel=0, abs=1e-15)
    assert OverlapCrosses(0.9, j=1).function(M, Q, A, 0.0) == pytest.approx(
        max(abs(M[1, 0]), abs(M[1, 1])) - 0.9, abs=1e-15)
    assert OverlapCrosses(0.9, r=0).function(M, Q, A, 0.0) == pytest.approx(
        max(abs(M[i, 0]) for i in range(3)) - 0.9, abs=1e-15)
    assert OverlapCrosses(0.9, j=2, r=1).function(M, Q, A, 0.0) == pytest.approx(
        abs(M[2, 1]) - 0.9, abs=1e-15)
    # the cosine |M_jr| / √(Q_jj P_rr), written out entry by entry
    P = np.array([[4.0, 0.3], [0.3, 0.25]])
    cosines = [abs(M[j, r]) / math.sqrt(Q[j, j] * P[r, r]) for j in range(3) for r in range(2)]
    normalized = OverlapCrosses(0.5, normalized=True, P=P)
    assert normalized.function(M, Q, A, 0.0) == pytest.approx(max(cosines) - 0.5, abs=1e-15)
    identity = [abs(M[j, r]) / math.sqrt(Q[j, j]) for j in range(3) for r in range(2)]
    assert OverlapCrosses(0.5, normalized=True).function(M, Q, A, 0.0) == pytest.approx(
        max(identity) - 0.5, abs=1e-15)
    assert OverlapCrosses(0.5).direction == 1.0


def test_event_names_say_what_fires():
    assert OverlapCrosses(0.9).name == "|M[*,*]|>0.9"
    assert OverlapCrosses(0.5, j=1, r=0).name == "|M[1,0]|>0.5"
    assert OverlapCrosses(0.5, r=2, normalized=True).name == "cos(M[*,2])>0.5"


def test_events_are_values():
    P = np.eye(2)
    events = [RiskBelow(1e-3), OverlapCrosses(0.5, r=1, normalized=True, P=P)]
    assert events[0] == RiskBelow(0.001) and events[0] != RiskBelow(0.002)
    assert events[0] != RiskBelow(1e-3, terminal=False)
    assert events[1] == OverlapCrosses(0.5, r=1, normalized=True, P=[[1.0, 0.0], [0.0, 1.0]])
    assert events[1] != OverlapCrosses(0.5, r=1, normalized=True)  # P = I given vs default
    assert OverlapCrosses(0.5) != RiskBelow(0.5)
    assert len({RiskBelow(1e-3), RiskBelow(0.001), events[1]}) == 2  # hashable
    for event in events:
        copy = pickle.loads(pickle.dumps(event))
        assert copy == event and copy.function(M[:, :2], Q, A, 0.1) == event.function(
            M[:, :2], Q, A, 0.1)
        assert isinstance(event, EventLike)


def test_a_generic_event_wraps_any_function():
    event = Event("trace", lambda M, Q, a, risk: float(np.trace(Q)) - 3.0, True, 1.0)
    assert event.function(M, Q, A, 0.0) == pytest.approx(1.0)
    assert isinstance(event, EventLike)
    assert check_events([event, RiskBelow(0.1)]) == (event, RiskBelow(0.1))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: RiskBelow(0.0), "RiskBelow.level must be > 0"),
    (lambda: RiskBelow("1e-3"), "RiskBelow.level must be a number"),
    (lambda: RiskBelow(1e-3, terminal="yes"), "RiskBelow.terminal must be true or false"),
    (lambda: OverlapCrosses(float("nan")), "OverlapCrosses.threshold must be finite"),
    (lambda: OverlapCrosses(0.5, j=-1), "OverlapCrosses.j must be ≥ 0"),
    (lambda: OverlapCrosses(0.5, r=1.5), "OverlapCrosses.r must be an integer"),
    (lambda: OverlapCrosses(0.5, P=[1.0, 1.0]), "OverlapCrosses.P must be the target's k×k"),
    (lambda: check_events(RiskBelow(0.1)), "events must be a sequence of events"),
    (lambda: check_events([lambda M, Q, a, risk: risk]), "is not an event"),
])
def test_bad_events_are_refused(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
