// Test doubles for syscall, vfs and strace unit tests: a page-granular fake of the
// MemoryManager's copy interface, a fake Kernel, a Task wired to them, in-memory files, and a
// helper that runs a syscall by number the way the dispatcher does.
import { vi } from 'vitest';
import { readSync, writeSync } from 'node:fs';
import { Task } from '../../../ts/kernel/task';
import { FakeMemoryFile } from '../mm/fake_native';
import type { Kernel } from '../../../ts/kernel/kernel';
import { ThreadGroup } from '../../../ts/kernel/thread_group';
import { Credentials } from '../../../ts/kernel/credentials';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import type { MemoryManager } from '../../../ts/mm/memory_manager';
import type { PlatformContext } from '../../../ts/platform/context';
import { REGS_SLOTS, REG_R10, REG_R8, REG_R9, REG_RDI, REG_RDX, REG_RSI } from '../../../ts/native/addon';
import { E2BIG, EAGAIN, EFAULT, ENAMETOOLONG } from '../../../ts/abi/linux/errno';
import { O_NONBLOCK, O_RDWR } from '../../../ts/abi/linux/fcntl';
import { S_IFIFO, S_IFREG, type Stat } from '../../../ts/abi/linux/stat';
import { FDTable } from '../../../ts/vfs/fd_table';
import { FileDescription, seekPosition } from '../../../ts/vfs/file_description';
import { RegisterArgs } from '../../../ts/syscalls/linux/args';
import { registerAll } from '../../../ts/syscalls/linux/register_all';
import { provideRareAreas } from '../../../ts/syscalls/linux/lazy_areas';
import * as rareAreas from '../../../ts/syscalls/linux/rare';
import type { SyscallTable } from '../../../ts/syscalls/linux/types';

export const PAGE = 4096;

/** Application memory: mapped pages only; anything else is EFAULT, as the real one says. */
export class FakeMemory {
  private readonly pages = new Map<number, { data: Uint8Array; writable: boolean }>();
  /** No VMAs: /proc's status and statm count nothing mapped. */
  readonly vmas = { all: (): never[] => [] };
  stackLimit = 8 << 20;
  exePath = '';

  map(addr: number, len: number, writable = true): void {
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) {
      if (!this.pages.has(p)) this.pages.set(p, { data: new Uint8Array(PAGE), writable });
    }
  }

  unmap(addr: number, len: number): void {
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) this.pages.delete(p);
  }

  private page(addr: number, write: boolean): Uint8Array {
    const p = this.pages.get(Math.floor(addr / PAGE));
    if (!p || (write && !p.writable)) throw new SyscallError(EFAULT);
    return p.data;
  }

  copyInto(addr: number, dst: Uint8Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] = this.page(addr + i, false)[(addr + i) % PAGE];
  }
  copyIn(addr: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.copyInto(addr, b);
    return b;
  }
  copyOut(addr: number, src: Uint8Array): void {
    for (let i = 0; i < src.length; i++) this.page(addr + i, true)[(addr + i) % PAGE] = src[i];
  }
  zeroOut(addr: number, len: number): void { this.copyOut(addr, new Uint8Array(len)); }
  /** Every mapped page counts as resident here. */
  residentBytes(addr: number, len: number): number {
    let n = 0;
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) if (this.pages.has(p)) n += PAGE;
    return n;
  }
  residentTotal(): { now: number; peak: number } {
    return { now: this.pages.size * PAGE, peak: this.pages.size * PAGE };
  }
  /** As MemoryManager's: short at the first page that is missing (EFAULT if none moved). */
  copyOutFromFile(addr: number, mf: FakeMemoryFile, fileOffset: number, length: number): number {
    return this.partial(addr, length, true, (a, b, done) => { mf.read(fileOffset + done, b); this.copyOut(a, b); return b.length; });
  }
  copyInToFile(addr: number, mf: FakeMemoryFile, fileOffset: number, length: number): number {
    return this.partial(addr, length, false, (a, b, done) => { this.copyInto(a, b); mf.write(fileOffset + done, b); return b.length; });
  }
  zeroOutSome(addr: number, length: number): number {
    return this.partial(addr, length, true, (a, b) => { this.copyOut(a, b); return b.length; });
  }
  /** Page by page, short at the first page missing (EFAULT if none moved) or when io moves
   *  less than it was given. */
  private partial(addr: number, length: number, write: boolean, io: (addr: number, buf: Uint8Array, done: number) => number): number {
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const chunk = Math.min(length - done, PAGE - (a % PAGE));
      const p = this.pages.get(Math.floor(a / PAGE));
      if (!p || (write && !p.writable)) {
        if (done > 0) return done;
        throw new SyscallError(EFAULT);
      }
      const n = io(a, new Uint8Array(chunk), done);
      done += n;
      if (n < chunk) break;
    }
    return done;
  }
  /** As MemoryManager's: page by page, short at the first page that is missing (EFAULT if none moved). */
  preadFromHost(addr: number, length: number, hostFd: number, offset: number): number {
    return this.partial(addr, length, true, (a, b, done) => {
      const n = readSync(hostFd, b, 0, b.length, offset + done);
      this.copyOut(a, b.subarray(0, n));
      return n;
    });
  }
  pwriteToHost(addr: number, length: number, hostFd: number, offset: number): number {
    return this.partial(addr, length, false, (a, b, done) => writeSync(hostFd, this.copyIn(a, b.length), 0, b.length, offset + done));
  }
  private view(addr: number, n: number): DataView { return new DataView(this.copyIn(addr, n).buffer); }
  readU32(addr: number): number { return this.view(addr, 4).getUint32(0, true); }
  readI32(addr: number): number { return this.view(addr, 4).getInt32(0, true); }
  readU64(addr: number): bigint { return this.view(addr, 8).getBigUint64(0, true); }
  readPtr(addr: number): number { return Number(this.readU64(addr)); }
  writeU32(addr: number, v: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); this.copyOut(addr, b); }
  writeI32(addr: number, v: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v | 0, true); this.copyOut(addr, b); }
  writeU64(addr: number, v: bigint): void { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); this.copyOut(addr, b); }
  readCString(addr: number, maxLen: number): string {
    const out: number[] = [];
    for (let i = 0; i < maxLen; i++) {
      const c = this.page(addr + i, false)[(addr + i) % PAGE];
      if (c === 0) return Buffer.from(out).toString('utf8');
      out.push(c);
    }
    throw new SyscallError(ENAMETOOLONG);
  }
  readStringVector(addr: number, maxCount: number): string[] {
    const out: string[] = [];
    for (let at = addr; ; at += 8) {
      const p = this.readPtr(at);
      if (p === 0) return out;
      if (out.length >= maxCount) throw new SyscallError(E2BIG);
      out.push(this.readCString(p, 1 << 17));
    }
  }

  // Test conveniences.
  putString(addr: number, s: string): void { this.copyOut(addr, Buffer.from(`${s}\0`)); }
  putBytes(addr: number, b: Uint8Array | string): void { this.copyOut(addr, typeof b === 'string' ? Buffer.from(b) : b); }
  getString(addr: number, len: number): string { return Buffer.from(this.copyIn(addr, len)).toString('latin1'); }
}

export interface FakeKernelState {
  mono: bigint;
  real: bigint;
  up: bigint;
}

export function fakeKernel(): Kernel & { state: FakeKernelState } {
  const state: FakeKernelState = { mono: 5_000_000_000n, real: 1_700_000_000_123_456_789n, up: 2_000_000_000n };
  const k = {
    state,
    hostname: 'sandbox',
    domainname: '(none)',
    strace: false,
    tasks: new Map<number, Task>(),
    threadGroups: new Map<number, ThreadGroup>(),
    monotonicNs: () => state.mono,
    realtimeNs: () => state.real,
    uptimeNs: () => state.up,
    sleep: vi.fn(async (_t: Task, ns: bigint) => { state.mono += ns; state.real += ns; state.up += ns; }),
    exitTask: vi.fn(),
    exitGroup: vi.fn(),
    killThreadGroup: vi.fn(),
    fillRandom: (b: Uint8Array) => { b.fill(0xab); },
    debug: () => {},
    mf: new FakeMemoryFile(),
    // No host vDSO in any address space (as on kvm): kernel/vvar_page.ts.
    platform: { hostVdsoClock: [] },
  };
  return k as unknown as Kernel & { state: FakeKernelState };
}

export interface TestProc {
  t: Task;
  mm: FakeMemory;
  kernel: Kernel & { state: FakeKernelState; sleep: ReturnType<typeof vi.fn>; killThreadGroup: ReturnType<typeof vi.fn> };
}

/** A process with one task (tid = tgid = pid); pass a parent for a child process. */
export function newTask(opts: { pid?: number; kernel?: Kernel; parent?: ThreadGroup; tid?: number; tg?: ThreadGroup;
  uid?: number } = {}): TestProc {
  const kernel = (opts.kernel ?? fakeKernel()) as TestProc['kernel'];
  const pid = opts.pid ?? 1;
  const tg = opts.tg ?? new ThreadGroup(pid, opts.parent ?? null);
  if (!opts.tg) tg.exePath = '/usr/bin/prog';
  const mm = new FakeMemory();
  const regs = new BigUint64Array(REGS_SLOTS);
  const ctx = { regs, words: new Int32Array(regs.buffer), interrupt: () => {} } as unknown as PlatformContext;
  const uid = opts.uid ?? 1000;
  const t = new Task(kernel, opts.tid ?? pid, tg, mm as unknown as MemoryManager, new FDTable(),
    { cwd: '/home/user', umask: 0o022 }, new Credentials(uid, uid), ctx);
  tg.tasks.add(t);
  kernel.tasks.set(t.tid, t);
  kernel.threadGroups.set(tg.tgid, tg);
  return { t, mm, kernel };
}

// The rare syscall areas load at first call with require, which cannot load .ts under vitest.
provideRareAreas(rareAreas);
export const table: SyscallTable = [];
registerAll(table);

const SLOTS = [REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9];

/** Put syscall arguments in the task's registers and return a RegisterArgs over them. */
export function setArgs(t: Task, args: (number | bigint)[]): RegisterArgs {
  args.forEach((v, i) => { t.regs[SLOTS[i]] = BigInt.asUintN(64, BigInt(v)); });
  for (let i = args.length; i < 6; i++) t.regs[SLOTS[i]] = 0n;
  return new RegisterArgs(t.regs);
}

/** Run syscall nr synchronously: its result, or -errno. Throws if the handler went async. */
export function sys(t: Task, nr: number, ...args: (number | bigint)[]): number | bigint {
  const entry = table[nr];
  if (!entry) throw new Error(`syscall ${nr} not registered`);
  try {
    const r = entry.handler(t, setArgs(t, args));
    if (typeof r === 'object') throw new Error(`syscall ${entry.name} went async`);
    return r;
  } catch (e) {
    if (e instanceof SyscallError) return -e.errno;
    throw e;
  }
}

/** Run syscall nr, awaiting it if it blocks: its result, or -errno. */
export async function sysAsync(t: Task, nr: number, ...args: (number | bigint)[]): Promise<number | bigint> {
  const entry = table[nr];
  if (!entry) throw new Error(`syscall ${nr} not registered`);
  try {
    return await entry.handler(t, setArgs(t, args));
  } catch (e) {
    if (e instanceof SyscallError) return -e.errno;
    throw e;
  }
}

function stat(mode: number, size: number): Stat {
  const z = { sec: 0, nsec: 0 };
  return { dev: 0x803, ino: 42, mode, nlink: 1, uid: 1000, gid: 1000, rdev: 0, size, blksize: 4096,
    blocks: Math.ceil(size / 512), atime: z, mtime: { sec: 1234, nsec: 5678 }, ctime: z };
}

/** A seekable in-memory file. */
export class MemFile extends FileDescription {
  override readonly seekable = true;
  pos = 0;
  released = false;
  constructor(public data: Uint8Array = new Uint8Array(0), flags = O_RDWR) { super(flags); }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    const n = Math.max(0, Math.min(dst.length, this.data.length - at));
    dst.set(this.data.subarray(at, at + n));
    if (offset < 0) this.pos += n;
    return n;
  }

  override write(_t: Task, src: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    if (at + src.length > this.data.length) {
      const grown = new Uint8Array(at + src.length);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(src, at);
    if (offset < 0) this.pos += src.length;
    return src.length;
  }

  override lseek(offset: number, whence: number): number {
    this.pos = seekPosition(this.pos, this.data.length, offset, whence);
    return this.pos;
  }

  override stat(): Stat { return stat(S_IFREG | 0o644, this.data.length); }
  override describe(): string { return 'mem:[file]'; }
  override release(): void { this.released = true; }
  text(): string { return Buffer.from(this.data).toString('latin1'); }
}

/** A non-seekable pipe-like file: reads wait (a Promise) until data is pushed. */
export class FakePipe extends FileDescription {
  private buf: number[] = [];
  private waiters: (() => void)[] = [];
  written: number[] = [];
  constructor(flags = O_RDWR) { super(flags); }

  push(s: string): void {
    this.buf.push(...Buffer.from(s));
    this.waiters.splice(0).forEach((w) => w());
  }

  override read(_t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    if (this.buf.length === 0) {
      if (this.flags & O_NONBLOCK) throw new SyscallError(EAGAIN);
      return new Promise<void>((r) => this.waiters.push(r)).then(() => this.take(dst));
    }
    return this.take(dst);
  }

  private take(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.buf.length);
    dst.set(this.buf.splice(0, n));
    return n;
  }

  override write(_t: Task, src: Uint8Array): number {
    this.written.push(...src);
    return src.length;
  }

  override stat(): Stat { return stat(S_IFIFO | 0o600, 0); }
  override describe(): string { return 'pipe:[7]'; }
}

/** Install f at fd in t's table (dropping the creator's reference, as open paths do). */
export function install(t: Task, f: FileDescription, fd?: number): number {
  let n: number;
  if (fd === undefined) n = t.fdTable.newFD(f);
  else { t.fdTable.setFD(fd, f, false); n = fd; }
  f.decRef();
  return n;
}
