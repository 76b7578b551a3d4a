// HostFd: a host fd donated by the lower layer, shared by the open file that asked for it
// and every mapping made from that file (each VMA holds it through MappingBacking.hold), so
// the fd is closed once the description is released and the last VMA mapping it is gone (or,
// for a read-only fd the session keeps for later opens, let go of: SharedFd).

import * as fs from 'node:fs';
import type { MappingBacking } from '../../mm/backing';
import { addon } from '../../native/addon';
import { SyscallError } from '../../kernel/syscall_error';
import type { FileData } from './file_data';
import type { Stat } from '../../abi/linux/stat';
import { statFromHost } from '../../vfs/host_file';
import type { Task } from '../../kernel/task';
import { slowHostCall } from './slow_host_calls';

export class HostFd implements FileData {
  private released = false;
  private mappers = 0;
  private closed = false;
  /** On a file system whose calls may block without bound (by the gofer's list of local file
   *  systems, crates/gofer/src/local_fs.rs, through the addon): read and write
   *  with preadAsync/pwriteAsync, off the sentry's thread. */
  readonly mayBlock: boolean;

  /** shared: the fd belongs to others too (a SharedFd): closing is letting go of it. */
  constructor(readonly fd: number, private readonly shared: { unref(): void } | null = null) {
    this.mayBlock = addon().hostFdMayBlock(fd);
  }

  /** pread into dst; short only at EOF. */
  pread(dst: Uint8Array, offset: number): number {
    let done = 0;
    while (done < dst.length) {
      const n = fs.readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** pread on libuv's thread pool while t waits interruptibly (a signal ends the wait, SIGKILL
   *  the task). The host call cannot be called back: it ends in the background, into a
   *  buffer of its own, and what it read is then dropped (slow_host_calls.ts bounds them). */
  preadAsync(t: Task, dst: Uint8Array, offset: number): Promise<number> {
    const own = new Uint8Array(dst.length);
    return slowHostCall(t, (done) => fs.read(this.fd, own, 0, own.length, offset, done)).then((n) => {
      dst.set(own.subarray(0, n));
      return n;
    });
  }

  /** pwrite the same way (the data copied first: the caller's buffer is reused at once). */
  pwriteAsync(t: Task, src: Uint8Array, offset: number): Promise<number> {
    const own = src.slice();
    return slowHostCall(t, (done) => fs.write(this.fd, own, 0, own.length, offset, done));
  }

  /** The file's size, asked of the host the same way (an O_APPEND write's position). */
  sizeAsync(t: Task): Promise<number> {
    return slowHostCall(t, (done) => fs.fstat(this.fd, { bigint: true }, (e, st) => done(e, e ? 0 : Number(st.size))));
  }

  /** fstat asked of the host the same way. */
  statAsync(t: Task): Promise<Stat> {
    const got: Stat[] = [];
    return slowHostCall(t, (done) => fs.fstat(this.fd, { bigint: true }, (e, s) => {
      if (!e) got.push(statFromHost(s));
      done(e, 0);
    })).then(() => got[0]);
  }

  /** SEEK_DATA/SEEK_HOLE asked of the host file system (which knows the file's extents); the
   *  host fd's own position moves, but every read here is a pread. */
  seekHoleData(offset: number, whence: number): number {
    const r = addon().hostLseek(this.fd, offset, whence);
    if (r < 0) throw new SyscallError(-r);
    return r;
  }

  pwrite(src: Uint8Array, offset: number): number {
    let done = 0;
    while (done < src.length) {
      const n = fs.writeSync(this.fd, src, done, src.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  fsync(datasync: boolean): void {
    if (datasync) fs.fdatasyncSync(this.fd); else fs.fsyncSync(this.fd);
  }

  stat(): Stat {
    return statFromHost(fs.fstatSync(this.fd, { bigint: true }));
  }

  size(): number {
    return Number(fs.fstatSync(this.fd, { bigint: true }).size);
  }

  /** A MappingBacking that fills pages straight from the fd (pread in the addon); on a file
   *  system that may block, a fault's bytes and the size are read on the pool first (stage). */
  backing(name: string): MappingBacking {
    const fd = this.fd;
    let staged: { at: number; want: number; bytes: Uint8Array; size: number } | null = null;
    return {
      name,
      fill(mf, fileOffset, mfOffset, length) {
        const s = staged;
        if (s !== null && fileOffset >= s.at && fileOffset + length <= s.at + s.want) {
          // Past what was read is past the end: the fresh pages are zero there already.
          const from = fileOffset - s.at;
          if (from < s.bytes.length) mf.write(mfOffset, s.bytes.subarray(from, Math.min(s.bytes.length, from + length)));
          return;
        }
        let done = 0;
        while (done < length) {
          const n = mf.readFromHostFd(fd, fileOffset + done, mfOffset + done, length - done);
          if (n === 0) break; // EOF: the rest stays zero
          done += n;
        }
      },
      size: () => staged?.size ?? this.size(),
      stage: this.mayBlock ? async (t, at, want) => {
        const size = await this.sizeAsync(t);
        const bytes = new Uint8Array(Math.max(0, Math.min(want, size - at)));
        let n = 0;
        for (let got = -1; n < bytes.length && got !== 0; n += got) got = await this.preadAsync(t, bytes.subarray(n), at + n);
        // Short: the file ended sooner than its size said; what lies past is zeros, as natively.
        staged = { at, want, bytes: bytes.subarray(0, n), size };
      } : undefined,
      unstage: () => { staged = null; },
      hold: () => { this.mappers++; },
      drop: () => {
        this.mappers--;
        this.maybeClose();
      },
    };
  }

  /** The open file is gone. */
  release(): void {
    this.released = true;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (!this.released || this.mappers > 0 || this.closed) return;
    // Once only: the number may belong to another file afterwards.
    this.closed = true;
    if (this.shared) { this.shared.unref(); return; }
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
  }
}
