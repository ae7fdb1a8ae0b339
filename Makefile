# crfs — one top-level Makefile.  `make` builds everything into build/.
CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
B       := build
VERSION := $(shell cat VERSION)

WARN    := -Wall -Wextra -Werror -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Ikernel-helpers -MMD -MP \
	   -DCRFS_VERSION='"$(VERSION)"'
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
endif

LIB_SRC     := $(wildcard lib/*.c)
KH_SRC      := $(wildcard kernel-helpers/*.c)
CRFS_SRC    := $(wildcard crfs/*.c)
RESTORE_SRC := $(filter-out restore/restorer.c,$(wildcard restore/*.c))
WL_SRC      := $(wildcard tests/workloads/*.c)
UNIT_SRC    := $(wildcard tests/unit/*.c)

# evaluated when used, quietly: a missing fuse3 is named by check-build-deps
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   = $(shell pkg-config --libs fuse3 2>/dev/null)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_A := $(B)/libcrfsfmt.a
KH_A  := $(B)/libkh.a
BINS  := $(B)/bin/crfs $(B)/bin/crfs-restore $(B)/bin/crfsctl $(B)/bin/crfs-send
WLS   := $(patsubst tests/workloads/%.c,$(B)/tests/%,$(WL_SRC))
UNIT  := $(B)/tests/unit-tests

all: $(BINS) $(WLS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRC))
	ar rcs $@ $^
$(KH_A): $(call obj,$(KH_SRC))
	ar rcs $@ $^

$(B)/bin/crfs: $(call obj,$(CRFS_SRC)) $(KH_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(FUSE_LIBS) -lzstd -lpthread
$(call obj,$(CRFS_SRC)): CFLAGS += $(FUSE_CFLAGS)
# checked once before anything compiles: a missing package is named
$(call obj,$(CRFS_SRC) $(LIB_SRC) $(KH_SRC) $(RESTORE_SRC)): | $(B)/.deps-ok
$(B)/.deps-ok: tools/check-build-deps
	@tools/check-build-deps
	@mkdir -p $(B) && touch $@

# The restorer runs after the restore tool's own memory is gone: freestanding,
# position independent, no stack protector, linked flat and embedded as bytes.
RESTORER_CFLAGS := -std=gnu11 $(WARN) -Iinclude -O2 -fPIE -ffreestanding \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin \
	-nostdlib -fno-jump-tables -mno-red-zone -fcf-protection=none
# -MMD: it includes lib/hash.c and its headers, which change too
$(B)/restorer/restorer.o: restore/restorer.c restore/restorer.h
	@mkdir -p $(dir $@)
	$(CC) $(RESTORER_CFLAGS) -MMD -MP -c -o $@ $<
-include $(B)/restorer/restorer.d
$(B)/restorer/restorer.bin: $(B)/restorer/restorer.o restore/restorer.lds
	ld -pie --no-dynamic-linker -T restore/restorer.lds -o $(B)/restorer/restorer.elf $<
	@if readelf -r $(B)/restorer/restorer.elf | grep -q 'R_X86'; then \
		echo "restorer needs relocations: not position independent" >&2; exit 1; fi
	objcopy -O binary $(B)/restorer/restorer.elf $@
$(B)/obj/restore/restorer_blob.o: restore/restorer_blob.S $(B)/restorer/restorer.bin
	@mkdir -p $(dir $@)
	$(CC) -c -DBLOB='"$(B)/restorer/restorer.bin"' -o $@ $<

# Bound at start (-z now): every process of the tree is a fork of
# crfs-restore running its code, and would otherwise resolve (and write,
# copying the page) each library call it makes for the first time itself.
$(B)/bin/crfs-restore: $(call obj,$(RESTORE_SRC)) $(B)/obj/restore/restorer_blob.o $(KH_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -Wl,-z,now -o $@ $^ -lzstd -lpthread

# crfsctl migrate's frozen part: freeze, veths down, the image as a tar
$(B)/bin/crfs-send: $(call obj,tools/crfs-send.c) $(KH_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lpthread
$(call obj,tools/crfs-send.c): | $(B)/.deps-ok

$(B)/bin/crfsctl: tools/crfsctl VERSION
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/' $< >$@.tmp && chmod 0755 $@.tmp && mv $@.tmp $@

# a workload is rebuilt when a header of the workloads changes too
$(B)/tests/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g $(WARN) -o $@ $< -lm

$(call obj,$(UNIT_SRC)): | $(B)/.deps-unit-ok
$(B)/.deps-unit-ok: tools/check-build-deps
	@tools/check-build-deps unit
	@mkdir -p $(B) && touch $@
# linked with the sanitizers when the objects are (SAN=1): tests/run-all
# runs them in the sanitizer pass too
$(UNIT): $(call obj,$(UNIT_SRC)) $(KH_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lcriterion

# Each entry point installs its dependencies first, then builds in a fresh
# make (pkg-config must see libfuse3 before the link line is computed).
deps:
	@tools/install-deps

# one compile per core: the e2e tests wait for the build, CI starts clean
test: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) all $(UNIT)
	@tests/run-all

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo

# the long soak (t_soak with 1,000 freeze/copy/thaw cycles and 100
# checkpoint/restore generations); make test runs a short one
soak: all
	@mkdir -p $(B)/soak-logs; CRFS_E2E_LOGS=$${CRFS_E2E_LOGS:-$(B)/soak-logs} CRFS_SOAK_CYCLES=1000 CRFS_SOAK_GENS=100 CRFS_E2E_TIMEOUT=3600 \
		tests/e2e/run.sh t_soak
	@cat $${CRFS_E2E_LOGS:-$(B)/soak-logs}/t_soak.out

bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench

# PREFIX=/usr DESTDIR=pkg for a package; the unit runs $(PREFIX)/bin/crfs
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/share/doc/crfs
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 contrib/bash-completion/crfsctl \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/crfsctl
	sed 's|@BINDIR@|$(PREFIX)/bin|' contrib/systemd/crfs.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/crfs.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/crfs.service
	install -m 0644 README.md docs/FORMAT.md docs/SUPPORT.md \
		$(DESTDIR)$(PREFIX)/share/doc/crfs/

# a Debian package of what make install installs, built with dpkg-deb
DEB_ARCH = $(shell dpkg --print-architecture)
deb: all
	rm -rf $(B)/deb
	$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(B)/deb/root
	mkdir -p $(B)/deb/root/DEBIAN
	printf '%s\n' 'Package: crfs' 'Version: $(VERSION)' \
		'Architecture: $(DEB_ARCH)' 'Maintainer: crfs developers <crfs@localhost>' \
		'Depends: libc6, libfuse3-3, fuse3' 'Recommends: nftables' \
		'Section: admin' 'Priority: optional' \
		'Description: checkpoint/restart of Linux process trees through a file system' \
		' A FUSE daemon shows each registered process tree as a directory of' \
		' state files; cp -a of a frozen tree is the checkpoint, and' \
		' crfs-restore turns the copy back into the running processes.' \
		>$(B)/deb/root/DEBIAN/control
	dpkg-deb --root-owner-group --build $(B)/deb/root \
		$(B)/crfs_$(VERSION)_$(DEB_ARCH).deb

clean:
	rm -rf $(B)

.PHONY: all deps test demo bench soak install deb clean
-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# Fuzzing (clang's libFuzzer): one target over every parser of lib/,
# tests/fuzz/run.sh runs it per parser on the seeds in tests/fuzz/seeds.
FZ        := build-fuzz
FUZZ_CC   ?= clang
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# -MMD -MP: objects follow the headers they include (a stale one built
# against an older struct layout crashed the smoke run)
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -g -O1 \
	-MMD -MP $(FUZZ_SAN)
FUZZ_SECONDS ?= 60
$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FZ)/fuzz_parsers: $(FZ)/obj/tests/fuzz/fuzz_parsers.o $(patsubst %.c,$(FZ)/obj/%.o,$(LIB_SRC))
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# crfs-restore's loaders on real checkpoints with one file replaced
# (tests/fuzz/fuzz_restore.c): restore/ without its main(), the restorer
# blob as the plain build makes it
FZ_RESTORE := $(patsubst %.c,$(FZ)/obj/%.o,$(filter-out restore/main.c,$(RESTORE_SRC))) \
	$(FZ)/obj/restore/restorer_blob.o $(patsubst %.c,$(FZ)/obj/%.o,$(KH_SRC) $(LIB_SRC))
$(FZ)/obj/restore/%.o $(FZ)/obj/kernel-helpers/%.o $(FZ)/obj/tests/fuzz/fuzz_restore.o: \
	FUZZ_CFLAGS += -Ikernel-helpers
# the page checksums of fuzz_restore's checkpoints (tens of MiB a run) at
# full speed: the hash is plain arithmetic over a buffer it is handed
$(FZ)/obj/lib/hash.o: lib/hash.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -g -O2 -c -o $@ $<
$(FZ)/obj/restore/restorer_blob.o: restore/restorer_blob.S $(B)/restorer/restorer.bin
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -c -DBLOB='"$(B)/restorer/restorer.bin"' -o $@ $<
$(FZ)/fuzz_restore: $(FZ)/obj/tests/fuzz/fuzz_restore.o $(FZ_RESTORE)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lzstd -lpthread
FUZZ_TARGETS := $(FZ)/fuzz_parsers $(FZ)/fuzz_restore
-include $(shell find $(FZ)/obj -name '*.d' 2>/dev/null)

# fuzz_restore's checkpoints are made by the built crfs (mkimage.sh)
fuzz: $(FUZZ_TARGETS) all
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# about a minute in all, for make test
fuzz-smoke: $(FUZZ_TARGETS) all
	@tests/fuzz/run.sh smoke

.PHONY: fuzz fuzz-smoke
