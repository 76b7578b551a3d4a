// The per-process /proc/<pid> files a program (or its supervisor) writes to tune the kernel's
// treatment of it — comm, oom_score_adj and the legacy oom_adj, timerslack_ns,
// coredump_filter — and the read-only ones that go with them: oom_score, personality, io,
// wchan, sessionid. Values live in taskAttrs (syscalls/linux/task_attrs.ts); this file owns
// only their text form and Linux's write rules (fs/proc/base.c), not the values' effects.

import { nsproxyOf } from '../../kernel/ns/nsproxy';
import { timensOffsetsText, writeTimensOffsets } from '../../kernel/ns/time_ns';
import * as os from 'node:os';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EACCES, EINVAL, EPERM, ERANGE } from '../../abi/linux/errno';
import { S_IFREG } from '../../abi/linux/stat';
import { CAP_SYS_NICE, CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import type { SetAttr } from '../../vfs/inode';
import { SnapshotFile } from '../kernfs/file';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { setProcessAttr, taskAttrs, truncateComm } from '../../syscalls/linux/task_attrs';
import { ioText, processIo, threadIo } from '../../kernel/io_accounting';
import { bytesToString, stringBytes } from '../../abi/byte_string';

const PAGE = 4096;
const CLOCK_BOOTTIME = 7;
const OOM_SCORE_ADJ_MIN = -1000, OOM_SCORE_ADJ_MAX = 1000, OOM_DISABLE = -17, OOM_ADJUST_MAX = 15;
/** MMF_DUMP_FILTER_BITS: the bits coredump_filter keeps. */
const DUMP_FILTER_MASK = 0x1ff;

/** kstrto{int,uint,ull}: optional sign, base 0 = 0x hex / 0 octal / decimal, one trailing
 *  newline allowed; EINVAL for anything else, ERANGE past the type's range. */
export function kstrto(text: string, base: 0 | 10, signed: boolean, max: bigint): bigint {
  // The kernel parses a C string: a NUL ends it, whatever the write's count says.
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  let s = text.endsWith('\n') ? text.slice(0, -1) : text;
  let neg = false;
  if (s.startsWith('+')) s = s.slice(1);
  else if (signed && s.startsWith('-')) { neg = true; s = s.slice(1); }
  let radix = 10;
  if (base === 0 && /^0[xX][0-9a-fA-F]/.test(s)) { radix = 16; s = s.slice(2); }
  else if (base === 0 && s.length > 1 && s.startsWith('0')) { radix = 8; s = s.slice(1); }
  const digits = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) throw new SyscallError(EINVAL);
  let v = 0n;
  for (const c of s) v = v * BigInt(radix) + BigInt(parseInt(c, 16));
  if (neg) v = -v;
  if (v > max || v < (signed ? -max - 1n : 0n)) throw new SyscallError(ERANGE);
  return v;
}

const INT_MAX = 0x7fffffffn, UINT_MAX = 0xffffffffn, ULLONG_MAX = 0xffffffffffffffffn;

/** strstrip: whitespace off both ends. */
function strip(text: string): string {
  return text.replace(/^[\s\0]+|[\s\0]+$/g, '');
}

/** A /proc/<pid> file the owner may write: reads show get(), a write hands at most `maxIn`
 *  bytes of text to set (which validates and applies it) and reports the bytes it took. */
export class KTunable extends KInode {
  constructor(fs: KernFS, key: string, private readonly get: (reader: Task | null) => string,
    private readonly set: (writer: Task, text: string) => void, private readonly maxIn: number, attr: KAttr, mode = 0o644) {
    super(fs, key, S_IFREG | mode, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new TunableFile(flags, vd, stringBytes(this.get(t)), this.set, this.maxIn);
  }

  /** proc_setattr: O_TRUNC (a size change) is accepted and means nothing; mode and owner
   *  stay the task's. */
  override setattr(attr: SetAttr): void {
    if (attr.mode !== undefined || attr.uid !== undefined || attr.gid !== undefined) throw new SyscallError(EPERM);
  }
}

class TunableFile extends SnapshotFile {
  override readonly writesEmpty = true;
  constructor(flags: number, vd: VirtualDentry, data: Uint8Array,
    private readonly set: (writer: Task, text: string) => void, private readonly maxIn: number) {
    super(flags, vd, data, 'size');
  }

  override write(t: Task, src: Uint8Array, _offset: number): number {
    const n = Math.min(src.length, this.maxIn);
    this.set(t, bytesToString(src.subarray(0, n)));
    return n;
  }
}

/** The value Linux shows in oom_score (proc_oom_score over oom_badness): 1000 plus the
 *  process's resident pages and its adjustment per mille of memory, scaled by 2/3; 0 for an
 *  unkillable one. */
export function oomScore(t: Task): number {
  const adj = taskAttrs(t).oomScoreAdj;
  if (adj === OOM_SCORE_ADJ_MIN) return 0;
  const totalPages = Math.floor(os.totalmem() / PAGE);
  const rssPages = Math.floor(t.mm.residentTotal().now / PAGE);
  const badness = rssPages + adj * Math.floor(totalPages / 1000);
  return Math.max(0, Math.trunc((1000 + Math.trunc((badness * 1000) / totalPages)) * 2 / 3));
}

/** __set_oom_adj: lowering below the floor (legacy oom_adj: below the current value) needs
 *  CAP_SYS_RESOURCE; a privileged oom_score_adj write moves the floor. */
function setOomScoreAdj(writer: Task, target: Task, adj: number, legacy: boolean): void {
  const a = taskAttrs(target);
  const privileged = writer.creds.hasCapability(CAP_SYS_RESOURCE);
  if (adj < (legacy ? a.oomScoreAdj : a.oomScoreAdjMin) && !privileged) throw new SyscallError(EACCES);
  setProcessAttr(target, 'oomScoreAdj', adj);
  if (!legacy && privileged) setProcessAttr(target, 'oomScoreAdjMin', adj);
}

/** timerslack_ns of another task needs CAP_SYS_NICE, to read as to write. */
function mayTouchSlack(by: Task | null, t: Task): void {
  if (by !== null && by.tg !== t.tg && !by.creds.hasCapability(CAP_SYS_NICE)) throw new SyscallError(EPERM);
}

type TaskFile = (name: string, gen: (t: Task) => string, mode?: number) => KInode;

/** The entries for /proc/<pid> (task_dir.ts), for the task task() names. */
export function tunableEntries(fs: KernFS, key: string, task: () => Task | undefined, attr: KAttr,
  file: TaskFile): Record<string, () => KInode> {
  const tunable = (name: string, get: (t: Task, reader: Task | null) => string,
    set: (writer: Task, t: Task, text: string) => void, maxIn: number, mode?: number): KTunable =>
    new KTunable(fs, `${key}/${name}`, (reader) => { const t = task(); return t ? get(t, reader) : ''; },
      (writer, text) => { const t = task(); if (t) set(writer, t, text); }, maxIn, attr, mode);
  const PROC_NUMBUF = 13;
  return {
    // The offsets of the time namespace the task's children go in (kernel/ns/time_ns.ts).
    timens_offsets: () => tunable('timens_offsets', (t) => timensOffsetsText(nsproxyOf(t).timeForChildren),
      (w, t, text) => writeTimensOffsets(w, nsproxyOf(t).timeForChildren, text,
        (clock) => (clock === CLOCK_BOOTTIME ? t.kernel.uptimeNs() : t.kernel.monotonicNs())), PAGE),
    // comm: only a thread of the same process may rename (comm_write); at most 15 bytes kept.
    comm: () => tunable('comm', (t) => `${taskAttrs(t).comm}\n`, (w, t, text) => {
      if (w.tg !== t.tg) throw new SyscallError(EINVAL);
      taskAttrs(t).comm = truncateComm(text.split('\0')[0]);
    }, 64 * 1024),
    oom_score_adj: () => tunable('oom_score_adj', (t) => `${taskAttrs(t).oomScoreAdj}\n`, (w, t, text) => {
      const v = Number(kstrto(strip(text), 0, true, INT_MAX));
      if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) throw new SyscallError(EINVAL);
      setOomScoreAdj(w, t, v, false);
    }, PROC_NUMBUF - 1),
    oom_adj: () => tunable('oom_adj', (t) => {
      const adj = taskAttrs(t).oomScoreAdj;
      return `${adj === OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : Math.trunc((adj * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX)}\n`;
    }, (w, t, text) => {
      const v = Number(kstrto(strip(text), 0, true, INT_MAX));
      if (v < OOM_DISABLE || v > OOM_ADJUST_MAX) throw new SyscallError(EINVAL);
      setOomScoreAdj(w, t, v === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : Math.trunc((v * OOM_SCORE_ADJ_MAX) / -OOM_DISABLE), true);
    }, PROC_NUMBUF - 1),
    timerslack_ns: () => tunable('timerslack_ns', (t, reader) => {
      mayTouchSlack(reader, t);
      return `${taskAttrs(t).timerSlackNs}\n`;
    }, (w, t, text) => {
      const v = kstrto(text, 10, false, ULLONG_MAX);
      mayTouchSlack(w, t);
      const a = taskAttrs(t);
      a.timerSlackNs = v === 0n ? a.defaultTimerSlackNs : v;
    }, 64 * 1024, 0o666),
    coredump_filter: () => tunable('coredump_filter', (t) => `${taskAttrs(t).coredumpFilter.toString(16).padStart(8, '0')}\n`,
      (_w, t, text) => {
        const v = Number(kstrto(text, 0, false, UINT_MAX));
        setProcessAttr(t, 'coredumpFilter', (taskAttrs(t).coredumpFilter & ~DUMP_FILTER_MASK) | (v & DUMP_FILTER_MASK));
      }, 64 * 1024),
    oom_score: () => file('oom_score', (t) => `${oomScore(t)}\n`),
    // personality needs ptrace attach access (lock_trace): EACCES otherwise.
    personality: () => new KTunableReadOnly(fs, `${key}/personality`, (reader) => {
      const t = task();
      if (!t) return '';
      if (reader !== null && !ptraceMayAccess(reader, t.tg)) throw new SyscallError(EACCES);
      return `${(taskAttrs(t).personality >>> 0).toString(16).padStart(8, '0')}\n`;
    }, attr, 0o400),
    // io: the process's (or, under task/<tid>, the thread's) counts; ptrace read access only.
    io: () => new KTunableReadOnly(fs, `${key}/io`, (reader) => {
      const t = task();
      if (!t) return '';
      if (reader !== null && !ptraceMayAccess(reader, t.tg)) throw new SyscallError(EACCES);
      return ioText(key.includes('/task/') ? threadIo(t) : processIo(t.tg));
    }, attr, 0o400),
    // Where a task sleeps is not a kernel symbol here: "0", as Linux shows for a task it
    // cannot name a wait channel for.
    wchan: () => file('wchan', () => '0'),
    // No audit: the unset session id.
    sessionid: () => file('sessionid', () => '4294967295'),
  };
}

/** A read-only file whose generator may refuse the reader (EACCES at open). */
class KTunableReadOnly extends KInode {
  constructor(fs: KernFS, key: string, private readonly get: (reader: Task | null) => string, attr: KAttr, mode = 0o444) {
    super(fs, key, S_IFREG | mode, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    return new SnapshotFile(flags, vd, stringBytes(this.get(t)), 'size');
  }
}
