// /proc/<pid>/pagemap (Linux fs/proc/task_mmu.c pagemap_read): one 64-bit entry per virtual
// page, at file offset (address / 4096) * 8: bit 63 present, 61 a file (or shared) page, 56
// mapped only here, 0-54 the page frame. Bit 55 (soft-dirty) stays clear, as in a kernel
// built without CONFIG_MEM_SOFT_DIRTY: nothing here tracks writes since a clear_refs. Opening needs ptrace read access (as
// mem); the frame is shown only to an opener with CAP_SYS_ADMIN, and is then the page's index
// in the memory file (the sandbox's physical memory, the guest-physical frame under KVM).
// Entries are made per read from the address space's own tables; nothing is snapshotted.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { EINVAL } from '../../abi/linux/errno';
import { PROT_WRITE } from '../../abi/linux/mm';
import { S_IFREG } from '../../abi/linux/stat';
import type { MemoryManager } from '../../mm/memory_manager';
import type { Vma } from '../../mm/vma';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { KInode, type KAttr } from '../kernfs/inode';
import type { KernFS } from '../kernfs/kernfs';
import { accessedTask, memLseek } from './mem';

const PAGE = 4096;
const ENTRY = 8;
/** TASK_SIZE with 4-level paging: where the entries end. */
const TASK_SIZE = 0x7ffffffff000;
const PM_PRESENT = 1n << 63n, PM_FILE = 1n << 61n, PM_MMAP_EXCLUSIVE = 1n << 56n;
const PM_PFN_MASK = (1n << 55n) - 1n;

export class PagemapInode extends KInode {
  constructor(fs: KernFS, key: string, private readonly task: () => Task | undefined, attr: KAttr) {
    super(fs, key, S_IFREG | 0o400, attr);
  }

  open(t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    const target = accessedTask(t, this.task);
    // file_ns_capable: the opener's capability decides, whoever reads later.
    return new PagemapFile(flags, vd, target.mm, t?.creds.hasCapability(CAP_SYS_ADMIN) === true);
  }
}

class PagemapFile extends VfsFile {
  override readonly seekable = true;
  private pos = 0;

  constructor(flags: number, vd: VirtualDentry, private readonly mm: MemoryManager, private readonly showPfn: boolean) {
    super(flags, vd);
  }

  override read(_t: Task, dst: Uint8Array, offset: number): number {
    const at = offset >= 0 ? offset : this.pos;
    if (at % ENTRY !== 0 || dst.length % ENTRY !== 0) throw new SyscallError(EINVAL);
    if (this.mm.isReleased) return 0;
    const start = (at / ENTRY) * PAGE;
    if (start >= TASK_SIZE) return 0;
    const end = Math.min(TASK_SIZE, start + (dst.length / ENTRY) * PAGE);
    const n = ((end - start) / PAGE) * ENTRY;
    const out = new DataView(dst.buffer, dst.byteOffset, n);
    dst.fill(0, 0, n);
    for (const v of this.mm.vmas.overlapping(start, end)) {
      const hi = Math.min(v.end, end);
      for (let a = Math.max(v.start, start); a < hi; a += PAGE) {
        out.setBigUint64(((a - start) / PAGE) * ENTRY, this.entry(v, a), true);
      }
    }
    if (offset < 0) this.pos += n;
    return n;
  }

  /** One page's entry (0 where nothing is mapped). A page is the file's while a private mapping has not written it (still
   *  write-protected); a page-cache or shared page carries one reference of its owner's. */
  private entry(v: Vma, addr: number): bigint {
    const pmas = this.mm.pmas;
    const off = pmas.lookup(addr);
    if (off < 0) return 0n;
    const file = v.shared || (v.backing !== null && (pmas.lastProt & PROT_WRITE) === 0);
    let e = PM_PRESENT | (file ? PM_FILE : 0n);
    if (this.mm.mf.refCount(off) - (file ? 1 : 0) === 1) e |= PM_MMAP_EXCLUSIVE;
    if (this.showPfn) e |= BigInt(Math.floor(off / PAGE)) & PM_PFN_MASK;
    return e;
  }

  override lseek(offset: number, whence: number): number {
    this.pos = memLseek(this.pos, offset, whence);
    return this.pos;
  }
}
