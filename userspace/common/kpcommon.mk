# SPDX-License-Identifier: GPL-2.0
#
# kthread_perf: build settings of the user-space models, written once.
# Include it from any Makefile (path-independent):
#
#	include $(path-to)/userspace/common/kpcommon.mk
#
# and build the library first with `$(MAKE) -C $(KP_COMMON) VARIANT=$(VARIANT)`.
#
#   VARIANT       "" (plain), asan (ASan+UBSan) or tsan; set it before or on
#                 the command line; the variables below follow it
#   KP_ROOT       top of the tree
#   KP_COMMON     this directory
#   KP_CFLAGS     -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread and the
#                 include paths of workload/ and userspace/common/
#   KP_SAN_FLAGS  the sanitizer flags of VARIANT (compile and link)
#   KP_BUILD      build/ or build/VARIANT/ at the top of the tree
#   KP_LIB        $(KP_BUILD)/libkpcommon.a
#   KP_HARDEN     extra compile and link flags, empty unless given
#                 (debian/rules: dpkg-buildflags' CPPFLAGS and LDFLAGS)

KP_COMMON := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KP_ROOT := $(abspath $(KP_COMMON)/../..)

VARIANT ?=

KP_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread \
	-I$(KP_ROOT)/workload -I$(KP_COMMON) $(KP_HARDEN)
KP_SAN_asan := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
KP_SAN_tsan := -fsanitize=thread -fno-omit-frame-pointer
KP_SAN_FLAGS = $(KP_SAN_$(VARIANT))
KP_BUILD = $(KP_ROOT)/build$(if $(VARIANT),/$(VARIANT))
KP_LIB = $(KP_BUILD)/libkpcommon.a
