// Signal ABI (arch/x86/include/uapi/asm/signal.h, include/uapi/asm-generic/signal-defs.h):
// signal numbers, sigprocmask hows, sigaction and sigaltstack flags and layouts.

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6,
  SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13,
  SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19,
  SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25,
  SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const SIGRTMIN = 32;
export const SIGRTMAX = 64;
export const NSIG = 64;

export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export const SA_NOCLDSTOP = 0x1;
export const SA_NOCLDWAIT = 0x2;
export const SA_SIGINFO = 0x4;
export const SA_UNSUPPORTED = 0x400;
export const SA_EXPOSE_TAGBITS = 0x800;
export const SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;
/** Flags the kernel keeps; others are cleared so userspace can probe support (UAPI_SA_FLAGS). */
export const UAPI_SA_FLAGS = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART |
  SA_NODEFER | SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER;

/** struct sigaction as rt_sigaction passes it: handler, flags, restorer, mask (8 bytes each). */
export const SIGACTION_SIZE = 32;
/** The only sigsetsize rt_sig* syscalls accept on x86-64. */
export const SIGSET_SIZE = 8;

export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x80000000;
export const SS_FLAG_BITS = SS_AUTODISARM;
/** stack_t: ss_sp u64, ss_flags i32 (+4 padding), ss_size u64. */
export const STACK_T_SIZE = 24;
export const MINSIGSTKSZ = 2048;

/** Bit for signal `sig` in a 64-bit sigset. */
export function sigBit(sig: number): bigint { return 1n << BigInt(sig - 1); }

/** Signals no handler, mask or ignore can touch. */
export const UNBLOCKABLE = sigBit(SIGKILL) | sigBit(SIGSTOP);

export function validSignal(sig: number): boolean { return sig >= 1 && sig <= NSIG; }

const NAMES = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS',
  'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM',
  'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG',
  'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export function signalName(sig: number): string {
  if (sig >= 1 && sig < SIGRTMIN) return NAMES[sig];
  if (sig === SIGRTMIN) return 'SIGRTMIN';
  if (sig > SIGRTMIN && sig <= SIGRTMAX) return `SIGRTMIN+${sig - SIGRTMIN}`;
  return `${sig}`;
}

/** Signals whose default action stops the process (job control). */
export function defaultStops(sig: number): boolean {
  return sig === SIGSTOP || sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU;
}

/** Signals whose default action is to do nothing (so sending one needs no delivery). */
export function defaultIgnored(sig: number): boolean {
  return sig === SIGCHLD || sig === SIGURG || sig === SIGWINCH || sig === SIGCONT;
}
