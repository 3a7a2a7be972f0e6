// SPDX-License-Identifier: GPL-2.0
/*
 * Context switch for AArch64 (AAPCS64, ELF).
 *
 *   void *coro_ctx_switch(void **save_sp, void *to_sp, void *val);
 *
 * Stores the callee-saved registers on the current stack, the stack
 * pointer in *save_sp, loads to_sp, restores the registers saved there
 * and returns val (x0) to the link register saved there.  Layout
 * (176 bytes, sp 16-byte aligned):
 *
 *   sp+0x00 d8  d9     sp+0x40 x19 x20    sp+0x80 x27 x28
 *   sp+0x10 d10 d11    sp+0x50 x21 x22    sp+0x90 x29 (fp) x30 (lr)
 *   sp+0x20 d12 d13    sp+0x60 x23 x24    sp+0xa0 FPCR, pad
 *   sp+0x30 d14 d15    sp+0x70 x25 x26
 *
 * FPCR (rounding mode, flush-to-zero) is callee-saved state in AAPCS64
 * ("preserved across calls" unless a routine is documented to change
 * it), so each context keeps its own, as the x87 control word and MXCSR
 * on x86-64.
 * A new context (coro_ctx_init in src/context.c) has x19 = entry,
 * x20 = arg, x29 = 0 and x30 = coro_ctx_start, which calls
 * entry(val, arg); entry never returns.
 */
	.text
	.globl	coro_ctx_switch
	.hidden	coro_ctx_switch
	.type	coro_ctx_switch, %function
	.p2align 4
coro_ctx_switch:
	.cfi_startproc
	sub	sp, sp, #0xb0
	stp	d8, d9, [sp, #0x00]
	stp	d10, d11, [sp, #0x10]
	stp	d12, d13, [sp, #0x20]
	stp	d14, d15, [sp, #0x30]
	stp	x19, x20, [sp, #0x40]
	stp	x21, x22, [sp, #0x50]
	stp	x23, x24, [sp, #0x60]
	stp	x25, x26, [sp, #0x70]
	stp	x27, x28, [sp, #0x80]
	stp	x29, x30, [sp, #0x90]
	mrs	x10, fpcr
	str	x10, [sp, #0xa0]
	mov	x9, sp
	str	x9, [x0]

	mov	sp, x1
	ldp	d8, d9, [sp, #0x00]
	ldp	d10, d11, [sp, #0x10]
	ldp	d12, d13, [sp, #0x20]
	ldp	d14, d15, [sp, #0x30]
	ldp	x19, x20, [sp, #0x40]
	ldp	x21, x22, [sp, #0x50]
	ldp	x23, x24, [sp, #0x60]
	ldp	x25, x26, [sp, #0x70]
	ldp	x27, x28, [sp, #0x80]
	ldp	x29, x30, [sp, #0x90]
	ldr	x10, [sp, #0xa0]
	msr	fpcr, x10
	add	sp, sp, #0xb0
	mov	x0, x2
	ret
	.cfi_endproc
	.size	coro_ctx_switch, .-coro_ctx_switch

	.globl	coro_ctx_start
	.hidden	coro_ctx_start
	.type	coro_ctx_start, %function
	.p2align 4
coro_ctx_start:
	.cfi_startproc
	.cfi_undefined x30	/* the outermost frame of a coroutine */
	mov	x1, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	coro_ctx_start, .-coro_ctx_start

	.section .note.GNU-stack,"",%progbits
