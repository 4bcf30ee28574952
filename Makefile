# ceptor - one Makefile for the whole tree (no recursive makes by folder).
#
#   make            build the release flavour; binaries land in build/bin/
#   make test       unit + integration tests (starts its own redis-server)
#   make demo       the pipeline on the bundled sample capture, into Redis
#   make bench      the performance table (perf/README.md)
#   make asan       the test suite under AddressSanitizer + UBSan
#   make tsan       the concurrency tests under ThreadSanitizer
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
PKGS    := libpcap hiredis jemalloc liburcu yaml-0.1
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

CPPFLAGS += -I. -Iinclude -Iengine -D_GNU_SOURCE
CFLAGS   += -std=c11 $(WARN) $(CFLAGS_$(FLAVOUR)) -MMD -MP $(PKG_CFLAGS) -pthread
LDFLAGS  += $(LDFLAGS_$(FLAVOUR)) -pthread
# jemalloc replaces malloc for every binary except under the sanitizers,
# which bring their own allocator.
ifneq ($(filter asan tsan,$(FLAVOUR)),)
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
CTL_SRC   := $(wildcard engine/ctl/*.c)
ENGINE_SRC:= $(wildcard engine/*.c)
GEN_SRC   := $(wildcard tests/gen/*.c)
TLIB_SRC  := $(wildcard tests/lib/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard perf/bench_*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIBCEPTOR := $(O)/libceptor.a
LIBCORE   := $(O)/libceptor_core.a
LIBPUB    := $(O)/libceptor_publish.a
LIBPCAP   := $(O)/libceptor_pcap.a
LIBFEED   := $(O)/libceptor_feed.a
LIBTEST   := $(O)/libceptor_test.a
ALL_LIBS  := $(LIBCORE) $(LIBPUB) $(LIBPCAP) $(LIBFEED) $(LIBCEPTOR)

BINS := $(BIN)/ceptord $(BIN)/ceptor-pcap $(BIN)/ceptor-feed $(BIN)/ceptorctl \
        $(BIN)/ceptor-gen
UNIT_BINS  := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst perf/%.c,$(O)/perf/%,$(BENCH_SRC))

.PHONY: all deps test unit integration demo bench asan tsan fuzz format help \
        clean bench-run tsan-run
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
$(BIN)/ceptorctl: $(call obj,$(CTL_SRC)) $(LIBCORE) $(LIBPUB) $(LIBCEPTOR)
	$(call link)
$(BIN)/ceptor-gen: $(call obj,$(GEN_SRC)) $(LIBCEPTOR)
	$(call link)

$(O)/tests/%: $(O)/obj/tests/unit/%.o $(LIBTEST) $(ALL_LIBS)
	$(call link,$(CHECK_LIBS))

$(O)/perf/%: $(O)/obj/perf/%.o $(ALL_LIBS)
	$(call link)

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

fuzz:
	@echo "fuzz targets arrive with the collectors issue; nothing to fuzz yet"

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
	@sed -n '2,12s/^# \{0,1\}//p' Makefile

-include $(shell find $(O) -name '*.d' 2>/dev/null)
