"""A fresh process with a warm code cache: the Saad–Solla erf committee's learning curve is
loaded and integrated without SymPy (its derivation choice and module key are read from the
cache folder, :mod:`overlapdyn.compile.choices`), and gives the numbers of this process."""

import json
import subprocess
import sys

import numpy as np
from numpy.testing import assert_allclose

from overlapdyn import CompiledModel, Model, Protocol, SaveAt, Student, Target, integrate

ERF = Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
            Protocol(eta=0.5))
M0 = [[0.1, -0.05], [0.02, 0.08]]
Q0 = [[0.5, 0.01], [0.01, 0.4]]

CURVE = """
import json, sys
import overlapdyn as od
model = od.Model(od.Target(k=2, activation="erf", c_k=1.0),
                 od.Student(p=2, activation="erf", c_p=1.0), od.Protocol(eta=0.5))
after_model = 'sympy' in sys.modules
compiled = od.CompiledModel(model)
M0, Q0 = json.loads(sys.argv[1])
curve = od.integrate(compiled, (M0, Q0), od.SaveAt(5.0, 6))
print(json.dumps({"sympy": [after_model, 'sympy' in sys.modules],
                  "from_cache": compiled.from_cache, "module": compiled.module.__name__,
                  "choice": repr(compiled.choice), "risk": list(curve.risk)}))
"""


def test_a_warm_fresh_process_loads_the_curve_without_sympy():
    compiled = CompiledModel(ERF)      # the erf committee the simulators' tests build
    here = integrate(compiled, (M0, Q0), SaveAt(5.0, 6))   # its integrate entries, compiled
    done = subprocess.run([sys.executable, "-c", CURVE, json.dumps([M0, Q0])],
                          capture_output=True, text=True, check=True)
    there = json.loads(done.stdout.strip().splitlines()[-1])
    assert there["sympy"] == [False, False]
    assert there["from_cache"] is True
    assert (there["module"], there["choice"]) == (compiled.module.__name__,
                                                  repr(compiled.choice))
    # a model compiled in this process and loaded in another may differ in the last bits
    # (overlapdyn.compile.policy); loaded in both they agree exactly
    assert_allclose(there["risk"], np.asarray(here.risk), rtol=1e-12, atol=0)
