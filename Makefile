# One command to stand the API up and verify it (`make run`), one for everything CI runs (`make test`).
# Both set themselves up on a fresh machine: a virtualenv with the project, and a Docker engine for the image.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
REPORTS := reports
PYTEST := $(PY) -m pytest

.PHONY: system-packages test-prod-emulator-instances test-prod-emulator-apps check audit sbom supply-chain cost-report help install run test test-tox-fresh-clone test-unit test-versions test-process test-benchmark test-local test-image test-image-startup test-local-live test-prod-emulator test-prod-emulator-live test-emulator test-prod coverage-report image push-image lint clean

help:
	@echo "make run    deploy (image in a container, or a process), run every live suite, report, tear down"
	@echo "make test   everything CI runs: unit suites, then every live suite on a process and on the image"
	@echo "make image  build the service image (garch-mlops:<version>) without any image registry"
	@echo "make lint   ruff, mypy and the layers contract (import-linter)"
	@echo "make check  the inner loop: lint, the unit suite, and one live smoke on a process (a couple of minutes)"

# uv resolves and installs the same versions pip would, in seconds rather than a minute and more. The venv keeps its
# pip: building the image downloads the wheelhouse with it.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check 'uv>=0.4'
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	touch $@

AZURITE := build/node/node_modules/.bin/azurite-blob

# The three are independent (PyPI, npm, apt): `make -j 3 install`, as make test does, fetches them side by side.
install: $(VENV)/.installed $(AZURITE) system-packages

system-packages:
	bash scripts/install_system_packages.sh

# Azurite, Microsoft's storage emulator, for the Blob model store tests (npm; Node.js 18+).
$(AZURITE):
	bash scripts/install_azurite.sh

# The main job: deploy on the image where a Docker engine answers (or can be started), else on a process;
# run every live suite against it; print a short report; tear down.
run: install
	@if bash scripts/ensure_docker_engine.sh >/dev/null 2>&1; then env=local; else \
		echo "make run: no Docker engine here, deploying as a local process instead"; env=process; fi; \
	$(PY) -m provisioning.cli --action full --env $$env --pytest-args "$(RUN_ARGS)"

image:
	bash scripts/build_image.sh

push-image: image
	bash scripts/push_image.sh "$(REGISTRY)"

# The live suites run on a uvicorn subprocess (with an API key) and on the image in a container, each on two xdist
# workers that share the one deployment.
LIVE_ARGS ?= --contract-examples 50 --load-duration 15
RUN_ARGS ?= -n 2
COV_ARGS = --cov --cov-append --cov-report=

# Each stage's wall time goes to reports/stage_times.tsv and is printed at the end.
STAGE = bash scripts/timed.sh

test:
	rm -rf $(REPORTS) .coverage .coverage.* $(SESSION_COVERAGE) $(addsuffix .*,$(SESSION_COVERAGE))
	mkdir -p $(REPORTS)
	$(STAGE) install $(MAKE) -j 3 --output-sync=target install
	$(MAKE) -j 4 --output-sync=target stage-lint stage-test-unit versions-beside-1 stage-supply-chain
	$(MAKE) -j 2 --output-sync=target stage-test-process stage-test-image
	$(STAGE) test-image-startup $(MAKE) test-image-startup
	$(STAGE) test-benchmark $(MAKE) test-benchmark
	bash scripts/beside.sh "$(BESIDE_NICE) $(MAKE) --output-sync=target versions-beside-2" \
		$(MAKE) --output-sync=target stage-test-local-live
	$(STAGE) test-prod-emulator $(MAKE) test-prod-emulator BESIDE_APPS=versions-beside-3
	$(MAKE) -j 2 --output-sync=target stage-cost-report stage-coverage-report
	@$(STAGE) --report

# A make target run as a timed stage of make test. Stages that need no deployment (lint, the unit suites, the
# supply-chain gate) run side by side: the unit suites are CPU-bound either way (313 s together against about 300 s
# one after another), but the supply-chain gate, which mostly waits on the network, rides along. The image's checks
# run beside the process session: alone they kept one core busy while Docker built and left the other idle, and the
# process session left a fifth of the CPU idle (measured: process 340 and 371 s in two runs with them beside it,
# 347 s without; the image's checks 118 to 123 s against 77 s, off the critical path). The other live stages run one
# at a time, so load, latency and benchmark figures are not skewed by each other (two of them have an other
# Python's unit suite beside them, at a lower priority: versions-beside-% below).
stage-%:
	$(STAGE) $* $(MAKE) $*

# The other Pythons' unit suites (one process each, no deployment) are dealt out to three stages rather than all
# crowding the first, which is CPU-bound: the first of them there, the second beside the live suites on the image and
# the third beside the Container Apps session, which each leave about 30% of the two cores idle (measured alone:
# 70% busy over 190 s and 330 s; the first stage with all three took 280 to 290 s). Beside a live stage a suite runs
# at a lower priority (BESIDE_NICE), so it takes mostly what that stage leaves idle and its load and latency gates
# keep their CPU, and scripts/beside.sh starts the two: a `make -j 2` of them held the suite's start back until the
# stage had ended in two runs of four. With OTHER_PYTHONS empty there is nothing to deal out.
BESIDE_NICE := nice -n 10
# Dealt in turn (a fourth version would join the first); plain variables, not $(shell ...) in a recipe, which makes
# GNU make hold back its other jobs while the recipe runs.
VERSIONS_BESIDE_1 = $(strip $(foreach i,1 4 7 10,$(word $(i),$(OTHER_PYTHONS))))
VERSIONS_BESIDE_2 = $(strip $(foreach i,2 5 8 11,$(word $(i),$(OTHER_PYTHONS))))
VERSIONS_BESIDE_3 = $(strip $(foreach i,3 6 9 12,$(word $(i),$(OTHER_PYTHONS))))
empty :=
space := $(empty) $(empty)
comma := ,
versions-beside-%:
	$(if $(VERSIONS_BESIDE_$*),$(STAGE) test-versions-$(subst $(space),-,$(VERSIONS_BESIDE_$*)) \
		$(MAKE) test-versions OTHER_PYTHONS="$(VERSIONS_BESIDE_$*)",@echo "no other Python dealt to $*")

# The inner loop: lint, the unit suite (two xdist workers) and the workflows against a fresh process deployment.
check: lint
	$(PYTEST) -m unit -n 2 -q
	$(PYTEST) -m deploy --env process tests/integration/test_workflows.py -q

# With no network but loopback and no Docker engine in reach (as root; scripts/isolated.sh): what `unit` promises.
test-unit: install
	bash scripts/isolated.sh $(PYTEST) -m unit -n 2 $(COV_ARGS) --junitxml=$(REPORTS)/junit-unit.xml

# The unit suite on every other Python version pyproject.toml claims (3.11 runs above), in tox environments built by
# uv. Interpreters come from PATH, or from pyenv where it has them; a missing one fails the stage, never skips it.
# The versions run side by side, one process each: the suite is mostly imports and CPU, so on two cores that beats
# one after another with two xdist workers each, which import everything twice (132 s against 205 s here).
OTHER_PYTHONS ?= 3.10 3.12 3.13
PYENV_PATH := $(shell for v in $(OTHER_PYTHONS); do pyenv prefix $$v 2>/dev/null | sed 's|$$|/bin|'; done | paste -sd: -)
# (Hosted CI runs them in its unit matrix instead and passes OTHER_PYTHONS= to make test.)
test-versions: install
	$(if $(strip $(OTHER_PYTHONS)),PATH="$(PYENV_PATH)$(if $(PYENV_PATH),:)$$PATH" UV_PYTHON_DOWNLOADS=never \
		$(VENV)/bin/tox run-parallel --parallel all --parallel-no-spinner \
			-e $(subst $(space),$(comma),$(addprefix py,$(subst .,,$(OTHER_PYTHONS)))) -- -n 0,@echo "test-versions: OTHER_PYTHONS is empty")

test-process: install
	$(PYTEST) -m deploy --env process -n 2 --deploy-api-key "ci-$$$$-key" $(LIVE_ARGS) $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-process.xml

# B1-B5 on the short budget (GARCH_BENCHMARK_MODE=short): side-by-side ratios, asserted where they hold on a shared
# machine and reported otherwise, in reports/benchmarks.md and .png; pytest-benchmark's timings in benchmarks.json.
# Each run is saved under $(BENCHMARK_STORAGE) (git-ignored, per machine: absolute times compare only on the same
# machine, so CI caches it rather than commits it) and compared with the previous one; a first run has no baseline.
BENCHMARK_STORAGE ?= .benchmarks
BENCHMARK_RUNS_KEPT ?= 10

test-benchmark: install
	mkdir -p $(REPORTS)
	GARCH_BENCHMARK_MODE=short $(PYTEST) -m benchmark tests/benchmark --benchmark-storage=file://$(BENCHMARK_STORAGE) \
		--benchmark-autosave --benchmark-compare --benchmark-json=$(REPORTS)/benchmarks.json \
		--junitxml=$(REPORTS)/junit-benchmark.xml
	for runs in $(wildcard $(BENCHMARK_STORAGE)/*/); do \
		ls -1 "$$runs" | grep -E '^[0-9]{4}_.*\.json$$' | sort | head -n -$(BENCHMARK_RUNS_KEPT) | sed "s|^|$$runs|" | xargs -r rm -f; \
	done

# The image's own checks (build, non-root, healthcheck), its start-up time (5 s to healthy), then every live suite on it.
test-local: install
	$(MAKE) test-image
	$(MAKE) test-image-startup
	$(MAKE) test-local-live

# Its coverage kept apart (COVERAGE_FILE) until coverage-report: make test runs it beside the process session.
IMAGE_COVERAGE := .coverage-image
test-image: install
	bash scripts/ensure_docker_engine.sh
	COVERAGE_FILE=$(IMAGE_COVERAGE) $(PYTEST) -m "image and not startup" --env local tests/image $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-image.xml

# Container start to first /health 200, a latency: measured with nothing else running, as the benchmarks are (beside
# the process session, all three starts took 5.0 to 5.6 s on this 2-core machine; alone, 2.3 to 3.6 s).
test-image-startup: install
	bash scripts/ensure_docker_engine.sh
	$(PYTEST) -m startup --env local tests/image --junitxml=$(REPORTS)/junit-image-startup.xml

test-local-live: install
	bash scripts/ensure_docker_engine.sh
	$(PYTEST) -m deploy --env local -n 2 $(LIVE_ARGS) $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-local.xml

# The Azure path rehearsed end to end, on both targets: the real SDK clients against the local ARM emulator, which runs
# the pushed image from a local registry. Container Instances then Container Apps (reports in reports/container-apps;
# the rollout and autoscale suites run there), beside the emulator's own tests (three xdist workers), each session
# with its own emulator: all of it mostly waits on Docker and long-running operations, so side by side it takes
# little more than the longer. Not all three at once: on two cores the autoscale, rollout and readiness timings then
# fail (measured: replicas scaled out beyond the step, revisions not ready within their probes). They share one
# registry (harness/stand_ins/shared_registry.py): the image is compressed and uploaded once, not once a session.
# Each session keeps its coverage apart (COVERAGE_FILE) until coverage-report combines them.
test-prod-emulator: install
	bash scripts/ensure_docker_engine.sh
	$(PY) -m harness.stand_ins.shared_registry -- $(MAKE) -j 2 --output-sync=target test-prod-emulator-live test-emulator

# Both targets one after the other; BESIDE_APPS names a target to run beside the Container Apps session, at a lower
# priority (make test's third share of the other Pythons).
BESIDE_APPS ?=
test-prod-emulator-live:
	$(MAKE) test-prod-emulator-instances
	bash scripts/beside.sh "$(if $(BESIDE_APPS),$(BESIDE_NICE) $(MAKE) $(BESIDE_APPS))" $(MAKE) test-prod-emulator-apps

INSTANCES_COVERAGE := .coverage-instances
APPS_COVERAGE := .coverage-apps
test-prod-emulator-instances: install
	COVERAGE_FILE=$(INSTANCES_COVERAGE) $(PYTEST) -m deploy --env prod --azure-emulator $(LIVE_ARGS) $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-prod-emulator.xml

test-prod-emulator-apps: install
	COVERAGE_FILE=$(APPS_COVERAGE) $(PYTEST) -m deploy --env prod --azure-emulator --azure-target container_apps \
		$(LIVE_ARGS) $(COV_ARGS) --reports-dir $(REPORTS)/container-apps --junitxml=$(REPORTS)/junit-prod-emulator-apps.xml

# reports/cost.md and cost.json: each target's month from the price snapshot, and what the prod rehearsals cost (from
# their ARM request logs). Exit 3 means the snapshot lacks a price the configured target needs: reported, named,
# and not a failure of the code under test.
cost-report: install
	@$(PY) -m provisioning.cli --action cost --reports-dir $(REPORTS) > /dev/null; status=$$?; \
	sed -n '1,/^## /p' $(REPORTS)/cost.md | grep '^|'; grep -A8 '^## One harness session' $(REPORTS)/cost.md || true; \
	[ $$status -eq 0 ] || [ $$status -eq 3 ]

# The SBOMs (CycloneDX JSON) of the image's lock and the harness's environment, in reports/.
sbom: install
	$(PY) -m harness.supply_chain sbom --reports $(REPORTS)

# pip-audit over the same two, judged with security/audit-allowlist.yaml: exits 0 passed, 1 findings (or a wrong or
# expired allow-list entry), 2 not run (the advisory service could not be asked). CI definitions gate on it.
audit: install
	$(PY) -m harness.supply_chain audit --reports $(REPORTS)

# In make test: the SBOMs must be written; the audit fails the run on findings and is reported as not run (never as
# passed) where the advisory service cannot be reached; reports/audit.json says which.
supply-chain: sbom
	@$(PY) -m harness.supply_chain audit --reports $(REPORTS); status=$$?; \
	[ $$status -eq 0 ] || [ $$status -eq 2 ]

EMULATOR_COVERAGE := .coverage-emulator
# The data files of the sessions that run side by side, combined into .coverage by coverage-report (with any a
# subprocess wrote after its session had combined).
SESSION_COVERAGE = $(EMULATOR_COVERAGE) $(INSTANCES_COVERAGE) $(APPS_COVERAGE) $(IMAGE_COVERAGE)
test-emulator: install
	COVERAGE_FILE=$(EMULATOR_COVERAGE) $(PYTEST) tests/arm_emulator -m emulator -n 3 $(COV_ARGS) \
		--junitxml=$(REPORTS)/junit-emulator.xml

# tox as a new contributor meets it: a fresh clone of HEAD with nothing installed (about 10 min: its own CI job).
test-tox-fresh-clone: install
	bash scripts/tox_fresh_clone.sh unit local

test-prod: install
	$(PYTEST) -m deploy --env prod $(LIVE_ARGS) --junitxml=$(REPORTS)/junit-prod.xml

coverage-report: install
	data="$$(ls -d $(SESSION_COVERAGE) $(addsuffix .*,$(SESSION_COVERAGE)) .coverage.* 2>/dev/null || true)"; \
		if [ -n "$$data" ]; then $(PY) -m coverage combine --append $$data; fi
	$(PY) -m coverage report
	$(PY) -m coverage xml -o $(REPORTS)/coverage.xml
	$(PY) -m coverage html -d $(REPORTS)/coverage-html
	$(PY) -m coverage report --include='service/*' --fail-under=90 > /dev/null \
		|| { echo "service/ line coverage is under 90%"; exit 1; }

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy service provisioning harness
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(REPORTS) build .tox .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .coverage.*
