# The developer loop: `make lint types fast` before a commit (the pull-request workflow runs the same),
# `make all` before a release. Every target runs through uv with the frozen lock, so nothing here
# resolves or downloads anything beyond what `uv sync` already installed.
UV ?= uv
RUN := $(UV) run --frozen
SOURCES := app tests harness benchmarks scripts
# The fast tier: what runs in a few minutes on two cores (no engines, no node processes, no window).
FAST := tests/unit tests/installers/test_release_workflow.py

.PHONY: all lint types fast test

all: lint types test

lint:
	$(RUN) ruff check $(SOURCES)
	$(RUN) ruff format --check $(SOURCES)

# The package strictly, as configured in pyproject.toml; then the tests, the harness and the
# benchmarks, checked without being asked for annotations.
types:
	$(RUN) mypy
	$(RUN) mypy tests harness benchmarks

fast:
	$(RUN) pytest $(FAST)

# The README's test command, the one CI runs: everything.
test:
	$(UV) run pytest
