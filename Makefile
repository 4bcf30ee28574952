# ceptor - one Makefile for the whole tree (no recursive makes by folder).
#
#   make            build the release flavour; binaries land in build/bin/
#   make test       unit + integration tests (starts its own redis-server)
#   make demo       the pipeline on the bundled sample capture, into Redis
#   make bench      the performance table (perf/README.md)
#   make asan       the test suite under AddressSanitizer + UBSan
#   make tsan       the concurrency tests under ThreadSanitizer
#   make fuzz       every tests/fuzz target for FUZZ_SECONDS each (default 300)
#   make deps       install missing Debian packages (apt-get, as root)
#   make help       this list
#
# Each flavour builds in its own build/<flavour>/; V=1 shows the commands.

FLAVOUR ?= release
O       := build/$(FLAVOUR)
ifeq ($(FLAVOUR),release)
BIN     := build/bin
else
BIN     := $(O)/bin
endif

CC      ?= cc
# The fuzz flavour needs clang: libFuzzer comes with its sanitizers.
ifeq ($(FLAVOUR),fuzz)
CC      := clang
endif
PKGS    := libpcap hiredis jemalloc liburcu yaml-0.1 libpcre2-8
# Recursive (=) on purpose: on a fresh machine the packages are installed by
# the $(O)/.deps-ok step, which runs before the first compile, so pkg-config
# must be asked when a recipe runs, not when this file is read.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror
CFLAGS_release := -O2 -g
CFLAGS_asan    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                  -fno-sanitize-recover=undefined
CFLAGS_tsan    := -O1 -g -fsanitize=thread
CFLAGS_bench   := -O3 -g -march=native
LDFLAGS_asan   := -fsanitize=address,undefined
LDFLAGS_tsan   := -fsanitize=thread
# Fuzzing: every object gets libFuzzer's coverage hooks (fuzzer-no-link) and
# the sanitizers; only the fuzz targets link libFuzzer itself (FUZZ_LDFLAGS).
CFLAGS_fuzz    := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                  -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
                  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
LDFLAGS_fuzz   := -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LDFLAGS   := -fsanitize=fuzzer

CPPFLAGS += -I. -Iinclude -Iengine -D_GNU_SOURCE
CFLAGS   += -std=c11 $(WARN) $(CFLAGS_$(FLAVOUR)) -MMD -MP $(PKG_CFLAGS) -pthread
LDFLAGS  += $(LDFLAGS_$(FLAVOUR)) -pthread
# jemalloc replaces malloc for every binary except under the sanitizers,
# which bring their own allocator.
ifneq ($(filter asan tsan fuzz,$(FLAVOUR)),)
LIBS      = $(filter-out -ljemalloc,$(PKG_LIBS)) -lm
else
LIBS      = $(PKG_LIBS) -lm
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# --- sources, found by folder ------------------------------------------------
LIB_SRC   := $(wildcard engine/lib/*.c)
CORE_SRC  := $(wildcard engine/core/*.c)
PUB_SRC   := $(wildcard engine/publish/*.c)
PCAP_SRC  := $(filter-out collectors/pcap/main.c,$(wildcard collectors/pcap/*.c))
FEED_SRC  := $(filter-out collectors/feed/main.c,$(wildcard collectors/feed/*.c))
FLOW_SRC  := $(filter-out collectors/flow/main.c,$(wildcard collectors/flow/*.c))
CTL_SRC   := $(wildcard engine/ctl/*.c)
WEB_SRC   := $(wildcard web/*.c)
ENGINE_SRC:= $(wildcard engine/*.c)
GEN_SRC   := $(wildcard tests/gen/*.c)
TLIB_SRC  := $(wildcard tests/lib/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard perf/bench_*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIBCEPTOR := $(O)/libceptor.a
LIBCORE   := $(O)/libceptor_core.a
LIBPUB    := $(O)/libceptor_publish.a
LIBPCAP   := $(O)/libceptor_pcap.a
LIBFEED   := $(O)/libceptor_feed.a
LIBFLOW   := $(O)/libceptor_flow.a
LIBTEST   := $(O)/libceptor_test.a
ALL_LIBS  := $(LIBCORE) $(LIBPUB) $(LIBPCAP) $(LIBFLOW) $(LIBFEED) $(LIBCEPTOR)

BINS := $(BIN)/ceptord $(BIN)/ceptor-pcap $(BIN)/ceptor-flow $(BIN)/ceptor-feed \
        $(BIN)/ceptorctl $(BIN)/ceptor-gen $(BIN)/ceptor-web
UNIT_BINS  := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst perf/%.c,$(O)/perf/%,$(BENCH_SRC))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps test unit integration demo bench asan tsan fuzz format help \
        clean bench-run tsan-run fuzz-build fuzz-libs fuzz-run
.DEFAULT_GOAL := all
# Test and benchmark objects are intermediate files to make; keep them.
.SECONDARY:

all: $(BINS)

# --- libraries ---------------------------------------------------------------
$(LIBCEPTOR): $(call obj,$(LIB_SRC))
$(LIBCORE):   $(call obj,$(CORE_SRC))
$(LIBPUB):    $(call obj,$(PUB_SRC))
$(LIBPCAP):   $(call obj,$(PCAP_SRC))
$(LIBFEED):   $(call obj,$(FEED_SRC))
$(LIBFLOW):   $(call obj,$(FLOW_SRC))
$(LIBTEST):   $(call obj,$(TLIB_SRC))

# An empty library (no sources yet) still needs one member for ar.
$(O)/%.a: | $(O)/empty.o
	@mkdir -p $(dir $@)
	@rm -f $@
	$(if $(Q),@echo "  AR      $@")
	$(Q)ar rcs $@ $^ $(if $^,,$(O)/empty.o)

$(O)/empty.o:
	@mkdir -p $(dir $@)
	$(Q)echo 'static int cep__empty;' | $(CC) -x c -c -o $@ -

# --- objects -----------------------------------------------------------------
$(O)/obj/%.o: %.c | $(O)/.deps-ok
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(if $(filter tests/%,$<),$(CHECK_CFLAGS)) -c -o $@ $<

# --- binaries ----------------------------------------------------------------
define link
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(1)
endef

$(BIN)/ceptord: $(call obj,$(ENGINE_SRC)) $(ALL_LIBS)
	$(call link)
$(BIN)/ceptor-pcap: $(call obj,collectors/pcap/main.c) $(LIBPCAP) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptor-feed: $(call obj,collectors/feed/main.c) $(LIBFEED) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptor-flow: $(call obj,collectors/flow/main.c) $(LIBFLOW) $(LIBPCAP) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptorctl: $(call obj,$(CTL_SRC)) $(LIBCORE) $(LIBPUB) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptor-gen: $(call obj,$(GEN_SRC)) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptor-web: $(call obj,$(WEB_SRC)) $(LIBCORE) $(LIBPUB) $(LIBCEPTOR)
	$(call link)
# The page is assembled into assets.o (.incbin), which -MMD cannot see.
$(call obj,web/assets.c): $(wildcard web/static/*)

$(O)/tests/%: $(O)/obj/tests/unit/%.o $(LIBTEST) $(ALL_LIBS)
	$(call link,$(CHECK_LIBS))

$(O)/perf/%: $(O)/obj/perf/%.o $(ALL_LIBS)
	$(call link)

# A fuzz target is one file, tests/fuzz/fuzz_NAME.c, defining
# LLVMFuzzerTestOneInput; it links every library (tests/fuzz/README.md).
$(O)/fuzz/fuzz_%: $(O)/obj/tests/fuzz/fuzz_%.o $(ALL_LIBS)
	$(call link,$(FUZZ_LDFLAGS))

# --- what users run ------------------------------------------------------------
test: $(BINS) $(UNIT_BINS)
	$(Q)FLAVOUR=$(FLAVOUR) BIN=$(BIN) O=$(O) bash tests/run.sh

unit: $(BINS) $(UNIT_BINS)
	$(Q)FLAVOUR=$(FLAVOUR) BIN=$(BIN) O=$(O) bash tests/run.sh unit

integration: $(BINS)
	$(Q)FLAVOUR=$(FLAVOUR) BIN=$(BIN) O=$(O) bash tests/run.sh integration

demo: $(BINS)
	$(Q)BIN=$(BIN) bash deploy/demo.sh

bench: $(O)/.deps-ok
	$(Q)$(MAKE) --no-print-directory FLAVOUR=bench bench-run

bench-run: $(BINS) $(BENCH_BINS)
	$(Q)BIN=$(BIN) O=$(O) bash perf/run.sh

asan:
	$(Q)$(MAKE) --no-print-directory FLAVOUR=asan test

tsan:
	$(Q)$(MAKE) --no-print-directory FLAVOUR=tsan tsan-run

tsan-run: $(BINS) $(UNIT_BINS)
	$(Q)FLAVOUR=tsan BIN=$(BIN) O=$(O) bash tests/run.sh tsan

# make fuzz: each target for FUZZ_SECONDS on a scratch copy of its seeds
# (FUZZ_TARGETS="pcap flow" picks some); crashes go to build/fuzz/crashes/.
# make test runs every target briefly through the same script.
FUZZ_SECONDS ?= 300
fuzz:
	$(Q)bash tests/fuzz/run.sh --check
	$(Q)$(MAKE) --no-print-directory FLAVOUR=fuzz fuzz-run

fuzz-run: $(FUZZ_BINS)
	$(Q)O=$(O) bash tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# What tests/run.sh builds (FLAVOUR=fuzz): the libraries once, then each
# target on its own, so that one target that does not build fails alone.
fuzz-libs: $(ALL_LIBS)
fuzz-build: $(FUZZ_BINS)

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

# --- packages ----------------------------------------------------------------
deps:
	$(Q)bash tools/deps.sh install

# Installs what is missing once per flavour directory; objects wait for it.
$(O)/.deps-ok: tools/deps.sh
	$(Q)bash tools/deps.sh ensure
	@mkdir -p $(dir $@) && touch $@

clean:
	rm -rf build

help:
	@sed -n '2,13s/^# \{0,1\}//p' Makefile

-include $(shell find $(O) -name '*.d' 2>/dev/null)
