// The ELF core file's layout (Linux fs/binfmt_elf.c elf_core_dump, x86-64): the ELF header,
// a PT_NOTE program header then one PT_LOAD per VMA, the notes (per thread NT_PRSTATUS and its
// FPU regsets; for the process NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE), and from the next
// page boundary the dumped memory, in VMA order. This file only lays bytes out; what each
// VMA contributes (vma_dump_size) and the writing are coredump.ts's.

import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { PAGE_SIZE } from '../../mm/layout';

const EHDR_SIZE = 64, PHDR_SIZE = 56, SHDR_SIZE = 64;
const ET_CORE = 4, EM_X86_64 = 62, PT_LOAD = 1, PT_NOTE = 4;
const PF_X = 1, PF_W = 2, PF_R = 4;
export const NT_PRSTATUS = 1, NT_PRFPREG = 2, NT_PRPSINFO = 3, NT_AUXV = 6, NT_SIGINFO = 0x53494749,
  NT_FILE = 0x46494c45, NT_X86_XSTATE = 0x202;
/** sizeof(struct elf_prstatus) and sizeof(struct elf_prpsinfo) on x86-64. */
export const PRSTATUS_SIZE = 336, PRPSINFO_SIZE = 136;

export interface CoreNote { name: 'CORE' | 'LINUX'; type: number; desc: Uint8Array }

/** One PT_LOAD: the VMA's range and protection, and how many of its bytes the file holds. */
export interface CoreSegment { start: number; end: number; prot: number; dumpSize: number }

const align4 = (n: number): number => (n + 3) & ~3;

function noteSize(n: CoreNote): number {
  return 12 + align4(n.name.length + 1) + align4(n.desc.length);
}

/** writenote: namesz, descsz, type, then name and desc, each padded to 4 bytes. */
export function encodeNotes(notes: readonly CoreNote[]): Uint8Array {
  const out = new Uint8Array(notes.reduce((s, n) => s + noteSize(n), 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const n of notes) {
    v.setUint32(at, n.name.length + 1, true);
    v.setUint32(at + 4, n.desc.length, true);
    v.setUint32(at + 8, n.type, true);
    at += 12;
    for (let i = 0; i < n.name.length; i++) out[at + i] = n.name.charCodeAt(i);
    at += align4(n.name.length + 1);
    out.set(n.desc, at);
    at += align4(n.desc.length);
  }
  return out;
}

/** Where the memory of the segments starts: past the headers and notes, on a page boundary. */
export function dataOffset(segments: number, notesSize: number): number {
  const end = EHDR_SIZE + (segments + 1) * PHDR_SIZE + notesSize;
  return Math.ceil(end / PAGE_SIZE) * PAGE_SIZE;
}

/** The ELF header and program headers; the notes follow them directly. */
export function encodeHeaders(segments: readonly CoreSegment[], notesSize: number): Uint8Array {
  const phnum = segments.length + 1;
  const out = new Uint8Array(EHDR_SIZE + phnum * PHDR_SIZE);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */]);
  v.setUint16(16, ET_CORE, true);
  v.setUint16(18, EM_X86_64, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, BigInt(EHDR_SIZE), true); // e_phoff
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  // PN_XNUM: a count that does not fit 16 bits would go in a section header (not written here).
  v.setUint16(56, Math.min(phnum, 0xffff), true);
  v.setUint16(58, SHDR_SIZE, true);
  const notesAt = EHDR_SIZE + phnum * PHDR_SIZE;
  let at = EHDR_SIZE;
  const phdr = (type: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number, align: number): void => {
    v.setUint32(at, type, true);
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(offset), true);
    v.setBigUint64(at + 16, BigInt(vaddr), true);
    v.setBigUint64(at + 32, BigInt(filesz), true);
    v.setBigUint64(at + 40, BigInt(memsz), true);
    v.setBigUint64(at + 48, BigInt(align), true);
    at += PHDR_SIZE;
  };
  phdr(PT_NOTE, 0, notesAt, 0, notesSize, 0, 4);
  let offset = dataOffset(segments.length, notesSize);
  for (const s of segments) {
    const flags = (s.prot & PROT_READ ? PF_R : 0) | (s.prot & PROT_WRITE ? PF_W : 0) | (s.prot & PROT_EXEC ? PF_X : 0);
    phdr(PT_LOAD, flags, offset, s.start, s.dumpSize, s.end - s.start, PAGE_SIZE);
    offset += s.dumpSize;
  }
  return out;
}

export interface PrStatus {
  signo: number; pending: bigint; blocked: bigint;
  pid: number; ppid: number; pgrp: number; sid: number;
  utimeNs: bigint; stimeNs: bigint; cutimeNs: bigint; cstimeNs: bigint;
  /** struct user_regs_struct, 27 words. */
  regs: BigUint64Array;
}

function timeval(v: DataView, at: number, ns: bigint): void {
  v.setBigInt64(at, ns / 1_000_000_000n, true);
  v.setBigInt64(at + 8, (ns % 1_000_000_000n) / 1000n, true);
}

/** struct elf_prstatus: the signal, the thread's ids, times and general registers. */
export function encodePrStatus(p: PrStatus): Uint8Array {
  const b = new Uint8Array(PRSTATUS_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, p.signo, true); // pr_info.si_signo
  v.setInt16(12, p.signo, true); // pr_cursig
  v.setBigUint64(16, p.pending, true);
  v.setBigUint64(24, p.blocked, true);
  v.setInt32(32, p.pid, true);
  v.setInt32(36, p.ppid, true);
  v.setInt32(40, p.pgrp, true);
  v.setInt32(44, p.sid, true);
  timeval(v, 48, p.utimeNs);
  timeval(v, 64, p.stimeNs);
  timeval(v, 80, p.cutimeNs);
  timeval(v, 96, p.cstimeNs);
  for (let i = 0; i < 27; i++) v.setBigUint64(112 + i * 8, p.regs[i] ?? 0n, true);
  v.setInt32(328, 1, true); // pr_fpvalid: NT_PRFPREG follows
  return b;
}

export interface PrPsInfo {
  nice: number; flags: number; uid: number; gid: number;
  pid: number; ppid: number; pgrp: number; sid: number;
  comm: Uint8Array; args: Uint8Array;
}

/** struct elf_prpsinfo: the process as ps would show it (running: state 0, 'R'). */
export function encodePrPsInfo(p: PrPsInfo): Uint8Array {
  const b = new Uint8Array(PRPSINFO_SIZE);
  const v = new DataView(b.buffer);
  b[1] = 0x52; // pr_sname 'R'
  v.setInt8(3, p.nice);
  v.setBigUint64(8, BigInt(p.flags), true);
  v.setUint32(16, p.uid >>> 0, true);
  v.setUint32(20, p.gid >>> 0, true);
  v.setInt32(24, p.pid, true);
  v.setInt32(28, p.ppid, true);
  v.setInt32(32, p.pgrp, true);
  v.setInt32(36, p.sid, true);
  b.set(p.comm.subarray(0, 15), 40);
  // pr_psargs: the command line, arguments separated by blanks, at most 79 bytes.
  const args = p.args.subarray(0, 79).map((c) => (c === 0 ? 0x20 : c));
  let n = args.length;
  while (n > 0 && args[n - 1] === 0x20) n--;
  b.set(args.subarray(0, n), 56);
  return b;
}

export interface MappedFile { start: number; end: number; offset: number; name: string }

/** NT_FILE: count, page size, then (start, end, offset in pages) per file mapping, then the
 *  names, each NUL-terminated. */
export function encodeFileNote(files: readonly MappedFile[]): Uint8Array {
  const names = files.map((f) => Buffer.from(`${f.name}\0`, 'utf8'));
  const head = 16 + files.length * 24;
  const b = new Uint8Array(head + names.reduce((s, n) => s + n.length, 0));
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(files.length), true);
  v.setBigUint64(8, BigInt(PAGE_SIZE), true);
  files.forEach((f, i) => {
    v.setBigUint64(16 + i * 24, BigInt(f.start), true);
    v.setBigUint64(24 + i * 24, BigInt(f.end), true);
    v.setBigUint64(32 + i * 24, BigInt(Math.floor(f.offset / PAGE_SIZE)), true);
  });
  let at = head;
  for (const n of names) {
    b.set(n, at);
    at += n.length;
  }
  return b;
}
