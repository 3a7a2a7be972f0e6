# SPDX-License-Identifier: GPL-2.0
#
# kthread_perf: top-level build.  `make` builds the module and the user-space
# models; `make check` and `make demo` first install what is missing.

# Headers of the running kernel when they exist, else the newest installed
# Debian headers whose kernel image is in /boot (the one tools/vm boots).
KDIR ?= $(shell tools/kernel --build-dir 2>/dev/null)

SUBDIRS := userspace coro

.PHONY: all module user clean check check-host check-vm demo deps bench sanitize

all: module user

module:
	@if [ -z "$(KDIR)" ] || [ ! -d "$(KDIR)" ]; then \
		echo "make: no kernel headers found (install linux-headers-amd64 or run tools/install-deps; KDIR= overrides)" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

user:
	@set -e; for d in $(SUBDIRS); do $(MAKE) -C $$d; done

# ASan+UBSan and TSan builds of the user-space models, under build/.
sanitize:
	@set -e; for d in $(SUBDIRS); do $(MAKE) -C $$d sanitize; done

deps:
	tools/install-deps

check: deps
	$(MAKE) all sanitize
	tests/run

check-host: all sanitize
	tests/run --host-only

check-vm: all
	tests/run --vm-only

# The demo builds only what it runs: the module and the two model binaries.
demo: deps
	$(MAKE) module
	$(MAKE) -C userspace
	$(MAKE) -C coro coro_bench
	tools/kperf compare

bench: deps
	$(MAKE) all
	@set -e; for d in $(SUBDIRS); do $(MAKE) -C $$d bench; done

clean:
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	@set -e; for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done
	rm -rf build
