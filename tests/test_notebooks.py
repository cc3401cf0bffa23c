"""Every notebook's code cells run top to bottom without error (no Jupyter needed).

Cells are executed in one namespace, as a kernel would; a figure left as a cell's last
expression is simply discarded. Notebooks must use the object-oriented matplotlib API
(``matplotlib.figure.Figure``), so no display is needed.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    cells = json.loads(path.read_text())["cells"]
    namespace: dict = {"__name__": "__notebook__"}
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {number}]", "exec"), namespace)


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ should hold at least the tour notebook"
