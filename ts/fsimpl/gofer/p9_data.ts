// P9Data: FileData over Tread/Twrite on an open fid, for servers that donate no fd (diod).
// Every read is a round trip of at most the session's msize; mappings copy pages the same way.

import type { MappingBacking } from '../../mm/backing';
import type { Client } from '../../p9/client';
import type { FileData } from './file_data';
import type { Stat } from '../../abi/linux/stat';
import { statOfAttr } from './session';

export class P9Data implements FileData {
  private released = false;
  private mappers = 0;

  constructor(private readonly client: Client, private readonly fid: number) {}

  pread(dst: Uint8Array, offset: number): number {
    let done = 0;
    while (done < dst.length) {
      const b = this.client.read(this.fid, offset + done, dst.length - done);
      if (b.length === 0) break;
      dst.set(b, done);
      done += b.length;
    }
    return done;
  }

  pwrite(src: Uint8Array, offset: number): number {
    let done = 0;
    while (done < src.length) {
      const n = this.client.write(this.fid, offset + done, src.subarray(done));
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  size(): number { return this.client.getattr(this.fid).size; }

  stat(): Stat { return statOfAttr(this.client.getattr(this.fid)); }

  fsync(datasync: boolean): void { this.client.fsync(this.fid, datasync); }

  backing(name: string): MappingBacking {
    return {
      name,
      fill: (mf, fileOffset, mfOffset, length) => {
        const buf = new Uint8Array(length);
        const n = this.pread(buf, fileOffset);
        if (n > 0) mf.write(mfOffset, buf.subarray(0, n));
      },
      size: () => this.size(),
      hold: () => { this.mappers++; },
      drop: () => { this.mappers--; this.maybeClunk(); },
    };
  }

  release(): void {
    this.released = true;
    this.maybeClunk();
  }

  private maybeClunk(): void {
    if (!this.released || this.mappers > 0) return;
    this.released = false; // once
    this.mappers = -1;
    this.client.clunkLater(this.fid);
  }
}
