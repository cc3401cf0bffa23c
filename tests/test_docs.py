"""The documentation builds without a single warning, and its pages link only to files of
this repository.

The build is ``make docs``'s, into a temporary folder: Sphinx with warnings as errors and
nitpicky cross-references, so a docstring that names a moved or renamed object, or bad reST,
fails here. The notebooks are rendered as stored, not executed (test_notebooks.py runs them).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)])
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "myst_parser", "myst_nb"):
        pytest.importorskip(module, reason="the docs extra is not installed: "
                                           "pip install -e '.[docs]' (make test does)")
    warnings = tmp_path / "warnings.txt"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E",
         "-w", str(warnings), "-d", str(tmp_path / "doctrees"), str(DOCS),
         str(tmp_path / "html")],
        cwd=ROOT, capture_output=True, text=True,
        timeout=900)  # only turns a hang into a failure: a loaded machine needs ~70 s
    assert build.returncode == 0, (warnings.read_text() if warnings.exists() else "") + \
        build.stderr[-4000:]
    assert (tmp_path / "html" / "index.html").is_file()
    assert (tmp_path / "html" / "reference" / "ode.html").is_file()
    assert (tmp_path / "html" / "notebooks" / "01_hermite_and_expectations.html").is_file()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_link_only_inside_the_repository(page):
    outside = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the page
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            outside.append(target)
    assert not outside, f"{page.name} links to files outside the repository: {outside}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_every_module_has_a_reference_section():
    documented = set()
    for page in (DOCS / "reference").glob("*.rst"):
        documented.update(re.findall(r"automodule:: (overlapdyn[\w.]*)", page.read_text()))
    package = ROOT / "overlapdyn"
    modules = {".".join(("overlapdyn", *path.relative_to(package).with_suffix("").parts))
               .removesuffix(".__init__") for path in package.rglob("*.py")
               if "templates" not in path.parts or path.name == "__init__.py"}
    assert not sorted(modules - documented), "modules without a reference section"


def test_no_text_sends_the_reader_to_files_outside_the_repository():
    """The conventions and formulas are in the project's own docs, and papers are cited by
    name: no docstring, page, example or script names the notes the project was built from."""
    texts = [path for folder in ("overlapdyn", "docs", "examples", "derivations", "notebooks",
                                 "benchmarks")
             for path in (ROOT / folder).rglob("*")
             if path.suffix in {".py", ".md", ".rst", ".toml", ".ipynb"}
             and "_build" not in path.parts]
    pattern = re.compile(r"LITERATURE\.md|SPEC\.md|ARCHITECTURE\.md|\.\./shared\b")
    offending = [str(path.relative_to(ROOT)) for path in [ROOT / "README.md", *texts]
                 if pattern.search(path.read_text(errors="replace"))]
    assert not offending, f"texts that point outside the repository: {offending}"
