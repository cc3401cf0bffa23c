"""Figures (Matplotlib, without pyplot's global state): they read results and compute
nothing.
"""

from .figures import (
    plot_depth,
    plot_escape_curves,
    plot_escape_scaling,
    plot_gap_scaling,
    plot_learning_curve,
    plot_overlap_heatmap,
    plot_overlaps,
    plot_saddles,
    plot_stage1,
    plot_sweep,
    plot_validation,
    save_figure,
)

__all__ = [
    "plot_depth",
    "plot_escape_curves",
    "plot_escape_scaling",
    "plot_gap_scaling",
    "plot_learning_curve",
    "plot_overlap_heatmap",
    "plot_overlaps",
    "plot_saddles",
    "plot_stage1",
    "plot_sweep",
    "plot_validation",
    "save_figure",
]
