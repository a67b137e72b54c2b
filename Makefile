# cloudfs — see README.md.  make | make check | make demo | make bench | make install

PKGS      := fuse3 libcurl jansson yaml-0.1 libcrypto zlib libdeflate libzstd libxml-2.0 liblz4
CC        ?= cc
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -D_FILE_OFFSET_BITS=64 -pthread \
             -Iinclude -Ifs -Icore/cloud/openstack -Icore/cloud/vcloud \
             -Icore/cloud/vsphere
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CORE_SRC  := $(sort $(wildcard core/*/*.c core/*/*/*.c))
FS_SRC    := $(filter-out fs/main.c,$(sort $(wildcard fs/*.c)))
BUILD     := build
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OBJ   := $(CORE_SRC:%.c=$(BUILD)/san/%.o) $(FS_SRC:%.c=$(BUILD)/san/%.o)

CLOUDS_DIR ?= $(CURDIR)/.clouds

.PHONY: all deps check unit integration demo demo-stop bench clean format-check fuzz install uninstall
all: cloudfs

cloudfs: $(BUILD)/fs/main.o $(FS_OBJ) $(CORE_OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: %.c $(wildcard include/*.h fs/*.h core/*/*.h core/*/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Unit tests: no network, built with AddressSanitizer and UBSan.
$(BUILD)/san/%.o: %.c $(wildcard include/*.h fs/*.h core/*/*.h core/*/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC san  $<"
	@$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD san  $@"
	@$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(SAN_OBJ) $(PKG_LIBS)

# Keep the sanitizer objects: they are only ever inputs of other rules.
.SECONDARY: $(SAN_OBJ)

# make install / make uninstall [PREFIX=/usr/local] [DESTDIR=]: the binary,
# the man page and mount.fuse.cloudfs, the helper that mount -t fuse.cloudfs
# and fstab lines run. mount(8) looks for helpers in /sbin only (util-linux's
# search path), whatever PREFIX is: MOUNT_HELPER_DIR says where it goes, and
# empty installs none. uninstall removes these files, and nothing else.
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
MOUNT_HELPER_DIR ?= /sbin
INSTALLED  = $(DESTDIR)$(BINDIR)/cloudfs $(DESTDIR)$(MANDIR)/man1/cloudfs.1 \
             $(if $(MOUNT_HELPER_DIR),$(DESTDIR)$(MOUNT_HELPER_DIR)/mount.fuse.cloudfs)

install: cloudfs
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 0755 cloudfs "$(DESTDIR)$(BINDIR)/cloudfs"
	install -m 0644 fs/cloudfs.1 "$(DESTDIR)$(MANDIR)/man1/cloudfs.1"
ifneq ($(MOUNT_HELPER_DIR),)
	install -d "$(DESTDIR)$(MOUNT_HELPER_DIR)"
	sed 's|@BINDIR@|$(BINDIR)|g' fs/mount.fuse.cloudfs.in >$(BUILD)/mount.fuse.cloudfs
	install -m 0755 $(BUILD)/mount.fuse.cloudfs "$(DESTDIR)$(MOUNT_HELPER_DIR)/mount.fuse.cloudfs"
endif

uninstall:
	rm -f $(foreach f,$(INSTALLED),"$(f)")

deps:
	@tests/deps.sh

unit: $(UNIT_BIN)

# Unit tests, then the integration tests against the local clouds;
# the last line is "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory cloudfs unit $(BUILD)/viewcat
	@CLOUDS_DIR=$(CLOUDS_DIR) tests/run.sh $(UNIT_BIN)

demo: deps
	@$(MAKE) --no-print-directory cloudfs
	@examples/demo.sh start

demo-stop:
	@examples/demo.sh stop

bench: deps
	@$(MAKE) --no-print-directory cloudfs $(BUILD)/viewcat
	@tests/bench/run.sh

# The views of a local image file, for the benchmark.
$(BUILD)/viewcat: tests/bench/viewcat.c $(CORE_OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(CORE_OBJ) $(PKG_LIBS)

format-check: deps
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) cloudfs

# Fuzzing (libFuzzer, clang): make fuzz runs each target FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_FILE_OFFSET_BITS=64 \
             -pthread -Iinclude -Ifs -Icore/cloud/openstack -Icore/cloud/vcloud -Icore/cloud/vsphere \
             $(PKG_CFLAGS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(CORE_SRC) $(FS_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang $(FUZZ_FLAGS) -o $@ $< $(CORE_SRC) $(FS_SRC) $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    name=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/found-$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=524288 -artifact_prefix=$(BUILD)/fuzz/found-$$name/ \
	        $(BUILD)/fuzz/found-$$name tests/fuzz/corpus/$$name >$(BUILD)/fuzz/$$name.log 2>&1 \
	        || { tail -30 $(BUILD)/fuzz/$$name.log; exit 1; }; \
	    grep '^Done' $(BUILD)/fuzz/$$name.log; \
	done
