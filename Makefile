# dcgen -- `make` builds a fully static build/dcgen (libcurl from Debian's
# source package, built once into .deps/); `make DCGEN_STATIC=0` a dynamic one.
# `make image` builds the FROM-scratch images, `make bench` the benchmark
# table; `make demo` and `make test` also
# install what is missing (scripts/deps.sh) and run. CMake and CTest do the work.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
JOBS ?= 2
DCGEN_STATIC ?= 1
MAKEFLAGS += --no-print-directory

STATIC_BOOL := $(if $(filter 0 OFF off Off NO no N n FALSE false False,$(DCGEN_STATIC)),OFF,ON)

.PHONY: all build configure deps test demo image bench clean distclean

all: build

# Configure when there is no cache yet or it was made for the other linkage.
configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ] || \
	    ! grep -qx 'DCGEN_STATIC:BOOL=$(STATIC_BOOL)' $(BUILD)/CMakeCache.txt; then \
		echo "cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DDCGEN_STATIC=$(STATIC_BOOL)"; \
		cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DDCGEN_STATIC=$(STATIC_BOOL); \
	fi

build: configure
	cmake --build $(BUILD) -j$(JOBS)

deps:
	sh scripts/deps.sh

test: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: deps
	$(MAKE) build
	python3 scripts/demo.py

# dcgen:latest and dcgen/<provider> from the stripped static binary, offline,
# on the engine DOCKER_HOST names (or the default one).
image: build
	sh scripts/image.sh $(BUILD)

# dcgen side by side with aws-cli and amazon-ecr-credential-helper (bench/bench.py);
# not part of make test. BENCH_RUNS=N for more or fewer runs per series.
bench:
	sh scripts/deps.sh bench
	$(MAKE) build
	python3 bench/bench.py
	python3 bench/runner.py

clean:
	rm -rf $(BUILD)

# also the fetched and built libcurl (.deps/); the next build fetches it again
distclean: clean
	rm -rf .deps
