# The sandbox vDSO's code (ts/loader/vdso_text.ts holds it assembled: keep the two in step).
# clock_gettime, gettimeofday and time call the host kernel's __vdso_clock_gettime
# (CLOCK_MONOTONIC), which every stub process keeps above the application's range
# (crates/ptrace/src/host_vdso.rs), and add the sandbox's offset for the clock: the same host
# clock as the sentry's, so the two never disagree. The offsets are in the data page two
# pages below the vDSO's first page (the first of [vvar]'s two, kernel/vvar_page.ts), one per
# time namespace, mapped read-only; little-endian u64s:
#   0 mode: 0 = no host clock to call (kvm; a host clocksource with no vDSO): make the syscall
#   8 the host's __vdso_clock_gettime
#   16, 24, 32: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME minus the host's MONOTONIC
# Every other clock id (the CPU clocks, the ALARM ones, bad ids) makes the syscall, as Linux's
# vDSO does; so does gettimeofday with a timezone. Without a host clock (mode 0) the clocks
# the vDSO keeps are read with the syscall into a copy that the vDSO stores itself.
	.text
# now_ns: the time in ns of the clock whose offset is at %r9 in the data page. Out: %rax =
# ns with CF clear, or CF set (no host clock, or it failed): the caller makes the syscall.
# Keeps %rdi and %rsi; clobbers the other registers a call may. Called straight from a
# function's entry (%rsp 8 past a 16-byte boundary), so that the host's function is called
# with the stack aligned as the ABI wants.
now_ns:
	lea	0(%rip), %r8
	and	$-4096, %r8
	sub	$8192, %r8
	cmpq	$0, (%r8)
	je	8f
	push	%rdi
	push	%rsi
	sub	$32, %rsp
	mov	(%r8,%r9), %rax
	mov	%rax, 16(%rsp)
	mov	$1, %edi
	mov	%rsp, %rsi
	call	*8(%r8)
	test	%eax, %eax
	jnz	7f
	imul	$1000000000, (%rsp), %rax
	add	8(%rsp), %rax
	add	16(%rsp), %rax
	add	$32, %rsp
	pop	%rsi
	pop	%rdi
	clc
	ret
7:	add	$32, %rsp
	pop	%rsi
	pop	%rdi
8:	stc
	ret

	.p2align 4
clock_gettime:
	cmp	$15, %edi
	ja	9f
	mov	%edi, %eax
	lea	clock_offsets(%rip), %r9
	movzbl	(%r9,%rax), %r9d
	test	%r9d, %r9d
	jz	9f
	call	now_ns
	jc	5f
	xor	%edx, %edx
	mov	$1000000000, %ecx
	div	%rcx
	mov	%rax, (%rsi)
	mov	%rdx, 8(%rsi)
	xor	%eax, %eax
	ret
# A clock the vDSO keeps but no host clock to read: the syscall fills a copy on the stack
# that is then stored here, so that a bad pointer faults (SIGSEGV) as in Linux's vDSO,
# where the syscall would say EFAULT.
5:	push	%rsi
	sub	$16, %rsp
	mov	%rsp, %rsi
	mov	$228, %eax
	syscall
	jmp	store_copy
9:	mov	$228, %eax
	syscall
	ret
# Where each clock id below 16 finds its offset in the data page; 0: the syscall's (the CPU
# clocks, the ALARM ones, ids Linux does not have). The COARSE and RAW clocks are the
# sentry's fine ones (syscalls/linux/clocks.ts); TAI is REALTIME (a TAI offset of 0).
clock_offsets:
	#	REALTIME MONOTONIC PROCESS THREAD MONOTONIC_RAW REALTIME_COARSE MONOTONIC_COARSE BOOTTIME
	.byte	16, 24, 0, 0, 24, 16, 24, 32
	#	REALTIME_ALARM BOOTTIME_ALARM SGI_CYCLE TAI
	.byte	0, 0, 0, 16, 0, 0, 0, 0

	.p2align 4
gettimeofday:
	test	%rsi, %rsi
	jnz	9f
	test	%rdi, %rdi
	jz	8f
	mov	$16, %r9d
	call	now_ns
	jc	5f
	xor	%edx, %edx
	mov	$1000, %ecx
	div	%rcx
	xor	%edx, %edx
	mov	$1000000, %ecx
	div	%rcx
	mov	%rax, (%rdi)
	mov	%rdx, 8(%rdi)
8:	xor	%eax, %eax
	ret
# No host clock: through a copy on the stack, as clock_gettime's (a bad pointer faults).
5:	push	%rdi
	sub	$16, %rsp
	mov	%rsp, %rdi
	mov	$96, %eax
	syscall
	jmp	store_copy
9:	mov	$96, %eax
	syscall
	ret

	.p2align 4
time:
	mov	$16, %r9d
	call	now_ns
	jc	9f
	xor	%edx, %edx
	mov	$1000000000, %ecx
	div	%rcx
	test	%rdi, %rdi
	jz	1f
	mov	%rax, (%rdi)
1:	ret
# No host clock: the syscall's answer, stored here (a bad pointer faults, as in Linux's vDSO).
9:	push	%rdi
	xor	%edi, %edi
	mov	$201, %eax
	syscall
	pop	%rdi
	test	%rdi, %rdi
	jz	1b
	mov	%rax, (%rdi)
	ret

	.p2align 4
getcpu:
	mov	$309, %eax
	syscall
	ret

	.p2align 4
clock_getres:
	mov	$229, %eax
	syscall
	ret

# The end of a read through the syscall into a copy: the 16 bytes the syscall wrote at
# (%rsp) go to the program's pointer, pushed just above them, unless the syscall failed;
# then the copy and the pointer leave the stack and the syscall's result is returned.
store_copy:
	mov	16(%rsp), %rdx
	test	%rax, %rax
	jnz	1f
	mov	(%rsp), %rcx
	mov	%rcx, (%rdx)
	mov	8(%rsp), %rcx
	mov	%rcx, 8(%rdx)
1:	add	$24, %rsp
	ret
