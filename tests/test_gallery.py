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
