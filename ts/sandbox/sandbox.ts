// Sandbox: builds one sandbox from the CLI's options — memory file, platform, kernel, the
// first process with the host's stdio — runs it to the end and returns its wait status.
// It owns start-up and the mapping of start-up failures to user errors; it does not
// implement syscalls or policy of its own.

import { HOST_MIN_SIGSTKSZ } from '../loader/host_auxv';
import { HWCAP } from '../kernel/exec';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addon, errnoOfNative } from '../native/addon';
import { choosePlatform, PLATFORMS } from './platform_choice';
import { Kernel } from '../kernel/kernel';
import { Task } from '../kernel/task';
import { Credentials } from '../kernel/credentials';
import { PlatformContext } from '../platform/context';
import { PooledPlatform } from '../platform/pool';
import { MemoryManager } from '../mm/memory_manager';
import { loadExecutable } from '../loader/loader';
import { vvarBacking } from '../kernel/vvar_page';
import { initNsProxy } from '../kernel/ns/nsproxy';
import { installMountNamespace, mountNamespaceOf } from '../vfs/task_fs';
import { walk } from '../vfs/resolve';
import { resolveInterpreters } from '../loader/shebang';
import { forwardHostSignals } from './host_signals';
import { openExecutableIn } from '../vfs/exec_file';
import { newStdioFDTable } from '../vfs/stdio';
import { SyscallError } from '../kernel/syscall_error';
import { ENOENT, EACCES, ENOEXEC, EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG } from '../abi/linux/errno';
import { errnoName } from '../abi/linux/errno';
import { REG_RIP, REG_RSP } from '../native/addon';
import { UserError } from './errors';
import { auditHostFsFromNowOn } from './host_fs_audit';
import { hostIdentity } from './host_identity';
import { DEFAULT_MOUNTS, connectGofer, describeMounts, newSandboxRoot, startGofer, type SandboxMounts } from './mounts';
import { DEFAULT_PIDS, defaultMemoryBytes, describeBytes, type SandboxLimits } from './limits';
import { startupMark, startupMemory, printStartupTrace } from './startup_trace';
import { startNetwork, writeResolvConf, type NetworkFlags } from './network';

export interface SandboxOptions {
  platform: string;
  strace: boolean;
  debugLog?: string;
  /** The program's environment, K=V each. */
  env: string[];
  cwd: string;
  argv: string[];
  /** --memory and --pids; a limit left out gets its default (limits.ts). */
  limits?: Partial<SandboxLimits>;
  /** --rootfs, --overlay, --volume (mounts.ts); the host's / read-only under memory by default. */
  mounts?: SandboxMounts;
  /** --network and --publish (default: the sandbox network, nothing published). */
  network?: NetworkFlags;
}

/** The 16 bytes behind AT_RANDOM. */
function atRandom(kernel: Kernel): Uint8Array {
  const b = new Uint8Array(16);
  kernel.fillRandom(b);
  return b;
}

export { UserError };

export { PLATFORMS };

function newMemoryFile() {
  return new (addon().MemoryFile)();
}

/** execvp-style lookup of the program inside the sandbox's own tree. */
function resolveProgram(kernel: Kernel, creds: Credentials, prog: string, env: string[], cwd: string): string {
  if (prog.includes('/')) return path.resolve(cwd, prog);
  const ns = mountNamespaceOf(kernel);
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = path.resolve(cwd, dir || '.', prog);
    try {
      const vd = walk({ t: null, ns, root: ns.rootVd, creds }, ns.rootVd, candidate, { follow: true }).vd;
      if (vd?.inode.isRegular) return candidate;
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e; // keep looking
    }
  }
  throw new UserError(`tsvisor: ${prog}: command not found`, 127);
}

/** The stub's own pages (its first thread's) come from --memory too: a limit too small for
 *  them ends the program before its first instruction, as the OOM kill would. */
function tooLittleMemory(prog: string, memoryBytes: number): UserError {
  return new UserError(`tsvisor: ${prog}: out of memory before it started (--memory ${describeBytes(memoryBytes)})`, 137);
}

function startupError(prog: string, e: unknown): never {
  if (e instanceof UserError) throw e;
  const errno = e instanceof SyscallError ? e.errno : undefined;
  if (errno === ENOENT || errno === ENOTDIR) throw new UserError(`tsvisor: ${prog}: No such file or directory`, 127);
  if (errno === EACCES || errno === EISDIR) throw new UserError(`tsvisor: ${prog}: Permission denied`, 126);
  if (errno === ENOEXEC) throw new UserError(`tsvisor: ${prog}: Exec format error (not an x86-64 Linux executable)`, 126);
  if (errno === ELOOP || errno === ENAMETOOLONG) throw new UserError(`tsvisor: ${prog}: ${errnoName(errno)}`, 127);
  throw e;
}

/** --cwd must name a directory the program can be in (Linux chdir's checks). */
function checkCwd(kernel: Kernel, creds: Credentials, cwd: string): void {
  const ns = mountNamespaceOf(kernel);
  let vd;
  try {
    vd = walk({ t: null, ns, root: ns.rootVd, creds }, ns.rootVd, cwd, { follow: true }).vd;
  } catch (e) {
    const errno = e instanceof SyscallError ? e.errno : undefined;
    if (errno === undefined) throw e;
    const why = errno === ENOENT ? 'No such file or directory' : errno === ENOTDIR ? 'Not a directory'
      : errno === EACCES ? 'Permission denied' : errnoName(errno);
    throw new UserError(`tsvisor: --cwd ${cwd}: ${why}`, 125);
  }
  if (!vd?.inode.isDir) throw new UserError(`tsvisor: --cwd ${cwd}: Not a directory`, 125);
}

export async function runSandbox(opts: SandboxOptions): Promise<number> {
  const prog = opts.argv[0];
  const cwd = path.resolve(opts.cwd);
  const mounts = opts.mounts ?? DEFAULT_MOUNTS;
  startupMark('runSandbox');
  // The gofer first: it starts and confines itself (namespaces, pivot_root, seccomp) while the
  // sentry makes the memory file, the first stub and the network; connectGofer waits for it.
  const gofer = startGofer(mounts, opts.debugLog);
  startupMark('gofer spawned');
  // What a failed start-up gives back, last made first (the process may go on: the tests').
  const undo: Array<() => void> = [() => gofer.close()];
  const unwind = (): void => { for (const f of undo.splice(0).reverse()) f(); };

  const mf = newMemoryFile();
  const memoryBytes = opts.limits?.memoryBytes ?? defaultMemoryBytes();
  const pids = opts.limits?.pids ?? DEFAULT_PIDS;
  mf.setLimit(memoryBytes);
  startupMark('memory file');
  // The choice's lines reach --debug-log once the kernel keeps it, or directly if none works.
  const choiceLog: string[] = [];
  let chosen;
  try {
    chosen = choosePlatform(mf, opts.platform, opts.debugLog ? (m) => choiceLog.push(m) : null);
  } catch (e) {
    unwind();
    if (opts.debugLog) fs.appendFileSync(opts.debugLog, choiceLog.map((m) => `${new Date().toISOString()} ${m}\n`).join(''));
    if (errnoOfNative(e) === 'ENOMEM') throw tooLittleMemory(prog, memoryBytes);
    throw e;
  }
  const platform = new PooledPlatform(chosen);
  // The first stub is made off this thread (systrap) while the kernel, the network and the
  // root file system are set up and the program is found; the address space is taken after.
  platform.prepareAddressSpace();
  startupMark('platform chosen');
  const debugLogFd = opts.debugLog ? fs.openSync(opts.debugLog, 'a') : -1;
  const kernel = new Kernel({ platform, mf, strace: opts.strace, debugLogFd, hostname: os.hostname(), pidsMax: pids });
  startupMark('kernel');
  for (const m of choiceLog) kernel.debug(m);
  kernel.debug(`limits: memory ${describeBytes(memoryBytes)}, pids ${Number.isFinite(pids) ? pids : 'max'}`);
  const uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0;
  const creds = new Credentials(uid, gid);
  // The host process's supplementary groups and umask, as a child of it would have them.
  const host = hostIdentity();
  creds.groups = host.groups;
  const fsctx = { cwd, umask: host.umask };
  // The network before the program's memory: a --publish port the host refuses ends here.
  const netFlags = opts.network ?? { mode: 'sandbox', publish: [] };
  let network;
  try {
    network = await startNetwork(kernel, netFlags);
  } catch (e) {
    unwind();
    throw e;
  }
  undo.push(() => network.close());
  startupMark('network');
  let exePath: string;
  let exe, argv;
  try {
    connectGofer(gofer);
    startupMark('gofer serving');
    installMountNamespace(kernel, newSandboxRoot(kernel, gofer, mounts, uid));
    startupMark('root mounted');
    checkCwd(kernel, creds, cwd);
    exePath = resolveProgram(kernel, creds, prog, opts.env, cwd);
    kernel.debug(`gofer: pid ${gofer.pid ?? '?'} serving ${describeMounts(mounts)}`);
    // An executable script is a program too: its #! line names what runs it, as in execve.
    ({ file: exe, argv } = resolveInterpreters((p) => openExecutableIn(kernel, fsctx, creds, p), exePath, opts.argv));
  } catch (e) {
    unwind();
    startupError(prog, e);
  }
  startupMark('program found');
  let as;
  try {
    as = platform.newAddressSpace();
  } catch (e) {
    unwind();
    const code = errnoOfNative(e);
    if (code === 'EPERM' || code === 'EACCES') {
      throw new UserError(`tsvisor: ptrace is not permitted here (seccomp or a security module forbids it); the ${chosen.name} platform cannot run`, 125);
    }
    if (code === 'ENOMEM') throw tooLittleMemory(prog, memoryBytes);
    throw e;
  }
  const releaseAs = (): void => as.release();
  undo.push(releaseAs);
  startupMark('address space');
  // The first thread (on systrap, the one the prepared stub keeps parked for it).
  let ctx: PlatformContext;
  try {
    ctx = new PlatformContext(platform, as);
  } catch (e) {
    unwind();
    if (errnoOfNative(e) === 'ENOMEM') throw tooLittleMemory(prog, memoryBytes);
    throw e;
  }
  undo.push(() => ctx.release());
  startupMark('first context');
  const mm = new MemoryManager(mf, as, platform.minUserAddress, platform.maxUserAddress);
  const tgid = kernel.allocPid();
  const tg = kernel.newThreadGroup(null, tgid);
  tg.exePath = exe.path;
  mm.exePath = exe.path;
  let entry;
  try {
    // The image's mappings reach the stub in one batch, as in execve.
    as.beginBatch();
    try {
      entry = loadExecutable(mm, exe, (p) => openExecutableIn(kernel, fsctx, creds, p), {
        argv, envp: opts.env, execfn: exePath, random: atRandom(kernel),
        uid, euid: uid, gid, egid: gid, secure: false, hwcap: HWCAP, clockTicks: 100,
        platform: 'x86_64', minSigStkSz: HOST_MIN_SIGSTKSZ, vvar: vvarBacking(kernel, initNsProxy(kernel).time),
      });
    } finally {
      as.endBatch();
    }
  } catch (e) {
    // The memory manager owns the address space now: it goes after the context.
    undo.splice(undo.indexOf(releaseAs), 1);
    unwind();
    mm.release();
    // The first process dies of the OOM kill before its first instruction.
    if (mm.oomFault) throw new UserError(`tsvisor: ${prog}: out of memory while loading it (--memory ${describeBytes(memoryBytes)})`, 137);
    startupError(prog, e);
  }
  startupMark('executable loaded');
  const fdTable = newStdioFDTable();
  const task = new Task(kernel, tgid, tg, mm, fdTable, fsctx, creds, ctx);
  // Mounted over the tree's own file; with --overlay=none, a --rootfs without one gets none.
  if (netFlags.mode === 'sandbox') {
    try { writeResolvConf(kernel, task, mounts.overlay === 'memory'); } catch (e) { if (!(e instanceof SyscallError)) throw e; }
  }
  kernel.tasks.set(tgid, task);
  tg.tasks.add(task);
  task.regs[REG_RIP] = BigInt(entry.entry);
  task.regs[REG_RSP] = BigInt(entry.sp);
  // Before the first instruction: a program may print and be signalled within its first run.
  const stopForwarding = forwardHostSignals(kernel, tg);
  const stopAudit = auditHostFsFromNowOn();
  startupMark('task ready');
  startupMemory('memory at the first instruction');
  kernel.startTask(task);
  const status = await tg.exited;
  startupMark('program exited');
  stopAudit();
  network.close();
  stopForwarding();
  platform.release();
  gofer.close();
  if (debugLogFd >= 0) fs.closeSync(debugLogFd);
  startupMark('sandbox released');
  printStartupTrace();
  return status;
}
