// ELF64 x86-64 header parsing and validation (linux/elf.h; Linux fs/binfmt_elf.c checks).
// Anything malformed is rejected here, before a single page is mapped, so that mapping code
// can trust every number it gets.

import { SyscallError } from '../kernel/syscall_error';
import { PAGE_SIZE } from '../mm/layout';
import type { LoadableFile } from './loadable_file';
import { bytesToString } from '../abi/byte_string';

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const ELF_HEADER_SIZE = 64;
export const PHDR_SIZE = 56;
/** Linux reads at most 64 KiB of program headers. */
export const MAX_PHNUM = Math.floor(65536 / PHDR_SIZE);
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** Longest interpreter path (PATH_MAX, NUL included). */
const MAX_INTERP = 4096;
/** Addresses above this are not user addresses on x86-64 (4-level paging). */
const USER_LIMIT = 2 ** 47;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfFile {
  type: number;
  entry: number;
  phoff: number;
  phnum: number;
  phdrs: ProgramHeader[];
  /** PT_LOAD headers in address order. */
  loads: ProgramHeader[];
  /** The PT_INTERP path, without its NUL. */
  interp: string | null;
  /** PT_GNU_STACK asked for an executable stack. */
  execStack: boolean;
}

/** Read and check the headers of file; every problem is SyscallError(errno). */
export function parseElf(file: LoadableFile, errno: number): ElfFile {
  const bad = (): never => { throw new SyscallError(errno); };
  const hdr = file.read(0, ELF_HEADER_SIZE);
  if (hdr.length < ELF_HEADER_SIZE) bad();
  if (hdr[0] !== 0x7f || hdr[1] !== 0x45 || hdr[2] !== 0x4c || hdr[3] !== 0x46) bad();
  // ELFCLASS64, ELFDATA2LSB, EV_CURRENT.
  if (hdr[4] !== 2 || hdr[5] !== 1 || hdr[6] !== 1) bad();
  const h = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const type = h.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) bad();
  if (h.getUint16(18, true) !== EM_X86_64) bad();
  const entry = u64(h, 24, bad);
  const phoff = u64(h, 32, bad);
  const phentsize = h.getUint16(54, true);
  const phnum = h.getUint16(56, true);
  if (phentsize !== PHDR_SIZE || phnum === 0 || phnum > MAX_PHNUM) bad();
  if (phoff + phnum * PHDR_SIZE > file.size) bad();
  if (entry >= USER_LIMIT) bad();

  const raw = file.read(phoff, phnum * PHDR_SIZE);
  if (raw.length < phnum * PHDR_SIZE) bad();
  const p = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * PHDR_SIZE;
    phdrs.push({
      type: p.getUint32(o, true),
      flags: p.getUint32(o + 4, true),
      offset: u64(p, o + 8, bad),
      vaddr: u64(p, o + 16, bad),
      filesz: u64(p, o + 32, bad),
      memsz: u64(p, o + 40, bad),
      align: u64(p, o + 48, bad),
    });
  }

  const loads: ProgramHeader[] = [];
  let interp: string | null = null;
  let execStack = false;
  for (const ph of phdrs) {
    if (ph.type === PT_LOAD) {
      if (ph.filesz > ph.memsz || ph.offset + ph.filesz > file.size) bad();
      if (ph.vaddr + ph.memsz > USER_LIMIT) bad();
      // Mapping works in pages: the file offset and the address must agree within a page.
      if (ph.vaddr % PAGE_SIZE !== ph.offset % PAGE_SIZE) bad();
      const prev = loads[loads.length - 1];
      if (prev !== undefined && ph.vaddr < prev.vaddr + prev.memsz) bad();
      loads.push(ph);
    } else if (ph.type === PT_INTERP && interp === null) {
      if (ph.filesz < 2 || ph.filesz > MAX_INTERP || ph.offset + ph.filesz > file.size) bad();
      const bytes = file.read(ph.offset, ph.filesz);
      if (bytes.length !== ph.filesz || bytes[ph.filesz - 1] !== 0) bad();
      const nul = bytes.indexOf(0);
      interp = bytesToString(bytes.subarray(0, nul));
    } else if (ph.type === PT_GNU_STACK) {
      execStack = (ph.flags & PF_X) !== 0;
    }
  }
  if (loads.length === 0) bad();
  return { type, entry, phoff, phnum, phdrs, loads, interp, execStack };
}

/** A 64-bit field that must be an exact number (anything near 2^53 is malformed anyway). */
function u64(v: DataView, off: number, bad: () => never): number {
  const x = v.getBigUint64(off, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) bad();
  return Number(x);
}
