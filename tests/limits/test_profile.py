"""The learnability profile (limits/profile.py): each algorithm family's exponent for targets
whose values the literature gives, the table, save/load and the refusals."""

import math

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.limits import LearnabilityProfile, learnability
from overlapdyn.model import Target

# (link, k, leap, information exponent, generative exponent, α_c, AMP step kinds): leaps from
# Abbe, Boix-Adserà & Misiakiewicz 2023 (He3: Ben Arous et al. 2021), k* from Damian et al.
# 2024 (He3: 1; the parity sign(z1 z2 z3): 3), α_c from Troiani et al. 2024 (z1 z2 ≈ 0.5937,
# sign(z1 z2) = π²/4; a parity is hard, He3 has a trivial direction)
TARGETS = [
    ("z1*z2", 2, 2, 2, 2, 0.593751, ("easy",)),
    ("sign(z1*z2)", 2, 2, 2, 2, math.pi ** 2 / 4, ("easy",)),
    ("sign(z1*z2*z3)", 3, 3, 3, 3, math.inf, ("hard",)),
    ("He3(z1)", 1, 3, 3, 1, 0.0, ("trivial",)),
]


@pytest.mark.parametrize("link, k, ell, first, star, alpha_c, kinds", TARGETS,
                         ids=[row[0] for row in TARGETS])
def test_each_family_reads_its_published_exponent(link, k, ell, first, star, alpha_c, kinds):
    profile = learnability(link, k)
    assert (profile.leap, profile.information_exponent, profile.generative.exponent) == (
        ell, first, star)
    assert profile.sgd_exponent == max(ell - 1, 1)
    assert profile.reuse_exponent == profile.low_degree_exponent == max(star / 2, 1)
    assert profile.reuse_sgd_exponent == max(star - 1, 1)
    assert tuple(step.kind for step in profile.thresholds.steps) == kinds
    if math.isfinite(alpha_c):
        assert profile.thresholds.alpha_c == pytest.approx(alpha_c, rel=1e-5)
    else:
        assert math.isinf(profile.thresholds.alpha_c)
    assert profile.truncation == (None if link in ("z1*z2", "He3(z1)") else
                                  {2: 6, 3: 4}[k])


def test_the_table_says_what_each_family_needs():
    rows = {row[0]: row for row in learnability("sign(z1*z2*z3)").rows()}
    assert rows["online SGD (one pass)"][2] == "n ≍ d^2 (up to logs)"
    assert rows["low-degree / SQ bound (any algorithm of that class)"][2] == "n ≳ d^1.5"
    reuse = rows["online SGD with data reuse (2 steps / extragradient)"]
    assert reuse[1:3] == ("generative exponent k* = 3 (first escape)",
                          "n ≍ d^2 (k* ≥ 3: not O(d log d))")
    assert rows["AMP / optimal spectral"][1:3] == ("hard subspace, 3 directions",
                                                   "not at n = Θ(d)")
    text = learnability("He3(z1)").describe()
    assert "trivial subspace, 1 direction" in text and "n = α d, any α > 0" in text


def test_a_target_and_a_formula_give_one_profile_and_it_saves(tmp_path):
    target = Target(k=2, expression="z1*z2")
    profile = learnability(target)
    assert profile.describe() == learnability("z1*z2", 2).describe()
    assert learnability(Target(k=1, activation="He3")).link == "He3(z1)"  # as written
    path = profile.save(tmp_path / "profile.npz")
    loaded = LearnabilityProfile.load(path)
    assert loaded.describe() == profile.describe()
    assert loaded.to_dict() == profile.to_dict()
    np.testing.assert_array_equal(loaded.thresholds.steps[0].directions,
                                  profile.thresholds.steps[0].directions)
    assert (tmp_path / "profile.json").read_text().count('"leap": 2') == 1


@pytest.mark.parametrize("arguments, message", [
    (("z1*z2", 2, {"tol": 0.0}), "tol must be > 0"),
    (("sign(z1)", 1, {"order": 0}), "order must be ≥ 1"),
    (("z1", 0, {}), "k, the number of latent fields"),
    ((np.tanh, None, {}), "give it as a formula"),
    (("z1*z2*z3 + z1", 3, {}), "label noise"),
])
def test_bad_input_is_refused_with_the_fix(arguments, message):
    link, k, options = arguments
    with pytest.raises(ConfigError, match=message):
        learnability(link, k, **options)
