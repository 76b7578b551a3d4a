// The ELF loader (Linux fs/binfmt_elf.c, gVisor loader): puts an x86-64 ELF executable, its
// interpreter if it names one, the brk area and the initial stack into a fresh
// MemoryManager, and says where to start.
//
// Owns: ELF parsing (elf.ts), segment mapping (map_elf.ts), the initial stack (stack.ts),
// host executables (host_file.ts). Must not touch: tasks and registers (the caller sets rip
// and rsp), the VFS (files arrive as LoadableFile). On failure the MemoryManager is left
// half built: the caller releases it.

import { ELIBBAD, ENOEXEC } from '../abi/linux/errno';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/linux/mm';
import type { MemoryManager } from '../mm/memory_manager';
import { PAGE_SIZE, defaultLayout, pageUp } from '../mm/layout';
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2,
  AT_MINSIGSTKSZ, AT_PAGESZ, AT_SYSINFO_EHDR, AT_RSEQ_ALIGN, AT_RSEQ_FEATURE_SIZE, RSEQ_ALIGN, RSEQ_FEATURE_SIZE, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_UID,
} from './auxv';
import { mapVdso } from './vdso';
import type { MappingBacking } from '../mm/backing';
import { PHDR_SIZE, parseElf, type ElfFile } from './elf';
import type { LoadableFile } from './loadable_file';
import { mapElf } from './map_elf';
import { setupStack } from './stack';

export type { LoadableFile } from './loadable_file';

export interface LoadArgs {
  argv: string[];
  envp: string[];
  /** AT_EXECFN: the path as execve was given it. */
  execfn: string;
  /** 16 random bytes for AT_RANDOM. */
  random: Uint8Array;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  secure: boolean;
  hwcap: number;
  clockTicks: number;
  platform: 'x86_64';
  /** AT_MINSIGSTKSZ (the signal frame size), if the kernel knows it. */
  minSigStkSz?: number;
  /** The vDSO's data page of the time namespace the image runs in (kernel/vvar_page.ts). */
  vvar: MappingBacking;
}

/** An executable checked and its interpreter found: what can fail with an errno before
 *  execve's point of no return (load_elf_binary up to begin_new_exec). */
export interface PreparedExecutable {
  exe: LoadableFile;
  elf: ElfFile;
  interpFile: LoadableFile | null;
  interpElf: ElfFile | null;
}

export function prepareExecutable(exe: LoadableFile, openInterp: (path: string) => LoadableFile): PreparedExecutable {
  const elf = parseElf(exe, ENOEXEC);
  let interpFile: LoadableFile | null = null;
  let interpElf: ElfFile | null = null;
  if (elf.interp !== null) {
    interpFile = openInterp(elf.interp);
    interpElf = parseElf(interpFile, ELIBBAD);
  }
  return { exe, elf, interpFile, interpElf };
}

export function loadExecutable(mm: MemoryManager, exe: LoadableFile, openInterp: (path: string) => LoadableFile,
  args: LoadArgs): { entry: number; sp: number } {
  return mapExecutable(mm, prepareExecutable(exe, openInterp), args);
}

/** Map a prepared executable into mm (fresh, or emptied by resetForExec) and build its stack. */
export function mapExecutable(mm: MemoryManager, p: PreparedExecutable, args: LoadArgs): { entry: number; sp: number } {
  const { exe, elf, interpFile, interpElf } = p;
  const layout = defaultLayout(mm.minAddr, mm.maxAddr, mm.stackLimit);
  mm.stackTop = layout.stackTop;
  mm.mmapBase = layout.mmapBase;
  mm.exePath = exe.path;
  mm.setExeFile(exe.exeFile ?? null);

  const main = mapElf(mm, exe, elf, layout.dynBase);
  mm.brkStart = mm.brkEnd = pageUp(main.end);
  let entry = main.entry;
  let interpBase = 0;
  if (interpFile !== null && interpElf !== null) {
    const interp = mapElf(mm, interpFile, interpElf, null);
    interpBase = interp.bias;
    entry = interp.entry;
  }

  const vdso = mapVdso(mm, args.vvar);
  const stackProt = PROT_READ | PROT_WRITE | (elf.execStack ? PROT_EXEC : 0);
  const sp = setupStack(mm, stackProt, {
    argv: args.argv, envp: args.envp, execfn: args.execfn, platform: args.platform, random: args.random,
  }, (at) => {
    // ARCH_DLINFO first, as create_elf_tables writes it.
    const v: [number, number][] = [[AT_SYSINFO_EHDR, vdso]];
    if (args.minSigStkSz !== undefined) v.push([AT_MINSIGSTKSZ, args.minSigStkSz]);
    v.push(
      [AT_HWCAP, args.hwcap],
      [AT_PAGESZ, PAGE_SIZE],
      [AT_CLKTCK, args.clockTicks],
      [AT_PHDR, main.phdrAddr],
      [AT_PHENT, PHDR_SIZE],
      [AT_PHNUM, elf.phnum],
      [AT_BASE, interpBase],
      [AT_FLAGS, 0],
      [AT_ENTRY, main.entry],
      [AT_UID, args.uid],
      [AT_EUID, args.euid],
      [AT_GID, args.gid],
      [AT_EGID, args.egid],
      [AT_SECURE, args.secure ? 1 : 0],
      [AT_RANDOM, at.random],
      [AT_HWCAP2, 0],
      [AT_EXECFN, at.execfn],
      [AT_PLATFORM, at.platform],
      // create_elf_tables (Linux 6.3+): the rseq area sys_rseq accepts.
      [AT_RSEQ_FEATURE_SIZE, RSEQ_FEATURE_SIZE],
      [AT_RSEQ_ALIGN, RSEQ_ALIGN],
    );
    return v;
  });
  return { entry, sp };
}
