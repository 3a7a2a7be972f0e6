// SPDX-License-Identifier: GPL-2.0
/*
 * Context switch for x86-64, System V ABI (ELF).
 *
 *   coro_ctx_switch: rdi = void **save_sp, rsi = void *to_sp, rdx = val
 *
 * Saves the callee-saved state on the current stack, stores the stack
 * pointer in *save_sp, loads to_sp, restores the state saved there and
 * resumes it with rax = val, by an indirect jump to the saved return
 * address.
 *
 * It is entered by a jump, with the return address pushed by hand
 * (coro_ctx_swap() in src/context.h), not by a call: the return-stack
 * buffer then sees neither a call nor a ret.  A call paired with this
 * jump left one entry behind per switch, so every ret up the resumed
 * coroutine's chain (coro_yield, its caller) was mispredicted (~18 ns a
 * yield in coro_bench); a call paired with a ret mispredicts that ret
 * whenever the two contexts switch from different places (the bare
 * ping-pong, 2.5 -> 10.8 ns).  With neither, the jump's target is
 * predicted from its history, and the rets of each context's own chain
 * from that chain's calls.  Everything caller-saved is dead
 * across a call, so only this is kept (64 bytes, sp 16-byte aligned):
 *
 *   sp+0   MXCSR (4 bytes), x87 control word (2), pad (2)
 *   sp+8   r15
 *   sp+16  r14
 *   sp+24  r13
 *   sp+32  r12
 *   sp+40  rbx
 *   sp+48  rbp
 *   sp+56  return address
 *
 * A new context (coro_ctx_init in src/context.c) has r12 = entry,
 * r13 = arg, rbp = 0 and returns into coro_ctx_start, which calls
 * entry(val, arg); entry never returns.
 *
 * Under -fcf-protection (__CET__) both entry points start with endbr64,
 * the jump to a saved return address is notrack (it lands on a label of
 * coro_ctx_swap(), not on an endbr64), and the object carries a GNU
 * property note saying IBT.  Not SHSTK: the switch moves between stacks without switching
 * shadow stacks, so a shadow stack would have to be left off.
 */
#if defined(__CET__) && (__CET__ & 1)
#define ENDBR	endbr64
#define NOTRACK	notrack
#else
#define ENDBR
#define NOTRACK
#endif

	.text
	.globl	coro_ctx_switch
	.hidden	coro_ctx_switch
	.type	coro_ctx_switch, @function
	.p2align 4
coro_ctx_switch:
	.cfi_startproc
	ENDBR
	leaq	-0x38(%rsp), %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%r15, 0x08(%rsp)
	movq	%r14, 0x10(%rsp)
	movq	%r13, 0x18(%rsp)
	movq	%r12, 0x20(%rsp)
	movq	%rbx, 0x28(%rsp)
	movq	%rbp, 0x30(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsp, %r11		/* the frame just saved */

	movq	%rsi, %rsp
	movq	0x38(%rsp), %rcx
	/* MXCSR and the x87 control word: how to restore them is chosen
	 * once per process (coro_ctx_fp_compare, src/context.c).  STMXCSR
	 * above is the dear part on AMD Zen 4 (about 3 of a switch's 6 ns:
	 * notes/issue21.md, 8.1), and loading either register costs little
	 * there even when
	 * the value changes, so the default there loads both, as Boost does.
	 * On Intel LDMXCSR of a changed value costs ~55 ns (Xeon), and
	 * ordinary arithmetic sets MXCSR's sticky status bits, which the
	 * psABI makes caller-saved, so two contexts nearly always differ in
	 * them: there each is loaded only when its control bits differ from
	 * the ones running. */
	cmpb	$0, coro_ctx_fp_compare(%rip)
	jne	2f
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
1:
	movq	0x08(%rsp), %r15
	movq	0x10(%rsp), %r14
	movq	0x18(%rsp), %r13
	movq	0x20(%rsp), %r12
	movq	0x28(%rsp), %rbx
	movq	0x30(%rsp), %rbp
	leaq	0x40(%rsp), %rsp
	movq	%rdx, %rax
	NOTRACK jmpq	*%rcx
2:	movl	(%rsp), %r8d
	xorl	(%r11), %r8d
	testl	$0xffc0, %r8d		/* DAZ, masks, RC, FZ */
	jz	3f
	ldmxcsr	(%rsp)
3:	movzwl	4(%rsp), %r8d
	cmpw	4(%r11), %r8w
	je	1b
	fldcw	4(%rsp)
	jmp	1b
	.cfi_endproc
	.size	coro_ctx_switch, .-coro_ctx_switch

	.globl	coro_ctx_start
	.hidden	coro_ctx_start
	.type	coro_ctx_start, @function
	.p2align 4
coro_ctx_start:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame of a coroutine */
	ENDBR
	movq	%rax, %rdi
	movq	%r13, %rsi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	coro_ctx_start, .-coro_ctx_start

	.section .note.GNU-stack,"",%progbits

#if defined(__CET__) && (__CET__ & 1)
	/* NT_GNU_PROPERTY_TYPE_0: GNU_PROPERTY_X86_FEATURE_1_AND = IBT. */
	.section .note.gnu.property,"a"
	.p2align 3
	.long	4		/* name size */
	.long	16		/* descriptor size */
	.long	5		/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.long	0xc0000002	/* GNU_PROPERTY_X86_FEATURE_1_AND */
	.long	4
	.long	1		/* GNU_PROPERTY_X86_FEATURE_1_IBT */
	.p2align 3
#endif
