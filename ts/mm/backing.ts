// MappingBacking: what a file gives the MemoryManager so that its contents can be mapped.
// The VFS implements it (FileDescription.mappable()); the ELF loader implements it for the
// executable. The MemoryManager never reads files any other way.

import type { NativeMemoryFile } from '../native/addon';
import type { Stat } from '../abi/linux/stat';
import type { FileRmap } from './file_rmap';
import type { Task } from '../kernel/task';

export interface MappingBacking {
  /** Shown in /proc/pid/maps. */
  readonly name: string;
  /** The mapped file as the tree shows it (vma->vm_file's inode): /proc/pid/maps gives its
   *  device and inode number, which tools match against stat() (lsof, perf). mmap and exec
   *  add it; absent for what is no file (the vDSO). */
  readonly inode?: { stat(): Stat };
  /**
   * Copy file bytes [fileOffset, +length) into memory-file [mfOffset, +length). The target
   * pages are freshly allocated and zeroed, so bytes beyond EOF need no writing. Used for
   * MAP_PRIVATE mappings, which get a private copy of each page when it is first touched.
   */
  fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void;
  /**
   * Optional, for MAP_PRIVATE mappings: the memory-file offsets of the pages of [fileOffset,
   * +length) (page aligned) as the file's page cache holds them, one reference taken for the
   * caller on each; -1 for a page that must be copied with fill instead (the clipped last
   * page of an ELF segment, a tmpfs hole), null for all of them. The pages are the file's:
   * mapped without write permission, copied on the first write fault (page_cache.ts).
   */
  privatePages?(mf: NativeMemoryFile, fileOffset: number, length: number): number[] | null;
  /** Optional, for mincore: sets out[i] to 1 for each page of [fileOffset, +out.length pages)
   *  the file holds in memory (its page cache), whoever brought it in. */
  cachedPages?(fileOffset: number, out: Uint8Array): void;
  /** The file cannot change from within the sandbox (the read-only lower layer): a writable
   *  private mapping (a library's data) takes its copies at once, as before, instead of a
   *  write fault per page later; only a host-side change could tell the difference. */
  readonly copyWhenWritable?: boolean;
  /**
   * Optional, for writable MAP_SHARED mappings: the memory-file offset of each page of
   * [fileOffset, +length) (page aligned) of the file's own cache, with one reference taken for
   * the caller on each. Only files whose data lives in the memory file (tmpfs) can offer it.
   * Without it a writable shared mapping is refused with ENODEV, and a read-only one is
   * served like a private one (a snapshot that is never written back; mprotect cannot later
   * make it writable).
   */
  sharedPages?(fileOffset: number, length: number): number[];
  /**
   * A VMA took, or let go of, the file (Linux's vma->vm_file reference): VmaSet calls hold()
   * once for each VMA it keeps with this backing and drop() when that VMA goes (saying
   * whether it is a shared mapping that may write: F_SEAL_WRITE counts those), so that the
   * file's data outlives its last open description and its last name while a mapping shows
   * it (a closed, unlinked /dev/shm file of sem_open, a forked child's shared mapping).
   */
  hold?(writableShared: boolean): void;
  drop?(writableShared: boolean): void;
  /** For a file on a file system that may block (FUSE, NFS: a donated fd whose reads may
   *  stall): reads [fileOffset, +length) and the file's size off the sentry's thread while t
   *  waits, interruptibly, so that the fault's fill and size() that follow take them without
   *  asking the host (task_run's fault path); unstage() forgets them once the fault is done. */
  stage?(t: Task, fileOffset: number, length: number): Promise<void>;
  unstage?(): void;
  /** The file's size now: a page wholly past its end is SIGBUS when touched (filemap_fault).
   *  Without it (the loader's segments), nothing is past the end. */
  size?(): number;
  /** The file's reverse map, one per file whatever backing object carries it: a file that
   *  can shrink under its mappings (truncate) has one and tells it. */
  readonly rmap?: FileRmap;
  /** MADV_REMOVE of a shared mapping: the file frees [fileOffset, +length) as
   *  fallocate(PUNCH_HOLE | KEEP_SIZE) does. Absent where the file system cannot (EOPNOTSUPP). */
  punchHole?(fileOffset: number, length: number): void;
  /** Refuses a mapping of [fileOffset, +length) the file cannot give (throws EINVAL): an
   *  io_uring ring's file maps only its objects, each from its start. */
  checkMap?(fileOffset: number, length: number): void;
  /** /dev/zero: MAP_SHARED gives fresh shared anonymous memory (shmem_zero_setup). */
  readonly sharedAnonymous?: boolean;
  /** A hugetlbfs file: with no huge page pool every mapping fails ENOMEM. */
  readonly hugetlb?: boolean;
  /** The vDSO's data page ([vvar], kernel/vvar_page.ts): a process entering another time
   *  namespace has it replaced by that namespace's (loader/vdso.ts). */
  readonly vvar?: boolean;
  /** A special mapping of the kernel's own ([vdso], [vvar]: VM_DONTEXPAND and the like):
   *  MADV_DODUMP refuses it, and a core dump holds the vDSO whatever the filter says. */
  readonly special?: boolean;
  /** memfd_secret: only MAP_SHARED, and every mapping locked (secretmem_mmap). */
  readonly secret?: boolean;
  /** F_SEAL_WRITE or F_SEAL_FUTURE_WRITE: no new shared mapping may write (memfd seals). */
  writeSealed?(): boolean;
  /** msync of a shared mapping: write what the mapping changed back to the file, for a file
   *  whose shared pages are a copy of it (a gofer file's page cache); absent where the shared
   *  pages are the file itself (tmpfs). */
  sync?(): void;
}
