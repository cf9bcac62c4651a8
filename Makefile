# One command to stand the API up and verify it (`make run`), one for everything CI runs (`make test`).
# Both set themselves up on a fresh machine: a virtualenv with the project, and a Docker engine for the image.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
REPORTS := reports
PYTEST := $(PY) -m pytest

.PHONY: help install run test test-unit test-process test-local coverage-report image lint clean

help:
	@echo "make run    start the API locally and print a forecast from it"
	@echo "make test   everything CI runs: unit + contract suites with coverage, the image build and its checks"
	@echo "make image  build the service image (garch-mlops:<version>) without any image registry"
	@echo "make lint   ruff and mypy"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m provisioning.quickstart

image:
	bash scripts/build_image.sh

# The live suites run twice: on a uvicorn subprocess (with an API key) and on the image in a container (xdist).
LIVE_ARGS ?= --contract-examples 50 --load-duration 15
COV_ARGS = --cov --cov-append --cov-report=

test: install
	rm -rf $(REPORTS) .coverage .coverage.*
	mkdir -p $(REPORTS)
	$(MAKE) test-unit
	$(MAKE) test-process
	$(MAKE) test-local
	$(MAKE) coverage-report

test-unit: install
	$(PYTEST) -m unit $(COV_ARGS) --junitxml=$(REPORTS)/junit-unit.xml

test-process: install
	$(PYTEST) -m deploy --env process --deploy-api-key "ci-$$$$-key" $(LIVE_ARGS) $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-process.xml

test-local: install
	bash scripts/ensure_docker_engine.sh
	$(PYTEST) -m deploy --env local -n 2 $(LIVE_ARGS) $(COV_ARGS) --junitxml=$(REPORTS)/junit-local.xml

coverage-report: install
	$(PY) -m coverage report
	$(PY) -m coverage xml -o $(REPORTS)/coverage.xml
	$(PY) -m coverage html -d $(REPORTS)/coverage-html
	$(PY) -m coverage report --include='service/*' --fail-under=90 > /dev/null \
		|| { echo "service/ line coverage is under 90%"; exit 1; }

lint: install
	$(PY) -m ruff check service provisioning tests
	$(PY) -m ruff format --check service provisioning tests
	$(PY) -m mypy service provisioning

clean:
	rm -rf $(VENV) $(REPORTS) build .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .coverage.*
