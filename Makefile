# earful: two commands do all set-up on a fresh machine.
#   make demo   one listening batch on the embedded default (no servers, no credentials, no internet)
#   make test   the test suite (what CI runs)
#   make test-fast   the unit-level tests, under 90 s: the edit-test loop (no Chromium, Airflow or slow tests)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench install clean lint train-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: a bare "torch" requirement would pull several GB of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,airflow]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/earful run --config config/earful.yaml
	$(BIN)/earful stats --config config/earful.yaml

test: $(STAMP)
	bash scripts/test.sh

# Leaves out what is marked slow (pyproject: slow, browser, airflow tests are all slow too).
test-fast: $(STAMP)
	bash scripts/test.sh -m "not slow" -q
# ruff lint + format check and mypy (also run by `make test`, tests/test_static_checks.py)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/typecheck.py

# Re-train the bundled default model (nlp/models/default) from the shared data folder, seeded, on the CPU
# (about 45 min on 2 cores with bf16 instructions; without them it trains 1 pass in fp32, about 72 min), then
# write its figures (metrics.json) for the model card.
DATA ?= ../shared/data
train-model: $(STAMP)
	$(BIN)/earful train-default --data-dir $(DATA) --out nlp/models/default --cache-dir data/models
	$(BIN)/python scripts/model_figures.py --data-dir $(DATA) --model nlp/models/default

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf data test-artifacts .pytest_cache
