/* The stub: the only code of ours in an application's host process. The sentry's tracer
 * takes over at the exec stop, so _start never runs; the sentry points the stub's leader
 * thread at the gadgets below, at fixed offsets from _start (the ELF entry point).
 * No libc, no data, no writable memory: nothing here the application could use.
 * systrap.c adds the signal handler and thread entry of the systrap platform. */
	.text
	.globl _start
_start:
	int3
	jmp _start

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

	/* The sigreturn trampoline of the systrap handlers. */
	.globl systrap_restorer
systrap_restorer:
	mov $15, %eax
	syscall
	int3
	.section .note.GNU-stack,"",@progbits
