"""The plot package: Matplotlib only when a figure is made, every figure re-exported."""

import importlib
import subprocess
import sys
from pathlib import Path

import overlapdyn.plot


def test_importing_plot_does_not_import_matplotlib():
    code = "import overlapdyn.plot, sys; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_package_re_exports_every_public_name_of_its_modules():
    folder = Path(overlapdyn.plot.__file__).parent
    names = set()
    for path in folder.glob("[!_]*.py"):
        module = importlib.import_module(f"overlapdyn.plot.{path.stem}")
        names |= set(module.__all__)
        assert all(getattr(overlapdyn.plot, n) is getattr(module, n) for n in module.__all__)
    assert names == set(overlapdyn.plot.__all__)
    assert {n for n in names if n.startswith("plot_")} == {
        "plot_asymmetric_spectrum", "plot_depth", "plot_direction_learning", "plot_dmft",
        "plot_escape_curves", "plot_escape_ecdf", "plot_escape_scaling",
        "plot_feature_spectrum", "plot_gamp", "plot_gap_scaling", "plot_learning_curve",
        "plot_multi_index_gamp", "plot_multi_index_overlap",
        "plot_overlap_heatmap", "plot_overlaps", "plot_phase_diagram", "plot_readout_curve",
        "plot_reuse_escape",
        "plot_saddles", "plot_sde_bands", "plot_spectral_overlaps", "plot_staircase",
        "plot_stage1", "plot_sweep",
        "plot_validation"}
