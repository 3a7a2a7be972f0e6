// SPDX-License-Identifier: GPL-2.0
/* The calling thread's lwp and errno, read and written opaquely (current.h). */
#include "current.h"

#include <errno.h>

__thread struct lwp *tls_lwp __attribute__((tls_model("initial-exec")));
__thread struct vproc *tls_yield_vp __attribute__((tls_model("initial-exec")));

__attribute__((noinline, noipa)) struct lwp *lwp_current(void)
{
	return tls_lwp;
}

__attribute__((noinline, noipa)) void lwp_set_current(struct lwp *l)
{
	tls_lwp = l;
}

__attribute__((noinline, noipa)) void lwp_set_errno(int e)
{
	errno = e;
}
