// A task whose root file system is a fresh tmpfs (or an overlay over a host directory), and
// helpers to call path syscalls on it: paths go into the task's fake memory at fixed slots.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MountNamespace } from '../../../ts/vfs/mount';
import { installMountNamespace } from '../../../ts/vfs/task_fs';
import { FakeMemoryFile } from '../mm/fake_native';
import { TmpfsFS } from '../../../ts/fsimpl/tmpfs/tmpfs';
import { OverlayFS } from '../../../ts/fsimpl/overlay/overlay';
import { HostLowerFS } from '../../../ts/fsimpl/gofer/host_lower';
import { newTask, sys, type TestProc } from '../syscalls/fakes';

export const BUF = 0x10000;
const SLOTS = [0x20000, 0x21000];

export interface VfsProc extends TestProc {
  ns: MountNamespace;
  /** Run syscall nr with string arguments placed in memory (numbers passed as they are). */
  call(nr: number, ...args: (number | bigint | string)[]): number | bigint;
}

function withNamespace(p: TestProc, ns: MountNamespace): VfsProc {
  installMountNamespace(p.kernel, ns);
  p.t.fs.cwd = '/';
  p.mm.map(BUF, 0x2000);
  for (const s of SLOTS) p.mm.map(s, 0x1000);
  const call = (nr: number, ...args: (number | bigint | string)[]): number | bigint => {
    let slot = 0;
    const raw = args.map((a) => {
      if (typeof a !== 'string') return a;
      const at = SLOTS[slot++];
      p.mm.putString(at, a);
      return at;
    });
    return sys(p.t, nr, ...raw);
  };
  return { ...p, ns, call };
}

/** Runs as root (uid 0) unless opts.uid says otherwise. */
export function tmpfsProc(opts: { uid?: number; pid?: number } = {}): VfsProc & { fs: TmpfsFS } {
  const p = newTask({ ...opts, uid: opts.uid ?? 0 });
  const fs = new TmpfsFS(new FakeMemoryFile(), { rootMode: 0o755 });
  return { ...withNamespace(p, new MountNamespace(fs, fs.root)), fs };
}

/** An overlay over a new host directory (returned as hostDir) the test may populate first. */
export function overlayProc(populate: (hostDir: string) => void, opts: { uid?: number } = {}): VfsProc & { hostDir: string } {
  const hostDir = mkdtempSync(path.join(tmpdir(), 'tsvisor-lower-'));
  populate(hostDir);
  const p = newTask({ ...opts, uid: opts.uid ?? 0 });
  const fs = new OverlayFS(new HostLowerFS(hostDir), new FakeMemoryFile());
  return { ...withNamespace(p, new MountNamespace(fs, fs.root)), hostDir };
}

/** The names in a getdents64 buffer of n bytes at BUF. */
export function direntNames(p: TestProc, n: number): string[] {
  const b = p.mm.copyIn(BUF, n);
  const v = new DataView(b.buffer);
  const out: string[] = [];
  for (let off = 0; off < n;) {
    const reclen = v.getUint16(off + 16, true);
    const name = b.subarray(off + 19, off + reclen);
    out.push(Buffer.from(name.subarray(0, name.indexOf(0))).toString());
    off += reclen;
  }
  return out;
}
