"""Every notebook's code cells run top to bottom without error (no Jupyter needed), and the
stored notebooks hold their outputs, figures included.

Cells are executed in one namespace, as a kernel would; a figure left as a cell's last
expression is simply discarded. Notebooks make figures with ``od.plot.new_figure`` (or the
plot functions), which Jupyter shows as PNG; ``make notebooks`` (``notebooks/execute.py``)
stores them with their outputs, and the second test checks that it was run.
"""

import json
import re
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


# a cell that ends with a figure (a name bound to one, a call of a plotting function), or
# that binds one in its last line and so would show nothing
FIGURE_LAST_LINE = re.compile(r"^(figure|fig|(\w+ = )?(\w*_plot|(od\.plot\.)?plot_\w+)\(.*)$")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_with_its_figures(path):
    cells = [cell for cell in json.loads(path.read_text())["cells"]
             if cell["cell_type"] == "code"]
    assert all(cell["execution_count"] for cell in cells), (
        f"{path.name} is stored without outputs: run `make notebooks`")
    for number, cell in enumerate(cells):
        kinds = {kind for output in cell["outputs"] for kind in output.get("data", {})}
        assert not [output for output in cell["outputs"] if output["output_type"] == "error"]
        text = "".join("".join(output.get("data", {}).get("text/plain", ""))
                       for output in cell["outputs"])
        assert "<Figure size" not in text, f"{path.name}, code cell {number}: a figure as text"
        last = "".join(cell["source"]).strip().splitlines()[-1]
        if FIGURE_LAST_LINE.match(last):
            assert "image/png" in kinds, f"{path.name}, code cell {number}: no figure stored"


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ should hold at least the tour notebook"
