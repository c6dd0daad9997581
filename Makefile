# signgate -- release signing behind a review gate.
# `make` builds, `make check` installs missing Debian packages then runs the
# unit and end-to-end tests twice (plain and ASan+UBSan), `make demo` runs
# the whole flow on a throwaway repository, `make bench` measures.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PKGS      := libgit2 gpgme gpg-error libcrypto libssl libcurl libclamav libp11 jansson

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' $(WARN) -Isrc $(PKG_CFLAGS) $(CFLAGS) $(if $(SAN),$(SAN_FLAGS))
ALL_LDFLAGS = $(LDFLAGS) $(if $(SAN),$(SAN_FLAGS))
# libcurl is never linked: src/core/http.c loads it when a request is made
# (forge review sources, timestamps), so `check`, `verify`, `log` do not pay
# for its ~25 libraries at start-up.
LIBS      = $(filter-out -lcurl,$(PKG_LIBS)) -ldl -lpthread
# signgate itself loads libclamav when it first scans (src/scan/clamlib.c):
# not linked, so `check`, `verify`, `log` do not pay for its libraries.
soname = $(shell objdump -p "$$(pkg-config --variable=libdir $(1))/$(1).so" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
CLAMAV_SONAME := $(call soname,libclamav)
CURL_SONAME := $(call soname,libcurl)
BIN_LIBS  = $(filter-out -lclamav -lcurl,$(PKG_LIBS)) -ldl -lpthread

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BIN       := $(BUILD)/signgate

.PHONY: all check check-plain check-asan unit e2e demo demo-run bench bench-run install uninstall clean deps fuzz dist sign verify-signatures FORCE

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libsigngate.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(BUILD)/libsigngate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BIN_LIBS)

$(BUILD)/src/scan/clamlib.o: ALL_CFLAGS += -DSG_CLAMAV_SONAME='"$(CLAMAV_SONAME)"'
# The hook scripts that `signgate install-hooks` writes are hooks/ itself,
# built in byte for byte (scripts/hooks-header.sh): one source, no copy.
HOOKS     := $(sort $(wildcard hooks/*))
$(BUILD)/gen/hook_scripts.h: scripts/hooks-header.sh $(HOOKS)
	@mkdir -p $(dir $@)
	sh scripts/hooks-header.sh $@ $(HOOKS)
$(BUILD)/src/hooks/install.o: $(BUILD)/gen/hook_scripts.h
$(BUILD)/src/hooks/install.o: ALL_CFLAGS += -I$(BUILD)/gen
$(BUILD)/src/core/http.o: ALL_CFLAGS += -DSG_CURL_SONAME='"$(CURL_SONAME)"'


$(BUILD)/tests/support.o: tests/unit/support.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/support.o $(BUILD)/libsigngate.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP -o $@ $< $(BUILD)/tests/support.o $(BUILD)/libsigngate.a $(ALL_LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsigngate.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libsigngate.a $(ALL_LDFLAGS) $(LIBS)

deps:
	@scripts/install-deps.sh

# The README's test command.
check: deps
	$(MAKE) -j$$(nproc) check-plain
	$(MAKE) -j$$(nproc) check-asan

check-plain: $(BIN) $(UNIT_BIN) $(TOOL_BIN)
	@tests/run.sh $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan SAN=1 CFLAGS='-O1 -g' build-asan/signgate $(UNIT_SRC:tests/unit/%.c=build-asan/tests/%) $(TOOL_SRC:tests/tools/%.c=build-asan/tools/%)
	@rm -rf build-asan/san-logs && mkdir -p build-asan/san-logs
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:log_path=$(CURDIR)/build-asan/san-logs/asan \
	 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build-asan/san-logs/ubsan \
	 tests/run.sh build-asan; st=$$?; \
	 if [ -n "$$(ls build-asan/san-logs)" ]; then \
		echo "sanitizer reports (a report fails the run even when the test's exit code matched):"; \
		head -n 40 build-asan/san-logs/*; exit 1; fi; exit $$st

unit: $(UNIT_BIN) $(TOOL_BIN)
	@SG_ONLY=unit tests/run.sh $(BUILD)

e2e: $(BIN) $(TOOL_BIN)
	@SG_ONLY=e2e tests/run.sh $(BUILD)

# deps first, then a fresh make: pkg-config flags are read when make starts.
demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BIN) $(TOOL_BIN)
	@tests/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(BIN) $(TOOL_BIN)
	@bench/run.sh $(BUILD)

# Fuzzing (libFuzzer, clang): every tests/fuzz/fuzz_<t>.c runs FUZZ_SECONDS
# (default 60) from its corpus in tests/fuzz/corpus/<t>/; crashes are kept in
# tests/fuzz/regressions/<t>/, which `make check` replays (test_fuzz_regressions).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link -Wno-string-concatenation

fuzz:
	@scripts/install-fuzz-deps.sh
	$(MAKE) BUILD=build-fuzz CC=clang SAN=1 CFLAGS='$(FUZZ_CFLAGS)' $(FUZZ_TARGETS:%=build-fuzz/fuzz/fuzz_%)
	@tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libsigngate.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libsigngate.a $(ALL_LDFLAGS) $(LIBS)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the program, man pages,
# git hooks (share/signgate/hooks), templates (share/signgate/templates:
# policies, signgate.mk, CI snippets) and the CMake package
# (lib/cmake/SignGate, for find_package(SignGate)). INSTALL_BIN installs
# another build of the program (the tests install the one they run).
INSTALL_BIN ?= $(BIN)
SHAREDIR    := $(DESTDIR)$(PREFIX)/share/signgate
CMAKEDIR    := $(DESTDIR)$(PREFIX)/lib/cmake/SignGate

install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(SHAREDIR)/hooks $(SHAREDIR)/templates \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(CMAKEDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/signgate
	for f in hooks/*; do [ ! -f "$$f" ] || install -m 0755 "$$f" $(SHAREDIR)/hooks/ || exit 1; done
	(cd templates && find . -type f) | while read -r f; do \
		install -D -m 0644 "templates/$$f" "$(SHAREDIR)/templates/$$f" || exit 1; done
	for f in cmake-module/*.cmake; do install -m 0644 "$$f" $(CMAKEDIR)/ || exit 1; done
	sed -i 's/^set(PACKAGE_VERSION .*/set(PACKAGE_VERSION "$(VERSION)")/' $(CMAKEDIR)/SignGateConfigVersion.cmake
	for m in docs/man/*.1; do [ ! -f "$$m" ] || install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/ || exit 1; done
	for m in docs/man/*.5; do [ ! -f "$$m" ] || install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man5/ || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/signgate
	for m in docs/man/*.1; do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$${m##*/}; done
	for m in docs/man/*.5; do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$${m##*/}; done
	rm -rf $(DESTDIR)$(PREFIX)/share/signgate $(DESTDIR)$(PREFIX)/lib/cmake/SignGate

clean:
	rm -rf build build-asan build-fuzz

# make dist: $(DIST), `git archive` of HEAD (committed files only, so the
# tarball is exactly the commit that `make sign` is judged on).
# make sign: signs it through templates/signgate.mk with the policy of the
# protected branch (SIGNGATE= another signgate, SIGN_PROFILE=, SIGN_REV=).
DIST_DIR   ?= dist
DIST       := $(DIST_DIR)/signgate-$(VERSION).tar.gz
SIGNGATE   ?= $(BIN)
SIGN_FILES ?= $(DIST)

dist: $(DIST)

$(DIST): FORCE
	@mkdir -p $(DIST_DIR)
	git archive --format=tar.gz --prefix=signgate-$(VERSION)/ -o $@ HEAD

# the in-tree program is built first when it is the one that signs
sign verify-signatures: $(filter $(BIN),$(SIGNGATE))

include templates/signgate.mk

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
