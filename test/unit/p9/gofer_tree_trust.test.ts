// The trust window of each tree of one gofer session (session.ts, TreeTrust): the root's
// read-only lower layer trusts what the server said for LOWER_TTL_MS, a tree the sandbox
// writes to (--volume) for ATTR_TTL_MS, the session's window when it is longer
// (TSVISOR_P9_TTL_MS). Ages are set on the nodes (attrAt, listingAt) rather than waited
// for, and round trips counted at the transport: a node older than its tree's window asks
// the server again (and sees the host's change), a younger one does not.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { ATTR_TTL_MS, LOWER_TTL_MS } from '../../../ts/fsimpl/gofer/session';
import { skipBecause } from '../../helpers/run';
import { writesDuring } from '../../helpers/p9_writes';

const binary = goferBinary();

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('trust windows per tree', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-trust-'));
    fs.mkdirSync(path.join(dir, 'root'));
    fs.mkdirSync(path.join(dir, 'vol'));
    g = new GoferProcess(binary!, [
      { name: 'root', hostDir: path.join(dir, 'root'), readOnly: true },
      { name: 'vol', hostDir: path.join(dir, 'vol'), readOnly: false },
    ]);
    lower = new GoferLowerFS(g.session, 'root', 0, LOWER_TTL_MS);
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => { g.session.ttlMs = ATTR_TTL_MS; });

  it('the lower layer trusts an attribute for LOWER_TTL_MS, a volume for ATTR_TTL_MS', () => {
    expect(LOWER_TTL_MS).toBeGreaterThan(2 * ATTR_TTL_MS);
    fs.writeFileSync(path.join(dir, 'root', 'f'), 'one');
    fs.writeFileSync(path.join(dir, 'vol', 'f'), 'one');
    const volRoot = g.session.attach('vol', 0);
    const low = g.session.walk(lower.root, 'f')!;
    const vol = g.session.walk(volRoot, 'f')!;
    expect([g.session.ttlOf(low), g.session.ttlOf(vol)]).toEqual([LOWER_TTL_MS, ATTR_TTL_MS]);
    fs.writeFileSync(path.join(dir, 'root', 'f'), 'grown');
    fs.writeFileSync(path.join(dir, 'vol', 'f'), 'grown');
    // Older than a volume's window, younger than the lower layer's.
    const between = (ATTR_TTL_MS + LOWER_TTL_MS) / 2;
    low.attrAt = vol.attrAt = performance.now() - between;
    const { value: sizes, writes } = writesDuring(() => [g.session.getattr(low).size, g.session.getattr(vol).size]);
    expect(sizes).toEqual([3, 5]); // the volume sees the host's change at once
    expect(writes).toBe(1);
    // Past the lower layer's window, it sees it too.
    low.attrAt = performance.now() - LOWER_TTL_MS - 1;
    const { value: size, writes: again } = writesDuring(() => g.session.getattr(low).size);
    expect([size, again]).toEqual([5, 1]);
  });

  it("the lower layer's listing and misses last its window; a longer session window wins", () => {
    fs.writeFileSync(path.join(dir, 'root', 'g'), 'g');
    lower.readdir(lower.root);
    fs.writeFileSync(path.join(dir, 'root', 'late'), 'late');
    lower.root.listingAt = performance.now() - (ATTR_TTL_MS + LOWER_TTL_MS) / 2;
    const { value: within, writes } = writesDuring(() => lower.walk(lower.root, 'late'));
    expect([within, writes]).toEqual([null, 0]);
    lower.root.listingAt = performance.now() - LOWER_TTL_MS - 1;
    lower.root.listingHits = 0; // a lookup, not a scan: walked, not listed again
    expect(lower.walk(lower.root, 'late')).not.toBeNull();
    // A miss remembered (no listing): trusted for the window, then asked again.
    lower.root.listing = null;
    const missAt = performance.now();
    expect(lower.walk(lower.root, 'later')).toBeNull();
    fs.writeFileSync(path.join(dir, 'root', 'later'), 'x');
    expect(lower.root.misses?.get('later')).toBeGreaterThanOrEqual(missAt);
    const { value: cached, writes: none } = writesDuring(() => lower.walk(lower.root, 'later'));
    expect([cached, none]).toEqual([null, 0]);
    lower.root.misses!.set('later', performance.now() - LOWER_TTL_MS - 1);
    expect(lower.walk(lower.root, 'later')).not.toBeNull();
    // TSVISOR_P9_TTL_MS longer than LOWER_TTL_MS: every tree gets it.
    g.session.ttlMs = 10 * LOWER_TTL_MS;
    expect(g.session.ttlOf(lower.root)).toBe(10 * LOWER_TTL_MS);
  });
});
