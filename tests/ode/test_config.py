"""The run config holds SaveAt, Solver and the events; its ``[integrate]`` keys stay flat.

The messages of a malformed ``[integrate]`` section are checked in tests/jobs/test_ode_job.py.
"""

import json

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.config import IntegrateConfig
from overlapdyn.ode.events import Event, OverlapCrosses, RiskBelow
from overlapdyn.ode.integrator import SaveAt, Solver
from overlapdyn.storage.encoding import json_digest
from overlapdyn.sweeps.tasks import Task

# ``json_digest(IntegrateConfig.from_dict(values).to_dict())`` as computed by the code
# before the config held SaveAt/Solver/events (commit b496365): sweep task keys hash these
# dicts, so a result store written then must still recognise its finished tasks
DIGESTS_BEFORE = [
    ({}, "1bc4ead4c1c9c1e3"),
    ({"t_end": 3.0, "n_points": 12, "d": 100}, "09ea88972f5938f1"),
    ({"t_end": 100, "n_points": 50, "log": False, "method": "RK45", "rtol": 1e-6,
      "atol": 1e-9, "d": 500, "seed": 4}, "57bacbd88d9cc170"),
    ({"t_end": 50.0, "M0": [[0.4, 0.0], [0.0, 0.1]], "Q0": [[1.0, 0.0], [0.0, 1.0]],
      "risk_below": 1e-4, "overlap_above": 0.9}, "c7fbb25b07f9f280"),
    ({"t_end": 2000, "overlap_above": 0.9, "t_first": 0.1}, "a9d87960ec2e39e8"),
]


@pytest.mark.parametrize(("values", "digest"), DIGESTS_BEFORE)
def test_flat_dicts_hash_as_before(values, digest):
    config = IntegrateConfig.from_dict(values)
    assert json_digest(config.to_dict()) == digest
    # "auto" (the default) is left out, so that old dicts keep their digests
    assert "jacobian" not in config.to_dict()
    model = Model(Target(k=2, activation="erf"), Student(p=2, activation="erf"),
                  Protocol(eta=0.5))
    assert Task("ode", model, config).spec()["run"] == config.to_dict()


def test_the_flat_keys_build_the_objects():
    config = IntegrateConfig.from_dict(
        {"t_end": 50, "n_points": 30, "log": False, "method": "Radau", "rtol": 1e-6,
         "jacobian": "solver", "d": 300, "seed": 2, "risk_below": 1e-3,
         "overlap_above": 0.8})
    assert config.save == SaveAt(50.0, 30, log=False)
    assert config.solver == Solver("Radau", rtol=1e-6, atol=1e-10, jacobian="solver")
    assert config.events == (RiskBelow(1e-3), OverlapCrosses(0.8))
    assert (config.d, config.seed) == (300, 2)
    assert IntegrateConfig.from_dict({}) == IntegrateConfig()
    assert IntegrateConfig().save == SaveAt(1000.0, 200, log=True, t_first=0.01)
    assert set(IntegrateConfig.KEYS) == set(config.to_dict()) | {"M0", "Q0",
                                                                 "max_evaluations"}
    capped = IntegrateConfig.from_dict({"max_evaluations": 5000})
    assert capped.max_evaluations == 5000 and capped.to_dict()["max_evaluations"] == 5000
    with pytest.raises(ConfigError, match="integrate.max_evaluations must be ≥ 1"):
        IntegrateConfig.from_dict({"max_evaluations": 0})


@pytest.mark.parametrize("config", [
    IntegrateConfig(),
    IntegrateConfig(SaveAt(20, 7, log=False), Solver("DOP853", rtol=1e-11, atol=1e-13),
                    (RiskBelow(1e-5),), d=40, seed=9),
    IntegrateConfig(SaveAt(5.0, t_first=1e-3), Solver("BDF", jacobian="exact"),
                    [RiskBelow(2e-3), OverlapCrosses(0.7)], M0=np.full((2, 1), 0.1),
                    Q0=np.eye(2)),
    IntegrateConfig(solver=Solver(jacobian="solver"), events=(OverlapCrosses(0.99),)),
    IntegrateConfig(max_evaluations=12345),
])
def test_round_trip(config):
    flat = config.to_dict()
    assert IntegrateConfig.from_dict(flat) == config
    assert IntegrateConfig.from_dict(json.loads(json.dumps(flat))) == config


def test_a_config_is_immutable_and_hashable_values():
    config = IntegrateConfig(events=[RiskBelow(1e-3)], M0=[[0.1]], Q0=[[1.0]])
    assert isinstance(config.events, tuple) and config.M0 == ((0.1,),)
    assert config == IntegrateConfig(events=(RiskBelow(0.001),), M0=((0.1,),), Q0=((1.0,),))
    assert hash(config) == hash(IntegrateConfig(events=(RiskBelow(0.001),), M0=[[0.1]],
                                                Q0=[[1.0]]))


@pytest.mark.parametrize(("config", "message"), [
    (IntegrateConfig(events=(RiskBelow(1e-3, terminal=False),)), "'risk<0.001' has no"),
    (IntegrateConfig(events=(OverlapCrosses(0.5, r=0),)), r"'\|M\[\*,0\]\|>0.5' has no"),
    (IntegrateConfig(events=(OverlapCrosses(0.5, normalized=True),)), "has no .integrate. key"),
    (IntegrateConfig(events=(Event("x", lambda M, Q, a, risk: risk),)), "'x' has no"),
    (IntegrateConfig(events=(RiskBelow(1e-3), RiskBelow(1e-4))), "one risk_below"),
    (IntegrateConfig(SaveAt.at([0.0, 1.0, 3.0])), "explicit times"),
])
def test_only_what_toml_can_say_is_written(config, message):
    with pytest.raises(ConfigError, match=message):
        config.to_dict()


@pytest.mark.parametrize(("make", "message"), [
    (lambda: IntegrateConfig(save=1000.0), "IntegrateConfig.save must be a SaveAt"),
    (lambda: IntegrateConfig(solver="LSODA"), "IntegrateConfig.solver must be a Solver"),
    (lambda: IntegrateConfig(events=(0.9,)), "is not an event"),
    (lambda: IntegrateConfig(d=0), "integrate.d must be ≥ 1"),
    (lambda: IntegrateConfig.from_dict({"jacobian": "exact", "method": "DOP853"}),
     "method 'DOP853' uses no Jacobian"),
])
def test_bad_parts_are_refused(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
