// The vDSO (Linux arch/x86/entry/vdso): a small ELF shared object mapped into every process
// at exec and named by AT_SYSINFO_EHDR, whose functions libc and the Go runtime call instead
// of the matching syscalls. Ours is built here, byte by byte, once: the symbols Linux's
// x86-64 vDSO exports (version LINUX_2.6) over the code of vdso_text.ts. clock_gettime,
// gettimeofday and time call the host's vDSO (kept in every stub process above the
// application's range) and add the offsets of the data page (kernel/vvar_page.ts), mapped
// read-only just below the vDSO as Linux's [vvar], answering without a syscall; the rest
// are a `mov $nr, %eax; syscall; ret`, the application's like any other syscall (trapped
// and served), as is every call where the data page says there is no host clock (kvm).
// Owns the image and the two mappings; the auxv entry is the loader's.

import { MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ } from '../abi/linux/mm';
import type { MemoryManager } from '../mm/memory_manager';
import type { MappingBacking } from '../mm/backing';
import { PAGE_SIZE } from '../mm/layout';
import { VDSO_FUNCTIONS, VDSO_TEXT } from './vdso_text';

const SONAME = 'linux-vdso.so.1';
/** [vvar]'s size: the data page and one past the data's end (mapVdso). */
const VVAR_SIZE = 2 * PAGE_SIZE;
const VERSION = 'LINUX_2.6';

const PT_LOAD = 1, PT_DYNAMIC = 2, PF_X = 1, PF_R = 4;
const DT_NULL = 0, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6, DT_STRSZ = 10, DT_SYMENT = 11, DT_SONAME = 14;
const DT_VERSYM = 0x6ffffff0, DT_VERDEF = 0x6ffffffc, DT_VERDEFNUM = 0x6ffffffd;
const STB_GLOBAL = 1, STB_WEAK = 2, STT_FUNC = 2, VER_FLG_BASE = 1;
const SHT_PROGBITS = 1, SHT_STRTAB = 3, SHT_HASH = 5, SHT_DYNAMIC = 6, SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd, SHT_GNU_VERSYM = 0x6fffffff;
const SHF_ALLOC = 2, SHF_EXECINSTR = 4;

/** The SysV ELF hash (DT_HASH buckets, vd_hash). */
export function elfHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** A growing image with aligned chunks at known offsets. */
class Image {
  readonly buf = new Uint8Array(PAGE_SIZE);
  readonly v = new DataView(this.buf.buffer);
  end = 0;

  /** Reserve len bytes aligned to align; returns their offset. */
  take(len: number, align: number): number {
    const at = Math.ceil(this.end / align) * align;
    if (at + len > this.buf.length) throw new Error('vdso image does not fit a page');
    this.end = at + len;
    return at;
  }
}

/** A string table: offsets of the names added. */
class StrTab {
  private text = '\0';
  private readonly at = new Map<string, number>();
  add(s: string): number {
    let o = this.at.get(s);
    if (o === undefined) {
      o = this.text.length;
      this.text += `${s}\0`;
      this.at.set(s, o);
    }
    return o;
  }
  get bytes(): Uint8Array { return new Uint8Array(Buffer.from(this.text, 'latin1')); }
}

function buildImage(): Uint8Array {
  const img = new Image();
  const v = img.v;
  const phnum = 2;
  img.take(64, 8); // ELF header
  const phoff = img.take(56 * phnum, 8);

  // Symbols: the plain names are weak aliases of the __vdso_ ones, as in Linux.
  const dynstr = new StrTab();
  const soname = dynstr.add(SONAME);
  const version = dynstr.add(VERSION);
  const syms: { name: number; hashName: string; bind: number; fn: number }[] = [];
  VDSO_FUNCTIONS.forEach(([name], fn) => {
    syms.push({ name: dynstr.add(name), hashName: name, bind: STB_WEAK, fn });
    syms.push({ name: dynstr.add(`__vdso_${name}`), hashName: `__vdso_${name}`, bind: STB_GLOBAL, fn });
  });
  const nsyms = syms.length + 1;
  const strBytes = dynstr.bytes;
  const strOff = img.take(strBytes.length, 1);
  img.buf.set(strBytes, strOff);

  const hashOff = img.take((2 + 2 * nsyms) * 4, 8);
  const symOff = img.take(24 * nsyms, 8);
  const versymOff = img.take(2 * nsyms, 2);
  const verdefOff = img.take(2 * 28, 4);
  const ndyn = 10;
  const dynOff = img.take(16 * ndyn, 8);
  const textOff = img.take(VDSO_TEXT.length, 16);
  const textIndex = 6; // .text in the section headers below

  img.buf.set(VDSO_TEXT, textOff);

  // .dynsym (entry 0 is the null symbol) and .hash
  const nbucket = nsyms;
  const buckets = new Uint32Array(nbucket), chains = new Uint32Array(nsyms);
  syms.forEach((s, i) => {
    const idx = i + 1;
    const at = symOff + 24 * idx;
    v.setUint32(at, s.name, true);
    img.buf[at + 4] = (s.bind << 4) | STT_FUNC;
    img.buf[at + 5] = 0; // STV_DEFAULT
    v.setUint16(at + 6, textIndex, true);
    const [, off] = VDSO_FUNCTIONS[s.fn];
    const next = VDSO_FUNCTIONS[s.fn + 1]?.[1] ?? VDSO_TEXT.length;
    v.setBigUint64(at + 8, BigInt(textOff + off), true);
    v.setBigUint64(at + 16, BigInt(next - off), true);
    const b = elfHash(s.hashName) % nbucket;
    chains[idx] = buckets[b];
    buckets[b] = idx;
  });
  v.setUint32(hashOff, nbucket, true);
  v.setUint32(hashOff + 4, nsyms, true);
  buckets.forEach((x, i) => v.setUint32(hashOff + 8 + 4 * i, x, true));
  chains.forEach((x, i) => v.setUint32(hashOff + 8 + 4 * nbucket + 4 * i, x, true));

  // .gnu.version: every symbol is LINUX_2.6 (index 2); .gnu.version_d: the base, then it.
  for (let i = 1; i < nsyms; i++) v.setUint16(versymOff + 2 * i, 2, true);
  const verdef = (at: number, flags: number, ndx: number, name: string, nameOff: number, last: boolean): void => {
    v.setUint16(at, 1, true); // vd_version
    v.setUint16(at + 2, flags, true);
    v.setUint16(at + 4, ndx, true);
    v.setUint16(at + 6, 1, true); // vd_cnt
    v.setUint32(at + 8, elfHash(name), true);
    v.setUint32(at + 12, 20, true); // vd_aux: the Verdaux right after
    v.setUint32(at + 16, last ? 0 : 28, true); // vd_next
    v.setUint32(at + 20, nameOff, true); // vda_name
    v.setUint32(at + 24, 0, true); // vda_next
  };
  verdef(verdefOff, VER_FLG_BASE, 1, SONAME, soname, false);
  verdef(verdefOff + 28, 0, 2, VERSION, version, true);

  // .dynamic: addresses are offsets (the image is linked at 0).
  const dyn: [number, number][] = [
    [DT_HASH, hashOff], [DT_STRTAB, strOff], [DT_SYMTAB, symOff], [DT_STRSZ, strBytes.length],
    [DT_SYMENT, 24], [DT_SONAME, soname], [DT_VERSYM, versymOff], [DT_VERDEF, verdefOff],
    [DT_VERDEFNUM, 2], [DT_NULL, 0],
  ];
  dyn.forEach(([tag, val], i) => {
    v.setBigUint64(dynOff + 16 * i, BigInt(tag), true);
    v.setBigUint64(dynOff + 16 * i + 8, BigInt(val), true);
  });

  // Section headers, for tools that read them (the loaders use the program headers).
  const shstr = new StrTab();
  const sections: { name: string; type: number; flags: number; off: number; size: number; link: number;
    info: number; align: number; entsize: number }[] = [
    { name: '', type: 0, flags: 0, off: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 },
    { name: '.hash', type: SHT_HASH, flags: SHF_ALLOC, off: hashOff, size: (2 + 2 * nsyms) * 4, link: 2, info: 0, align: 8, entsize: 4 },
    { name: '.dynsym', type: SHT_DYNSYM, flags: SHF_ALLOC, off: symOff, size: 24 * nsyms, link: 3, info: 1, align: 8, entsize: 24 },
    { name: '.dynstr', type: SHT_STRTAB, flags: SHF_ALLOC, off: strOff, size: strBytes.length, link: 0, info: 0, align: 1, entsize: 0 },
    { name: '.gnu.version', type: SHT_GNU_VERSYM, flags: SHF_ALLOC, off: versymOff, size: 2 * nsyms, link: 2, info: 0, align: 2, entsize: 2 },
    { name: '.gnu.version_d', type: SHT_GNU_VERDEF, flags: SHF_ALLOC, off: verdefOff, size: 56, link: 3, info: 2, align: 4, entsize: 0 },
    { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, off: textOff, size: VDSO_TEXT.length, link: 0, info: 0, align: 16, entsize: 0 },
    { name: '.dynamic', type: SHT_DYNAMIC, flags: SHF_ALLOC, off: dynOff, size: 16 * ndyn, link: 3, info: 0, align: 8, entsize: 16 },
    { name: '.shstrtab', type: SHT_STRTAB, flags: 0, off: 0, size: 0, link: 0, info: 0, align: 1, entsize: 0 },
  ];
  for (const s of sections) shstr.add(s.name);
  const shstrBytes = shstr.bytes;
  const shstrOff = img.take(shstrBytes.length, 1);
  img.buf.set(shstrBytes, shstrOff);
  const shstrSec = sections[sections.length - 1];
  shstrSec.off = shstrOff;
  shstrSec.size = shstrBytes.length;
  const shoff = img.take(64 * sections.length, 8);
  sections.forEach((s, i) => {
    const at = shoff + 64 * i;
    v.setUint32(at, shstr.add(s.name), true);
    v.setUint32(at + 4, s.type, true);
    v.setBigUint64(at + 8, BigInt(s.flags), true);
    v.setBigUint64(at + 16, BigInt((s.flags & SHF_ALLOC) !== 0 ? s.off : 0), true); // sh_addr
    v.setBigUint64(at + 24, BigInt(s.off), true);
    v.setBigUint64(at + 32, BigInt(s.size), true);
    v.setUint32(at + 40, s.link, true);
    v.setUint32(at + 44, s.info, true);
    v.setBigUint64(at + 48, BigInt(s.align), true);
    v.setBigUint64(at + 56, BigInt(s.entsize), true);
  });

  // The ELF header and the program headers.
  img.buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELFCLASS64, little-endian, EV_CURRENT
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(textOff), true); // e_entry (unused)
  v.setBigUint64(32, BigInt(phoff), true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, phnum, true);
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, sections.length, true);
  v.setUint16(62, sections.length - 1, true); // e_shstrndx
  const phdr = (at: number, type: number, flags: number, off: number, size: number, align: number): void => {
    v.setUint32(at, type, true);
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(off), true); // p_offset
    v.setBigUint64(at + 16, BigInt(off), true); // p_vaddr
    v.setBigUint64(at + 24, BigInt(off), true); // p_paddr
    v.setBigUint64(at + 32, BigInt(size), true); // p_filesz
    v.setBigUint64(at + 40, BigInt(size), true); // p_memsz
    v.setBigUint64(at + 48, BigInt(align), true);
  };
  phdr(phoff, PT_LOAD, PF_R | PF_X, 0, img.end, PAGE_SIZE);
  phdr(phoff + 56, PT_DYNAMIC, PF_R, dynOff, 16 * ndyn, 8);
  return img.buf;
}

let image: Uint8Array | null = null;

/** The vDSO image (one page), built on first use. */
export function vdsoImage(): Uint8Array {
  image ??= buildImage();
  return image;
}

const backing: MappingBacking = {
  name: '[vdso]',
  special: true,
  fill: (mf, fileOffset, mfOffset, length) => {
    const img = vdsoImage();
    if (fileOffset < img.length) mf.write(mfOffset, img.subarray(fileOffset, Math.min(img.length, fileOffset + length)));
  },
  size: () => PAGE_SIZE,
};

/** Map [vvar] (`vvar`, kernel/vvar_page.ts) and the vDSO just above it into a fresh address
 *  space; returns the vDSO's address (AT_SYSINFO_EHDR). [vvar] is two pages, as the first two
 *  of Linux's: the data page, then one that faults when read (Linux's time-namespace page,
 *  for a process outside one), so that what lies readable around the vDSO is as there. */
export function mapVdso(mm: MemoryManager, vvar: MappingBacking): number {
  // One reservation for all three pages: the vDSO's code finds the data two pages below it.
  const at = mm.mmap(0, 3 * PAGE_SIZE, PROT_READ, MAP_SHARED, vvar, 0, PROT_READ);
  mm.mmap(at + VVAR_SIZE, PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, backing, 0);
  // glibc reads it (its ELF headers, for the vDSO's symbols) before main: filled now, in exec's
  // batch, rather than by a fault; the data page too, which every clock read needs.
  mm.populateRange(at, at + PAGE_SIZE);
  mm.populateRange(at + VVAR_SIZE, at + VVAR_SIZE + PAGE_SIZE);
  return at + VVAR_SIZE;
}

/** vdso_join_timens: a process entering another time namespace maps that namespace's data
 *  page wherever it has one ([vvar], moved or not), with the same protections. */
export function switchVvar(mm: MemoryManager, vvar: MappingBacking): void {
  const olds = [...mm.vmas.overlapping(mm.minAddr, mm.maxAddr)].filter((v) => v.backing?.vvar === true);
  for (const v of olds) {
    mm.mmap(v.start, v.end - v.start, v.prot, MAP_SHARED | MAP_FIXED, vvar, v.offsetAt(v.start), PROT_READ);
  }
}
