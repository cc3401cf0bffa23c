"""Kinked activations in closed form (derive/kinked.py, compile/templates/kinked.py): the basis
decomposition, and every kernel against an independent nested Gauss–Legendre quadrature over
whitened coordinates, split at each field's kink — at random, exactly singular (coincident
fields, as the drift calls them) and nearly singular covariances."""

import functools
import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import multivariate_normal

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile import CompiledModel
from overlapdyn.compile.compiled import KINKED_NODES
from overlapdyn.compile.printer import basis_kernel_source
from overlapdyn.compile.render import kinked_prelude
from overlapdyn.derive import Auto, ClosedForm
from overlapdyn.derive.kernels import derive_kernels
from overlapdyn.derive.kinked import BASIS, kinked_basis, kinked_kernel_terms
from overlapdyn.errors import OverlapdynError

ONE, X, R, H = (BASIS[name] for name in ("ONE", "X", "R", "H"))
S, XX = 5, 6  # the template's codes of x² H(x) and x², products of coincident fields
SIGN = "sign"  # a last factor sign(x): E[sign(μ + sξ)] = 2Φ(μ/s) − 1
FUNCTIONS = {ONE: lambda x: np.ones_like(x), X: lambda x: x, R: lambda x: np.maximum(x, 0.0),
             H: lambda x: (x > 0.0) * 1.0, S: lambda x: x * x * (x > 0.0),
             XX: lambda x: x * x}
DEGREE = {ONE: 0, H: 0, X: 1, R: 1, S: 2, XX: 2}


def reference(functions, C, n=60, last=None):
    """E[Π f_i(x_i)] for x ~ N(0, C) non-singular, each f_i smooth but at 0: nested
    Gauss–Legendre over w (x = L w, L the Cholesky factor), each level split at its own
    field's kink; the last field's factor in closed form when ``last`` (a basis code) is
    given."""
    L = np.linalg.cholesky(np.asarray(C, float))
    m = len(functions) + (last is not None)
    nodes, weights = np.polynomial.legendre.leggauss(n)
    partial, weight = np.zeros((1, m)), np.ones(1)
    for i in range(len(functions)):
        kink = np.clip(-partial[:, i] / L[i, i], -9.0, 9.0)
        low = np.stack([np.full_like(kink, -9.0), kink], 1)
        high = np.stack([kink, np.full_like(kink, 9.0)], 1)
        x = ((low + high) / 2)[..., None] + ((high - low) / 2)[..., None] * nodes
        w = ((high - low) / 2)[..., None] * weights * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        partial = (partial[:, None, None, :] + x[..., None] * L[:, i]).reshape(-1, m)
        weight = (weight[:, None, None] * w).reshape(-1)
    values = weight * np.prod([f(partial[:, i]) for i, f in enumerate(functions)], axis=0)
    if last is not None:  # E over the last coordinate of f(μ + s ξ), ξ ~ N(0, 1)
        mu, s = partial[:, -1], L[-1, -1]
        z = mu / s
        values = values * {ONE: np.ones_like(mu), X: mu, H: ndtr(z), SIGN: 2 * ndtr(z) - 1,
                           R: mu * ndtr(z) + s * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
                           }[last]
    return values.sum()


def merged_reference(codes, vectors):
    """The same for fields ``x_i = v_i·w`` of which some coincide (v_i = ±c v_j): each group
    of coincident fields becomes one field with the product of their functions."""
    groups = []
    for i, v in enumerate(vectors):
        for u, members in groups:
            scale = v @ u / (u @ u)
            if np.allclose(v, scale * u, atol=1e-13):
                members.append((i, scale))
                break
        else:
            groups.append((v, [(i, 1.0)]))

    def product(members):
        return lambda x: np.prod([FUNCTIONS[codes[i]](c * x) for i, c in members], axis=0)

    C = np.array([[a @ b for b, _ in groups] for a, _ in groups])
    return reference([product(members) for _, members in groups], C)


def entries(C):
    return [C[i, j] for i in range(len(C)) for j in range(i, len(C))]


@pytest.fixture(scope="module")
def kinked():
    """The generated module of a relu student on a relu committee: its kernels and the
    template's functions (moment2, stein3, kinked4)."""
    model = Model(Target(k=2, activation="relu"), Student(p=2, activation="relu"),
                  Protocol(eta=0.1))
    return CompiledModel(model).module


def gram(vectors):
    return np.array([[a @ b for b in vectors] for a in vectors])


# ------------------------------------------------------------------------ the basis


@pytest.mark.parametrize("name, expected", [
    ("relu", {"R": 1.0}), ("abs", {"X": -1.0, "R": 2.0}), ("sign", {"ONE": -1.0, "H": 2.0}),
    ("step", {"H": 1.0}), ("linear", {"X": 1.0}), ("relu(x) + 0.1*x - 2", {"ONE": -2.0,
                                                                          "X": 0.1, "R": 1.0}),
    ("tanh", None), ("He2", None), ("relu(x - 1)", None), ("Max(x, -1)", None)])
def test_the_basis_of_an_activation_is_found_or_refused(name, expected):
    basis = kinked_basis(name)
    if expected is None:
        assert basis is None
    else:
        assert basis == pytest.approx(expected, abs=1e-14)


def test_a_step_student_and_a_smooth_teacher_are_refused_with_the_way_out():
    with pytest.raises(OverlapdynError, match="teacher"):
        kinked_kernel_terms("sign", "relu")
    with pytest.raises(OverlapdynError, match="Quadrature"):
        kinked_kernel_terms("relu", "tanh")


def test_auto_takes_the_closed_forms_for_kinked_committees_and_only_there():
    relu = Model(Target(k=2, activation="sign"), Student(p=3, activation="abs"),
                 Protocol(eta=0.1))
    assert isinstance(Auto().resolve(relu), ClosedForm)
    tanh = Model(Target(k=2, activation="relu"), Student(p=3, activation="tanh"),
                 Protocol(eta=0.1))
    assert Auto().resolve(tanh).label == "quadrature"
    with pytest.raises(OverlapdynError, match="leaky-relu students"):
        ClosedForm().resolve(tanh)


# --------------------------------------------------------------- against quadrature


@pytest.mark.parametrize("seed", [0, 1])
def test_two_and_three_field_kernels_match_quadrature(kinked, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3, 3))
    C = A @ A.T / 3 + 0.2 * np.eye(3)
    for a in (ONE, X, R, H):
        for b in (ONE, X, R, H):
            C2 = C[:2, :2]
            expected = reference([FUNCTIONS[a]], C2, last=b)
            assert kinked.moment2(a, b, *entries(C2)) == pytest.approx(expected, abs=1e-12)
    for a in (ONE, H):  # E[a(x1) x2 c(x3)]
        for c in (ONE, X, R, H):
            expected = reference([FUNCTIONS[a], FUNCTIONS[c]], C[np.ix_([0, 2, 1], [0, 2, 1])],
                                 last=X)
            assert kinked.stein3(a, c, *entries(C)) == pytest.approx(expected, abs=1e-12)


FOUR_FIELD = [(H, H, R, R), (H, H, H, H), (H, H, R, H), (H, H, X, R), (H, ONE, R, R),
              (ONE, H, R, X), (H, H, X, X), (ONE, ONE, R, H)]


@pytest.mark.parametrize("seed", [0, 1])
def test_four_field_kernels_match_quadrature_at_random_covariances(kinked, seed):
    rng = np.random.default_rng(10 + seed)
    A = rng.normal(size=(4, 4))
    C = A @ A.T / 4 + 0.1 * np.eye(4)
    for codes in FOUR_FIELD:
        expected = reference([FUNCTIONS[c] for c in codes[:3]], C, last=codes[3])
        assert kinked.kinked4(*codes, *entries(C)) == pytest.approx(expected, abs=1e-11), codes


# the coincidences of the drift's calls I4(λ_j, λ_l, λ_m, λ_n), x4 = −x3, and fields of
# other lengths (−2: the field −0.7 x_j)
PATTERNS = {"j=l": [0, 0, 1, 2], "m=n": [0, 1, 2, 2], "j=m": [0, 1, 0, 2], "l=n": [0, 1, 2, 1],
            "j=n": [0, 1, 2, 0], "l=m": [0, 1, 1, 2], "j=l,m=n": [0, 0, 1, 1],
            "j=l=m": [0, 0, 0, 1], "all": [0, 0, 0, 0], "j=m=n": [0, 1, 0, 0],
            "j=m,l=n": [0, 1, 0, 1], "n=-m": [0, 1, 2, -1], "j=l,n=-m": [0, 0, 2, -1],
            "j=m,n=-j": [0, 1, 0, -2]}


def _pattern_vectors(pattern, base):
    return [base[i] if i >= 0 else {-1: -1.3 * base[2], -2: -0.7 * base[0]}[i]
            for i in PATTERNS[pattern]]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_four_field_kernels_are_exact_where_fields_coincide(kinked, pattern):
    """Coincident fields are merged into fewer fields in closed form: every pattern the
    drift calls, against quadrature over the distinct fields."""
    rng = np.random.default_rng(sorted(PATTERNS).index(pattern))
    vectors = _pattern_vectors(pattern, rng.normal(size=(3, 3)) / math.sqrt(3))
    for codes in FOUR_FIELD:
        value = kinked.kinked4(*codes, *entries(gram(vectors)))
        assert value == pytest.approx(merged_reference(codes, vectors), abs=2e-11), codes


def test_three_field_closed_forms_of_degree_two_match_quadrature(kinked):
    """closed3, E[a(x1) b(x2) c(x3)] for every triple of basis functions (products of
    coincident fields included: S = x² H, XX = x²) of total degree ≤ 2."""
    rng = np.random.default_rng(5)
    A = rng.normal(size=(3, 3))
    C = A @ A.T / 3 + 0.2 * np.eye(3)
    for codes in itertools.product(FUNCTIONS, repeat=3):
        if sum(DEGREE[code] for code in codes) > 2:
            continue
        expected = reference([FUNCTIONS[code] for code in codes], C, n=28)
        assert kinked.closed3(*codes, C, 0, 1, 2) == pytest.approx(expected, abs=1e-11), codes


@functools.cache
def _template(n_nodes, kernels=""):
    """The template's functions with ``n_nodes`` Gauss–Legendre nodes per segment, and the
    printed ``kernels`` that call them, run as plain Python (the same text; compiling it
    again would cost 15 s for a few hundred calls): their namespace."""
    namespace = {}
    source = ("import math\nimport numpy as np\nLOOP = {}\nKERNEL = {}\n"
              "def njit(*args, **options):\n    return lambda function: function\n"
              + kinked_prelude(n_nodes) + "\n" + kernels)
    exec(compile(source, f"<kinked template, {n_nodes} nodes>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("eps", [1e-2, 1e-4, 1e-6])
def test_nearly_coincident_fields_keep_the_rule_converged(kinked, eps):
    """Fields within ε of each other put the integrand's square roots just off the end of
    the interpolation: the graded rule (8 nodes per segment, as compiled) agrees with 32 per
    segment, and the orthant probability E[H H H H] with SciPy's (Genz's, seeded: its
    randomised rule is off by up to 7e-7 here, over seeds) to 1e-6. (At ε = 1e-2 an
    independent Owen's-T quadrature agrees with E[H H H H] to 1e-11.)"""
    fine = _template(32)["kinked4"]
    rng = np.random.default_rng(7)
    for pattern in range(4):
        base = rng.normal(size=(6, 4)) / 2
        vectors = list(base[:4])
        if pattern == 0:  # two students nearly one (x1 ≈ x2)
            vectors[1] = vectors[0] + eps * base[4]
        elif pattern == 1:  # a student nearly on a teacher (x1 ≈ x3)
            vectors[2] = vectors[0] + eps * base[4]
        elif pattern == 2:
            vectors[3] = vectors[1] + eps * base[4]
        else:  # both students nearly on their teachers
            vectors[2], vectors[3] = vectors[0] + eps * base[4], vectors[1] - eps * base[5]
        args = entries(gram(vectors))
        for codes in [(H, H, R, R), (H, H, R, H), (H, H, X, R), (H, ONE, R, R)]:
            assert kinked.kinked4(*codes, *args) == pytest.approx(fine(*codes, *args),
                                                                   abs=1e-9), codes
        if eps >= 1e-2:  # where SciPy's randomised rule is accurate (to 7e-7 here)
            orthant = multivariate_normal(np.zeros(4), gram(vectors), abseps=1e-10,
                                          releps=1e-10, maxpts=2_000_000, seed=pattern)
            assert kinked.kinked4(H, H, H, H, *args) == pytest.approx(
                orthant.cdf(np.zeros(4)), abs=1e-6)


def test_the_committee_kernels_are_the_expansion_of_abs_and_sign():
    """|x| = 2 relu − x learning sign = 2H − 1: the printed kernels (several basis terms each,
    summed in a loop over their codes) against the quadrature of the activations themselves
    (σ' = sign). The printed text runs as plain Python, over the template's text: the relu
    module above compiles that template, and compiling this module too would cost 20 s."""
    model = Model(Target(k=2, activation="sign"), Student(p=2, activation="abs"),
                  Protocol(eta=0.1))
    kernels = derive_kernels(model, ClosedForm())
    assert len(kernels["I4sst"].basis[1]) > 1   # the loop over terms is what runs here
    source = "".join(basis_kernel_source(kernel.name, kernel.args, *kernel.basis)
                     for kernel in kernels.kernels if kernel.basis)
    module = SimpleNamespace(**_template(KINKED_NODES, source))
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    C = A @ A.T / 4 + 0.1 * np.eye(4)
    expected = reference([np.sign, np.sign, np.abs], C, last=SIGN)
    assert module.I4sst(*entries(C)) == pytest.approx(expected, abs=1e-10)
    expected = reference([np.sign, np.sign, np.sign], C, last=SIGN)
    assert module.I4stt(*entries(C)) == pytest.approx(expected, abs=1e-10)
    assert module.I2st(*entries(C[:2, :2])) == pytest.approx(
        reference([np.abs], C[:2, :2], last=SIGN), abs=1e-12)
    assert module.I3ss(*entries(C[:3, :3])) == pytest.approx(
        reference([np.sign, np.abs], C[np.ix_([0, 2, 1], [0, 2, 1])], last=X), abs=1e-12)
