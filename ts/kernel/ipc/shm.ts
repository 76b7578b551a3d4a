// ShmSegment: one System V shared memory segment (Linux struct shmid_kernel). Its data is
// memory-file pages, allocated when first mapped (holes never touched cost nothing); every
// attachment is a MAP_SHARED mapping of those very pages, so fork shares them and exec and
// exit let go of them through the VMAs (MappingBacking.hold/drop count shm_nattch, as
// Linux's shm_open/shm_close do per VMA). IPC_RMID frees the key at once and the pages
// when the last attachment goes.

import { INIT_USER_NS, type UserNamespace } from '../ns/user_namespace';
import type { Kernel } from '../kernel';
import type { Credentials } from '../credentials';
import type { MappingBacking } from '../../mm/backing';
import type { NativeMemoryFile } from '../../native/addon';
import { decRefRuns, incRefRuns } from '../../mm/page_runs';
import { ENOMEM } from '../../abi/linux/errno';
import { SyscallError } from '../syscall_error';
import { IPC64_PERM_SIZE, IpcPerm } from './perm';

const PAGE = 4096;
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;
/** sizeof(struct shmid64_ds). */
export const SHMID64_DS_SIZE = 112;

export class ShmSegment {
  readonly perm: IpcPerm;
  private readonly pages = new Map<number, number>();
  nattch = 0;
  atime = 0;
  dtime = 0;
  ctime: number;
  lpid = 0;
  readonly backing: ShmBacking;
  /** Called once the segment is destroyed (removed and no longer attached). */
  onDestroy: (() => void) | null = null;

  constructor(private readonly kernel: Kernel, key: number, creds: Credentials, mode: number,
    readonly size: number, readonly cpid: number) {
    this.perm = new IpcPerm(key, creds, mode);
    this.ctime = nowSeconds(kernel);
    this.backing = new ShmBacking(this);
  }

  get mf(): NativeMemoryFile { return this.kernel.mf; }
  get pageCount(): number { return this.pages.size; }

  /** The memory-file page at index, allocated (zeroed) if new. */
  page(index: number): number {
    let off = this.pages.get(index);
    if (off === undefined) {
      try { off = this.mf.allocate(1); } catch { throw new SyscallError(ENOMEM); }
      this.pages.set(index, off);
    }
    return off;
  }

  /** shm_open / shm_close: an attachment (one VMA) came or went. */
  attached(): void {
    this.nattch++;
    this.atime = nowSeconds(this.kernel);
    this.lpid = this.kernel.current?.pid ?? this.lpid;
  }

  detached(): void {
    this.nattch--;
    this.dtime = nowSeconds(this.kernel);
    this.lpid = this.kernel.current?.pid ?? this.lpid;
    if (this.nattch === 0 && (this.perm.mode & SHM_DEST) !== 0) this.destroy();
  }

  /** IPC_RMID: destroyed now if unattached, else marked to go with the last detach. */
  markDestroyed(): void {
    this.perm.mode |= SHM_DEST;
    this.perm.key = 0;
    if (this.nattch === 0) this.destroy();
  }

  private destroy(): void {
    decRefRuns(this.mf, [...this.pages.values()].sort((a, b) => a - b));
    this.pages.clear();
    const done = this.onDestroy;
    this.onDestroy = null;
    done?.();
  }

  /** struct shmid64_ds. */
  encode(ns: UserNamespace = INIT_USER_NS): Uint8Array {
    const b = new Uint8Array(SHMID64_DS_SIZE);
    const v = new DataView(b.buffer);
    this.perm.encode(v, 0, ns);
    const at = IPC64_PERM_SIZE;
    v.setBigUint64(at, BigInt(this.size), true);
    v.setBigInt64(at + 8, BigInt(this.atime), true);
    v.setBigInt64(at + 16, BigInt(this.dtime), true);
    v.setBigInt64(at + 24, BigInt(this.ctime), true);
    v.setInt32(at + 32, this.cpid, true);
    v.setInt32(at + 36, this.lpid, true);
    v.setBigUint64(at + 40, BigInt(this.nattch), true);
    return b;
  }

  touchCtime(): void { this.ctime = nowSeconds(this.kernel); }
}

/** What shmat maps: the segment's own pages, shared. */
export class ShmBacking implements MappingBacking {
  constructor(readonly segment: ShmSegment) {}

  get name(): string {
    return `/SYSV${(this.segment.perm.key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  }

  fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void {
    // Only reached for a private view, which shmat never makes; copy for completeness.
    const buf = new Uint8Array(PAGE);
    for (let i = 0; i < length; i += PAGE) {
      mf.read(this.segment.page((fileOffset + i) / PAGE), buf);
      mf.write(mfOffset + i, buf);
    }
  }

  sharedPages(fileOffset: number, length: number): number[] {
    const out: number[] = [];
    for (let at = fileOffset; at < fileOffset + length; at += PAGE) out.push(this.segment.page(at / PAGE));
    incRefRuns(this.segment.mf, out);
    return out;
  }

  hold(): void { this.segment.attached(); }
  drop(): void { this.segment.detached(); }
}

export function nowSeconds(k: Kernel): number {
  return Number(k.realtimeNs() / 1_000_000_000n);
}
