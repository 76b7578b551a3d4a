// Read-only opens of a gofer file share one donated host fd (SharedFd in session.ts): the
// second open costs no round trip and no host call, each open file reads on whatever the
// others do, the fd stays open while any open file (or the session) holds it, and is closed
// once the last lets go, also when the host replaced the file meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { ATTR_TTL_MS, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import type { HostFd } from '../../../ts/fsimpl/gofer/host_fd';
import { skipBecause } from '../../helpers/run';
import { writesDuring } from '../../helpers/p9_writes';

const binary = goferBinary();

/** What host fd n of this process is now: the file's path, or null once closed (or reused). */
function fdTarget(n: number): string | null {
  try { return fs.readlinkSync(`/proc/self/fd/${n}`); } catch { return null; }
}

const read = (d: HostFd): string => {
  const b = new Uint8Array(64);
  return Buffer.from(b.subarray(0, d.pread(b, 0))).toString();
};

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('shared read-only fds over tsvisor-gofer', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-sharedfd-'));
    fs.writeFileSync(path.join(dir, 'f'), 'first\n');
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
    lower = new GoferLowerFS(g.session, 't');
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens share one fd; it closes when the session and every open have let go', async () => {
    g.session.ttlMs = 60_000;
    const node = lower.walk(lower.root, 'f') as GoferNode;
    const a = lower.open(node) as HostFd;
    const { value: b, writes } = writesDuring(() => lower.open(node) as HostFd);
    expect(writes).toBe(0);
    expect(b.fd).toBe(a.fd);
    const fd = a.fd;
    const where = fdTarget(fd);
    // (The path as the confined gofer sees it.)
    expect(where).toMatch(/\/f$/);
    a.release();
    expect(read(b)).toBe('first\n');
    // The host replaces the file: once the window is over, the name is stale and the kept
    // fd of no use to later opens; b still reads the file it opened.
    fs.writeFileSync(path.join(dir, 'f.new'), 'second\n');
    fs.renameSync(path.join(dir, 'f.new'), path.join(dir, 'f'));
    g.session.ttlMs = ATTR_TTL_MS;
    node.attrAt = -Infinity;
    expect(lower.revalidate(node)).toBe(false);
    expect(fdTarget(fd)).toBe(`${where} (deleted)`);
    expect(read(b)).toBe('first\n');
    b.release();
    expect(fdTarget(fd)).not.toBe(`${where} (deleted)`);
    // A new lookup opens the new file, with a fresh donation.
    const again = lower.walk(lower.root, 'f') as GoferNode;
    const c = lower.open(again) as HostFd;
    expect(read(c)).toBe('second\n');
    c.release();
  });

  it('a file a mapping still holds keeps the shared fd past its release', () => {
    g.session.ttlMs = 60_000;
    const node = lower.walk(lower.root, 'f') as GoferNode;
    const a = lower.open(node) as HostFd;
    const backing = a.backing('f');
    backing.hold?.();
    a.release();
    // The session's reference and the mapping's: still open.
    expect(fdTarget(a.fd)).not.toBeNull();
    const b = lower.open(node) as HostFd;
    expect(b.fd).toBe(a.fd);
    expect(read(b)).toBe('second\n');
    b.release();
    backing.drop?.();
    expect(fdTarget(a.fd)).not.toBeNull(); // the session still keeps it
    g.session.ttlMs = ATTR_TTL_MS;
  });
});
