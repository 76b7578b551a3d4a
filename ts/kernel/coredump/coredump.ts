// do_coredump (Linux fs/coredump.c) for a process dying of a core-dumping signal: unless the
// process is not dumpable, RLIMIT_CORE is under a page or core_pattern is a pipe, the ELF
// core (elf_core.ts) is written to the file core_pattern names, through the VFS as the dying
// task, and the wait status gets WCOREDUMP (0x80) only if the whole dump was written.
// What each VMA contributes follows vma_dump_size and /proc/<pid>/coredump_filter.

import { O_CREAT, O_EXCL, O_LARGEFILE, O_NOFOLLOW, O_WRONLY } from '../../abi/linux/fcntl';
import { PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { S_IFMT, S_IFREG } from '../../abi/linux/stat';
import { stringBytes } from '../../abi/byte_string';
import { PAGE_SIZE } from '../../mm/layout';
import { readRemote } from '../../mm/remote_access';
import type { MemoryManager } from '../../mm/memory_manager';
import type { Vma } from '../../mm/vma';
import { openAt } from '../../vfs/open';
import { unlinkAt } from '../../vfs/remove_ops';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { FileDescription } from '../../vfs/file_description';
import { taskAttrs } from '../../syscalls/linux/task_attrs';
import { pgidIn, sidIn } from '../../syscalls/linux/process_group';
import { getFpregs, getXstate } from '../ptrace/regs';
import { encodeSigInfo } from '../signal_frame';
import type { SigInfo } from '../sig_pending';
import { childrenCpu, processCpu, threadCpu } from '../timers/cpu_time';
import { tidIn, tgidIn } from '../ns/pid_ns';
import { RLIMIT_CORE } from '../rlimits';
import type { Task } from '../task';
import { formatCorename } from './core_pattern';
import {
  NT_AUXV, NT_FILE, NT_PRFPREG, NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO, NT_X86_XSTATE,
  dataOffset, encodeFileNote, encodeHeaders, encodeNotes, encodePrPsInfo, encodePrStatus,
  type CoreNote, type CoreSegment, type MappedFile,
} from './elf_core';

const AT_FDCWD = -100;
const SUID_DUMP_DISABLE = 0, SUID_DUMP_ROOT = 2;
// MMF_DUMP_* bits of coredump_filter.
const DUMP_ANON_PRIVATE = 1, DUMP_ANON_SHARED = 2, DUMP_MAPPED_PRIVATE = 4, DUMP_MAPPED_SHARED = 8,
  DUMP_ELF_HEADERS = 0x10;
/** Bytes gathered before one write to the core file. */
const CHUNK = 1 << 20;

/** Whether any page of [start, end) is present (the VMA has an anon_vma, roughly). */
function anyPresent(mm: MemoryManager, start: number, end: number): boolean {
  for (let a = start; a < end; a += PAGE_SIZE) if (mm.pmas.lookup(a) >= 0) return true;
  return false;
}

/** vma_dump_size: how many bytes of the VMA, from its start, go into the core. */
function vmaDumpSize(mm: MemoryManager, v: Vma, filter: number): number {
  if (v.backing?.special === true) return v.backing.vvar === true ? 0 : v.length;
  if (v.dontDump) return 0;
  if (v.shared || v.sharedSnapshot) {
    // Shared anonymous memory is an unlinked shmem file: "anonymous shared".
    const anon = v.backing === null || v.backing.sharedAnonymous === true;
    return (filter & (anon ? DUMP_ANON_SHARED : DUMP_MAPPED_SHARED)) !== 0 ? v.length : 0;
  }
  // Private pages of their own: anonymous memory that was touched, or a file mapping that
  // was written (its copied pages); all of the VMA then.
  const ownPages = v.backing === null || (v.prot & PROT_WRITE) !== 0;
  if ((filter & DUMP_ANON_PRIVATE) !== 0 && ownPages && anyPresent(mm, v.start, v.end)) return v.length;
  if (v.backing === null) return 0;
  if ((filter & DUMP_MAPPED_PRIVATE) !== 0) return v.length;
  // The first page of an ELF file's mapping, for its build id.
  if ((filter & DUMP_ELF_HEADERS) !== 0 && v.offset === 0 && (v.prot & PROT_READ) !== 0) {
    const magic = new Uint8Array(4);
    if (readRemote(mm, v.start, magic) === 4 && magic[0] === 0x7f && magic[1] === 0x45 && magic[2] === 0x4c &&
      magic[3] === 0x46) {
      return PAGE_SIZE;
    }
  }
  return 0;
}

function threadNotes(dumper: Task, t: Task, signo: number): { status: CoreNote; regsets: CoreNote[] } {
  const ns = dumper.threadPid.ns;
  // The group leader's times are the whole process's (fill_prstatus).
  const own = t === t.tg.tasks.values().next().value ? processCpu(t.tg) : threadCpu(t);
  const kids = childrenCpu(t.tg);
  const status = encodePrStatus({
    signo, pending: t.pending.set, blocked: t.sigMask,
    pid: tidIn(ns, t), ppid: t.tg.parent ? tgidIn(ns, t.tg.parent) : 0,
    pgrp: pgidIn(ns, t.tg), sid: sidIn(ns, t.tg),
    utimeNs: own.userNs, stimeNs: own.sysNs, cutimeNs: kids.userNs, cstimeNs: kids.sysNs, regs: t.regs,
  });
  return {
    status: { name: 'CORE', type: NT_PRSTATUS, desc: status },
    regsets: [
      { name: 'CORE', type: NT_PRFPREG, desc: getFpregs(t) },
      { name: 'LINUX', type: NT_X86_XSTATE, desc: getXstate(t) },
    ],
  };
}

function processNotes(t: Task, info: SigInfo, files: readonly MappedFile[]): CoreNote[] {
  const ns = t.threadPid.ns;
  const a = taskAttrs(t);
  const args = new Uint8Array(Math.max(0, Math.min(t.mm.argEnd - t.mm.argStart, 80)));
  readRemote(t.mm, t.mm.argStart, args);
  const psinfo = encodePrPsInfo({
    nice: a.nice, flags: 0, uid: t.creds.uid, gid: t.creds.gid,
    pid: tgidIn(ns, t.tg), ppid: t.tg.parent ? tgidIn(ns, t.tg.parent) : 0,
    pgrp: pgidIn(ns, t.tg), sid: sidIn(ns, t.tg), comm: stringBytes(a.comm), args,
  });
  const auxv = new Uint8Array(t.mm.auxv.length * 8);
  const av = new DataView(auxv.buffer);
  t.mm.auxv.forEach((w, i) => av.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  return [
    { name: 'CORE', type: NT_PRPSINFO, desc: psinfo },
    { name: 'CORE', type: NT_SIGINFO, desc: encodeSigInfo(info) },
    { name: 'CORE', type: NT_AUXV, desc: auxv },
    { name: 'CORE', type: NT_FILE, desc: encodeFileNote(files) },
  ];
}

/** The notes: the dumping thread's with the process's after its NT_PRSTATUS, then the
 *  other threads' (fill_note_info's order). */
function allNotes(t: Task, info: SigInfo, files: readonly MappedFile[]): CoreNote[] {
  const first = threadNotes(t, t, info.signo);
  const notes = [first.status, ...processNotes(t, info, files), ...first.regsets];
  for (const other of t.tg.tasks) {
    if (other === t) continue;
    const n = threadNotes(t, other, info.signo);
    notes.push(n.status, ...n.regsets);
  }
  return notes;
}

/** Writes at explicit offsets, counting what it emits against RLIMIT_CORE (dump_emit: holes
 *  are free). The first emit that does not fit, or a failed write, stops the dump there. */
class CoreWriter {
  private emitted = 0;
  private buf = new Uint8Array(CHUNK);
  private fill = 0;
  private at = 0;
  stopped = false;
  end = 0;

  constructor(private readonly t: Task, private readonly f: FileDescription, private readonly limit: number) {}

  /** Queue bytes at `offset` (after what was queued); false once the dump has stopped. */
  async emit(offset: number, data: Uint8Array): Promise<boolean> {
    if (this.stopped) return false;
    if (this.emitted + data.length > this.limit) {
      this.stopped = true;
      return false;
    }
    this.emitted += data.length;
    if (this.fill > 0 && (offset !== this.at + this.fill || this.fill + data.length > CHUNK)) await this.flush();
    if (this.stopped) return false;
    if (this.fill === 0) this.at = offset;
    this.buf.set(data, this.fill);
    this.fill += data.length;
    this.end = Math.max(this.end, offset + data.length);
    return true;
  }

  /** Write what is queued (also after the dump stopped: what fitted stays in the file). */
  async flush(): Promise<void> {
    const n = this.fill;
    this.fill = 0;
    let done = 0;
    while (done < n) {
      let w = 0;
      try {
        w = await this.f.write(this.t, this.buf.subarray(done, n), this.at + done);
      } catch {
        // A full disk, a file size limit: the core ends here.
      }
      if (w <= 0) {
        this.stopped = true;
        break;
      }
      done += w;
    }
  }
}

/** dump_user_range: the VMA's present pages; absent anonymous pages stay holes. */
async function dumpRange(mm: MemoryManager, v: Vma, size: number, w: CoreWriter, offset: number): Promise<void> {
  const page = new Uint8Array(PAGE_SIZE);
  for (let a = v.start; a < v.start + size; a += PAGE_SIZE) {
    const off = mm.pmas.lookup(a);
    if (off >= 0) mm.mf.read(off, page);
    else if (v.backing === null || readRemote(mm, a, page) < PAGE_SIZE) continue;
    if (!(await w.emit(offset + (a - v.start), page))) return;
  }
}

/** Open the core file as do_coredump does: any old file of that name goes first, then an
 *  exclusive create, mode 0600; null if it is not a fresh regular file of the dumper's. */
function openCoreFile(t: Task, name: string): FileDescription | null {
  const ctx = resolveContext(t);
  try { unlinkAt(ctx, startOf(t, AT_FDCWD, name), name); } catch { /* none there, or not ours */ }
  let f: FileDescription;
  try {
    f = openAt(ctx, startOf(t, AT_FDCWD, name), name,
      { flags: O_CREAT | O_WRONLY | O_NOFOLLOW | O_LARGEFILE | O_EXCL, mode: 0o600, umask: t.fs.umask });
  } catch {
    return null;
  }
  const st = f.stat();
  if ((st.mode & S_IFMT) !== S_IFREG || st.nlink !== 1 || st.uid !== t.creds.fsuid || (st.mode & 0o677) !== 0o600) {
    f.decRef();
    return null;
  }
  return f;
}

/** The core dump for `info`'s signal; true if a complete core was written. */
export async function doCoredump(t: Task, info: SigInfo): Promise<boolean> {
  const a = taskAttrs(t);
  if (a.dumpable === SUID_DUMP_DISABLE) return false;
  const name = formatCorename(t, info.signo);
  if (name === null || name === '') return false;
  // A set-id process dumps only to an absolute path (core_pattern must not follow its cwd).
  if (a.dumpable === SUID_DUMP_ROOT && !name.startsWith('/')) return false;
  const rl = t.tg.rlimits[RLIMIT_CORE].cur;
  const limit = rl >= 1n << 53n ? Number.MAX_SAFE_INTEGER : Number(rl);
  if (limit < PAGE_SIZE) return false;
  const f = openCoreFile(t, name);
  if (f === null) return false;
  try {
    await writeCore(t, info, f, limit, a.coredumpFilter);
  } finally {
    f.decRef();
  }
  // elf_core_dump reports a dump once its notes are gathered: one that RLIMIT_CORE or a
  // write cut short is still a dump (WCOREDUMP), in a truncated file.
  return true;
}

async function writeCore(t: Task, info: SigInfo, f: FileDescription, limit: number, filter: number): Promise<void> {
  const mm = t.mm;
  const vmas = mm.vmas.all();
  const segments: CoreSegment[] = vmas.map((v) => ({ start: v.start, end: v.end, prot: v.prot, dumpSize: vmaDumpSize(mm, v, filter) }));
  const files: MappedFile[] = vmas.filter((v) => v.backing !== null && v.backing.special !== true && v.backing.inode !== undefined)
    .map((v) => ({ start: v.start, end: v.end, offset: v.offset, name: v.backing?.name ?? '' }));
  const notes = allNotes(t, info, files).map((n) => encodeNotes([n]));
  const notesSize = notes.reduce((s, n) => s + n.length, 0);
  const w = new CoreWriter(t, f, limit);
  const headers = encodeHeaders(segments, notesSize);
  let offset = 0;
  for (const piece of [headers, ...notes]) {
    if (!(await w.emit(offset, piece))) break;
    offset += piece.length;
  }
  offset = dataOffset(segments.length, notesSize);
  for (let i = 0; i < vmas.length && !w.stopped; i++) {
    await dumpRange(mm, vmas[i], segments[i].dumpSize, w, offset);
    offset += segments[i].dumpSize;
  }
  // Holes at the end: one byte makes the file as long as the headers say.
  if (!w.stopped && w.end < offset) await w.emit(offset - 1, new Uint8Array(1));
  await w.flush();
}

/** The dumping task's last act (Kernel.coreDumpAndKill): write the core, then end the
 *  process with the signal, and WCOREDUMP if the core is complete. */
export async function dumpCoreAndExit(t: Task): Promise<void> {
  const info = t.coreDump;
  if (info === null) return;
  t.coreDump = null;
  t.awaiting = 'core dump';
  const dumped = await doCoredump(t, info);
  t.awaiting = '';
  if (dumped && t.tg.exitStatus === info.signo) t.tg.exitStatus |= 0x80;
  t.kernel.killThreadGroup(t.tg, info.signo);
}
