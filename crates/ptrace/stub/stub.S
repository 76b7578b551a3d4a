/* The ptrace stub: the only code of ours in an application's host process. The tracer takes
 * over at the exec stop, so _start never runs; the sentry only ever points the stub's
 * threads at the two gadgets below, at fixed offsets from _start (the ELF entry point).
 * No libc, no stack, no data: nothing here that the application could use. */
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

	/* entry + 0x20: an injected clone. The parent traps back with the child's tid; the
	 * child (a new, untraced thread) waits in pause() until its own tracer seizes it. */
	.org 0x20
clone_gadget:
	syscall
	test %rax, %rax
	jnz 1f
2:	mov $34, %eax
	syscall
	jmp 2b
1:	int3
	.section .note.GNU-stack,"",@progbits
