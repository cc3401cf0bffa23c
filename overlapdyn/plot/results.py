"""Any saved result's figures: read the file, pick its type, draw what that type is drawn as.

:func:`load_result` reads a result saved by ``Result.save`` whatever its type (of those in
:data:`FIGURES`), and :func:`result_figures` returns its figures by name; ``overlapdyn plot
RESULT`` (:mod:`overlapdyn.jobs.plot`) writes them as PNGs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..depth.experiment import DepthResult
from ..depth.first_layer import Stage1Validation
from ..errors import OverlapdynError
from ..limits.bayes_multi import MultiIndexCurve
from ..limits.gamp import GampSweep, MultiIndexGampSweep
from ..limits.spectral import AsymmetricSpectrum, SpectralOverlaps
from ..ode.trajectory import Trajectory
from ..readout.features import FeatureSpectrum
from ..readout.staircase import StaircaseOverlaps
from ..readout.theory import ReadoutRisk
from ..reuse.dmft import DMFTSolution
from ..scaling.escape import EscapeTimes
from ..scaling.phases import PhaseDiagram
from ..sgd.simulator import Simulation
from ..sgd.validation import ValidationReport
from ..storage.results import Result, saved_format
from .depth import plot_depth, plot_stage1
from .limits import plot_gamp, plot_multi_index_gamp, plot_multi_index_overlap
from .phases import plot_phase_diagram
from .readout import plot_feature_spectrum, plot_readout_curve, plot_staircase
from .reuse import plot_dmft
from .scaling import plot_escape_scaling
from .spectral import plot_asymmetric_spectrum, plot_spectral_overlaps
from .trajectories import plot_learning_curve, trajectory_figures
from .validation import plot_gap_scaling, plot_validation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FIGURES", "load_result", "result_figures"]


def _simulation(simulation: Simulation) -> dict[str, Figure]:
    return {"learning_curves": plot_learning_curve(
        list(simulation.trajectories), labels=[f"seed {seed}" for seed in simulation.seeds])}


def _validation(report: ValidationReport) -> dict[str, Figure]:
    return {"validation": plot_validation(report), "gap_scaling": plot_gap_scaling(report)}


#: the result types that have figures, and what draws them (figure name → figure)
FIGURES: dict[type[Result], Callable[..., dict[str, Figure]]] = {
    Trajectory: trajectory_figures,
    Simulation: _simulation,
    ValidationReport: _validation,
    EscapeTimes: lambda escapes: {"escape_scaling": plot_escape_scaling(escapes)},
    DepthResult: lambda result: {"depth": plot_depth(result)},
    Stage1Validation: lambda validation: {"stage1": plot_stage1(validation)},
    SpectralOverlaps: lambda result: {"spectral_overlaps": plot_spectral_overlaps(result)},
    AsymmetricSpectrum: lambda spectrum: {"asymmetric_spectrum":
                                          plot_asymmetric_spectrum(spectrum)},
    GampSweep: lambda sweep: {"gamp": plot_gamp(sweep)},
    MultiIndexGampSweep: lambda sweep: {"multi_index_gamp": plot_multi_index_gamp(sweep)},
    MultiIndexCurve: lambda curve: {"multi_index_overlap": plot_multi_index_overlap(curve)},
    ReadoutRisk: lambda risk: {"readout_curve": plot_readout_curve(risk)},
    FeatureSpectrum: lambda spectrum: {"feature_spectrum": plot_feature_spectrum(spectrum)},
    StaircaseOverlaps: lambda theory: {"staircase": plot_staircase(theory)},
    DMFTSolution: lambda solution: {"dmft": plot_dmft(solution)},
    PhaseDiagram: lambda diagram: {"phase_diagram": plot_phase_diagram(diagram)},
}


def load_result(path: str | os.PathLike) -> Result:
    """The result saved at ``path``, of whichever type of :data:`FIGURES` it is.

    Raises:
        OverlapdynError: ``path`` is no saved result, or one of a type drawn by no figure
            (named, with the types that are).
    """
    name = saved_format(path)
    for kind in FIGURES:
        if name == kind.FORMAT:
            return kind.load(Path(path))
    drawn = ", ".join(kind.__name__ for kind in FIGURES)
    raise OverlapdynError(f"{path} holds a {name.removeprefix('overlapdyn.')}, which has no "
                          f"figure (its report: load it and print it); figures are drawn of "
                          f"{drawn}")


def result_figures(result: Result) -> dict[str, Figure]:
    """The figures of ``result`` by name (e.g. a trajectory's ``learning_curve``,
    ``overlaps`` and ``overlap_heatmap``)."""
    draw = FIGURES.get(type(result))
    if draw is None:
        raise OverlapdynError(f"a {type(result).__name__} has no figure; figures are drawn of "
                              + ", ".join(kind.__name__ for kind in FIGURES))
    return draw(result)
