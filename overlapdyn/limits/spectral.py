r"""The two spectral estimators of the index subspace of Defilippis, Dandi, Mergny, Krzakala &
Loureiro 2025 ("Optimal spectral transitions in high-dimensional multi-index models",
arXiv:2502.02545), run on data at finite d.

Data (SPEC's variables, :func:`multi_index_data`). ``x_μ ~ N(0, I_d)``, a teacher
``U ∈ R^{k×d}`` with orthogonal rows of norm √d (``U Uᵀ = d I_k``), fields
``z_μ = U x_μ/√d ~ N(0, I_k)``, labels ``y_μ = g(z_μ) + √Δ ξ_μ`` and ``n = round(α d)``
samples. The paper's ``x ~ N(0, I_d/d)`` is SPEC's ``x/√d``: its ``X Xᵀ`` is SPEC's
``X Xᵀ/d`` and its α is the same, so every matrix below is the paper's matrix written in
SPEC's x.

Both estimators linearise the Bayes-optimal GAMP of the multi-index model around its
uninformative fixed point ``ŵ = 0`` (``V = I_k``), where its output function is
``g_out(y, ω) ≈ G(y) ω`` with ``G(y) = E[zzᵀ − I_k | y]`` (this needs ``E[z|y] = 0``: an empty
trivial subspace). With ``ω^t = X ŵ^t/√d − g^{t−1}`` (the Onsager term) and ``ŵ^{t+1} = Xᵀ
g^t/√d``:

* **asymmetric** — iterating, ``g^t = L g^{t−1}`` with the ``nk × nk`` matrix
  ``L = diag_μ(G(y_μ)) · ((X Xᵀ/d − I_n) ⊗ I_k)``, i.e. the block
  ``L_{μν} = G(y_μ) (x_μ·x_ν/d − δ_{μν})``. For ``α > α_c`` it has a real outlier at
  ``α/α_c`` (more generally one at ``α μ_i`` for every eigenvalue μ_i of
  ``F(M) = E_y[G M G]`` with ``|α μ_i| > √(α/α_c)``); its bulk fills the disc of radius
  ``√(α/α_c)`` (the circular law for rows of variance ``E[G²]/d``), so the outlier leaves
  the bulk exactly at ``α = α_c``. The estimate is ``Ŵ = Xᵀ g`` (d × k, the GAMP update)
  from the eigenvector g of the eigenvalue of largest real part; L is applied as a
  ``LinearOperator`` (``X(Xᵀg)/d − g``, never formed) and solved by ARPACK (``eigs``).
* **symmetric** — solving the Onsager term at the fixed point instead of iterating it,
  ``g = G (X ŵ/√d − g)`` gives ``g_μ = T(y_μ) x_μᵀŵ/√d`` with the optimal preprocessing
  ``T(y) = G(y) (I_k + G(y))⁻¹`` (a k×k symmetric matrix; ``I + G = E[zzᵀ|y]``), and ŵ is a
  top eigenvector of ``W ↦ (1/n) Σ_μ x_μ x_μᵀ W T(y_μ)`` on d × k matrices W — the
  ``dk × dk`` symmetric matrix ``D = (1/n) Σ_μ T(y_μ) ⊗ x_μ x_μᵀ`` (``vec`` stacking the
  columns of W). For k = 1, ``T(y) = (E[z²|y] − 1)/E[z²|y]`` and D is the d × d matrix
  ``(1/n) Σ T(y_μ) x_μ x_μᵀ`` of Mondelli & Montanari 2018. Its top eigenvector ŵ, reshaped
  to d × k, is the estimate; weak recovery at the same α_c. (The factor 1/n only scales the
  spectrum.)

The **subspace overlap** of an estimate ``Ŵ ∈ R^{d×k'}`` is
``q = ‖U Ŵ‖_F / (√d ‖Ŵ‖_F) ∈ [0, 1]``: the fraction of Ŵ's norm inside the teacher's
subspace (1: all of Ŵ's columns in span U; a random Ŵ gives ``q ≈ √(k/d)``). For k = 1 it is
``|ŵ·u|/(‖ŵ‖‖u‖)``.

G(y) at the data's labels comes from
:func:`~overlapdyn.limits.conditional.conditional_moments` (Δ > 0: the smooth Bayes formula;
noiseless one-field, radial or discrete links: exact branch sums or cells). Where
``I + G(y)`` is nearly singular (noiseless ``z²`` at ``y → 0``, where ``T = 1 − 1/y``) T is
very negative: the top of D's spectrum is unaffected, but the Lanczos iteration slows down;
label noise keeps T bounded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as sla

from ..errors import ConfigError
from ..model.checks import check_integer, check_seeds
from ..storage.results import Result
from .conditional import conditional_gram, conditional_moments
from .features import hermite_features
from .links import Link, as_link
from .thresholds import G_covariance, weak_recovery_thresholds

__all__ = ["AsymmetricSpectrum", "MultiIndexData", "Preprocessing", "SpectralEstimate",
           "SpectralOverlaps", "asymmetric_estimator", "asymmetric_spectrum",
           "label_preprocessing", "multi_index_data", "spectral_overlaps", "subspace_overlap",
           "symmetric_estimator"]

#: The smallest d accepted: below it "high-dimensional" estimates mean nothing.
MIN_D = 10


@dataclass(frozen=True)
class MultiIndexData:
    """Samples of ``y = g(U x/√d) + √Δ ξ`` (module docstring).

    Attributes:
        link: the channel (:class:`~overlapdyn.limits.Link`).
        x: (n, d) inputs, ``x_μ ~ N(0, I_d)``.
        y: (n,) labels.
        teacher: (k, d) U with ``U Uᵀ = d I_k``.
        seed: the seed that drew them.
    """

    link: Link
    x: np.ndarray
    y: np.ndarray
    teacher: np.ndarray
    seed: int

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def d(self) -> int:
        return self.x.shape[1]

    @property
    def alpha(self) -> float:
        """n/d."""
        return self.n / self.d


def _check_alpha(alpha) -> float:
    try:
        value = float(alpha)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"the sample ratio α = n/d must be a number, got {alpha!r}") from error
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"the sample ratio α = n/d must be a finite number > 0, got {alpha!r}")
    return value


def multi_index_data(link, d: int, alpha: float, *, k: int | None = None,
                     noise: float | None = None, seed: int = 0) -> MultiIndexData:
    """Draw ``n = round(α d)`` samples of the multi-index model (module docstring).

    Args:
        link: the link (see :func:`~overlapdyn.limits.as_link`).
        d: input dimension, ≥ ``max(MIN_D, 2k)``.
        alpha: α = n/d > 0 (at least one sample).
        k: number of fields (default: the link's).
        noise: label-noise variance Δ (default: the link's, else 0).
        seed: seed of the teacher, inputs and noise.

    Raises:
        ConfigError: α ≤ 0, d too small, a link that depends on none of the fields.
    """
    channel = as_link(link, k, noise=noise)
    d = check_integer(d, "d, the input dimension", 1)
    if d < max(MIN_D, 2 * channel.k):
        raise ConfigError(f"d = {d} is too small for a high-dimensional estimate of {channel.k} "
                          f"direction(s): take d ≥ {max(MIN_D, 2 * channel.k)} (d in the "
                          "hundreds for overlaps near their limit)")
    alpha = _check_alpha(alpha)
    n = round(alpha * d)
    if n < 1:
        raise ConfigError(f"α d = {alpha * d:.3g} rounds to no sample; raise α or d")
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, channel.k)))
    teacher = math.sqrt(d) * basis.T
    x = rng.standard_normal((n, d))
    z = teacher @ x.T / math.sqrt(d)                       # (k, n), z ~ N(0, I_k)
    y = np.array(channel.numeric()(z), dtype=float)
    if channel.noise:
        y = y + math.sqrt(channel.noise) * rng.standard_normal(n)
    if not np.all(np.isfinite(y)):
        raise ConfigError(f"the link {channel.name!r} gives non-finite labels (a division by a "
                          "field that is 0, …); write a link finite on almost every z")
    return MultiIndexData(channel, x, y, teacher, int(seed))


@dataclass(frozen=True)
class Preprocessing:
    """The labels' matrices: ``G(y_μ) = E[zzᵀ − I | y_μ]`` and ``T(y_μ) = G(I + G)⁻¹``.

    Attributes:
        G: (n, k, k) symmetric.
        T: (n, k, k) symmetric (same eigenvectors as G, eigenvalues ``γ/(1 + γ)``).
    """

    G: np.ndarray
    T: np.ndarray


def label_preprocessing(link, labels, *, k: int | None = None,
                        noise: float | None = None) -> Preprocessing:
    """G(y) and the optimal preprocessing T(y) at the given labels.

    ``G_ij = E[z_i z_j − δ_ij | y]`` from the conditional expectations of the order-2
    Hermite features (``G_ii = √2 E[h_{2e_i}|y]``, ``G_ij = E[h_{e_i+e_j}|y]``), then
    ``T = V diag(γ/(1 + γ)) Vᵀ`` from ``G = V diag(γ) Vᵀ`` (``1 + γ ≥ 0``: ``I + G`` is a
    conditional second moment; rounding below 1e-12 is lifted to it).

    Raises:
        ConfigError: labels the noiseless link cannot produce, or a noiseless link of several
            fields that is neither radial nor discrete (give it label noise).
    """
    channel = as_link(link, k, noise=noise)
    k = channel.k
    features = hermite_features(k, 2)
    moments = conditional_moments(channel, features, labels)          # (A, n)
    G = np.zeros((moments.shape[1], k, k))
    for a, nu in enumerate(features.indices):
        i, j = [r for r, count in enumerate(nu) for _ in range(count)]
        if i == j:
            G[:, i, i] = math.sqrt(2.0) * moments[a]
        else:
            G[:, i, j] = G[:, j, i] = moments[a]
    gamma, vectors = np.linalg.eigh(G)
    ratio = gamma / np.maximum(1.0 + gamma, 1e-12)
    T = np.einsum("nij,nj,nlj->nil", vectors, ratio, vectors)
    return Preprocessing(G, T)


def subspace_overlap(estimate: np.ndarray, teacher: np.ndarray) -> float:
    """``‖U Ŵ‖_F / (√d ‖Ŵ‖_F)`` for an estimate Ŵ (d,) or (d, k') and the teacher U (k, d)
    with ``U Uᵀ = d I`` — in [0, 1] (module docstring)."""
    W = np.asarray(estimate, dtype=float).reshape(teacher.shape[1], -1)
    norm = np.linalg.norm(W)
    if norm == 0:
        return 0.0
    return float(np.linalg.norm(teacher @ W) / (math.sqrt(teacher.shape[1]) * norm))


@dataclass(frozen=True)
class SpectralEstimate:
    """One spectral estimate.

    Attributes:
        method: ``"symmetric"`` or ``"asymmetric"``.
        eigenvalue: the eigenvalue used (the largest of D; the one of largest real part of L,
            complex in general).
        estimate: (d, k) Ŵ.
        overlap: its subspace overlap with the teacher.
    """

    method: str
    eigenvalue: complex
    estimate: np.ndarray
    overlap: float


def _preprocessing(data: MultiIndexData, preprocessing: Preprocessing | None) -> Preprocessing:
    if preprocessing is None:
        return label_preprocessing(data.link, data.y)
    if preprocessing.G.shape != (data.n, data.link.k, data.link.k):
        raise ConfigError(f"the preprocessing is for {preprocessing.G.shape[0]} labels of "
                          f"{preprocessing.G.shape[1]} fields, the data have {data.n} of "
                          f"{data.link.k}; compute it with label_preprocessing(data.link, "
                          "data.y)")
    return preprocessing


def _start(size: int, seed: int) -> np.ndarray:
    """ARPACK's start vector, seeded (its default start is not reproducible)."""
    return np.random.default_rng(seed + 7919).standard_normal(size)


def symmetric_estimator(data: MultiIndexData, preprocessing: Preprocessing | None = None,
                        *, tol: float = 1e-4) -> SpectralEstimate:
    """The top eigenvector of ``D = (1/n) Σ_μ T(y_μ) ⊗ x_μ x_μᵀ`` (module docstring), applied
    as ``W ↦ Xᵀ[(X W) T]/n`` on d × k matrices (Lanczos, ``eigsh``)."""
    pre = _preprocessing(data, preprocessing)
    X, n, d, k = data.x, data.n, data.d, data.link.k

    def apply(vector: np.ndarray) -> np.ndarray:
        W = vector.reshape(k, d).T                         # columns of W: vec stacks them
        fields = np.einsum("nij,nj->ni", pre.T, X @ W)     # T(y_μ) Wᵀ x_μ
        return (X.T @ fields / n).T.ravel()

    operator = sla.LinearOperator((d * k, d * k), matvec=apply, dtype=float)
    values, vectors = sla.eigsh(operator, k=1, which="LA", tol=tol, v0=_start(d * k, data.seed),
                                maxiter=20 * d * k)
    W = vectors[:, 0].reshape(k, d).T
    return SpectralEstimate("symmetric", float(values[0]), W, subspace_overlap(W, data.teacher))


def _asymmetric_operator(data: MultiIndexData, pre: Preprocessing) -> sla.LinearOperator:
    X, n, d, k = data.x, data.n, data.d, data.link.k

    def apply(vector: np.ndarray) -> np.ndarray:
        g = vector.reshape(n, k)
        omega = X @ (X.T @ g) / d - g                      # ((X Xᵀ/d − I) ⊗ I) g
        return np.einsum("nij,nj->ni", pre.G, omega).ravel()

    return sla.LinearOperator((n * k, n * k), matvec=apply, dtype=float)


def _eigs(operator, count: int, which: str, seed: int, tol: float):
    """ARPACK's eigenpairs; on no convergence, the ones it did converge (at least one)."""
    size = operator.shape[0]
    try:
        return sla.eigs(operator, k=count, which=which, tol=tol, v0=_start(size, seed),
                        ncv=min(size - 1, max(3 * count, 40)), maxiter=max(1000, size))
    except sla.ArpackNoConvergence as error:
        if len(error.eigenvalues) == 0:
            raise ConfigError(f"ARPACK found no eigenvalue of the {size} × {size} matrix L; "
                              "loosen tol or raise d") from error
        return error.eigenvalues, error.eigenvectors


def asymmetric_estimator(data: MultiIndexData, preprocessing: Preprocessing | None = None,
                         *, tol: float = 1e-4) -> SpectralEstimate:
    """The eigenvector g of the eigenvalue of largest real part of the ``nk × nk`` matrix
    ``L = diag(G(y_μ)) ((X Xᵀ/d − I) ⊗ I_k)`` (a ``LinearOperator``, ARPACK ``eigs``) and the
    estimate ``Ŵ = Xᵀ Re(g)`` (module docstring)."""
    pre = _preprocessing(data, preprocessing)
    values, vectors = _eigs(_asymmetric_operator(data, pre), 1, "LR", data.seed, tol)
    top = int(np.argmax(values.real))
    g = vectors[:, top].real.reshape(data.n, data.link.k)
    W = data.x.T @ g
    value = complex(values[top])
    return SpectralEstimate("asymmetric", value, W, subspace_overlap(W, data.teacher))


@dataclass(frozen=True)
class AsymmetricSpectrum(Result):
    """The eigenvalues of largest modulus of L and their prediction.

    Attributes:
        link, k, noise: the channel; d, alpha: the data's size; seed.
        eigenvalues: (m,) complex, by decreasing modulus.
        alpha_c: the weak-recovery threshold (``1/λ_max(F)``).
        F_eigenvalues: (k²,) eigenvalues μ_i of F on all k × k matrices, descending (the
            outliers of L come from eigenvectors ``g_μ ∝ G(y_μ) M z_μ`` with any M, not only
            symmetric ones: ``sign(z1*z2)`` has ±α/α_c twice each).
    """

    FORMAT = "overlapdyn.AsymmetricSpectrum"
    VERSION = 1

    link: str
    k: int
    noise: float
    d: int
    alpha: float
    seed: int
    eigenvalues: np.ndarray
    alpha_c: float
    F_eigenvalues: np.ndarray

    @property
    def radius(self) -> float:
        """The predicted bulk radius ``√(α/α_c)``."""
        return math.sqrt(self.alpha / self.alpha_c)

    @property
    def predicted_outliers(self) -> np.ndarray:
        """The values ``α μ_i`` for the eigenvalues μ_i of F outside the bulk
        (``|α μ_i| > radius``), descending."""
        values = self.alpha * self.F_eigenvalues
        return values[np.abs(values) > self.radius]

    def _matched(self) -> np.ndarray:
        """Indices of the measured eigenvalues nearest to each predicted outlier, in turn."""
        used: list[int] = []
        for value in self.predicted_outliers:
            distance = np.abs(self.eigenvalues - value)
            distance[used] = np.inf
            used.append(int(np.argmin(distance)))
        return np.array(used, dtype=int)

    @property
    def outliers(self) -> np.ndarray:
        """The measured eigenvalues nearest to :attr:`predicted_outliers`, in their order."""
        return self.eigenvalues[self._matched()]

    @property
    def bulk_edge(self) -> float:
        """The measured bulk radius, the median modulus of the (up to) ten eigenvalues of
        largest modulus left after the outliers (robust to the few eigenvalues that stray
        outside the disc at finite n)."""
        rest = np.delete(self.eigenvalues, self._matched())
        return float(np.median(np.abs(rest)[:10])) if rest.size else math.nan

    def describe(self) -> str:
        lines = [f"spectrum of L for y = {self.link}" + (f" + √{self.noise:g} ξ" if self.noise
                                                         else "") +
                 f" (k = {self.k}), d = {self.d}, α = {self.alpha:g}, α_c = {self.alpha_c:.6g}",
                 f"  bulk radius: measured {self.bulk_edge:.4f}, predicted √(α/α_c) = "
                 f"{self.radius:.4f}"]
        for found, predicted in zip(self.outliers, self.predicted_outliers, strict=True):
            lines.append(f"  outlier: measured {found.real:+.4f}{found.imag:+.4f}i, predicted "
                         f"{predicted:+.4f}")
        if not self.predicted_outliers.size:
            lines.append("  no outlier predicted (α ≤ α_c)")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"link": self.link, "k": self.k, "noise": self.noise, "d": self.d,
                 "alpha": self.alpha, "seed": self.seed, "alpha_c": self.alpha_c},
                {"eigenvalues": self.eigenvalues, "F_eigenvalues": self.F_eigenvalues})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> AsymmetricSpectrum:
        return cls(header["link"], int(header["k"]), float(header["noise"]), int(header["d"]),
                   float(header["alpha"]), int(header["seed"]), arrays["eigenvalues"],
                   float(header["alpha_c"]), arrays["F_eigenvalues"])


def _easy_threshold(channel: Link) -> tuple[float, np.ndarray]:
    """α_c and the eigenvalues of F on all k × k matrices (descending), refusing links where
    the theory does not apply."""
    thresholds = weak_recovery_thresholds(channel)
    if thresholds.alpha_c == 0.0:
        raise ConfigError(f"the link {channel.name!r} has a trivial subspace (E[z|y] ≠ 0): the "
                          "spectral estimators linearise GAMP where E[z|y] = 0, and a first "
                          "moment Σ y x already overlaps at every α > 0")
    if math.isinf(thresholds.alpha_c):
        raise ConfigError(f"the link {channel.name!r} is hard (F = 0, α_c = ∞): no spectral "
                          "estimator of this family recovers it at n = Θ(d)")
    k = channel.k
    K = G_covariance(conditional_gram(channel, hermite_features(k, 2)).gram, k)
    # F(M)_ij = Σ_lm E[G_il G_mj] M_lm: the k² × k² matrix F[(i, j), (l, m)] = K[i, l, m, j]
    F = np.transpose(K, (0, 3, 1, 2)).reshape(k * k, k * k)
    return thresholds.alpha_c, np.sort(np.linalg.eigvalsh(0.5 * (F + F.T)))[::-1]


def asymmetric_spectrum(data: MultiIndexData, preprocessing: Preprocessing | None = None, *,
                        count: int = 60, tol: float = 1e-6) -> AsymmetricSpectrum:
    """The ``count`` eigenvalues of largest modulus of L (ARPACK, L never formed), with α_c
    and F's eigenvalues for the predicted bulk radius and outliers.

    Raises:
        ConfigError: ``count`` not in [1, nk − 2], a link with a trivial subspace or a hard
            one (the theory's outlier does not exist).
    """
    size = data.n * data.link.k
    count = check_integer(count, "count, the number of eigenvalues", 1)
    if count > size - 2:
        raise ConfigError(f"count = {count} eigenvalues of a {size} × {size} matrix: ARPACK "
                          f"finds at most {size - 2}; lower count or raise α d")
    alpha_c, F_eigenvalues = _easy_threshold(data.link)
    pre = _preprocessing(data, preprocessing)
    values, _ = _eigs(_asymmetric_operator(data, pre), count, "LM", data.seed, tol)
    values = values[np.argsort(-np.abs(values))]
    return AsymmetricSpectrum(data.link.name, data.link.k, data.link.noise, data.d,
                              data.alpha, data.seed, values, alpha_c, F_eigenvalues)


@dataclass(frozen=True)
class SpectralOverlaps(Result):
    """Subspace overlaps of both estimators against α at several d and seeds.

    Attributes:
        link, k, noise: the channel; alpha_c: its threshold.
        alphas: (A,); ds: (D,); seeds: (S,).
        symmetric, asymmetric: (D, A, S) subspace overlaps.
        outlier: (D, A, S) the largest real part among L's eigenvalues (α/α_c predicted above
            α_c, the bulk edge √(α/α_c) below).
        seconds: wall time of the whole measurement.
    """

    FORMAT = "overlapdyn.SpectralOverlaps"
    VERSION = 1

    link: str
    k: int
    noise: float
    alpha_c: float
    alphas: np.ndarray
    ds: np.ndarray
    seeds: np.ndarray
    symmetric: np.ndarray
    asymmetric: np.ndarray
    outlier: np.ndarray
    seconds: float

    def mean(self, method: str) -> np.ndarray:
        """The mean over seeds, shape (D, A), of ``"symmetric"``, ``"asymmetric"`` or
        ``"outlier"``."""
        return getattr(self, method).mean(axis=2)

    def std(self, method: str) -> np.ndarray:
        """The standard deviation over seeds, shape (D, A) (0 for one seed)."""
        return getattr(self, method).std(axis=2)

    @property
    def predicted_top(self) -> np.ndarray:
        """The predicted largest real eigenvalue of L per α, shape (A,), which is α/α_c above
        α_c and the bulk edge √(α/α_c) below."""
        ratio = self.alphas / self.alpha_c
        return np.maximum(ratio, np.sqrt(ratio))

    def describe(self) -> str:
        lines = [f"spectral estimators for y = {self.link}" + (f" + √{self.noise:g} ξ"
                                                               if self.noise else "") +
                 f" (k = {self.k}): α_c = {self.alpha_c:.6g}; subspace overlap, mean ± sd over "
                 f"{self.seeds.size} seed(s)  [{self.seconds:.0f} s]",
                 f"  {'d':>5s} {'α':>6s} {'α/α_c':>6s}  {'symmetric':>15s}  {'asymmetric':>15s}"
                 f"  {'top Re λ(L)':>11s} {'predicted':>9s}"]
        sym, asym, top = (self.mean(m) for m in ("symmetric", "asymmetric", "outlier"))
        sym_sd, asym_sd = self.std("symmetric"), self.std("asymmetric")
        for i, d in enumerate(self.ds):
            for j, alpha in enumerate(self.alphas):
                lines.append(f"  {int(d):5d} {alpha:6.3g} {alpha / self.alpha_c:6.3g}  "
                             f"{sym[i, j]:7.3f} ± {sym_sd[i, j]:5.3f}  "
                             f"{asym[i, j]:7.3f} ± {asym_sd[i, j]:5.3f}  {top[i, j]:11.4f} "
                             f"{self.predicted_top[j]:9.4f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise, "alpha_c": self.alpha_c,
                "alphas": self.alphas.tolist(), "ds": self.ds.tolist(),
                "seeds": self.seeds.tolist(), "seconds": self.seconds,
                "symmetric_mean": self.mean("symmetric").tolist(),
                "asymmetric_mean": self.mean("asymmetric").tolist(),
                "outlier_mean": self.mean("outlier").tolist()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"link": self.link, "k": self.k, "noise": self.noise, "alpha_c": self.alpha_c,
                 "seconds": self.seconds},
                {"alphas": self.alphas, "ds": self.ds, "seeds": self.seeds,
                 "symmetric": self.symmetric, "asymmetric": self.asymmetric,
                 "outlier": self.outlier})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> SpectralOverlaps:
        return cls(header["link"], int(header["k"]), float(header["noise"]),
                   float(header["alpha_c"]), arrays["alphas"], arrays["ds"], arrays["seeds"],
                   arrays["symmetric"], arrays["asymmetric"], arrays["outlier"],
                   float(header["seconds"]))


def spectral_overlaps(link, alphas, ds, *, seeds=3, k: int | None = None,
                      noise: float | None = None) -> SpectralOverlaps:
    """Run both estimators on fresh data for every d, α and seed.

    Args:
        link: the link (see :func:`~overlapdyn.limits.as_link`); E[z|y] = 0 and α_c finite.
        alphas: sample ratios α > 0.
        ds: input dimensions (each ≥ ``MIN_D``).
        seeds: a number of seeds (0, …, n−1) or the seeds; the run of seed s at the i-th d
            and j-th α draws its data with seed ``s + 1000 i + 100000 j`` (fresh data for
            every run).
        k, noise: as in :func:`multi_index_data`.

    Raises:
        ConfigError: α ≤ 0, d too small, a link without fields, a trivial or hard link.
    """
    channel = as_link(link, k, noise=noise)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    if alphas.size == 0:
        raise ConfigError("give at least one sample ratio α")
    for alpha in alphas:
        _check_alpha(alpha)
    ds = np.atleast_1d(np.asarray([check_integer(d, "d, the input dimension", 1)
                                   for d in np.atleast_1d(ds)]))
    seeds = np.array(check_seeds(seeds, "the spectral estimators"))
    alpha_c, _ = _easy_threshold(channel)
    start = time.perf_counter()
    shape = (ds.size, alphas.size, seeds.size)
    symmetric, asymmetric, outlier = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, d in enumerate(ds):
        for j, alpha in enumerate(alphas):
            for s, seed in enumerate(seeds):
                data = multi_index_data(channel, int(d), alpha,
                                        seed=int(seed) + 1000 * i + 100_000 * j)
                pre = label_preprocessing(channel, data.y)
                symmetric[i, j, s] = symmetric_estimator(data, pre).overlap
                estimate = asymmetric_estimator(data, pre)
                asymmetric[i, j, s] = estimate.overlap
                outlier[i, j, s] = estimate.eigenvalue.real
    return SpectralOverlaps(channel.name, channel.k, channel.noise, alpha_c, alphas,
                            ds, seeds, symmetric, asymmetric, outlier,
                            time.perf_counter() - start)
