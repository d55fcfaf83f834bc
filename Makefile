# learned_index -- PGXS build of the C shim and the C++17 core.
EXTENSION = learned_index
MODULE_big = learned_index
EXTVERSION = 0.4.0
DATA = sql_scripts/learned_index--0.1.0.sql sql_scripts/learned_index--0.2.0.sql \
	sql_scripts/learned_index--0.1.0--0.2.0.sql sql_scripts/learned_index--0.3.0.sql \
	sql_scripts/learned_index--0.2.0--0.3.0.sql sql_scripts/learned_index--0.4.0.sql \
	sql_scripts/learned_index--0.3.0--0.4.0.sql
PGFILEDESC = "learned_index - learned (piecewise-linear model) index access method"

SHIM_OBJS = learned_am.o learned_build.o learned_insert.o learned_scan.o \
	learned_vacuum.o learned_cost.o learned_validate.o learned_encode.o \
	learned_page.o learned_cache.o learned_xlog.o learned_group.o \
	learned_writer.o learned_retrain.o learned_recycle.o learned_unique.o \
	learned_funcs.o learned_check.o learned_datetime.o
CORE_SRCS = $(wildcard src/*.cpp)
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
OBJS = $(SHIM_OBJS) $(CORE_OBJS)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=learned_index

# Isolation tests (interleavings of sessions): test/isolation/specs/*.spec
# against test/isolation/expected/*.out; `make installcheck` runs them after
# REGRESS, results in output_iso/.
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=learned_index

PG_CONFIG ?= pg_config
SHLIB_LINK += -lstdc++

# Warnings are errors; the extension's own Asserts can be enabled with
# make LI_ASSERT=1 (CI does).
LI_WARN = -Wall -Wextra -Werror
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = $(LI_WARN) -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -Wno-cast-function-type
ifdef LI_ASSERT
PG_CPPFLAGS += -DUSE_ASSERT_CHECKING
endif

CXX ?= g++
LI_CXXFLAGS = -std=c++17 -O2 -g -fPIC -fno-exceptions $(LI_WARN) -I$(srcdir)/src

# no LLVM bitcode for JIT (the core is C++ and the shim gains nothing);
# 'override' so that the PGXS include cannot set it back
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/%.o: src/%.cpp src/li_core.h src/li_leaf.h
	$(CXX) $(LI_CXXFLAGS) -c $< -o $@

$(SHIM_OBJS): learned.h src/li_core.h src/li_leaf.h

# ---------------------------------------------------------------------
# C++ unit tests (GoogleTest), sanitizers, fuzzing
# ---------------------------------------------------------------------
UNIT_SRCS = $(wildcard test/unit/*.cpp)
BUILD_DIR = build

$(BUILD_DIR)/unit_tests: $(UNIT_SRCS) $(CORE_SRCS) src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(CXX) -std=c++17 -O2 -g $(LI_WARN) -Isrc $(UNIT_SRCS) $(CORE_SRCS) \
		-lgtest -lgtest_main -pthread -o $@

$(BUILD_DIR)/unit_tests_asan: $(UNIT_SRCS) $(CORE_SRCS) src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(CXX) -std=c++17 -O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		$(LI_WARN) -Isrc $(UNIT_SRCS) $(CORE_SRCS) \
		-lgtest -lgtest_main -pthread -o $@

.PHONY: unittest unittest-asan
unittest: $(BUILD_DIR)/unit_tests
	$(BUILD_DIR)/unit_tests

unittest-asan: $(BUILD_DIR)/unit_tests_asan
	LI_TEST_SCALE=small $(BUILD_DIR)/unit_tests_asan

EXTRA_CLEAN = $(BUILD_DIR)

# ---------------------------------------------------------------------
# libFuzzer targets (clang): fuzz_fit (the fit and the windowed search) and
# fuzz_leaf (the compressed leaf codec, src/li_leaf.h).
# `make fuzz [FUZZ_SECONDS=60]` runs each for half of FUZZ_SECONDS (at least
# 1 s each) on a copy of its seeds (test/fuzz/corpus -> build/fuzz_corpus,
# test/fuzz/corpus_leaf -> build/fuzz_corpus_leaf; the committed seeds are
# never modified); crash inputs land in build/fuzz_artifacts/ (fuzz_leaf's
# prefixed leaf-) and make fails.
# ---------------------------------------------------------------------
FUZZ_CXX ?= clang++-14
FUZZ_SECONDS ?= 60
FUZZ_CXXFLAGS = -std=c++17 -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(LI_WARN) -Isrc
# libFuzzer reads -max_total_time=0 as "no limit": never pass 0
FUZZ_FIT_SECONDS = $(shell s=$$(( ($(FUZZ_SECONDS) + 1) / 2 )); [ $$s -ge 1 ] || s=1; echo $$s)
FUZZ_LEAF_SECONDS = $(shell s=$$(( $(FUZZ_SECONDS) / 2 )); [ $$s -ge 1 ] || s=1; echo $$s)

$(BUILD_DIR)/fuzz_fit: test/fuzz/fuzz_fit.cpp $(CORE_SRCS) src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) test/fuzz/fuzz_fit.cpp $(CORE_SRCS) -o $@

$(BUILD_DIR)/fuzz_leaf: test/fuzz/fuzz_leaf.cpp $(CORE_SRCS) src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) test/fuzz/fuzz_leaf.cpp $(CORE_SRCS) -o $@

.PHONY: fuzz
fuzz: $(BUILD_DIR)/fuzz_fit $(BUILD_DIR)/fuzz_leaf
	@mkdir -p $(BUILD_DIR)/fuzz_corpus $(BUILD_DIR)/fuzz_corpus_leaf \
		$(BUILD_DIR)/fuzz_artifacts
	cp test/fuzz/corpus/* $(BUILD_DIR)/fuzz_corpus/
	cp test/fuzz/corpus_leaf/* $(BUILD_DIR)/fuzz_corpus_leaf/
	$(BUILD_DIR)/fuzz_fit -max_total_time=$(FUZZ_FIT_SECONDS) -max_len=4096 \
		-timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(BUILD_DIR)/fuzz_artifacts/ $(BUILD_DIR)/fuzz_corpus
	$(BUILD_DIR)/fuzz_leaf -max_total_time=$(FUZZ_LEAF_SECONDS) -max_len=4096 \
		-timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(BUILD_DIR)/fuzz_artifacts/leaf- \
		$(BUILD_DIR)/fuzz_corpus_leaf

# ---------------------------------------------------------------------
# Micro-benchmark of the C++ core in memory (Google Benchmark from Debian's
# libbenchmark-dev): fitting keys/s, segments, learned lookup vs
# std::lower_bound.  1M keys (< 2 min); LI_MICRO_BIG=1 adds 10M.
# Extra arguments: make microbench MICRO_ARGS='--benchmark_filter=debian'
# See bench/micro/README.md.
# ---------------------------------------------------------------------
MICRO_ARGS ?=

$(BUILD_DIR)/micro_bench: bench/micro/micro_bench.cpp bench/micro/datasets.h $(CORE_SRCS) src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(CXX) -std=c++17 -O2 $(LI_WARN) -Isrc bench/micro/micro_bench.cpp \
		$(CORE_SRCS) -lbenchmark -lpthread -o $@

.PHONY: microbench
microbench: $(BUILD_DIR)/micro_bench
	$(BUILD_DIR)/micro_bench --benchmark_format=console $(MICRO_ARGS)

# bits per entry of the compressed leaves on 10M-row data sets shaped like
# bench/run's dups, timeseries and uniform (bench/micro/leaf_sizes.cpp)
$(BUILD_DIR)/leaf_sizes: bench/micro/leaf_sizes.cpp src/li_leaf.cpp src/li_core.h src/li_leaf.h
	@mkdir -p $(BUILD_DIR)
	$(CXX) -std=c++17 -O2 $(LI_WARN) -Isrc bench/micro/leaf_sizes.cpp src/li_leaf.cpp -o $@

.PHONY: leafsizes
leafsizes: $(BUILD_DIR)/leaf_sizes
	$(BUILD_DIR)/leaf_sizes

# ---------------------------------------------------------------------
# The core against the PGM-index library (bench/micro/pgm_compare.cpp),
# built only when its headers are given -- never by CI, never linked into
# the extension:
#   make microbench-pgm LI_PGM_INCLUDE=/path/to/PGM-index/include \
#       [PGM_ARGS='--n=1000000 --reps=3 --datasets=uniform,dups --eps=16']
# ---------------------------------------------------------------------
LI_PGM_INCLUDE ?=
PGM_ARGS ?=

$(BUILD_DIR)/pgm_compare: bench/micro/pgm_compare.cpp bench/micro/datasets.h $(CORE_SRCS) src/li_core.h
	@if [ -z "$(LI_PGM_INCLUDE)" ]; then \
		echo "set LI_PGM_INCLUDE to the PGM-index include directory"; exit 1; fi
	@mkdir -p $(BUILD_DIR)
	$(CXX) -std=c++17 -O2 $(LI_WARN) -Isrc -isystem $(LI_PGM_INCLUDE) \
		bench/micro/pgm_compare.cpp $(CORE_SRCS) -o $@

.PHONY: microbench-pgm
microbench-pgm: $(BUILD_DIR)/pgm_compare
	$(BUILD_DIR)/pgm_compare $(PGM_ARGS)
