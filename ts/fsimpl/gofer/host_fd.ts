// HostFd: a host fd donated by the lower layer, shared by the open file that asked for it
// and every mapping made from that file. Mappings hold no reference count the VFS can see
// (a Vma keeps its MappingBacking until it is unmapped, and says nothing), so the fd is
// closed once the description is released and every backing handed out has been garbage
// collected.

import * as fs from 'node:fs';
import type { MappingBacking } from '../../mm/backing';

const backings = new FinalizationRegistry<HostFd>((h) => h.backingGone());

export class HostFd {
  private released = false;
  private liveBackings = 0;

  constructor(readonly fd: number) {}

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

  size(): number {
    return Number(fs.fstatSync(this.fd, { bigint: true }).size);
  }

  /** A MappingBacking that fills pages straight from the fd (pread in the addon). */
  backing(name: string): MappingBacking {
    const fd = this.fd;
    const b: MappingBacking = {
      name,
      fill(mf, fileOffset, mfOffset, length) {
        let done = 0;
        while (done < length) {
          const n = mf.readFromHostFd(fd, fileOffset + done, mfOffset + done, length - done);
          if (n === 0) break; // EOF: the rest stays zero
          done += n;
        }
      },
    };
    this.liveBackings++;
    backings.register(b, this);
    return b;
  }

  /** The open file is gone. */
  release(): void {
    this.released = true;
    this.maybeClose();
  }

  backingGone(): void {
    this.liveBackings--;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (!this.released || this.liveBackings > 0) return;
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
  }
}
