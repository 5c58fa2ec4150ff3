# Two entry points (see README): `make book` and `make test`. Both set up .venv first, once.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch; set TORCH_SPEC to choose another build (e.g. one with CUDA).
TORCH_SPEC ?= torch==2.13.0
# Re-install only when the project's metadata changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: book pdf test setup sync run-smoke check-smoke clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	@echo "== set-up: creating $(VENV) and installing specbook with its book and test tools"
	@start=$$(date +%s); set -e; rm -f $(VENV)/.installed-*; \
	$(PYTHON) -m venv $(VENV); \
	$(BIN)/python -m pip install --quiet --upgrade pip; \
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"; \
	$(BIN)/python -m pip install --quiet -e ".[dev]"; \
	touch $@; echo "== set-up took $$(( $$(date +%s) - start )) s"

## Execute the chapters that changed (book profile, two at a time, into _build/run) and render the
## HTML book from them into _build/html (warnings are errors); nothing is executed twice.
book: $(STAMP)
	@echo "== book: running the chapters whose inputs changed, then rendering the book"
	$(BIN)/python -m specbook book --out _build

## The same book as a PDF, _build/pdf/specbook.pdf, printed by headless Chromium (Debian package `chromium`)
## from the same executed chapters: after `make book` nothing is executed again.
pdf: $(STAMP)
	@echo "== pdf: running the chapters whose inputs changed, then printing the book to PDF"
	$(BIN)/python -m specbook pdf --out _build

## Run the whole test suite (unit tests, notebook checks, smoke run + regression check, book build).
## Two workers: the book build and the browser test on one, the other tests on the other.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## Re-pair every chapter's .ipynb with its MyST source after editing the .md.
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.md

## The papermill regression run at the smoke profile, and its check.
run-smoke: $(STAMP)
	$(BIN)/python -m specbook run --profile smoke --out runs/smoke
check-smoke: $(STAMP)
	$(BIN)/python -m specbook check runs/smoke

clean:
	rm -rf _build runs
