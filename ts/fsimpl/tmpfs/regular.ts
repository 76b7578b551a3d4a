// TmpfsRegular: a regular file whose data lives in memory-file pages, one page per 4 KiB of
// the file, allocated on first write (holes read as zeros). The file holds one reference on
// each page; a MAP_SHARED mapping takes its own (sharedPages), so pages a mapping still uses
// outlive a truncate. The data is freed when the last link and the last open file are gone.
// Pages fallocate made and nothing has written yet are holes to SEEK_DATA/SEEK_HOLE (shmem's
// !uptodate folios), though they count in st_blocks.

import { allocateShrinking, pageCacheOf } from '../../mm/page_cache';
import type { Task } from '../../kernel/task';
import type { NativeMemoryFile } from '../../native/addon';
import { SyscallError } from '../../kernel/syscall_error';
import { EBUSY, EFAULT, EFBIG, EINVAL, ENOMEM, ENOSPC, ENXIO, EPERM } from '../../abi/linux/errno';
import {
  F_ALL_SEALS, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
} from '../../abi/linux/memfd';
import type { SetAttr } from '../../vfs/inode';
import type { MappingBacking } from '../../mm/backing';
import type { FileDescription } from '../../vfs/file_description';
import type { VirtualDentry } from '../../vfs/virtual_dentry';
import { TmpfsInode } from './inode';
import { TmpfsRegularFile } from './regular_file';
import { FileRmap } from '../../mm/file_rmap';
import { decRefPages } from './page_runs';
import type { UserMemory } from '../../mm/copy';

/** One range of application memory (an iovec). */
export interface UserRange { readonly base: number; readonly len: number }

const PAGE = 4096;
/** Most bytes one copy between application memory and the file covers: a write takes pages
 *  a window at a time, and the range checked at once stays as the buffered path's. */
const IO_WINDOW = 1 << 20;
/** Largest file (Linux MAX_LFS_FILESIZE is larger; offsets here must stay exact numbers). */
export const MAX_FILE_SIZE = 2 ** 50;

/**
 * A write that ran out of memory (the sandbox's memory limit) after `written` bytes: an
 * ENOMEM to whoever cannot use a short count, the count and an OOM kill for write(2).
 */
export class OutOfMemoryWrite extends SyscallError {
  constructor(readonly written: number) { super(ENOMEM); }
}

export class TmpfsRegular extends TmpfsInode {
  private readonly pages = new Map<number, number>();
  /** Indices of pages fallocate made that no write has touched yet. */
  private readonly unwritten = new Set<number>();
  private _size = 0;
  protected opens = 0;
  /** The inode's data and charge were given back (it is gone). */
  private freed = false;
  /** VMAs mapping this file (MappingBacking.hold/drop): they keep its data too. */
  private mappers = 0;
  /** Those of them that are shared and may write: F_SEAL_WRITE waits for none. */
  private writableMappers = 0;
  /** Pages come untouched from the memory file, so that the host's residency tells which ones
   *  the application used: a fault maps a window of pages ahead, but shared anonymous memory
   *  (shmem_zero.ts) has in mincore only those touched, as on Linux. */
  freshPages = false;
  /** The address spaces mapping the file, told when it shrinks. */
  private readonly rmap = new FileRmap();
  /** File seals (F_ADD_SEALS): every tmpfs file starts sealed against sealing; memfd_create
   *  with MFD_ALLOW_SEALING clears that. */
  seals = F_SEAL_SEAL;

  get size(): number { return this._size; }
  override get blocks(): number { return this.pages.size * (PAGE / 512); }

  private get mf(): NativeMemoryFile { return this.fs.mf; }

  open(_t: Task | null, vd: VirtualDentry, flags: number): FileDescription {
    this.opens++;
    return new TmpfsRegularFile(flags, vd, this);
  }

  /** A description of this file was released. */
  closed(): void {
    this.opens--;
    this.maybeFree();
  }

  /** The last link is gone: the data and the inode's charge go with the last open file and
   *  mapping (maybeFree). */
  override released(): void {
    this.maybeFree();
  }

  private maybeFree(): void {
    if (this.nlink > 0 || this.opens > 0 || this.mappers > 0 || this.freed) return;
    this.freed = true;
    this.dropPages([...this.pages.keys()]);
    this.unwritten.clear();
    this.fs.freeInode();
    this.freeXattrs();
  }

  /** Gives back the pages at these indices, to the memory file and the mount's size. */
  private dropPages(indices: number[]): void {
    const gone: number[] = [];
    for (const index of indices) {
      const off = this.pages.get(index);
      if (off === undefined) continue;
      gone.push(off);
      this.pages.delete(index);
    }
    this.fs.unchargeBlocks(gone.length);
    decRefPages(this.mf, gone);
  }


  read(dst: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(dst.length, this._size - offset));
    return this.walkRuns(offset, n, false, (page, inPage, _index, len, done) => {
      if (page === undefined) dst.fill(0, done, done + len);
      else this.mf.read(page + inPage, dst.subarray(done, done + len));
      return len;
    });
  }

  write(src: Uint8Array, offset: number): number {
    if ((this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) throw new SyscallError(EPERM);
    if ((this.seals & F_SEAL_GROW) !== 0 && offset + src.length > this._size) throw new SyscallError(EPERM);
    if (offset + src.length > MAX_FILE_SIZE) {
      if (offset >= MAX_FILE_SIZE) throw new SyscallError(EFBIG);
      src = src.subarray(0, MAX_FILE_SIZE - offset);
    }
    if (src.length === 0) return 0;
    this.fillHoles(Math.floor(offset / PAGE), Math.ceil((offset + src.length) / PAGE));
    let i = 0; // kept by the copy, so that memory running out part way knows what was written
    try {
      this.walkRuns(offset, src.length, true, (page, inPage, index, len, done) => {
        this.mf.write(page! + inPage, src.subarray(done, done + len));
        this.markWritten(index, inPage + len);
        i = done + len;
        return len;
      });
    } catch (e) {
      // The mount full part way: what fitted is written (shmem_write_begin's ENOSPC).
      if (e instanceof SyscallError && e.errno === ENOSPC && i > 0) return i;
      if (!(e instanceof SyscallError && e.errno === ENOMEM)) throw e;
      throw new OutOfMemoryWrite(i);
    } finally {
      // What was written stays, as in Linux when memory runs out part way.
      if (offset + i > this._size) this._size = offset + i;
      if (i > 0) this.modified();
    }
    return i;
  }

  /** The run starting at index: pages present and contiguous in the memory file (or, for a
   *  hole, holes), capped at `limit` pages. */
  private runAt(index: number, page: number | undefined, limit: number): number {
    let k = 1;
    if (page === undefined) while (k < limit && !this.pages.has(index + k)) k++;
    else while (k < limit && this.pages.get(index + k) === page + k * PAGE) k++;
    return k;
  }

  /**
   * Walks [at, at + want) a run at a time (see runAt): `copy` moves one run — `page` is its
   * first page's memory-file offset, undefined for a hole unless `allocate` gives holes pages
   * — and returns the bytes it moved; a short count ends the walk. Returns the bytes moved.
   */
  private walkRuns(at: number, want: number, allocate: boolean,
    copy: (page: number | undefined, inPage: number, index: number, len: number, done: number) => number): number {
    let done = 0;
    while (done < want) {
      const pos = at + done;
      const inPage = pos % PAGE;
      const index = (pos - inPage) / PAGE;
      const page = allocate ? this.page(index) : this.pages.get(index);
      const len = Math.min(want - done, this.runAt(index, page, Math.ceil((inPage + want - done) / PAGE)) * PAGE - inPage);
      const n = copy(page, inPage, index, len, done);
      done += n;
      if (n < len) break;
    }
    return done;
  }

  /** The pages from index that `bytes` (counted from index's first byte) reached now hold data. */
  private markWritten(index: number, bytes: number): void {
    for (let k = 0; k * PAGE < bytes; k++) this.unwritten.delete(index + k);
  }

  /**
   * read(2) from offset straight into the application's ranges, a stretch of contiguous
   * pages per copy (holes read as zeros). The bytes delivered: short at the end of the file
   * or at a page the application cannot write; EFAULT if that is the first.
   */
  readToUser(mm: UserMemory, ranges: readonly UserRange[], offset: number): number {
    let done = 0;
    for (const r of ranges) {
      let inR = 0;
      while (inR < r.len) {
        const at = offset + done;
        const want = Math.min(r.len - inR, this._size - at, IO_WINDOW);
        if (want <= 0) return done;
        const base = r.base + inR;
        const n = this.walkRuns(at, want, false, (page, inPage, _index, len, d) => {
          try {
            return page === undefined ? mm.zeroOutSome(base + d, len) : mm.copyOutFromFile(base + d, this.mf, page + inPage, len);
          } catch (e) {
            if (done + d > 0) return 0; // a fault after some bytes: the count so far
            throw e;
          }
        });
        done += n;
        inR += n;
        if (n < want) return done;
      }
    }
    return done;
  }

  /**
   * write(2) at offset straight from the application's ranges, as write() does from a buffer.
   * Short at a page the application cannot read (EFAULT if it is the first byte); pages taken
   * for the part not written are given back, as Linux takes them one at a time.
   */
  writeFromUser(mm: UserMemory, ranges: readonly UserRange[], offset: number): number {
    if ((this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) throw new SyscallError(EPERM);
    let total = 0;
    for (const r of ranges) total += r.len;
    if ((this.seals & F_SEAL_GROW) !== 0 && offset + total > this._size) throw new SyscallError(EPERM);
    if (offset + total > MAX_FILE_SIZE) {
      if (offset >= MAX_FILE_SIZE) throw new SyscallError(EFBIG);
      total = MAX_FILE_SIZE - offset;
    }
    if (total === 0) return 0;
    let done = 0;
    try {
      for (const r of ranges) {
        let inR = 0;
        while (inR < r.len && done < total) {
          const n = this.writeWindow(mm, r.base + inR, offset + done, Math.min(r.len - inR, total - done, IO_WINDOW));
          done += n.copied;
          inR += n.copied;
          if (n.short) return done;
        }
      }
      return done;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ENOMEM) throw new OutOfMemoryWrite(done);
      if (done > 0) return done;
      throw e;
    } finally {
      if (offset + done > this._size) this._size = offset + done; // even with nothing written, as shmem_write_end
      if (done > 0) this.modified();
    }
  }

  /** One window of writeFromUser: its holes filled a run at a time, then copied. Pages are
   *  taken a window at a time, so a write that faults early takes little it must give back. */
  private writeWindow(mm: UserMemory, addr: number, at: number, want: number): { copied: number; short: boolean } {
    const fresh = this.fillHoles(Math.floor(at / PAGE), Math.ceil((at + want) / PAGE));
    let copied = 0;
    try {
      this.walkRuns(at, want, true, (page, inPage, index, len, done) => {
        let n = 0;
        try {
          n = mm.copyInToFile(addr + done, this.mf, page! + inPage, len);
        } catch (e) {
          if (done > 0 && e instanceof SyscallError && e.errno === EFAULT) return 0; // short: what was copied stays
          throw e;
        } finally {
          this.markWritten(index, inPage + n);
          copied = done + n;
        }
        return n;
      });
      return { copied, short: copied < want };
    } catch (e) {
      if (copied > 0 && e instanceof SyscallError && e.errno === ENOSPC) return { copied, short: true };
      throw e;
    } finally {
      if (copied < want) this.dropFresh(fresh, Math.ceil((at + copied) / PAGE));
    }
  }

  /** Gives back the pages fillHoles took at or after index `from` (a write that stopped short). */
  private dropFresh(fresh: number[], from: number): void {
    this.dropPages(fresh.filter((index) => index >= from));
  }

  /** Gives each run of holes in [first, end) contiguous pages in one allocation, so the
   *  write copies them in one stretch. Best effort: a run the memory file cannot give at
   *  once is left to page(), one page at a time, which stops the write where memory ends. */
  private fillHoles(first: number, end: number): number[] {
    const fresh: number[] = [];
    let i = first;
    while (i < end) {
      if (this.pages.has(i)) { i++; continue; }
      let n = 1;
      while (i + n < end && !this.pages.has(i + n)) n++;
      if (n > 1) {
        let off: number;
        try { this.fs.chargeBlocks(n); } catch { return fresh; }
        try { off = allocateShrinking(this.mf, n, this.freshPages); } catch { this.fs.unchargeBlocks(n); return fresh; }
        for (let k = 0; k < n; k++) {
          this.pages.set(i + k, off + k * PAGE);
          fresh.push(i + k);
        }
      }
      i += n;
    }
    return fresh;
  }

  /** The page at index, allocated (zeroed) if it was a hole. */
  private page(index: number): number {
    let off = this.pages.get(index);
    if (off === undefined) {
      this.fs.chargeBlocks(1); // ENOSPC past the mount's size
      try { off = allocateShrinking(this.mf, 1, this.freshPages); } catch { this.fs.unchargeBlocks(1); throw new SyscallError(ENOMEM); }
      this.pages.set(index, off);
    }
    return off;
  }

  override setattr(a: SetAttr): void {
    // Checked before anything changes (shmem_setattr).
    if (a.size !== undefined) {
      if ((this.seals & F_SEAL_SHRINK) !== 0 && a.size < this._size) throw new SyscallError(EPERM);
      if ((this.seals & F_SEAL_GROW) !== 0 && a.size > this._size) throw new SyscallError(EPERM);
    }
    if (a.mode !== undefined && (this.seals & F_SEAL_EXEC) !== 0 && ((this.mode ^ a.mode) & 0o111) !== 0) {
      throw new SyscallError(EPERM);
    }
    super.setattr(a);
  }

  /** F_ADD_SEALS (memfd_add_seals), for a description open for writing. */
  addSeals(seals: number): void {
    if ((seals & ~F_ALL_SEALS) !== 0) throw new SyscallError(EINVAL);
    if ((this.seals & F_SEAL_SEAL) !== 0) throw new SyscallError(EPERM);
    if ((seals & F_SEAL_WRITE) !== 0 && (this.seals & F_SEAL_WRITE) === 0 && this.writableMappers > 0) {
      throw new SyscallError(EBUSY);
    }
    this.seals |= seals;
  }

  protected override truncate(size: number): void {
    if (size > MAX_FILE_SIZE) throw new SyscallError(EFBIG);
    if (size < this._size) {
      const keep = Math.ceil(size / PAGE);
      const gone = [...this.pages.keys()].filter((index) => index >= keep);
      for (const index of gone) this.unwritten.delete(index);
      this.dropPages(gone);
      // The tail of the last page must read as zeros if the file grows again.
      const tail = size % PAGE;
      const last = this.pages.get(keep - 1);
      if (tail !== 0 && last !== undefined) this.mf.write(last + tail, new Uint8Array(PAGE - tail));
    }
    if (size !== this._size) {
      const shrunk = size < this._size;
      this._size = size;
      this.modified();
      // Mapped pages past the new end go from every mapping of the file.
      if (shrunk) this.rmap.shrunk(size);
    }
  }

  /** fallocate: make the pages of [offset, +len) present; grow the size unless keepSize. */
  allocate(offset: number, len: number, keepSize: boolean): void {
    if (offset + len > MAX_FILE_SIZE) throw new SyscallError(EFBIG);
    if ((this.seals & F_SEAL_GROW) !== 0 && !keepSize && offset + len > this._size) throw new SyscallError(EPERM);
    // tmpfs's size is the sandbox's memory: what cannot fit is ENOSPC at once, before any
    // page is taken (shmem_fallocate checks the blocks it needs against the mount's size).
    const first = Math.floor(offset / PAGE), end = Math.ceil((offset + len) / PAGE);
    let missing = end - first;
    for (const index of this.pages.keys()) if (index >= first && index < end) missing--;
    const room = (): number => this.mf.limitBytes() - this.mf.allocatedBytes();
    if (missing * PAGE > room()) pageCacheOf(this.mf).shrink(); // the page cache gives way first
    if (missing * PAGE > room()) throw new SyscallError(ENOSPC);
    if (!this.fs.hasRoomFor(missing)) throw new SyscallError(ENOSPC);
    for (let p = first; p < end; p++) if (!this.pages.has(p)) this.unwritten.add(p);
    this.fillHoles(first, end);
    for (let p = first; p < end; p++) this.page(p);
    if (!keepSize && offset + len > this._size) {
      this._size = offset + len;
      this.modified();
    }
  }

  /** FALLOC_FL_PUNCH_HOLE (shmem_truncate_range over [offset, offset+len)): whole pages go,
   *  the parts of pages at the edges read as zeros; the size stays. */
  punchHole(offset: number, len: number): void {
    if ((this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) throw new SyscallError(EPERM);
    const end = offset + len;
    const firstWhole = Math.ceil(offset / PAGE), endWhole = Math.floor(end / PAGE);
    const gone = [...this.pages.keys()].filter((index) => index >= firstWhole && index < endWhole);
    for (const index of gone) this.unwritten.delete(index);
    this.dropPages(gone);
    if (endWhole > firstWhole) this.rmap.punched(firstWhole * PAGE, endWhole * PAGE);
    // Partial pages at either edge: zero the bytes of the range they hold.
    for (const index of new Set([Math.floor(offset / PAGE), Math.floor((end - 1) / PAGE)])) {
      if (index >= firstWhole && index < endWhole) continue;
      const page = this.pages.get(index);
      if (page === undefined) continue;
      const from = Math.max(offset, index * PAGE), to = Math.min(end, (index + 1) * PAGE);
      this.mf.write(page + (from - index * PAGE), new Uint8Array(to - from));
    }
    this.modified();
  }

  /** Whether the page at index holds data for SEEK_DATA (present and written). */
  private isData(index: number): boolean {
    return this.pages.has(index) && !this.unwritten.has(index);
  }

  /** SEEK_DATA/SEEK_HOLE (mapping_seek_hole_data, page by page): the first offset at or after
   *  `offset` in data (or in a hole; the end of the file counts as one); ENXIO at or past the
   *  end or for a negative offset, and for SEEK_DATA when only holes follow. */
  seekHoleData(offset: number, data: boolean): number {
    if (offset < 0 || offset >= this._size) throw new SyscallError(ENXIO);
    const last = Math.ceil(this._size / PAGE);
    let index = Math.floor(offset / PAGE);
    if (data) {
      // Jump over the sparse stretch: the next present page, not every index up to it.
      let next = Infinity;
      for (const i of this.pages.keys()) if (i >= index && i < next && this.isData(i)) next = i;
      if (next >= last) throw new SyscallError(ENXIO);
      return Math.max(offset, next * PAGE);
    }
    while (index < last && this.isData(index)) index++;
    return Math.min(this._size, Math.max(offset, index * PAGE));
  }

  /** What mmap maps: the file's own pages (MAP_PRIVATE: until a write copies them). */
  backing(name: string): MappingBacking {
    return {
      name,
      fill: (mf, fileOffset, mfOffset, length) => {
        const buf = new Uint8Array(Math.min(length, Math.max(0, this._size - fileOffset)));
        const n = this.read(buf, fileOffset);
        if (n > 0) mf.write(mfOffset, buf.subarray(0, n));
      },
      // MAP_PRIVATE maps the file's own pages until written (Pmas copies them on the first
      // write fault), so it sees later writes to the file as Linux shows them. A hole gets its
      // page (shmem_fault) but stays a hole to SEEK_HOLE until written.
      privatePages: (mf, fileOffset, length) => {
        const out: number[] = [];
        try {
          for (let at = fileOffset; at < fileOffset + length; at += PAGE) {
            const index = at / PAGE;
            const had = this.pages.has(index);
            const off = this.page(index);
            if (!had) this.unwritten.add(index);
            mf.incRef(off, PAGE);
            out.push(off);
          }
        } catch (e) {
          for (const off of out) mf.decRef(off, PAGE);
          throw e;
        }
        return out;
      },
      cachedPages: (fileOffset, out) => {
        const touched = new Uint8Array(1);
        for (let i = 0; i < out.length; i++) {
          const off = this.pages.get(fileOffset / PAGE + i);
          if (off === undefined) continue;
          if (this.freshPages) this.mf.residency(off, PAGE, touched);
          if (!this.freshPages || touched[0] !== 0) out[i] = 1;
        }
      },
      sharedPages: (fileOffset, length) => {
        const out: number[] = [];
        try {
          for (let at = fileOffset; at < fileOffset + length; at += PAGE) {
            const off = this.page(at / PAGE);
            this.unwritten.delete(at / PAGE); // a shared fault zeroes it and makes it data
            this.mf.incRef(off, PAGE);
            out.push(off);
          }
        } catch (e) {
          for (const off of out) this.mf.decRef(off, PAGE);
          throw e;
        }
        return out;
      },
      hold: (writableShared) => {
        this.mappers++;
        if (writableShared) this.writableMappers++;
      },
      drop: (writableShared) => {
        this.mappers--;
        if (writableShared) this.writableMappers--;
        this.maybeFree();
      },
      size: () => this._size,
      punchHole: (fileOffset, length) => this.punchHole(fileOffset, length),
      rmap: this.rmap,
      writeSealed: () => (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0,
    };
  }
}
