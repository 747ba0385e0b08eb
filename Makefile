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
CHART       := charts/prompted-forge-mcp
REPORTS     := reports
ENV         ?=
VENV_STAMP  := $(VENV)/.installed

# Tests and checks find helm through these unless the user points elsewhere.
export HELM  ?= $(abspath $(HELM4))
export HELM3 ?= $(abspath $(HELM3))

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): pyproject.toml
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

$(HELM4) $(HELM3) &: scripts/bootstrap_helm.py | $(VENV_STAMP)
	$(PY) scripts/bootstrap_helm.py
	@touch $(HELM4) $(HELM3)

.PHONY: setup
setup: $(VENV_STAMP) $(HELM4) $(HELM3) ## create the virtual environment and fetch the pinned helm binaries

.PHONY: test
test: setup ## run the test suite
	$(PY) -m pytest

.PHONY: check
check: setup ## render every environment and check it against the budget (enforce mode)
	$(PY) -m policies check --mode enforce $(if $(ENV),--env $(ENV)) --reports-dir $(REPORTS)

.PHONY: lint
lint: setup ## ruff and yamllint
	$(VENV)/bin/ruff check policies tests scripts
	$(VENV)/bin/yamllint -c .yamllint $(CHART) policies

.PHONY: package
package: setup ## helm package into dist/
	$(HELM) package $(CHART) --destination dist

.PHONY: clean
clean: ## remove the virtual environment, tools, reports and packages
	rm -rf $(VENV) $(TOOLS) $(REPORTS) dist .pytest_cache
