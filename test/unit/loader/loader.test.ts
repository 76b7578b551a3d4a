import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadExecutable, type LoadArgs, type LoadableFile } from '../../../ts/loader/loader';
import { PREFAULT_MAX, PREFAULT_SHARED_MAX } from '../../../ts/loader/map_elf';
import { openHostFile } from '../../../ts/loader/host_file';
import type { MemoryManager } from '../../../ts/mm/memory_manager';
import type { MappingBacking } from '../../../ts/mm/backing';
import { pageCacheOf } from '../../../ts/mm/page_cache';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';
import { E2BIG, EACCES, EFAULT, ELIBBAD, ENOENT, ENOEXEC } from '../../../ts/abi/linux/errno';
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2, AT_NULL,
  AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_UID,
} from '../../../ts/loader/auxv';
import { PAGE } from '../mm/fake_native';
import { errnoOf, newMM } from '../mm/helpers';
import {
  PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, buildElf, fileByte, memFile, writeTemp, type ElfSpec,
} from './elf_builder';

const random = new Uint8Array(16).map((_, i) => 0xa0 + i);

/** A data page of zeros: mode 0, every vDSO call makes the syscall. */
const noVvar: MappingBacking = { name: '[vvar]', vvar: true, fill: () => {}, size: () => 4096 };

function args(over: Partial<LoadArgs> = {}): LoadArgs {
  return {
    argv: ['prog', 'arg one', 'ünï'], envp: ['A=1', 'EMPTY='], execfn: '/bin/prog', random,
    uid: 1000, euid: 1001, gid: 100, egid: 101, secure: false, hwcap: 0x178bfbff, clockTicks: 100,
    platform: 'x86_64', vvar: noVvar, ...over,
  };
}

const noInterp = (p: string): LoadableFile => { throw new Error(`unexpected interpreter ${p}`); };

/** A static ET_EXEC: text at 0x400000 (headers included), data+bss at 0x402100. */
const execSpec: ElfSpec = {
  type: 2, entry: 0x401000, size: 0x3000,
  phdrs: [
    { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: 0x1800, memsz: 0x1800 },
    { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x2100, vaddr: 0x402100, filesz: 0x200, memsz: 0x3000 },
    { type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0, vaddr: 0, filesz: 0, memsz: 0 },
  ],
};

/** A static ET_EXEC of textSize bytes of text at 0x400000, then data + bss of a few pages. */
function textAndDataSpec(textSize: number): ElfSpec {
  return {
    type: 2, entry: 0x401000, size: textSize + 0x2000,
    phdrs: [
      { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: textSize, memsz: textSize },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: textSize + 0x100, vaddr: 0x400000 + textSize + 0x1100, filesz: 0x200, memsz: 0x3000 },
    ],
  };
}

interface Frame { argc: number; argv: string[]; envp: string[]; auxv: Map<number, number>; auxvList: bigint[] }

/** Read the initial stack back as a program would. */
function readFrame(mm: MemoryManager, sp: number): Frame {
  const argc = Number(mm.readU64(sp));
  const argv: string[] = [];
  let at = sp + 8;
  for (let i = 0; i < argc; i++, at += 8) argv.push(mm.readCString(mm.readPtr(at), 4096));
  expect(mm.readPtr(at)).toBe(0);
  at += 8;
  const envp: string[] = [];
  for (let p = mm.readPtr(at); p !== 0; at += 8, p = mm.readPtr(at)) envp.push(mm.readCString(p, 4096));
  at += 8;
  const auxv = new Map<number, number>();
  const auxvList: bigint[] = [];
  for (;;) {
    const type = mm.readU64(at);
    const value = mm.readU64(at + 8);
    auxvList.push(type, value);
    at += 16;
    if (type === 0n) break;
    expect(auxv.has(Number(type))).toBe(false);
    auxv.set(Number(type), Number(value));
  }
  return { argc, argv, envp, auxv, auxvList };
}

describe('loadExecutable: static ET_EXEC from a host file', () => {
  const exePath = writeTemp(buildElf(execSpec));

  it('maps the segments, clips the last file page and zeroes bss', () => {
    const { mm, mf } = newMM();
    const { entry } = loadExecutable(mm, openHostFile(exePath), noInterp, args());
    expect(entry).toBe(0x401000);
    expect(Array.from(mm.copyIn(0x400000, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(mm.copyIn(0x401800 - 1, 1)[0]).toBe(fileByte(0x17ff));
    // Data: the file bytes up to p_filesz, zero after, although the file has more bytes.
    const data = mm.copyIn(0x402000, PAGE);
    expect(data[0x100]).toBe(fileByte(0x2100));
    expect(data[0x2ff]).toBe(fileByte(0x22ff));
    expect(data.subarray(0x300).every((b) => b === 0)).toBe(true);
    expect(mm.copyIn(0x403000, 0x3000).every((b) => b === 0)).toBe(true);
    mm.copyOut(0x405000, new Uint8Array([1])); // bss is writable
    expect(errnoOf(() => mm.copyOut(0x400000, new Uint8Array([1])))).toBe(EFAULT); // text is not
    expect(mm.vmas.find(0x400000)?.prot).toBe(PROT_READ | PROT_EXEC);
    expect(mm.brkStart).toBe(0x406000);
    expect(mm.brkEnd).toBe(0x406000);
    expect(mm.exePath).toBe(exePath);
    mm.release();
    // What is left is the page cache's (the read-only text page), until it lets go.
    expect(mf.allocatedBytes()).toBe(pageCacheOf(mf).cachedBytes);
    pageCacheOf(mf).shrink();
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('fills segments up to PREFAULT_MAX at once, and leaves larger ones to fault in', () => {
    // Text of PREFAULT_SHARED_MAX + a page (lazy), data + bss of a few pages (filled with the file's bytes).
    const textSize = PREFAULT_SHARED_MAX + PAGE;
    const { mm } = newMM();
    loadExecutable(mm, openHostFile(writeTemp(buildElf(textAndDataSpec(textSize)))), noInterp, args());
    const dataStart = 0x400000 + textSize + 0x1000;
    expect(Array.from(mm.mincore(dataStart, 0x4000))).toEqual([1, 1, 1, 1]);
    expect(Array.from(mm.mincore(0x400000, textSize)).every((b) => b === 0)).toBe(true);
    // What was filled early is the file's, as a fault would have made it.
    const data = mm.copyIn(dataStart, PAGE);
    expect(data[0x100]).toBe(fileByte(textSize + 0x100));
    expect(data[0x2ff]).toBe(fileByte(textSize + 0x2ff));
    expect(data.subarray(0x300).every((b) => b === 0)).toBe(true);
    mm.release();
  });

  it('maps read-only segments up to PREFAULT_SHARED_MAX at once, with the page cache\'s pages', () => {
    // Text of PREFAULT_MAX + a page: past the private prefault, within the shared one.
    const textSize = PREFAULT_MAX + PAGE;
    const { mm, mf } = newMM();
    loadExecutable(mm, openHostFile(writeTemp(buildElf(textAndDataSpec(textSize)))), noInterp, args());
    expect(Array.from(mm.mincore(0x400000, textSize)).every((b) => b === 1)).toBe(true);
    const prot = new Int32Array(1);
    for (let at = 0x400000; at < 0x400000 + textSize; at += PAGE) {
      const off = mm.addressSpace.lookup(at, prot);
      // The cache's page, mapped without write (copy-on-write for the patcher or a debugger).
      expect(pageCacheOf(mf).holds(off)).toBe(true);
      expect(prot[0] & PROT_WRITE).toBe(0);
    }
    expect(mm.copyIn(0x400000 + textSize - 1, 1)[0]).toBe(fileByte(textSize - 1));
    mm.release();
    pageCacheOf(mf).shrink();
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('maps small read-only data from the page cache, and copies small text and data', () => {
    // execSpec's text (R+X) is copied for the patcher; a read-only segment of two pages is
    // the cache's; the data page is the program's own.
    const spec: ElfSpec = {
      ...execSpec, size: 0x5000,
      phdrs: [
        execSpec.phdrs[0],
        { type: PT_LOAD, flags: PF_R, offset: 0x3000, vaddr: 0x403000, filesz: 0x2000, memsz: 0x2000 },
        { ...execSpec.phdrs[1], offset: 0x2100, vaddr: 0x405100 },
      ],
    };
    const { mm, mf } = newMM();
    loadExecutable(mm, openHostFile(writeTemp(buildElf(spec))), noInterp, args());
    const prot = new Int32Array(1);
    const cached = (addr: number): boolean => pageCacheOf(mf).holds(mm.addressSpace.lookup(addr, prot));
    expect([0x403000, 0x404000].map(cached)).toEqual([true, true]);
    expect(prot[0] & PROT_WRITE).toBe(0);
    expect([0x400000, 0x401000, 0x405000].map(cached)).toEqual([false, false, false]);
    expect(mm.copyIn(0x404fff, 1)[0]).toBe(fileByte(0x4fff));
    mm.release();
  });

  it('segments hold the file while they map it (pages are filled after exec lets go of it)', () => {
    const { mm } = newMM();
    const file = memFile('/bin/prog', buildElf(execSpec));
    let held = 0;
    const backing = {
      ...file.backing,
      hold: () => { held++; },
      drop: () => { held--; },
    };
    loadExecutable(mm, { ...file, backing }, noInterp, args());
    // One hold per file-backed VMA (text and the file part of data), dropped with them.
    expect(held).toBe(2);
    mm.release();
    expect(held).toBe(0);
  });

  it('builds argv, envp and auxv as Linux does', () => {
    const { mm } = newMM();
    const { sp } = loadExecutable(mm, openHostFile(exePath), noInterp, args());
    expect(sp % 16).toBe(0);
    const f = readFrame(mm, sp);
    expect(f.argc).toBe(3);
    expect(f.argv).toEqual(['prog', 'arg one', 'ünï']);
    expect(f.envp).toEqual(['A=1', 'EMPTY=']);
    const want: [number, number][] = [
      [AT_PHDR, 0x400040], [AT_PHENT, 56], [AT_PHNUM, 3], [AT_PAGESZ, 4096], [AT_BASE, 0], [AT_FLAGS, 0],
      [AT_ENTRY, 0x401000], [AT_UID, 1000], [AT_EUID, 1001], [AT_GID, 100], [AT_EGID, 101], [AT_SECURE, 0],
      [AT_HWCAP, 0x178bfbff], [AT_HWCAP2, 0], [AT_CLKTCK, 100],
    ];
    for (const [type, value] of want) expect([type, f.auxv.get(type)]).toEqual([type, value]);
    expect(mm.copyIn(f.auxv.get(AT_RANDOM)!, 16)).toEqual(random);
    expect(mm.readCString(f.auxv.get(AT_EXECFN)!, 4096)).toBe('/bin/prog');
    expect(mm.readCString(f.auxv.get(AT_PLATFORM)!, 4096)).toBe('x86_64');
    expect(f.auxvList[f.auxvList.length - 2]).toBe(BigInt(AT_NULL));
    expect(mm.auxv).toEqual(f.auxvList);
    // The recorded argument and environment areas hold the strings back to back.
    const argArea = mm.copyIn(mm.argStart, mm.argEnd - mm.argStart);
    expect(Buffer.from(argArea).toString('utf8')).toBe('prog\0arg one\0ünï\0');
    expect(mm.envStart).toBe(mm.argEnd);
    expect(Buffer.from(mm.copyIn(mm.envStart, mm.envEnd - mm.envStart)).toString()).toBe('A=1\0EMPTY=\0');
    expect(mm.readU64(mm.stackTop - 8)).toBe(0n);
    // The stack: growsdown, not executable (PT_GNU_STACK without PF_X), below the top.
    const stack = mm.vmas.find(sp)!;
    expect(stack.growsDown).toBe(true);
    expect(stack.prot).toBe(PROT_READ | PROT_WRITE);
    expect(stack.end).toBe(mm.stackTop);
    expect(mm.mmapBase).toBeLessThan(stack.start - mm.stackLimit);
  });

  it('gives an executable stack when PT_GNU_STACK asks', () => {
    const spec = { ...execSpec, phdrs: execSpec.phdrs.map((p) => p.type === PT_GNU_STACK ? { ...p, flags: PF_R | PF_W | PF_X } : p) };
    const { mm } = newMM();
    const { sp } = loadExecutable(mm, memFile('/x', buildElf(spec)), noInterp, args());
    expect(mm.vmas.find(sp)?.prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
  });

  it('E2BIG for arguments beyond the limit', () => {
    const { mm } = newMM();
    expect(errnoOf(() => loadExecutable(mm, memFile('/x', buildElf(execSpec)), noInterp,
      args({ argv: ['x'.repeat(200_000)] })))).toBe(E2BIG);
    const { mm: mm2 } = newMM();
    expect(errnoOf(() => loadExecutable(mm2, memFile('/x', buildElf(execSpec)), noInterp,
      args({ envp: new Array(60_000).fill('ABCDEFGHIJKLMNOPQRSTUVWXYZ=0123456789') })))).toBe(E2BIG);
  });
});

describe('loadExecutable: ET_DYN', () => {
  const pieSpec: ElfSpec = {
    type: 3, entry: 0x1040, size: 0x2000,
    phdrs: [
      { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0, filesz: 0x1100, memsz: 0x1100 },
      { type: PT_LOAD, flags: PF_R | PF_W, offset: 0x1100, vaddr: 0x2100, filesz: 0x80, memsz: 0x1000 },
    ],
  };

  it('loads a static PIE at the ELF_ET_DYN_BASE', () => {
    const { mm } = newMM();
    const base = 0x5555_5555_4000;
    const { entry, sp } = loadExecutable(mm, memFile('/pie', buildElf(pieSpec)), noInterp, args());
    expect(entry).toBe(base + 0x1040);
    const f = readFrame(mm, sp);
    expect(f.auxv.get(AT_PHDR)).toBe(base + 64);
    expect(f.auxv.get(AT_ENTRY)).toBe(base + 0x1040);
    expect(f.auxv.get(AT_BASE)).toBe(0);
    expect(mm.readU32(base)).toBe(0x464c457f);
    expect(mm.copyIn(base + 0x2100, 1)[0]).toBe(fileByte(0x1100));
    expect(mm.copyIn(base + 0x2180, 1)[0]).toBe(0);
    expect(mm.brkStart).toBe(base + 0x4000);
  });

  it('honours a large p_align', () => {
    const spec = { ...pieSpec, phdrs: pieSpec.phdrs.map((p) => ({ ...p, align: 0x20_0000 })) };
    const { mm } = newMM();
    const { entry } = loadExecutable(mm, memFile('/pie', buildElf(spec)), noInterp, args());
    expect(entry).toBe(0x5555_5540_0000 + 0x1040);
  });

  it('loads the PT_INTERP interpreter below the mmap base and starts there', () => {
    const main = buildElf({ ...pieSpec, phdrs: [
      { type: PT_INTERP, flags: PF_R, offset: 0x300, vaddr: 0x300, filesz: 16, memsz: 16 },
      ...pieSpec.phdrs,
    ] });
    main.set(Buffer.from('/lib/ld-test.so\0'), 0x300);
    const ld = buildElf({ ...pieSpec, entry: 0x1010 });
    const opened: string[] = [];
    const { mm } = newMM();
    const { entry, sp } = loadExecutable(mm, memFile('/pie', main), (p) => {
      opened.push(p);
      return memFile(p, ld);
    }, args());
    expect(opened).toEqual(['/lib/ld-test.so']);
    const f = readFrame(mm, sp);
    const ldBase = f.auxv.get(AT_BASE)!;
    expect(ldBase).toBeGreaterThan(0);
    expect(ldBase + 0x3000).toBeLessThanOrEqual(mm.mmapBase);
    expect(ldBase % PAGE).toBe(0);
    expect(entry).toBe(ldBase + 0x1010);
    expect(f.auxv.get(AT_ENTRY)).toBe(0x5555_5555_4000 + 0x1040);
    expect(f.auxv.get(AT_PHNUM)).toBe(3);
    expect(mm.readU32(ldBase)).toBe(0x464c457f);
  });

  it('ELIBBAD for a malformed interpreter', () => {
    const main = buildElf({ ...pieSpec, phdrs: [
      { type: PT_INTERP, flags: PF_R, offset: 0x300, vaddr: 0x300, filesz: 4, memsz: 4 }, ...pieSpec.phdrs,
    ] });
    main.set(Buffer.from('/ld\0'), 0x300);
    const bad = buildElf({ ...pieSpec, machine: 3 });
    const { mm } = newMM();
    expect(errnoOf(() => loadExecutable(mm, memFile('/pie', main), (p) => memFile(p, bad), args()))).toBe(ELIBBAD);
  });
});

describe('loadExecutable: malformed images are ENOEXEC', () => {
  const load = (image: Uint8Array): number => {
    const { mm } = newMM();
    return errnoOf(() => loadExecutable(mm, memFile('/bad', image), (p) => memFile(p, buildElf(execSpec)), args()));
  };
  const withPhdrs = (phdrs: ElfSpec['phdrs']): Uint8Array => buildElf({ ...execSpec, phdrs });
  const load0 = execSpec.phdrs[0];
  const cases: [string, () => Uint8Array][] = [
    ['bad magic', () => { const b = buildElf(execSpec); b[1] = 0; return b; }],
    ['32-bit class', () => buildElf({ ...execSpec, klass: 1 })],
    ['big endian', () => { const b = buildElf(execSpec); b[5] = 2; return b; }],
    ['ET_REL', () => buildElf({ ...execSpec, type: 1 })],
    ['wrong machine', () => buildElf({ ...execSpec, machine: 3 })],
    ['wrong phentsize', () => buildElf({ ...execSpec, phentsize: 32 })],
    ['no program headers', () => buildElf({ ...execSpec, phnum: 0 })],
    ['too many program headers', () => buildElf({ ...execSpec, phnum: 1171, size: 70_000 })],
    ['program headers past EOF', () => buildElf({ ...execSpec, phoff: 0x2ff0 })],
    ['truncated header', () => buildElf(execSpec).slice(0, 40)],
    ['no PT_LOAD', () => withPhdrs([execSpec.phdrs[2]])],
    ['overlapping segments', () => withPhdrs([load0, { ...load0, offset: 0x1000, vaddr: 0x401000, filesz: 0x100, memsz: 0x100 }])],
    ['segments out of order', () => withPhdrs([execSpec.phdrs[1], load0])],
    ['segment past EOF', () => withPhdrs([{ ...load0, filesz: 0x3001, memsz: 0x4000 }])],
    ['filesz > memsz', () => withPhdrs([{ ...load0, memsz: 0x100 }])],
    ['offset and address disagree within a page', () => withPhdrs([{ ...load0, vaddr: 0x400010 }])],
    ['address beyond user space', () => withPhdrs([{ ...load0, vaddr: 2 ** 47 }])],
    ['huge 64-bit value', () => withPhdrs([{ ...load0, memsz: 2 ** 60 }])],
    ['interpreter path without NUL', () => {
      const b = withPhdrs([{ type: PT_INTERP, flags: PF_R, offset: 0x300, vaddr: 0, filesz: 8, memsz: 8 }, load0]);
      b.set(Buffer.from('/lib/ldx'), 0x300);
      return b;
    }],
    ['interpreter path too short', () => withPhdrs([{ type: PT_INTERP, flags: PF_R, offset: 0x300, vaddr: 0, filesz: 1, memsz: 1 }, load0])],
  ];
  it.each(cases)('%s', (_name, make) => {
    expect(load(make())).toBe(ENOEXEC);
  });

  it('a well-formed image passes the same harness', () => {
    const { mm } = newMM();
    expect(loadExecutable(mm, memFile('/ok', buildElf(execSpec)), noInterp, args()).entry).toBe(0x401000);
  });
});

describe('openHostFile', () => {
  it('ENOENT, and EACCES for non-executable files and directories', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-hostfile-'));
    expect(errnoOf(() => openHostFile(path.join(dir, 'missing')))).toBe(ENOENT);
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'x', { mode: 0o644 });
    if (process.getuid?.() !== 0) expect(errnoOf(() => openHostFile(plain))).toBe(EACCES);
    expect(errnoOf(() => openHostFile(dir))).toBe(EACCES);
  });

  it('reads short at EOF', () => {
    const p = writeTemp(new Uint8Array([1, 2, 3]));
    const f = openHostFile(p);
    expect(f.size).toBe(3);
    expect(Array.from(f.read(1, 10))).toEqual([2, 3]);
    expect(f.read(5, 10).length).toBe(0);
  });
});
