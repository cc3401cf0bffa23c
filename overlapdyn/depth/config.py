"""The configuration of a depth experiment: the network, the training protocol, the κ sweep,
and :class:`DepthConfig`, which holds them with the target (the sections ``[network]``,
``[training]``, ``[sweep]`` and ``[target]`` of a TOML file; see ``examples/depth/fig2.toml``).
The protocol itself is described in :mod:`overlapdyn.depth.training`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_flag, check_floats, check_integer, check_real, check_section
from ..storage.encoding import jsonable
from .targets import HierarchicalTarget

__all__ = ["DepthConfig", "KappaSweep", "Network", "Training"]

METHODS = ("three_layer", "two_layer", "kernel", "random_features", "joint")
BATCHES = ("reuse", "fresh", "split")


@dataclass(frozen=True)
class Network:
    """Widths and activations. ``bias1``, ``bias2``: fixed biases drawn U(−b, b)."""

    p1: int = 512
    p2: int = 128
    sigma1: str = "relu"
    sigma2: str = "relu"
    bias1: float = 1.0
    bias2: float = 1.0
    rf_features: int = 512

    def __post_init__(self):
        for name in ("p1", "p2", "rf_features"):
            object.__setattr__(self, name, check_integer(getattr(self, name), name, 1))
        for name in ("bias1", "bias2"):
            object.__setattr__(self, name, check_real(getattr(self, name), name))
        for name in ("sigma1", "sigma2"):
            if getattr(self, name) not in ("relu", "tanh"):
                raise ConfigError(f"{name} must be 'relu' or 'tanh', got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Training:
    """Stage-1 protocol and data use.

    Attributes:
        batches: ``"reuse"`` (all stages and steps use the n samples), ``"fresh"`` (the
            n samples are split: ``stage1_fraction·n`` into ``steps1`` fresh batches, the rest
            halved between stage 2 and stage 3) or ``"split"`` (``stage1_fraction·n`` for
            every stage-1 step, the rest reused by stages 2 and 3 and the two-layer readout —
            no first-layer over-fitting leaks into the later stages).
        steps1: number of stage-1 steps.
        eta1: η̄ — the stage-1 learning rate is ``η̄ √d₁``.
        stage1_fraction: share of the samples for stage 1 when ``batches = "fresh"``.
        ridge_grid: ``(log10 min, log10 max, number)`` of the λ grid (relative to the mean
            eigenvalue of the feature covariance) searched by leave-one-out cross-validation.
        remove_linear: subtract the least-squares linear fit of y on x from the stage-1
            labels. The linear part ``E[y x] = Σ_i E[y z_i] w*_i`` is a finite-d₁ effect
            (it vanishes as d₁ → ∞ when g*'' averages to 0, e.g. odd g* and a symmetric
            limit law of h*), but at d₁ = 8 it dominates the first steps and pulls every
            neuron onto one direction of span(W*) (see :mod:`overlapdyn.depth.first_layer`).
        validation: number of held-out samples (drawn fresh for every run, *not* counted in
            n, like the authors' validation set) on which every ridge penalty of every
            method is chosen; 0: exact leave-one-out on the training set. With reused data
            the trained first layer has seen the training labels, so leave-one-out on its
            features is optimistic and picks too little shrinkage (test errors above Var y
            at κ < 1 + ε); held-out points do not.
        joint_steps, joint_lr, joint_p1: the ``joint`` variant — full-batch Adam on the
            square loss of all three layers at once (W1 rows kept on the sphere), its
            number of steps, learning rate and first-layer width; with ``validation`` the
            best validated iterate is kept (early stopping).
    """

    batches: str = "reuse"
    steps1: int = 10
    eta1: float = 5.0
    stage1_fraction: float = 0.5
    ridge_grid: tuple[float, ...] = (-4.0, 2.0, 13.0)
    remove_linear: bool = False
    validation: int = 0
    joint_steps: int = 200
    joint_lr: float = 0.01
    joint_p1: int = 256

    def __post_init__(self):
        if self.batches not in BATCHES:
            raise ConfigError(f"batches must be one of {BATCHES}, got {self.batches!r}")
        object.__setattr__(self, "steps1", check_integer(self.steps1, "steps1", 0))
        object.__setattr__(self, "eta1", check_real(self.eta1, "eta1"))
        fraction = check_real(self.stage1_fraction, "stage1_fraction")
        if not 0 < fraction < 1:
            raise ConfigError(f"stage1_fraction must lie in (0, 1), got {fraction}")
        grid = check_floats(self.ridge_grid, "ridge_grid", 3)
        if grid[0] >= grid[1] or grid[2] < 1:
            raise ConfigError(f"ridge_grid = (log10 min, log10 max, count) is malformed: {grid}")
        object.__setattr__(self, "ridge_grid", grid)
        object.__setattr__(self, "remove_linear", check_flag(self.remove_linear, "remove_linear"))
        object.__setattr__(self, "validation", check_integer(self.validation, "validation", 0))
        object.__setattr__(self, "joint_steps", check_integer(self.joint_steps, "joint_steps", 1))
        object.__setattr__(self, "joint_p1", check_integer(self.joint_p1, "joint_p1", 1))
        object.__setattr__(self, "joint_lr", check_real(self.joint_lr, "joint_lr", positive=True))


@dataclass(frozen=True)
class KappaSweep:
    """Sample sizes ``n = round(d^κ)`` over a κ grid, seeds, test-set size, outputs."""

    kappa_min: float = 0.2
    kappa_max: float = 2.2
    points: int = 11
    seeds: int = 3
    n_test: int = 2000
    methods: tuple[str, ...] = METHODS
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "points", check_integer(self.points, "points", 1))
        object.__setattr__(self, "seeds", check_integer(self.seeds, "seeds", 1))
        object.__setattr__(self, "n_test", check_integer(self.n_test, "n_test", 10))
        object.__setattr__(self, "seed", check_integer(self.seed, "seed", 0))
        lo, hi = check_real(self.kappa_min, "kappa_min", positive=True), check_real(
            self.kappa_max, "kappa_max", positive=True)
        if hi < lo:
            raise ConfigError(f"kappa_max = {hi} is below kappa_min = {lo}")
        object.__setattr__(self, "kappa_min", lo)
        object.__setattr__(self, "kappa_max", hi)
        methods = tuple(self.methods)
        bad = sorted(set(methods) - set(METHODS))
        if bad:
            raise ConfigError(f"unknown methods {bad}; known: {list(METHODS)}")
        if "two_layer" in methods and "three_layer" not in methods:
            raise ConfigError("the two-layer baseline reuses the three-layer net's first "
                              "layer: list 'three_layer' too")
        object.__setattr__(self, "methods", methods)

    @property
    def kappas(self) -> np.ndarray:
        return np.linspace(self.kappa_min, self.kappa_max, self.points)


@dataclass(frozen=True)
class DepthConfig:
    """Everything a depth experiment needs: ``[target]``, ``[network]``, ``[training]``,
    ``[sweep]`` sections of a TOML file (see ``examples/depth/fig2.toml``)."""

    target: HierarchicalTarget
    network: Network = field(default_factory=Network)
    training: Training = field(default_factory=Training)
    sweep: KappaSweep = field(default_factory=KappaSweep)
    name: str = "depth"

    def to_dict(self) -> dict:
        out = {"name": self.name, "target": self.target.to_dict()}
        for key in ("network", "training", "sweep"):
            out[key] = jsonable(dataclasses.asdict(getattr(self, key)), key)
        return out

    @classmethod
    def from_dict(cls, config: dict, name: str = "depth") -> DepthConfig:
        """Build from a dict; :class:`ConfigError` names unknown sections and keys."""
        sections = {"network": Network, "training": Training, "sweep": KappaSweep}
        unknown = sorted(set(config) - set(sections) - {"target", "name"})
        if unknown:
            raise ConfigError(f"unknown config sections {unknown}; expected "
                              f"{['target', *sections]}")
        if "target" not in config:
            raise ConfigError("the config has no [target] section")
        built = {"target": HierarchicalTarget.from_dict(config["target"])}
        for key, kind in sections.items():
            values = check_section(config.get(key, {}), key, kind)
            for listed in ("ridge_grid", "methods"):
                if listed in values:
                    values[listed] = tuple(values[listed])
            built[key] = kind(**values)
        return cls(name=str(config.get("name", name)), **built)
