# dcgen -- `make` builds a fully static build/dcgen (libcurl from Debian's
# source package, built once into .deps/ by `make deps`); `make DCGEN_STATIC=0`
# a dynamic one with just the -dev packages. `make deps` is the only step that
# installs or fetches anything (scripts/deps.sh); `make demo`, `make test` and
# `make bench` run it first. `make image` builds the FROM-scratch images.
# CMake and CTest do the work.
#
#   DCGEN_STATIC=0|1    static (default) or dynamic linking
#   DCGEN_SANITIZE=0|1  also the ASan/UBSan unit tests (make test: 1)
#   DCGEN_WERROR=0|1    warnings are errors (make test and CI: 1)
#   DCGEN_ALLOW_SKIPS=1 make test passes although tests were skipped
#   FUZZ_SECONDS=N      make fuzz: seconds per libFuzzer target (default 60)
#   FUZZ_TARGETS="a b"  make fuzz: only these targets (default: all of fuzz/)
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
JOBS ?= 2
DCGEN_STATIC ?= 1
DCGEN_SANITIZE ?= 0
DCGEN_WERROR ?= 0
DCGEN_ALLOW_SKIPS ?= 0
DEPS ?= $(CURDIR)/.deps
MAKEFLAGS += --no-print-directory

onoff = $(if $(filter 0 OFF off Off NO no N n FALSE false False,$(1)),OFF,ON)
CONFIG := $(CMAKE_FLAGS) -DDCGEN_STATIC=$(call onoff,$(DCGEN_STATIC)) \
	-DDCGEN_SANITIZE=$(call onoff,$(DCGEN_SANITIZE)) -DDCGEN_WERROR=$(call onoff,$(DCGEN_WERROR)) \
	-DDCGEN_DEPS_DIR=$(DEPS)
# the Python `make deps` chose for the tests (and the demo and bench)
PYTHON = $$(cat $(DEPS)/python 2>/dev/null || echo python3)
WITH_PYTHON = PATH="$$(dirname $(PYTHON)):$$PATH" $(PYTHON)

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SMOKE_SECONDS ?= 3

.PHONY: all build configure deps test demo image bench bench-chains clean distclean fuzz fuzz-build fuzz-smoke \
	torture

all: build

# Configure when there is no cache yet or the configuration differs from the
# one this build dir was configured with.
configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ] || [ "$$(cat $(BUILD)/.make-config 2>/dev/null)" != "$(CONFIG)" ]; then \
		echo "cmake -S . -B $(BUILD) $(CONFIG)"; \
		cmake -S . -B $(BUILD) $(CONFIG) && echo "$(CONFIG)" >$(BUILD)/.make-config; \
	fi

build: configure
	cmake --build $(BUILD) -j$(JOBS)

deps:
	@DCGEN_DEPS_DIR=$(DEPS) DCGEN_STATIC=$(DCGEN_STATIC) DCGEN_PYTHON=$(DCGEN_PYTHON) sh scripts/deps.sh

# Fails when any test failed or was skipped (scripts/ctest.sh). The ctest
# run replays every fuzz corpus under ASan+UBSan (fuzz/<target>); then each
# libFuzzer target mutates for FUZZ_SMOKE_SECONDS (fuzz-smoke).
test: deps
	$(MAKE) build DCGEN_SANITIZE=1 DCGEN_WERROR=1
	DCGEN_ALLOW_SKIPS=$(DCGEN_ALLOW_SKIPS) sh scripts/ctest.sh $(BUILD) $(JOBS)
	$(MAKE) fuzz-smoke

# The libFuzzer targets (fuzz/): clang, dynamic, ASan+UBSan, in $(FUZZ_BUILD).
fuzz-build:
	@if [ ! -f $(FUZZ_BUILD)/CMakeCache.txt ]; then \
		cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DDCGEN_STATIC=OFF -DDCGEN_FUZZ=ON \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCGEN_DEPS_DIR=$(DEPS); \
	fi
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all

# Every target for FUZZ_SECONDS, one after another (fuzz/run.sh); the working
# corpora stay in $(FUZZ_BUILD)/fuzz/work, the figures in .../stats.tsv.
fuzz: fuzz-build
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
	sh fuzz/stats.sh $(FUZZ_BUILD)

fuzz-smoke: fuzz-build
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# Allocation failure: every scenario of tests/torture with the n-th allocation
# failing, for every n (make test spreads 300 runs per scenario instead), and
# every parser on its corpus, every n (make test does all of that too).
torture: deps
	$(MAKE) build DCGEN_SANITIZE=1
	DCGEN_TORTURE_BIN=$(BUILD)/dcgen-torture TORTURE_MAX_RUNS=0 $(WITH_PYTHON) tests/torture/torture.py
	DCGEN_BUILD_DIR=$(BUILD) $(WITH_PYTHON) tests/torture/parsers.py

demo: deps
	$(MAKE) build
	$(WITH_PYTHON) scripts/demo.py

# dcgen:latest and dcgen/<provider> from the stripped static binary, offline,
# on the engine DOCKER_HOST names (or the default one).
image: build
	sh scripts/image.sh $(BUILD)

# dcgen side by side with aws-cli and amazon-ecr-credential-helper (bench/bench.py);
# not part of make test. BENCH_RUNS=N for more or fewer runs per series.
bench:
	@DCGEN_DEPS_DIR=$(DEPS) DCGEN_STATIC=$(DCGEN_STATIC) DCGEN_PYTHON=$(DCGEN_PYTHON) sh scripts/deps.sh bench
	$(MAKE) build
	$(WITH_PYTHON) bench/bench.py
	$(WITH_PYTHON) bench/runner.py

# the credential chains: "no credentials" off a cloud, a chained source's cache hit
bench-chains: build
	$(WITH_PYTHON) bench/chains.py

clean:
	rm -rf $(BUILD)

# also the fetched and built libcurl and the tests' venv (.deps/); the next
# `make deps` fetches them again
distclean: clean
	rm -rf $(DEPS)
