"""Figures (Matplotlib, without pyplot's global state): they read results and compute
nothing. One module per family: trajectories, validation, sweeps, scaling, depth, readout,
limits (GAMP, the multi-index state evolution), spectral, reuse, sde, phases (the (κ, δ)
phase diagram of wide networks); what they share (new
figures and axes, log scales, PNG files) is in :mod:`overlapdyn.plot.axes`, and
:mod:`overlapdyn.plot.results` draws any saved result's figures.
Matplotlib is imported when the first figure is made, not with this package.
"""

from .axes import (
    axes_grid,
    log_scales,
    new_axes,
    new_figure,
    save_figure,
)
from .depth import (
    plot_depth,
    plot_stage1,
)
from .limits import (
    plot_gamp,
    plot_multi_index_gamp,
    plot_multi_index_overlap,
)
from .phases import (
    PHASE_COLORS,
    plot_phase_diagram,
)
from .readout import (
    plot_feature_spectrum,
    plot_readout_curve,
    plot_staircase,
)
from .results import (
    FIGURES,
    load_result,
    result_figures,
)
from .reuse import (
    plot_direction_learning,
    plot_dmft,
    plot_reuse_escape,
)
from .scaling import (
    plot_escape_curves,
    plot_escape_scaling,
    plot_saddles,
)
from .sde import (
    plot_escape_ecdf,
    plot_sde_bands,
)
from .spectral import (
    plot_asymmetric_spectrum,
    plot_spectral_overlaps,
)
from .sweeps import (
    plot_sweep,
)
from .trajectories import (
    ROUND_OFF_FLOOR,
    above_round_off,
    plot_learning_curve,
    plot_overlap_heatmap,
    plot_overlaps,
    trajectory_figures,
)
from .validation import (
    plot_gap_scaling,
    plot_validation,
)

__all__ = [
    "FIGURES",
    "ROUND_OFF_FLOOR",
    "above_round_off",
    "axes_grid",
    "load_result",
    "log_scales",
    "new_axes",
    "new_figure",
    "plot_depth",
    "plot_dmft",
    "plot_direction_learning",
    "plot_escape_curves",
    "plot_escape_ecdf",
    "plot_escape_scaling",
    "plot_gamp",
    "plot_multi_index_gamp",
    "plot_multi_index_overlap",
    "plot_gap_scaling",
    "plot_learning_curve",
    "plot_overlap_heatmap",
    "plot_overlaps",
    "PHASE_COLORS",
    "plot_phase_diagram",
    "plot_feature_spectrum",
    "plot_readout_curve",
    "plot_reuse_escape",
    "trajectory_figures",
    "plot_asymmetric_spectrum",
    "plot_saddles",
    "plot_sde_bands",
    "plot_spectral_overlaps",
    "plot_staircase",
    "plot_stage1",
    "plot_sweep",
    "plot_validation",
    "result_figures",
    "save_figure",
]
