/* The stub: the only code of ours in an application's host process. Its leader ties its
 * life to the sentry's (stub_init), then waits in pause() until the sentry seizes it with
 * ptrace; the sentry then points it at the gadgets below, at fixed offsets from _start (the
 * ELF entry point).
 * No libc, no data, no writable memory: nothing here the application could use.
 * systrap.c adds the signal handler and thread entry of the systrap platform. */
	.text
	.globl _start
_start:
	jmp stub_init

	/* entry + 0x10: one injected syscall, then trap back to the tracer. */
	.org 0x10
syscall_gadget:
	syscall
	int3

	/* entry + 0x20: an injected clone (ptrace platform). The parent traps back with the
	 * child's tid; the child (a new, untraced thread) waits in pause() until its own tracer
	 * seizes it. */
	.org 0x20
clone_gadget:
	syscall
	test %rax, %rax
	jnz 1f
2:	mov $34, %eax
	syscall
	jmp 2b
1:	int3

	/* entry + 0x40: an injected clone (systrap platform). The child jumps to the address
	 * the sentry put in %r12 (systrap_thread_entry) on the stack it was given. */
	.org 0x40
systrap_clone_gadget:
	syscall
	test %rax, %rax
	jnz 1f
	jmp *%r12
1:	int3

	/* entry + 0x50: addresses the sentry needs (read from the ELF image, not from here). */
	.org 0x50
	.quad systrap_handler
	.quad systrap_thread_entry
	.quad systrap_restorer
	.quad systrap_fast_entry
	.quad stub_name
	.quad stub_start

	/* entry + 0x80: a batch of injected syscalls, one trap back for all of them. %rbx points
	 * at the first entry of a table in a page the stub maps read-only (the sentry writes it
	 * through the memory file), %r12 at its end. An entry is 64 bytes: number, six
	 * arguments, the result expected. The leader stops at the end or at the first result
	 * other than expected, and traps with %rbx at that entry and %rax its result. */
	.org 0x80
batch_gadget:
1:	cmp %r12, %rbx
	jae 2f
	mov (%rbx), %rax
	mov 8(%rbx), %rdi
	mov 16(%rbx), %rsi
	mov 24(%rbx), %rdx
	mov 32(%rbx), %r10
	mov 40(%rbx), %r8
	mov 48(%rbx), %r9
	syscall
	cmp 56(%rbx), %rax
	jne 2f
	add $64, %rbx
	jmp 1b
2:	int3

	/* A new systrap application thread starts here, from systrap_clone_gadget, on its slot's
	 * start-up stack, with every signal but SIGTRAP blocked (the leader's mask) and a copy of
	 * the leader's fd table. Until its filter is in force it reads nothing but its registers
	 * (set by the sentry through ptrace) and its slot's set-up page, which the stub maps
	 * read-only: the application can reach neither, and the stack is never touched. It drops
	 * every fd, takes its signal stack, turns on Syscall User Dispatch when the set-up page
	 * asks, locks itself into the seccomp filter of the set-up page, and only then lets
	 * signals in and traps once, so that the sentry can give it its first registers.
	 * Layout of the set-up page: crates/systrap/src/setup.rs. */
	.set SETUP, 0x1000
	.set SETUP_FPROG, SETUP + 0
	.set SETUP_SIGSTACK, SETUP + 0x800
	.set SETUP_SUD, SETUP + 0x820
	.set SETUP_SUD_START, SETUP + 0x828
	.set SETUP_SUD_LEN, SETUP + 0x830
	.set SETUP_UNBLOCKED, SETUP + 0x838
	.globl systrap_thread_entry
systrap_thread_entry:
	mov %rsp, %rbx
	and $-0x10000, %rbx		/* the slot */
	mov $436, %eax			/* close_range(0, ~0U, 0) */
	xor %edi, %edi
	mov $0xffffffff, %esi
	xor %edx, %edx
	syscall
	test %rax, %rax
	jnz 9f
	mov $131, %eax			/* sigaltstack(&setup->sigstack, NULL) */
	lea SETUP_SIGSTACK(%rbx), %rdi
	xor %esi, %esi
	syscall
	test %rax, %rax
	jnz 9f
	mov $157, %eax			/* prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) */
	mov $38, %edi
	mov $1, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	syscall
	test %rax, %rax
	jnz 9f
	cmpq $0, SETUP_SUD(%rbx)
	je 1f
	mov $157, %eax			/* prctl(PR_SET_SYSCALL_USER_DISPATCH, ON, start, len, NULL) */
	mov $59, %edi
	mov $1, %esi
	mov SETUP_SUD_START(%rbx), %rdx
	mov SETUP_SUD_LEN(%rbx), %r10
	xor %r8d, %r8d
	syscall
	test %rax, %rax
	jnz 9f
1:	wrgsbase %rbx			/* patched syscalls find the message at %gs */
	mov $317, %eax			/* seccomp(SECCOMP_SET_MODE_FILTER, 0, &setup->fprog) */
	mov $1, %edi
	xor %esi, %esi
	lea SETUP_FPROG(%rbx), %rdx
	syscall
	test %rax, %rax
	jnz 9f
	mov $14, %eax			/* rt_sigprocmask(SIG_SETMASK, &setup->unblocked, NULL, 8) */
	mov $2, %edi
	lea SETUP_UNBLOCKED(%rbx), %rsi
	xor %edx, %edx
	mov $8, %r10d
	syscall
	test %rax, %rax
	jnz 9f
	ud2
9:	mov $60, %eax
	mov $127, %edi
	syscall
	jmp 9b

	/* The first thing a new stub does: SIGKILL when the sentry's thread that spawned it
	 * ends (PR_SET_PDEATHSIG), then check that the sentry, whose pid is argv[1] in decimal,
	 * is still its parent. Until the sentry seizes it (PTRACE_O_EXITKILL), nothing else ties
	 * the stub to the sentry: a sentry killed between posix_spawn and the seize used to leave
	 * it parked here for ever. Had the sentry died before the prctl, the stub has been
	 * reparented, and it goes. Runs once, before any filter: a parked spare goes back to
	 * stub_start, under the leader filter, which allows neither getppid nor exit_group. */
stub_init:
	mov $157, %eax			/* prctl(PR_SET_PDEATHSIG, SIGKILL) */
	mov $1, %edi
	mov $9, %esi
	syscall
	test %rax, %rax
	jnz 9f
	cmpq $2, (%rsp)			/* argc */
	jne 9f
	mov 16(%rsp), %rsi		/* argv[1] */
	xor %edx, %edx
	xor %ecx, %ecx
1:	movzbl (%rsi), %eax
	test %eax, %eax
	jz 2f
	sub $'0', %eax
	cmp $9, %eax
	ja 9f
	imul $10, %rdx
	add %rax, %rdx
	inc %rsi
	inc %ecx
	cmp $10, %ecx
	ja 9f
	jmp 1b
2:	test %ecx, %ecx
	jz 9f
	mov $110, %eax			/* getppid() */
	syscall
	cmp %rax, %rdx
	jne 9f
	jmp stub_start
9:	mov $60, %eax			/* exit(0): the sentry is gone */
	xor %edi, %edi
	syscall
	jmp 9b

	/* Wait in pause() for the tracer. */
stub_start:
	mov $34, %eax
	syscall
	jmp stub_start
	/* The process's name on the host (its comm would be the fd number it was exec'd
	 * from): the sentry sets it with PR_SET_NAME once it holds the stub. */
stub_name:
	.asciz "tsvisor-stub"

	/* The sigreturn trampoline of the systrap handlers. */
	.globl systrap_restorer
systrap_restorer:
	mov $15, %eax
	syscall
	int3

/* The patched-syscall path of systrap (see crates/systrap/src/patch.rs). A patched site
 * jumps to a trampoline that sets %eax to the syscall number and %rcx to the return address
 * (exactly what the syscall instruction would have left there), then jumps here. Nothing
 * here touches the application's stack or FP state: the thread's message page is at %gs
 * (the stub keeps GS for itself while the application has none). Flags are not preserved,
 * as the kernel's syscall ABI does not promise them either (glibc clobbers "cc"). */
	.set M_STATE, 0
	.set M_STUB_SLEEPING, 4
	.set M_SENTRY_SLEEPING, 8
	.set M_EXIT, 12
	.set M_KIND, 16
	.set M_SIGNO, 24
	.set M_CODE, 32
	.set M_FPSTATE, 56
	.set M_REGS, 64
	.set M_SPIN, 64+27*8
	.set SPIN_MAX, 2000
	.set ST_READY, 1
	.set ST_RESUME, 2
	.set ST_FPSAVE, 3
	.set M_XSAVE, 0x2000
	.set FP_SAVED, 1
	.set FP_PENDING, 2
	.globl systrap_fast_entry
systrap_fast_entry:
	mov %r15, %gs:M_REGS+0*8
	mov %r14, %gs:M_REGS+1*8
	mov %r13, %gs:M_REGS+2*8
	mov %r12, %gs:M_REGS+3*8
	mov %rbp, %gs:M_REGS+4*8
	mov %rbx, %gs:M_REGS+5*8
	mov %r11, %gs:M_REGS+6*8
	mov %r10, %gs:M_REGS+7*8
	mov %r9, %gs:M_REGS+8*8
	mov %r8, %gs:M_REGS+9*8
	mov %rax, %gs:M_REGS+10*8
	mov %rcx, %gs:M_REGS+11*8
	mov %rdx, %gs:M_REGS+12*8
	mov %rsi, %gs:M_REGS+13*8
	mov %rdi, %gs:M_REGS+14*8
	mov %rax, %gs:M_REGS+15*8
	mov %rcx, %gs:M_REGS+16*8
	movq $0x33, %gs:M_REGS+17*8
	movq $0x246, %gs:M_REGS+18*8
	mov %rsp, %gs:M_REGS+19*8
	movq $0x2b, %gs:M_REGS+20*8
	rdfsbase %rax
	mov %rax, %gs:M_REGS+21*8
	movq $0, %gs:M_REGS+22*8
	movq $1, %gs:M_KIND
	movq $0, %gs:M_SIGNO
	movq $0, %gs:M_CODE
	movq $0, %gs:M_FPSTATE
	/* fork, vfork, clone, clone3: the sentry copies the caller's FP state into the child.
	 * XSAVEd here, into the slot, it takes no ST_FPSAVE round trip: M_FPSTATE 1 says so. */
	mov %gs:M_REGS+15*8, %rax
	cmp $56, %rax
	je 14f
	cmp $57, %rax
	je 14f
	cmp $58, %rax
	je 14f
	cmp $435, %rax
	jne 15f
14:	rdgsbase %rdi
	mov $-1, %eax
	mov $-1, %edx
	xsave64 M_XSAVE(%rdi)
	movq $FP_SAVED, %gs:M_FPSTATE
15:	mov $ST_READY, %eax
	xchg %eax, %gs:M_STATE
	cmpl $0, %gs:M_SENTRY_SLEEPING
	je 3f
	rdgsbase %rdi
	mov $202, %eax
	mov $1, %esi
	mov $0x7fffffff, %edx	/* every waiter of the word (systrap.c) */
	syscall
3:	/* Every register is saved in the message by now: the loop may use any of them.
	 * %r12d counts the polls left: the sentry's hint (SpinPolicy), at most SPIN_MAX. Each
	 * poll pauses, then the thread sleeps on the futex: no sched_yield loop, which keeps a
	 * third thread runnable on a two-CPU host and hands its CPU to no one in particular.
	 * The budget is re-read on every poll (the sentry zeroes it once the answer will be
	 * long, Context::blocking). */
	mov %gs:M_SPIN, %r12d
	cmp $SPIN_MAX, %r12d
	jbe 4f
	mov $SPIN_MAX, %r12d
4:	test %r12d, %r12d
	jz 5f
	mov %gs:M_STATE, %eax
	cmp $ST_RESUME, %eax
	je 7f
	cmp $ST_FPSAVE, %eax
	je 8f
	pause
	dec %r12d
	cmpl %r12d, %gs:M_SPIN
	jae 4b
	mov %gs:M_SPIN, %r12d
	jmp 4b
5:	movl $1, %gs:M_STUB_SLEEPING
	mfence
	mov %gs:M_STATE, %eax
	cmp $ST_READY, %eax
	jne 6f
	rdgsbase %rdi
	mov $202, %eax
	xor %esi, %esi
	mov $ST_READY, %edx
	xor %r10d, %r10d
	syscall
	jmp 5b
6:	/* Woken, or never asleep: act on the request here, not only in the poll loop, which
	 * a zero budget skips (the sentry's while a syscall blocks; or the application's). */
	movl $0, %gs:M_STUB_SLEEPING
	mov %gs:M_STATE, %eax
	cmp $ST_RESUME, %eax
	je 7f
	cmp $ST_FPSAVE, %eax
	je 8f
	jmp 3b
8:	/* The sentry wants the FP state: XSAVE it into the slot, then report again. */
	rdgsbase %rdi
	mov $-1, %eax
	mov $-1, %edx
	xsave64 M_XSAVE(%rdi)
	mov $ST_READY, %eax
	xchg %eax, %gs:M_STATE
	/* The sentry may have gone to sleep waiting for the answer (a crowded host). */
	cmpl $0, %gs:M_SENTRY_SLEEPING
	je 3b
	rdgsbase %rdi
	mov $202, %eax
	mov $1, %esi
	mov $0x7fffffff, %edx
	syscall
	jmp 3b
	/* Past here the thread is leaving for the application: interrupts count again. */
	.globl systrap_fast_resume
systrap_fast_resume:
7:	/* FP state the sentry left in the slot (a new thread's, a signal handler's) is loaded
	 * now, on the way out, rather than in a round trip while the sentry waits. A signal
	 * that lands before the flag is cleared finds it in the handler (systrap.c), which
	 * puts the same state in its frame. */
	cmpq $FP_PENDING, %gs:M_FPSTATE
	jne 16f
	rdgsbase %rdi
	mov $-1, %eax
	mov $-1, %edx
	xrstor64 M_XSAVE(%rdi)
	movq $0, %gs:M_FPSTATE
16:	cmpl $0, %gs:M_EXIT
	jne 10f
	cmpq $0, %gs:M_REGS+22*8
	jne systrap_gs_resume
	mov %gs:M_REGS+21*8, %rax
	wrfsbase %rax
	mov %gs:M_REGS+0*8, %r15
	mov %gs:M_REGS+1*8, %r14
	mov %gs:M_REGS+2*8, %r13
	mov %gs:M_REGS+3*8, %r12
	mov %gs:M_REGS+4*8, %rbp
	mov %gs:M_REGS+5*8, %rbx
	mov %gs:M_REGS+6*8, %r11
	mov %gs:M_REGS+7*8, %r10
	mov %gs:M_REGS+8*8, %r9
	mov %gs:M_REGS+9*8, %r8
	mov %gs:M_REGS+11*8, %rcx
	mov %gs:M_REGS+12*8, %rdx
	mov %gs:M_REGS+13*8, %rsi
	mov %gs:M_REGS+14*8, %rdi
	mov %gs:M_REGS+19*8, %rsp
	mov %gs:M_REGS+10*8, %rax
	jmp *%gs:M_REGS+16*8
10:	mov $60, %eax
	xor %edi, %edi
	syscall
	jmp 10b
	/* The sentry gave the thread a GS base of its own: the handler, entered through this
	 * ud2, does the whole resume from the message (it recognises this address). */
	.globl systrap_gs_resume
systrap_gs_resume:
	ud2
	.section .note.GNU-stack,"",@progbits
