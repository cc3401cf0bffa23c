"""Run the notebooks in a Jupyter kernel and store them with their outputs: ``make notebooks``.

    python notebooks/execute.py                      # every notebook
    python notebooks/execute.py 00_learning_curve    # some, by name

Each notebook runs top to bottom in a fresh ``python3`` kernel of this environment (nbclient;
ipykernel, installed with the docs extra), in this folder, and is written back with every
output — figures as PNG — so that GitHub, the docs and Jupyter show them without running
anything. Timing metadata is dropped, so that rerunning on unchanged code changes only what
the code draws. The tests run the same cells (``tests/test_notebooks.py``) and check that the
stored outputs hold the figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> float:
    """Run ``path`` and write it back with its outputs; returns the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):   # ids, which nbformat will require
        cell.setdefault("id", f"cell-{number}")
    start = time.perf_counter()
    NotebookClient(notebook, kernel_name="python3", timeout=3600,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(names: list[str]) -> None:
    paths = ([HERE / f"{name.removesuffix('.ipynb')}.ipynb" for name in names] if names
             else sorted(HERE.glob("*.ipynb")))
    missing = [path.name for path in paths if not path.exists()]
    if missing:
        sys.exit(f"no notebook {', '.join(missing)} in {HERE}")
    for path in paths:
        print(f"{path.name}: ran in {execute(path):.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
