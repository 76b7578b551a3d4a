// A ring's fixed-file table (Linux io_uring/filetable.c, struct io_file_table): the slots
// IORING_REGISTER_FILES fills, that requests name with IOSQE_FIXED_FILE, and that direct
// descriptors (OPENAT/ACCEPT/SOCKET with file_index, FILES_UPDATE with
// IORING_FILE_INDEX_ALLOC) are put in without ever being a process descriptor. Each slot
// holds a reference on its file. A slot is allocated as Linux's bitmap does: the first free
// one at or after a hint (the slot after the last one filled, or the last one emptied),
// wrapping once to the start of the allocation range.

import type { FileDescription } from '../../vfs/file_description';
import { EBADF, EINVAL, ENFILE } from '../../abi/linux/errno';
import { fail } from '../syscall_error';

export const IORING_FILE_INDEX_ALLOC = 0xffffffff;

export class FixedFiles {
  private allocHint = 0;
  private allocStart = 0;
  private allocEnd: number;

  /** Takes the references in slots. */
  constructor(private readonly slots: (FileDescription | null)[]) {
    this.allocEnd = slots.length;
    slots.forEach((f, i) => { if (f) this.allocHint = i + 1; });
  }

  get length(): number { return this.slots.length; }

  get(i: number): FileDescription | null {
    return i >= 0 && i < this.slots.length ? this.slots[i] : null;
  }

  /** Put f (its reference given) at slot i, dropping what was there. */
  set(i: number, f: FileDescription | null): void {
    const old = this.slots[i];
    this.slots[i] = f;
    if (f) this.allocHint = i + 1;
    else if (old) this.allocHint = i;
    old?.decRef();
  }

  /** __io_fixed_fd_install: f (its reference given, and dropped on failure) at file_slot - 1,
   *  or at a free slot for IORING_FILE_INDEX_ALLOC; 0, or the slot allocated. */
  install(f: FileDescription, fileSlot: number, isRing: boolean): number {
    const alloc = fileSlot === IORING_FILE_INDEX_ALLOC;
    try {
      const i = alloc ? this.free() : fileSlot - 1;
      if (isRing) fail(EBADF);
      if (i >= this.slots.length) fail(EINVAL);
      this.set(i, f);
      return alloc ? i : 0;
    } catch (e) {
      f.decRef();
      throw e;
    }
  }

  /** io_fixed_fd_remove: empty slot i (EINVAL past the table, EBADF if already empty). */
  remove(i: number): void {
    if (i >= this.slots.length) fail(EINVAL);
    if (!this.slots[i]) fail(EBADF);
    this.set(i, null);
  }

  /** IORING_REGISTER_FILE_ALLOC_RANGE. */
  setAllocRange(off: number, len: number): void {
    this.allocStart = this.allocHint = off;
    this.allocEnd = off + len;
  }

  /** io_file_bitmap_get: ENFILE when the range is full. */
  private free(): number {
    let end = this.allocEnd;
    for (;;) {
      for (let i = this.allocHint; i < end; i++) if (!this.slots[i]) return i;
      if (this.allocHint === this.allocStart) fail(ENFILE);
      end = this.allocHint;
      this.allocHint = this.allocStart;
    }
  }

  release(): void {
    for (const f of this.slots) f?.decRef();
    this.slots.length = 0;
  }
}
