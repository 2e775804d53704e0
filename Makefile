# adpulse: `make run` (install, start the local stack, ready for events) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install kafka-install system-deps run up stop lint test test-fast bench bench-smoke bench-frontdoor chaos chaos-short clean deploy-tools

install: $(STAMP)
	@deploy/geo/geo.sh install

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

kafka-install:
	deploy/kafka/kafka.sh install

system-deps:
	deploy/system-deps.sh

## Validators of deploy/ (helm and kubeconform from the Go module proxy, offline Kubernetes schemas);
## built once into ~/.cache/adpulse, quick when cached.
deploy-tools: install
	deploy/tools.sh install
	deploy/tools.sh schemas >/dev/null

## Install everything, start Kafka, the ClickHouse endpoint, the aggregator and the API; Ctrl-C stops all.
run: install kafka-install
	deploy/stack.sh run

## Same, in the background (stop with `make stop`).
up: install kafka-install
	deploy/stack.sh up

stop:
	deploy/stack.sh down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

## Everything needed, then ruff, mypy and the whole test suite (real Kafka, real ClickHouse).
test: install kafka-install system-deps deploy-tools lint
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not integration"

## Benchmarks (about 20 minutes: 10 of them the 5,000 events/s soak); results in loadtests/results/.
bench: install kafka-install system-deps
	$(BIN)/python -m loadtests.bench

bench-smoke: install kafka-install system-deps
	$(BIN)/python -m loadtests.bench --smoke

## The front door alone (about 4 minutes): pixel maximum with the no-op ceiling, postback maximum, latency.
bench-frontdoor: install kafka-install system-deps
	$(BIN)/python -m loadtests.bench --phases pixel,postback,latency

## Fault injection (a few minutes); `chaos-short` is the variant `make test` runs. Then a broker of a
## 3-node Kafka cluster killed twice under load (loadtests/failover.py; its short form runs in make test).
chaos: install kafka-install
	$(BIN)/python -m loadtests.chaos
	$(BIN)/python -m loadtests.failover

chaos-short: install kafka-install
	$(BIN)/python -m loadtests.chaos --short

clean:
	rm -rf .run .mypy_cache .ruff_cache .pytest_cache
