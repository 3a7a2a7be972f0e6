# SPDX-License-Identifier: GPL-2.0
#
# kthread_perf: top-level build.  `make` builds the module and the user-space
# models; `make check` and `make demo` first install what is missing.

# Headers of the running kernel when they exist, else the newest installed
# Debian headers whose kernel image is in /boot (the one tools/vm boots).
KDIR ?= $(shell tools/kernel --build-dir 2>/dev/null)

SUBDIRS := userspace coro

.PHONY: all module user clean check check-host check-vm demo deps bench sanitize \
	install install-prereqs modules_install check-rt check-debug check-deb deb

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

# make check builds on every CPU (no target of all and sanitize writes what
# another writes): 22 s serial, 12 s with -j2 on a 2-CPU machine.
CHECK_JOBS ?= $(shell nproc)

check: deps
	$(MAKE) -j$(CHECK_JOBS) all sanitize
	tests/run

check-host: all sanitize
	tests/run --host-only

check-vm: all
	tests/run --vm-only

# Debian's PREEMPT_RT kernel: installs it with its headers when missing
# (tools/install-deps --rt), then two guest boots, so not part of check.
check-rt:
	tools/install-deps --rt
	$(MAKE) all
	bats tests/rt

# The VM suites on a debug kernel (lockdep, KASAN, debug objects, ...) that
# tools/debug-kernel builds from Debian's linux-source-6.1 once and caches
# (the first build takes the better part of an hour on 2 shared CPUs), with
# the module built against it in build/debug/: not part of check.
check-debug: deps
	$(MAKE) user sanitize
	tools/debug-kernel check

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

# ---- installing (SPEC.md section 10) ----
# make install PREFIX=/usr/local DESTDIR= : the model binaries, kperf (its
# code under $(KPERFDIR), $(BINDIR)/kperf a link to it), libcoro with coro.h
# and coro.pc, the man pages.  make modules_install: the module, for KDIR.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
KPERFDIR ?= $(LIBDIR)/kthread_perf
MAN_PAGES := $(wildcard man/*.[0-9])

# Only what is installed is built (not the tests, sanitizer or AArch64
# builds): debian/rules installs through this target.
install-prereqs:
	$(MAKE) -C userspace pthread_bench
	$(MAKE) -C coro lib coro_bench

install: install-prereqs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(KPERFDIR)/tools/kperflib \
		$(DESTDIR)$(KPERFDIR)/workload
	install -m 0755 userspace/pthread_bench coro/coro_bench $(DESTDIR)$(BINDIR)/
	install -m 0755 tools/kperf $(DESTDIR)$(KPERFDIR)/tools/kperf
	install -m 0644 tools/kperflib/*.py $(DESTDIR)$(KPERFDIR)/tools/kperflib/
	# kperf reads the module's ranges from the header the models share.
	install -m 0644 workload/kp_defs.h $(DESTDIR)$(KPERFDIR)/workload/
	# kperf --version reads the project's one version file.
	install -m 0644 VERSION $(DESTDIR)$(KPERFDIR)/VERSION
	ln -sfr $(DESTDIR)$(KPERFDIR)/tools/kperf $(DESTDIR)$(BINDIR)/kperf
	@set -e; for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		echo "install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	$(MAKE) -C coro install PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) DESTDIR=$(DESTDIR)

# The Debian packages (debian/), built from a clean copy of the tree into
# build/deb/; make check builds and checks them too (tests/host/deb.bats).
deb:
	tools/build-deb

check-deb:
	tests/run tests/host/deb.bats

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
