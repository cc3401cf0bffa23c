# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DOCS_STAMP := $(VENV)/.docs-installed-stamp

.PHONY: install test demo docs notebooks bench lint clean

install: $(STAMP)

# Re-install whenever the package metadata changes. The test suite builds the docs too
# (tests/test_docs.py), so `make test` installs both extras. pip compiles the bytecode of
# what it installs on one core; compileall does it on every core (half the time on two),
# and like pip skips a file that does not compile (a package's test data).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -e '.[test,docs]'
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" > /dev/null || true
	touch $(STAMP)

# `make docs` needs only the docs extra (a venv made by `make test` already has it).
$(DOCS_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

# One test process per core (pytest-xdist); a file's tests stay in one process, and so do
# files that build the same models (tests/conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

demo: $(STAMP)
	$(BIN)/overlapdyn demo --out outputs/demo

# HTML into docs/_build/html; every warning is an error.
docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html

# Run every notebook in a Jupyter kernel and store it with its outputs, figures included
# (nbclient and ipykernel come with the docs extra).
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache .hypothesis docs/_build
