/* The systrap platform's code inside the stub process (see crates/systrap/src/lib.rs for the
 * protocol and the threat model). Each application thread owns a 64 KiB slot above the
 * application's address space: page 0 is its message to the sentry, page 1 its set-up page
 * (seccomp program, signal-stack description: read-only to the stub), then a small start-up
 * stack and the signal stack its handler runs on. A handler finds its slot by rounding its
 * own stack pointer down.
 *
 * Built with -nostdlib -ffreestanding: no globals, no libc, every syscall inline, so all of
 * this is position-bound read-only text. */
typedef unsigned long u64;
typedef unsigned int u32;

#define SLOT_SIZE 0x10000UL
#define ST_READY 1
#define ST_RESUME 2
/* fpstate: the slot's XSAVE area holds FP state the fast path loads on its way out. */
#define FP_PENDING 2
#define SLOT_XSAVE 0x2000UL
#define SLOT_XSAVE_MAX 0x2000UL

/* Shared with crates/systrap/src/msg.rs: keep in step. */
struct sysmsg {
	volatile u32 state;
	volatile u32 stub_sleeping;
	volatile u32 sentry_sleeping;
	volatile u32 exit;
	u64 kind, signo, code, addr, access;
	u64 fpstate;
	u64 regs[27];
	/* How many polls before sleeping (the sentry's SpinPolicy); bounded here. */
	volatile u32 spin;
};
#define SPIN_MAX 2000

enum { R15, R14, R13, R12, RBP, RBX, R11, R10, R9, R8, RAX, RCX, RDX, RSI, RDI, ORIG_RAX,
       RIP, CS, EFLAGS, RSP, SS, FS_BASE, GS_BASE, DS, ES, FS, GS };
/* glibc's REG_* order of mcontext gregs */
enum { G_R8, G_R9, G_R10, G_R11, G_R12, G_R13, G_R14, G_R15, G_RDI, G_RSI, G_RBP, G_RBX,
       G_RDX, G_RAX, G_RCX, G_RSP, G_RIP, G_EFL, G_CSGSFS, G_ERR, G_TRAPNO, G_OLDMASK, G_CR2 };

struct ucontext_k {
	u64 uc_flags;
	void *uc_link;
	struct { void *ss_sp; int ss_flags; u64 ss_size; } uc_stack;
	u64 gregs[23];
	void *fpregs;
	u64 reserved1[8];
};

struct siginfo_k {
	int si_signo, si_errno, si_code, pad;
	u64 si_addr;             /* _sigfault.si_addr, or _sigsys.si_call_addr */
	int si_syscall;          /* _sigsys */
	unsigned int si_arch;    /* _sigsys */
};

#define EV_SYSCALL 1
#define EV_FAULT 2
#define EV_INTERRUPT 3
#define SIGSYS 31
#define SIGCHLD 17
#define SIGSEGV 11
#define SYS_SECCOMP 1
#define SYS_USER_DISPATCH 2
#define AUDIT_ARCH_X86_64 0xc000003eU
#define SYSCALL_ABI_I386 0x40000003UL

static inline long sc1(long n, long a) {
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}
static inline long sc3(long n, long a, long b, long c) {
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
static inline long sc4(long n, long a, long b, long c, long d) {
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return r;
}
static inline long sc5(long n, long a, long b, long c, long d, long e) {
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
	return r;
}

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

static inline struct sysmsg *my_msg(void) {
	u64 sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return (struct sysmsg *)(sp & ~(SLOT_SIZE - 1));
}

extern char systrap_gs_resume[];
extern char systrap_fast_entry[];
extern char systrap_fast_resume[];

/* The signal came before the fast path's XRSTOR of state the sentry left pending: the frame
 * takes that state instead of the registers' (the software bytes at 464-511 stay the
 * kernel's), so that the sigreturn, or the sentry reading the frame, has what it set. */
static void take_pending_fp(struct sysmsg *m, struct ucontext_k *uc) {
	u64 fp = (u64)uc->fpregs, end = (u64)m + SLOT_SIZE;
	if (fp < (u64)m + SLOT_XSAVE + SLOT_XSAVE_MAX || fp >= end)
		return;
	u32 size = *(volatile u32 *)(fp + 464 + 16);	/* fpx_sw_bytes.xstate_size */
	if (*(volatile u32 *)(fp + 464) != 0x46505853U || size < 512)
		size = 512;
	if (size > SLOT_XSAVE_MAX)
		size = SLOT_XSAVE_MAX;
	if (fp + size > end)
		size = end - fp;
	volatile u64 *dst = (volatile u64 *)fp, *src = (volatile u64 *)((u64)m + SLOT_XSAVE);
	for (u32 i = 0; i < size / 8; i++)
		if (i < 464 / 8 || i >= 512 / 8)
			dst[i] = src[i];
}

void systrap_handler(int sig, struct siginfo_k *info, struct ucontext_k *uc) {
	struct sysmsg *m = my_msg();
	u64 *g = uc->gregs, *r = m->regs;
	u64 fsb, gsb;
	if (sig == 4 /* SIGILL */ && g[G_RIP] == (u64)systrap_gs_resume)
		goto resume; /* the fast path hands a resume with an application GS to us */
	/* An interrupt that lands on the patched path before it has seen its answer finds the
	 * thread already on its way to the sentry (or waiting there): nothing to report, and
	 * reporting would race with the message the fast path is writing. */
	if (sig == SIGCHLD && g[G_RIP] >= (u64)systrap_fast_entry && g[G_RIP] < (u64)systrap_fast_resume)
		return;
	if (m->fpstate == FP_PENDING)
		take_pending_fp(m, uc);
	r[R15] = g[G_R15]; r[R14] = g[G_R14]; r[R13] = g[G_R13]; r[R12] = g[G_R12];
	r[RBP] = g[G_RBP]; r[RBX] = g[G_RBX]; r[R11] = g[G_R11]; r[R10] = g[G_R10];
	r[R9] = g[G_R9]; r[R8] = g[G_R8]; r[RAX] = g[G_RAX]; r[RCX] = g[G_RCX];
	r[RDX] = g[G_RDX]; r[RSI] = g[G_RSI]; r[RDI] = g[G_RDI]; r[RIP] = g[G_RIP];
	r[EFLAGS] = g[G_EFL]; r[RSP] = g[G_RSP];
	r[CS] = g[G_CSGSFS] & 0xffff; r[SS] = (g[G_CSGSFS] >> 48) & 0xffff;
	__asm__ volatile("rdfsbase %0" : "=r"(fsb));
	__asm__ volatile("rdgsbase %0" : "=r"(gsb));
	/* While the application has no GS base of its own, the stub's is the message page. */
	r[FS_BASE] = fsb; r[GS_BASE] = gsb == (u64)m ? 0 : gsb;
	m->fpstate = (u64)uc->fpregs;
	m->signo = sig;
	m->code = info->si_code;
	m->addr = info->si_addr;
	m->access = 8; /* unknown */
	if (sig == SIGSYS && (info->si_code == SYS_SECCOMP || info->si_code == SYS_USER_DISPATCH)) {
		/* Trapped by seccomp, or by Syscall User Dispatch (which sees the numbers seccomp
		 * lets through unfiltered). int 0x80 and sysenter arrive here with the i386 ABI. */
		m->kind = EV_SYSCALL;
		m->code = info->si_arch == AUDIT_ARCH_X86_64 ? 0 : SYSCALL_ABI_I386;
		r[ORIG_RAX] = g[G_RAX];
	} else if (sig == SIGCHLD) {
		m->kind = EV_INTERRUPT;
		r[ORIG_RAX] = (u64)-1;
	} else {
		m->kind = EV_FAULT;
		r[ORIG_RAX] = (u64)-1;
		if (sig == SIGSEGV) {
			/* x86 page-fault error code: bit 1 write, bit 4 instruction fetch. */
			u64 err = g[G_ERR];
			m->access = (err & 16) ? 4 : (err & 2) ? 2 : 1;
		}
	}

	__atomic_store_n(&m->state, ST_READY, __ATOMIC_SEQ_CST);
	/* Every waiter of the word: the sentry's thread, its waiter thread, its ring. */
	if (__atomic_load_n(&m->sentry_sleeping, __ATOMIC_SEQ_CST))
		sc3(202, (long)&m->state, FUTEX_WAKE, 0x7fffffff);

wait:
	/* Spin briefly with pauses, then sleep on the futex (no sched_yield loop: it keeps a
	 * third thread runnable on a two-CPU host); on a crowded host the sentry asks for a few
	 * pauses only, and once it knows its answer will be long (a syscall that blocks) it sets
	 * the budget to 0: re-read each poll. */
	for (u32 i = 0;; i++) {
		u32 polls = __atomic_load_n(&m->spin, __ATOMIC_RELAXED);
		if (i >= polls || i >= SPIN_MAX)
			break;
		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == ST_RESUME)
			goto resume;
		__builtin_ia32_pause();
	}
	for (;;) {
		__atomic_store_n(&m->stub_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&m->state, __ATOMIC_SEQ_CST) == ST_RESUME)
			break;
		sc4(202, (long)&m->state, FUTEX_WAIT, ST_READY, 0);
	}
	__atomic_store_n(&m->stub_sleeping, 0, __ATOMIC_RELAXED);
resume:
	if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != ST_RESUME)
		goto wait; /* an FP save/restore request: only the fast path has live FP state */
	if (m->exit)
		for (;;)
			sc1(60, 0);
	g[G_R15] = r[R15]; g[G_R14] = r[R14]; g[G_R13] = r[R13]; g[G_R12] = r[R12];
	g[G_RBP] = r[RBP]; g[G_RBX] = r[RBX]; g[G_R11] = r[R11]; g[G_R10] = r[R10];
	g[G_R9] = r[R9]; g[G_R8] = r[R8]; g[G_RAX] = r[RAX]; g[G_RCX] = r[RCX];
	g[G_RDX] = r[RDX]; g[G_RSI] = r[RSI]; g[G_RDI] = r[RDI]; g[G_RIP] = r[RIP];
	g[G_EFL] = r[EFLAGS]; g[G_RSP] = r[RSP];
	fsb = r[FS_BASE]; gsb = r[GS_BASE] ? r[GS_BASE] : (u64)m;
	__asm__ volatile("wrfsbase %0" :: "r"(fsb));
	__asm__ volatile("wrgsbase %0" :: "r"(gsb));
}

/* systrap_thread_entry is in stub.S: it runs before the thread's filter, so it is written
 * to read nothing but its registers and the slot's read-only set-up page. */
