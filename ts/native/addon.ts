// The crossing between the TypeScript sentry and the Rust core: the one place it is described.
//
// The addon (crates/addon, built by `npm install` into build/tsvisor.node) exports four classes.
// Everything that crosses is a number, a typed array or a Buffer; never JSON on the hot path.
//
// * MemoryFile — the one memory file (a memfd) that backs all application memory. Offsets
//   are byte offsets into it, page aligned. Pages are reference counted: allocate() returns a
//   range with count 1 held by the caller; AddressSpace.map() takes a reference of its own for
//   each page it maps; decRef() to zero punches the pages out of the memfd (frees them).
//   setLimit() bounds the bytes allocated at once (the sandbox's --memory): past it
//   allocate() throws ENOMEM, as it does when the file is full. Every allocated page counts
//   once however many references it has; the check is one comparison inside allocate().
//
// * AddressSpace — one application address space (one per MemoryManager). It keeps the
//   platform mapping table (gVisor's "pmas": address ranges -> memory-file ranges with
//   protections) and applies every change to the platform (the ptrace stub process, later a
//   systrap stub or KVM page tables). copyIn/copyOut translate application addresses through
//   that table and copy through the sentry's own mapping of the memory file: no
//   process_vm_readv, no /proc/pid/mem. They stop at the first page that is not mapped with
//   the needed access and return how many bytes they did copy; the MemoryManager then decides
//   (populate the page, break copy-on-write, or EFAULT) and retries.
//
// * Platform — how application code runs and is trapped (ptrace, systrap): it creates
//   address spaces and contexts; see crates/platform/src/lib.rs for the Rust-side interface.
//
// * Context — one task's stub thread. The register file is a BigUint64Array owned by JS
//   (REG_* slots below, then the EV_* event slots) passed to run()/take(). run() resumes the
//   task and spins for a short budget: if the task stops again within it, the event kind is
//   returned at once (the synchronous fast path, no promise); otherwise it returns
//   EVENT_PENDING, and the context's onWake callback later tells JS to take() the event.
//   ts/platform/context.ts wraps this into `run(): number | Promise<number>`. On systrap,
//   while the event loop has nothing else due, the JS thread itself sleeps on the parked
//   runs' futex words (crates/addon/src/idle_wait.rs, a uv_prepare handle) and calls onWake
//   from there; otherwise a waiter thread's relay does. Either way onWake runs on the JS
//   thread, once per parked run.
//
// * 9P transport (crates/addon/src/p9.rs) — plain functions over a unix stream socket to a
//   9P2000.L server (the gofer, or diod in the tests): p9Socketpair() makes the pair (the
//   server end is handed to the child at spawn), p9ConnectUnix() reaches a listening server.
//   p9Send() writes one whole message; p9RecvSome() blocks (up to a deadline: ETIMEDOUT) for
//   what the socket holds and returns one recvmsg of it (a batch of replies in one crossing;
//   the size[4] framing is ts/p9/transport.ts's) with the host fds that came as SCM_RIGHTS
//   (received MSG_CMSG_CLOEXEC) in fdsOut: [count, fd...], which the caller owns and which
//   belong to the last message starting within those bytes (PROTOCOL.md's donation rule).
//   p9CallSome() is send + that read in one crossing. Replies may come in any order:
//   matching tags is ts/p9/client.ts's business.
//
// * HelperProcess (crates/addon/src/helper_process.rs) — a helper program (the gofer)
//   started with posix_spawn: stdin/stdout /dev/null, the sentry's stderr and environment,
//   one fd as its fd 3, nothing else; reaped by a thread of its own, and kill() signals it
//   only until then.
//
// Address-space protections are PROT_READ=1 | PROT_WRITE=2 | PROT_EXEC=4 as in Linux.
// Errors from the host are thrown as Error whose message starts with the errno name
// ("ENOMEM: ..."); errnoOfNative() below recovers it.

import * as fs from 'node:fs';
import * as path from 'node:path';

export interface NativeMemoryFile {
  /** Allocate `pages` contiguous zeroed pages; returns the byte offset. Throws ENOMEM. */
  allocate(pages: number): number;
  /** As allocate, but never pages kept in memory from an earlier use: the new pages' residency
   *  starts out none (shared anonymous memory's shmem file, whose mincore is that residency). */
  allocateFresh(pages: number): number;
  /** One byte per page of [offset, +length) into out (page aligned): 1 where the file has the
   *  page in memory, whoever touched it. */
  residency(offset: number, length: number, out: Uint8Array): void;
  /** Give [offset, +length) its pages now (MAP_POPULATE, mlock of a shared mapping). */
  populate(offset: number, length: number): void;
  incRef(offset: number, length: number): void;
  decRef(offset: number, length: number): void;
  /** Copy memory-file bytes [offset, offset+dst.length) into dst. */
  read(offset: number, dst: Uint8Array): void;
  /** Copy src into the memory file at offset. */
  write(offset: number, src: Uint8Array): void;
  /** pread(2) from a host fd straight into the memory file; returns bytes read (0 at EOF). */
  readFromHostFd(hostFd: number, fileOffset: number, offset: number, length: number): number;
  /** Reference count of the page at offset (0 if free): a page with one reference belongs
   *  to one address space alone and may be patched in place. */
  refCount(offset: number): number;
  /** Bytes currently allocated (pages with a non-zero count) — for /proc/meminfo and tests. */
  allocatedBytes(): number;
  /** Bound allocatedBytes() (rounded down to pages): an allocate() that would pass it throws
   *  ENOMEM. Infinity for no bound (the default). Pages already allocated stay. */
  setLimit(bytes: number): void;
  /** The limit setLimit set, in bytes; Infinity for none. */
  limitBytes(): number;
}

/** See NativeAddressSpace.preadInto: results at or below -HOST_IO_HOLE stopped at a hole. */
export const HOST_IO_HOLE = 4096;
/** Bytes moved before the hole a preadInto/pwriteFrom result r reports, or -1 if it is none. */
export function hostIoHole(r: number): number {
  return r <= -HOST_IO_HOLE ? -r - HOST_IO_HOLE : -1;
}

export interface NativeAddressSpace {
  /** Map memory-file [fileOffset, +length) at addr with prot, replacing what was there. */
  map(addr: number, length: number, fileOffset: number, prot: number): void;
  unmap(addr: number, length: number): void;
  /** Change the protection of whatever is mapped in [addr, +length). */
  protect(addr: number, length: number, prot: number): void;
  /** Memory-file offset of the page holding addr, or -1 if none; prot in protOut[0]. */
  lookup(addr: number, protOut: Int32Array): number;
  /** The unmapped run around addr within [lo, hi) (lo <= addr < hi; a fault's window): its
   *  start, its end in endOut[0]; -1 if addr is mapped. */
  holeAround(addr: number, lo: number, hi: number, endOut: Float64Array): number;
  /** The run around addr within [lo, hi) of pages mapped without write whose memory-file
   *  page nobody else holds (exclusive) or someone else also does (not exclusive): its start,
   *  its end in endOut[0] (empty at addr's page if that page is not one). */
  writeProtectedRun(addr: number, lo: number, hi: number, exclusive: boolean, endOut: Float64Array): number;
  /** Bytes mapped in [addr, +length): the resident set of that range (a page is mapped from
   *  its first touch until unmapped). */
  residentBytes(addr: number, length: number): number;
  /** [bytes mapped now, the most mapped at once since creation or execve] (hiwater_rss). */
  residentTotal(): number[];
  /** Map into target at `to` whatever is mapped in [from, +length) here, run by run, with
   *  prot (fork's copy-on-write sharing, mremap's move): one crossing, not a lookup per page.
   *  target may be this address space; a hole stays a hole. */
  copyMappingsTo(target: NativeAddressSpace, from: number, to: number, length: number, prot: number): void;
  /** Copy application memory at `from` here to `to` in target (this address space or another
   *  over the same memory file; EXDEV otherwise), memory file to memory file: the bytes
   *  copied before the first page not readable here or not writable there; stopOut[0] says
   *  which ended it (0 neither, 1 the source, 2 the target). */
  copyToSpace(target: NativeAddressSpace, from: number, to: number, length: number, stopOut: Int32Array): number;
  /** Bytes copied from application memory at addr into dst before the first unreadable page. */
  copyIn(addr: number, dst: Uint8Array): number;
  /** Bytes copied from src to application memory at addr before the first unwritable page. */
  copyOut(addr: number, src: Uint8Array): number;
  /** Bytes copied from memory-file [fileOffset, +length) to application memory at addr
   *  before the first unwritable page (a tmpfs file's pages straight to read(2)'s buffer). */
  copyOutFromFile(addr: number, fileOffset: number, length: number): number;
  /** Bytes copied from application memory at addr to memory-file [fileOffset, +length)
   *  before the first unreadable page (write(2)'s data straight to a tmpfs file's pages). */
  copyInToFile(addr: number, fileOffset: number, length: number): number;
  /** Bytes zeroed at addr before the first unwritable page. */
  zeroOut(addr: number, length: number): number;
  // Host-fd I/O into/out of application memory (the gofer's donated fds): one copy, by the
  // host kernel, between the fd and the memory-file pages [addr, +length) maps. The result
  // r: r >= 0 bytes moved (all, or up to the file's end); -4095 <= r < 0 the host's -errno
  // before any byte (after some, the short count); r <= -HOST_IO_HOLE: stopped after
  // -r - HOST_IO_HOLE bytes at a page not mapped with the access needed (hostIoHole()).
  /** pread(2) from hostFd at offset into application memory at addr. */
  preadInto(addr: number, length: number, hostFd: number, offset: number): number;
  /** pwrite(2) of application memory at addr to hostFd at offset. */
  pwriteFrom(addr: number, length: number, hostFd: number, offset: number): number;
  /** Tear down the stub process / page tables. The object is dead afterwards. */
  release(): void;
  /** execve in the same host process: every mapping goes (one platform call, queued with
   *  what follows when a batch is open) and the address space is ready for the new image. */
  resetForExec(): void;
  /** From here to endBatch the platform may queue map/unmap/protect and apply them together
   *  (fork, exec's load); endBatch throws what they failed with. Nests. The address space
   *  must not run before its batch has ended. */
  beginBatch(): void;
  endBatch(): void;
}

export interface NativeContext {
  /** Fill regs with a fresh thread's registers: valid selectors and flags, zero elsewhere. */
  initialRegs(regs: BigUint64Array): void;
  /** Resume the task with regs; returns an EVENT_* code with regs (and the EV_* slots)
   *  rewritten if it stopped within the spin budget, else EVENT_PENDING: the platform then
   *  calls the context's onWake callback, after which take() returns the event. */
  run(regs: BigUint64Array): number;
  /** Takes the result of a finished run into regs; EVENT_PENDING if not finished. */
  take(regs: BigUint64Array): number;
  /** Make a running task stop soon with EVENT_INTERRUPT (safe to call at any time). */
  interrupt(): void;
  /** The stopped task's syscall blocks: the platform's thread behind it may stop waiting
   *  actively for the answer (systrap: the stub stops spinning and sleeps). */
  blocking(): void;
  /** End a task that must die but did not stop for interrupt() (its run then ends with
   *  EVENT_DEAD). On systrap this kills the whole stub process: only for a task whose
   *  address space no surviving task shares. */
  kill(): void;
  /** CPU time (user + system, ns) the host has charged to the stub thread so far (its
   *  scheduler runtime); -1 if the platform has no host thread per task or it is gone. */
  cpuTimeNs(): number;
  /** x86 XSAVE area of the stopped task (the FP/SSE/AVX state), for signal frames and fork. */
  getFpState(): Buffer;
  setFpState(state: Uint8Array): void;
  /** The platform's side of the context for a hang report (--debug-log): what the run waits
   *  on, as words; "" where the platform has nothing to say. */
  describe(): string;
  /** End the stub thread (the task must be stopped); the object is dead afterwards. */
  release(): void;
}

export interface NativePlatform {
  readonly name: string;
  /** How the platform set itself up (kvm: its memslot mode, lazy or eager and why), or "". */
  readonly detail: string;
  /** Lowest and highest+1 address the application may map (the stub lives above). */
  readonly minUserAddress: number;
  readonly maxUserAddress: number;
  /** [__vdso_clock_gettime, start, end) of the host's vDSO in every address space (moved
   *  above maxUserAddress), or [] where the platform has none to call (kvm). */
  readonly hostVdsoClock: number[];
  /** Entry of the trap-free path for patched syscall sites (systrap), or 0 if none. */
  readonly syscallPatchEntry: number;
  /** The first address space will be asked for soon: the platform may start making it off the
   *  JS thread (systrap: its spare maker), so that it overlaps the sandbox's set-up. A hint. */
  prepareAddressSpace(): void;
  newAddressSpace(): NativeAddressSpace;
  /** onWake runs on the JS thread when a run that outlasted the spin budget has stopped. */
  newContext(as: NativeAddressSpace, onWake: () => void): NativeContext;
}

export interface NativeHelperProcess {
  readonly pid: number;
  /** Send signal signo unless the helper has already exited. */
  kill(signo: number): void;
}

export interface NativeHostFdWatcher {
  watch(fd: number): number;
  unwatch(fd: number): number;
  close(): void;
}

export interface NativeAddon {
  MemoryFile: new () => NativeMemoryFile;
  /** Start `path` with `args` and `fd` as its fd 3 (above); throws the errno of a failed
   *  posix_spawn (ENOENT, EACCES...). */
  HelperProcess: { spawn(path: string, args: string[], fd: number): NativeHelperProcess };
  /** A platform by name over the given memory file: "systrap", "ptrace" or "kvm". Throws ENOSYS
   *  where the platform cannot work on this host, ENOENT for an unknown name; creating an
   *  address space throws EPERM where ptrace is refused. */
  Platform: new (mf: NativeMemoryFile, name: string) => NativePlatform;
  /** Why the kvm platform cannot run here (e.g. "/dev/kvm: No such file or directory"), or
   *  null if it can. */
  kvmUnavailableReason(): string | null;
  /** poll(2) one host fd with a zero timeout: returned revents. */
  pollHostFd(fd: number, events: number): number;
  /** CPU time of the calling (JS) thread in ns (CLOCK_THREAD_CPUTIME_ID); -1 on failure. */
  sentryThreadCpuNs(): number;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC as [seconds, nanoseconds]. */
  hostRealtimeOffset(): number[];
  /** _exit(2): the process ends now, without node's exit (which joins libuv's pool). */
  exitNow(status: number): never;
  /** lseek(2) on a host fd of the sentry's: the new offset, or -errno. */
  hostLseek(fd: number, offset: number, whence: number): number;
  /** Whether calls on a host fd of the sentry's may block without bound (FUSE, NFS...: its
   *  fstatfs magic is not on the gofer's list of local file systems, crates/gofer/src/local_fs.rs). */
  hostFdMayBlock(fd: number): boolean;
  /** Whether a file system that may block is mounted at or below host directory dir (by
   *  /proc/self/mountinfo's types, at start-up): a FUSE mount inside the root tree. */
  hostTreeMayBlock(dir: string): boolean;
  /** copy_file_range(2) from host fd fdIn at offIn to fdOut at offOut, at most len bytes, in
   *  the host kernel (neither fd's own offset moves): the bytes copied (short or 0 at the
   *  input's end), or -errno if the host refused before any byte (EXDEV, EINVAL, EOPNOTSUPP:
   *  copy another way). */
  hostCopyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number): number;
  /** pwrite(2) of len bytes to host fd at off from an address that faults: the host's file
   *  system does what it does for an application's write whose buffer faults at its first
   *  byte (ext4 and tmpfs grow a shorter file to off); -errno (EFAULT), or the bytes written. */
  hostPwriteFaulting(fd: number, off: number, len: number): number;
  hostIsatty(fd: number): boolean;
  /** fallocate(2) on a host fd of the sentry's (a volume file's donated fd): 0, or -errno. */
  hostFallocate(fd: number, mode: number, offset: number, len: number): number;
  /** Fill buf from the host's getrandom(2). */
  hostGetrandom(buf: Uint8Array): void;
  /** TCGETS / TCSETS+actions / TIOCGWINSZ on a host terminal the sandbox was given. */
  ttyGetAttr(fd: number, termios: Uint8Array): void;
  ttySetAttr(fd: number, actions: number, termios: Uint8Array): void;
  ttyGetWinsize(fd: number, winsize: Uint8Array): void;
  /** 9P transport (above): [sentry end, server end], both close-on-exec. */
  p9Socketpair(): number[];
  p9ConnectUnix(path: string): number;
  p9Send(fd: number, msg: Uint8Array, timeoutMs: number): void;
  /** One read of what the socket has (several replies at once) and its fds (they belong to
   *  the last message starting in these bytes); p9CallSome sends first. */
  p9RecvSome(fd: number, fdsOut: Int32Array, maxBytes: number, timeoutMs: number): Buffer;
  p9CallSome(fd: number, msg: Uint8Array, fdsOut: Int32Array, maxBytes: number, timeoutMs: number): Buffer;
  p9Close(fd: number): void;
  /** --network=host (ts/net/host): non-blocking socket calls on host fds the sentry made;
   *  each returns its result or -errno. hostSocket adds SOCK_NONBLOCK|SOCK_CLOEXEC, sendmsg
   *  MSG_DONTWAIT|MSG_NOSIGNAL, recvmsg MSG_DONTWAIT (meta[0] gets the sender's address
   *  length, meta[1] msg_flags, meta[2] the control bytes written); an empty addr or
   *  control means none. hostSockIoctl answers FIONREAD, SIOCATMARK, SIOCOUTQ, SIOCOUTQNSD. */
  hostSocket(domain: number, type: number, protocol: number): number;
  hostBindConnect(fd: number, addr: Uint8Array, connect: boolean): number;
  hostListen(fd: number, backlog: number): number;
  hostAccept(fd: number): number;
  hostShutdown(fd: number, how: number): number;
  hostSockName(fd: number, peer: boolean, out: Uint8Array): number;
  hostSendmsg(fd: number, data: Uint8Array, flags: number, addr: Uint8Array, control: Uint8Array): number;
  hostRecvmsg(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array, control: Uint8Array, meta: Int32Array): number;
  hostSetsockopt(fd: number, level: number, name: number, val: Uint8Array): number;
  hostGetsockopt(fd: number, level: number, name: number, out: Uint8Array): number;
  hostSockIoctl(fd: number, cmd: number): number;
  /** Readiness of the sentry's host fds (crates/addon/src/host_watch.rs): a thread waits in
   *  epoll_wait on an edge-triggered set and calls onReady([fd, events]) (one array) on the JS
   *  thread for every edge (POLL* bits); the callback does not keep the event loop alive. watch(fd)
   *  adds fd or re-arms it (its current readiness is reported again), unwatch(fd) removes
   *  it; both return 0 or -errno. */
  HostFdWatcher: new (onReady: (ev: [number, number]) => void) => NativeHostFdWatcher;
}

// Register slots in Context.regs: Linux's struct user_regs_struct order.
export const REG_R15 = 0, REG_R14 = 1, REG_R13 = 2, REG_R12 = 3, REG_RBP = 4, REG_RBX = 5,
  REG_R11 = 6, REG_R10 = 7, REG_R9 = 8, REG_R8 = 9, REG_RAX = 10, REG_RCX = 11, REG_RDX = 12,
  REG_RSI = 13, REG_RDI = 14, REG_ORIG_RAX = 15, REG_RIP = 16, REG_CS = 17, REG_EFLAGS = 18,
  REG_RSP = 19, REG_SS = 20, REG_FS_BASE = 21, REG_GS_BASE = 22, REG_DS = 23, REG_ES = 24,
  REG_FS = 25, REG_GS = 26;
export const NUM_REGS = 27;
// Event slots after the registers, filled when a run stops.
export const EV_SIGNO = 27;      // host signal behind a fault/exit, or 0
export const EV_CODE = 28;       // si_code of that signal; for EVENT_SYSCALL the ABI (below)
export const EV_ADDR = 29;       // faulting address (si_addr)
export const EV_ACCESS = 30;     // ACCESS_* bits if the platform knows them, else ACCESS_UNKNOWN
export const EV_STATUS = 31;     // wait status when the stub died (EVENT_DEAD)
export const REGS_SLOTS = 32;

export const EVENT_PENDING = 0;
export const EVENT_SYSCALL = 1;   // orig_rax holds the number; rip is past the instruction
export const EVENT_FAULT = 2;     // SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP: EV_* slots say which
export const EVENT_INTERRUPT = 3; // interrupt() or a host signal that is not a fault
/** EV_CODE of an EVENT_SYSCALL made through the i386 ABI (int 0x80, sysenter); 0 is x86-64. */
export const SYSCALL_ABI_I386 = 0x40000003;
export const EVENT_DEAD = 4;      // the stub thread is gone (killed from outside)

export const ACCESS_READ = 1, ACCESS_WRITE = 2, ACCESS_EXEC = 4, ACCESS_UNKNOWN = 8;

/** The errno name a native Error carries ("ENOMEM: Cannot allocate memory" -> "ENOMEM"). */
export function errnoOfNative(e: unknown): string | undefined {
  const m = e instanceof Error ? /^(E[A-Z0-9]+):/.exec(e.message) : null;
  return m ? m[1] : undefined;
}

let loaded: NativeAddon | undefined;

export function addon(): NativeAddon {
  if (!loaded) {
    // build/tsvisor.node at the package root, seen from dist/native/addon.js or from the
    // bundle dist/tsvisor.bundle.js.
    const candidates = [path.join(__dirname, '..', '..', 'build', 'tsvisor.node'), path.join(__dirname, '..', 'build', 'tsvisor.node')];
    const file = candidates.find((f) => fs.existsSync(f)) ?? candidates[0];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file) as NativeAddon;
  }
  return loaded;
}
