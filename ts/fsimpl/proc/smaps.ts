// /proc/<pid>/smaps and smaps_rollup (Linux fs/proc/task_mmu.c): each VMA's maps line with
// its resident memory, and the sum. Residency is the platform's mapping table's (a page
// counts from its first touch until unmapped); how many address spaces share a page is not
// tracked, so every resident page counts as this process's own (Pss = Rss, nothing
// Shared_*), anonymous and shmem pages as dirty and file pages as clean.

import type { Task } from '../../kernel/task';
import type { Vma } from '../../mm/vma';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { VSYSCALL_MAPS_LINE, mapsLine, type FileIds } from './task_files';

export type ResidentKind = 'anon' | 'file' | 'shmem';

/** Which of Linux's RSS counters a VMA's resident pages go to: shared anonymous memory and
 *  shared tmpfs/memfd mappings are shmem; a private writable file mapping's pages count as
 *  its own copies (anon), as a written .data is; other file mappings' as file. */
export function residentKind(v: Vma): ResidentKind {
  if (v.shared && (v.backing === null || v.backing.sharedPages !== undefined)) return 'shmem';
  if (v.backing === null || (v.prot & PROT_WRITE) !== 0) return 'anon';
  return 'file';
}

/** VmFlags letters, in show_smap_vma_flags' order, for what a Vma records. */
function vmFlags(v: Vma): string {
  const f: string[] = [];
  if (v.prot & PROT_READ) f.push('rd');
  if (v.prot & PROT_WRITE) f.push('wr');
  if (v.prot & PROT_EXEC) f.push('ex');
  // A shared map of a file not open for writing keeps VM_MAYSHARE but not VM_SHARED.
  if (v.mayWriteShared) f.push('sh');
  if (v.maxProt & PROT_READ) f.push('mr');
  if (v.maxProt & PROT_WRITE) f.push('mw');
  if (v.maxProt & PROT_EXEC) f.push('me');
  if (v.shared || v.sharedSnapshot) f.push('ms');
  if (v.growsDown) f.push('gd');
  if (v.locked !== 0) f.push('lo');
  if (v.dontFork) f.push('dc');
  // VM_ACCOUNT: private memory that is (or was made) writable is charged at mmap.
  if (!v.shared && (v.prot & PROT_WRITE) !== 0) f.push('ac');
  if (v.wipeOnFork) f.push('wf');
  return f.join(' ');
}

interface Usage { rss: number; anon: number; file: number; shmem: number; locked: number }

function usageOf(t: Task, v: Vma): Usage {
  const rss = t.mm.residentBytes(v.start, v.length);
  const kind = residentKind(v);
  return {
    rss, anon: kind === 'anon' ? rss : 0, file: kind === 'file' ? rss : 0, shmem: kind === 'shmem' ? rss : 0,
    locked: v.locked !== 0 ? rss : 0,
  };
}

const kb = (n: number): string => `${String(Math.floor(n / 1024)).padStart(8)} kB`;

function rows(names: [string, number][]): string {
  return names.map(([k, n]) => `${`${k}:`.padEnd(16)}${kb(n)}\n`).join('');
}

/** The counters both files print after Pss (smaps with Pss_Dirty first, rollup with the
 *  Pss split by kind before it). */
function tail(u: Usage): [string, number][] {
  const dirty = u.anon + u.shmem;
  return [
    ['Shared_Clean', 0], ['Shared_Dirty', 0], ['Private_Clean', u.file], ['Private_Dirty', dirty],
    ['Referenced', u.rss], ['Anonymous', u.anon], ['KSM', 0], ['LazyFree', 0], ['AnonHugePages', 0],
    ['ShmemPmdMapped', 0], ['FilePmdMapped', 0], ['Shared_Hugetlb', 0], ['Private_Hugetlb', 0],
    ['Swap', 0], ['SwapPss', 0], ['Locked', u.locked],
  ];
}

export function smaps(t: Task, rollup: boolean): string {
  const vmas = t.mm.vmas.all();
  if (!rollup) {
    let out = '';
    const ids: FileIds = new Map();
    for (const v of vmas) {
      const u = usageOf(t, v);
      out += mapsLine(t.mm, v, ids);
      out += rows([['Size', v.length], ['KernelPageSize', 4096], ['MMUPageSize', 4096], ['Rss', u.rss], ['Pss', u.rss],
        ['Pss_Dirty', u.anon + u.shmem], ...tail(u)]);
      out += `THPeligible:    0\nVmFlags: ${vmFlags(v)} \n`;
    }
    if (vmas.length === 0) return out;
    const none: Usage = { rss: 0, anon: 0, file: 0, shmem: 0, locked: 0 };
    return out + VSYSCALL_MAPS_LINE + rows([['Size', 4096], ['KernelPageSize', 4096], ['MMUPageSize', 4096], ['Rss', 0],
      ['Pss', 0], ['Pss_Dirty', 0], ...tail(none)]) + 'THPeligible:    0\nVmFlags: ex \n';
  }
  if (vmas.length === 0) return '';
  const sum: Usage = { rss: 0, anon: 0, file: 0, shmem: 0, locked: 0 };
  for (const v of vmas) {
    const u = usageOf(t, v);
    sum.rss += u.rss; sum.anon += u.anon; sum.file += u.file; sum.shmem += u.shmem; sum.locked += u.locked;
  }
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const head = `${hex(vmas[0].start)}-${hex(vmas[vmas.length - 1].end)} ---p 00000000 00:00 0`;
  return `${head.padEnd(72)} [rollup]\n` + rows([['Rss', sum.rss], ['Pss', sum.rss], ['Pss_Dirty', sum.anon + sum.shmem],
    ['Pss_Anon', sum.anon], ['Pss_File', sum.file], ['Pss_Shmem', sum.shmem], ...tail(sum)]);
}
