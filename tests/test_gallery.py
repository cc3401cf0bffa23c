"""The gallery's comparisons with published results (``examples/gallery/*.py``, shown in
docs/gallery.md), rerun: each script's numbers against the paper's, with tolerances that a
wrong drift, fixed point or time scale would fail."""

import importlib.util
import math
import re
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"


def script(name: str):
    spec = importlib.util.spec_from_file_location(f"gallery_{name}", GALLERY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_script_has_its_figure_in_the_docs():
    docs = GALLERY.parents[1] / "docs"
    page = (docs / "gallery.md").read_text()
    for path in GALLERY.glob("*.py"):
        assert f"examples/gallery/{path.name}" in page and f"gallery/{path.stem}.png" in page
    for image in re.findall(r"!\[[^]]*\]\((gallery/[^)]+)\)", page):
        assert (docs / image).stat().st_size > 10_000, image


def test_saad_solla_symmetric_fixed_point():
    """R* = 1/√(K(2K−1)), Q* = C* = 1/(2K−1) as η → 0; overlapdyn at η = 1e-4 is O(η) off."""
    rows = script("saad_solla_plateau").table(Ks=(2, 3), eta=1e-4)
    compared = [row for row in rows if not math.isnan(row["published"])]
    assert len(compared) == 8
    for row in compared:
        assert row["overlapdyn"] == pytest.approx(row["published"], abs=5e-5), row
    rates = [row["overlapdyn"] for row in rows if row["quantity"] == "λ₊ / η"]
    assert all(rate > 0 for rate in rates)        # a saddle: one unstable direction


def test_ben_arous_gradient_flow_is_the_small_eta_limit():
    gaps = script("ben_arous_escape").gaps(etas=(1e-3, 1e-4))
    assert gaps[1e-4] < 2e-3
    assert 8 < gaps[1e-3] / gaps[1e-4] < 12           # the η² term: the gap is O(η)


def test_arnaboldi_square_activation_closed_form():
    gaps = script("arnaboldi_square").drift_gaps(states=3)
    assert all(gap < 1e-12 for gap in gaps.values()), gaps


def test_abbe_staircase_leaps_and_order():
    gallery = script("abbe_staircase")
    rows = gallery.table(gallery.learning_curve())
    for row in rows:
        assert row["overlapdyn leap"] == row["published leap"], row
        if row["published order"] != "—":
            assert row["overlapdyn order"] == row["published order"], row


def test_goldt_linear_students_match_the_exact_final_error():
    """ε_g* = ηKσ²/(2(2 − ηK)) for a linear student trained in its first layer."""
    for row in script("goldt_overparameterised").linear_table(Ks=(1, 3, 5)):
        assert row["overlapdyn"] == pytest.approx(row["published"], rel=1e-6), row


def test_goldt_erf_students_first_layer_against_both_layers():
    """First layer only: a surplus unit is switched off and adds to the final error; both
    layers: the error falls with K (published: grows with L / constant or decreasing)."""
    gallery = script("goldt_overparameterised")
    first = {K: gallery.final_error(gallery.network(K, "erf", both_layers=False), 2e4)
             for K in (2, 3)}
    assert first[3][0] > 1.5 * first[2][0]
    assert gallery.surplus_units(first[3][1]) == (1, 0)
    both = {K: gallery.final_error(gallery.network(K, "erf", both_layers=True), 2e4)[0]
            for K in (2, 4)}
    assert both[4] < 0.7 * both[2] and both[4] < first[2][0]


def test_arnaboldi_batch_size_regimes():
    """ℓ = 3 at d = 1000: n = T n_b unchanged while n_b ≪ d^(3/2); far beyond it the square
    loss's T stops falling (n grows like n_b), the correlation loss's falls to a step or two."""
    gallery = script("arnaboldi_batch_size")
    rows = {(row["loss"], row["n_b"]): row for row in gallery.scan(1000, (1e3, 3e3, 1e8, 1e9))}
    for loss in gallery.LOSSES:
        assert rows[loss, 3e3]["n"] == pytest.approx(rows[loss, 1e3]["n"], rel=0.05)
    assert rows["mse", 1e9]["T"] >= max(3, rows["mse", 1e8]["T"] - 1)   # not 10× fewer
    assert rows["mse", 1e8]["n"] > 10 * rows["mse", 1e3]["n"]
    assert rows["correlation", 1e9]["T"] <= 2
    assert rows["correlation", 1e3]["n"] < rows["mse", 1e3]["n"] / 10
