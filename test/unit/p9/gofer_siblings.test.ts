// Sibling listings over tsvisor-gofer: listing one directory of the lower layer lists its
// sibling directories (from the parent's listing) in the same write, and a traversal that
// lists them next (find, du, tar) makes no round trip for them. A prefetched listing obeys
// the trust window as any listing: after ATTR_TTL_MS, or when the name now leads to another
// directory, the server is asked again and the host's changes are seen. Round trips are
// counted at the transport; the window is made long where a test counts inside it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { ATTR_TTL_MS, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import { skipBecause } from '../../helpers/run';
import { writesDuring } from '../../helpers/p9_writes';

const binary = goferBinary();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LONG = 60_000;

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('sibling listings over tsvisor-gofer', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;
  const names = (ents: { name: string }[]) => ents.map((e) => e.name).sort();
  const fresh = () => { lower = new GoferLowerFS(g.session, 't'); };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-siblings-'));
    for (let i = 0; i < 12; i++) {
      fs.mkdirSync(path.join(dir, `d${i}`));
      for (let j = 0; j <= i % 3; j++) fs.writeFileSync(path.join(dir, `d${i}`, `f${j}`), 'x'.repeat(j));
    }
    fs.mkdirSync(path.join(dir, 'd3', 'below'));
    // Bigger than a sibling's share of the write: listed when asked, not ahead.
    fs.mkdirSync(path.join(dir, 'big'));
    for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(dir, 'big', `a-rather-long-file-name-${i}`), '');
    fs.writeFileSync(path.join(dir, 'plain'), 'p');
    // Directories with one subdirectory each (python's pkg/__pycache__): cousins.
    for (let k = 0; k < 4; k++) {
      fs.mkdirSync(path.join(dir, 'cous', `k${k}`, 'c'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'cous', `k${k}`, 'c', `leaf${k}`), `${k}`);
    }
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => { g.session.ttlMs = ATTR_TTL_MS; });

  it('a traversal lists every sibling directory with fewer round trips than directories, each whole and right', () => {
    fresh();
    g.session.ttlMs = LONG;
    const top = lower.readdir(lower.root);
    const dirs = top.filter((e) => e.type === 4).map((e) => e.name);
    expect(dirs.length).toBe(14);
    let total = 0;
    for (const name of dirs.filter((n) => n !== 'cous')) {
      const node = lower.walk(lower.root, name) as GoferNode;
      const { value: ents, writes } = writesDuring(() => lower.readdir(node));
      if (name !== 'big') total += writes;
      expect(names(ents), name).toEqual(fs.readdirSync(path.join(dir, name)).sort());
      // The entries' attributes came along: a stat of each costs nothing.
      const { value: sizes, writes: stats } = writesDuring(() => ents.map((e) => lower.walk(node, e.name)!.attr.size));
      expect(stats).toBe(0);
      expect(sizes).toEqual(ents.map((e) => fs.lstatSync(path.join(dir, name, e.name)).size));
      // Below a directory listed ahead, its own fid serves: one round trip for its child.
      if (name === 'd3') {
        const below = lower.walk(node, 'below') as GoferNode;
        const { writes: w } = writesDuring(() => lower.readdir(below));
        expect(w).toBe(1);
      }
    }
    // 12 small directories (and big, too big to come ahead, listed when asked for in pages of
    // its own): the first write lists 9 (itself and 8 siblings), the next the rest.
    expect(total).toBeLessThanOrEqual(2);
    expect(total).toBeGreaterThanOrEqual(1);
  });

  it('a prefetched listing older than ATTR_TTL_MS is not used: the host change is seen', async () => {
    fresh();
    g.session.ttlMs = LONG;
    lower.readdir(lower.root);
    const d0 = lower.walk(lower.root, 'd0') as GoferNode;
    lower.readdir(d0); // lists d1.. ahead
    g.session.ttlMs = ATTR_TTL_MS;
    fs.writeFileSync(path.join(dir, 'd1', 'late'), 'late');
    try {
      await sleep(ATTR_TTL_MS + 30);
      // The server is asked again (the lookup, whose write brings the listing along).
      const { value: ents, writes } = writesDuring(() => lower.readdir(lower.walk(lower.root, 'd1') as GoferNode));
      expect(names(ents)).toContain('late');
      expect(writes).toBe(1);
    } finally {
      fs.unlinkSync(path.join(dir, 'd1', 'late'));
    }
  });

  it('a prefetched listing of a name that now leads to another directory is not used', () => {
    fresh();
    g.session.ttlMs = LONG;
    lower.readdir(lower.root);
    const d4 = lower.walk(lower.root, 'd4') as GoferNode;
    const d5 = lower.walk(lower.root, 'd5') as GoferNode;
    lower.readdir(d4); // lists d5 ahead
    // The node says d5 is another file than the one listed ahead (the host replaced it).
    d5.qid = { ...d5.qid, path: d5.qid.path + 1_000_000n };
    const { value: ents, writes } = writesDuring(() => lower.readdir(d5));
    expect(writes).toBe(1);
    expect(names(ents)).toEqual(fs.readdirSync(path.join(dir, 'd5')).sort());
  });

  it('fids of listings nobody used are given back (the gofer holds none for them after)', async () => {
    fresh();
    g.session.ttlMs = 20;
    lower.readdir(lower.root);
    const before = fs.readdirSync(`/proc/${g.pid}/fd`).length;
    for (let round = 0; round < 5; round++) {
      const d = lower.walk(lower.root, `d${round}`) as GoferNode;
      g.session.forget(d); // listed again from the root's fid, with its siblings
      lower.readdir(d);
      await sleep(40);
    }
    // Any request lets stale prefetched listings go; their clunks ride with it.
    lower.readdir(lower.walk(lower.root, 'd11') as GoferNode);
    lower.getattr(lower.root);
    g.session.getattr(lower.root, 0);
    const after = fs.readdirSync(`/proc/${g.pid}/fd`).length;
    // At most one fid per directory (the node's or its listing's), never one per listing
    // fetched ahead (5 rounds x 8 siblings).
    expect(after - before).toBeLessThan(16);
  });

  it('opening a file opens its next siblings in the same write: their opens cost nothing and read right', () => {
    fresh();
    g.session.ttlMs = LONG;
    const big = lower.walk(lower.root, 'big') as GoferNode;
    lower.readdir(big);
    const order = [...big.listing!.keys()];
    const nodes = order.slice(0, 9).map((n) => lower.walk(big, n) as GoferNode);
    const { value: first, writes } = writesDuring(() => lower.open(nodes[0]));
    expect(writes).toBe(1);
    first.release();
    for (const n of nodes.slice(1)) {
      const { value: d, writes: w } = writesDuring(() => lower.open(n));
      expect(w, n.name).toBe(0);
      expect(d.size()).toBe(0);
      d.release();
    }
    // The tenth was not opened ahead (8 at most): its open is a write, and opens 8 more.
    const { value: tenth, writes: w10 } = writesDuring(() => lower.open(lower.walk(big, order[9]) as GoferNode));
    expect(w10).toBe(1);
    tenth.release();
  });

  it('a file opened ahead and replaced on the host is not read once the window has passed', async () => {
    fresh();
    g.session.ttlMs = LONG;
    const d6 = lower.walk(lower.root, 'd6') as GoferNode;
    lower.readdir(d6); // f0
    fs.writeFileSync(path.join(dir, 'd6', 'g1'), 'old contents');
    fs.writeFileSync(path.join(dir, 'd6', 'g2'), 'old contents');
    try {
      lower.readdir(d6);
      const names = [...d6.listing!.keys()];
      const firstName = names[0];
      lower.open(lower.walk(d6, firstName) as GoferNode).release(); // opens the others ahead
      g.session.ttlMs = ATTR_TTL_MS;
      for (const n of ['g1', 'g2']) {
        fs.writeFileSync(path.join(dir, 'd6', `${n}.new`), 'new contents!');
        fs.renameSync(path.join(dir, 'd6', `${n}.new`), path.join(dir, 'd6', n));
      }
      await sleep(ATTR_TTL_MS + 30);
      for (const n of ['g1', 'g2']) {
        if (n === firstName) continue;
        const node = lower.walk(d6, n) as GoferNode;
        const data = lower.open(node);
        const buf = new Uint8Array(32);
        expect(Buffer.from(buf.subarray(0, data.pread(buf, 0))).toString()).toBe('new contents!');
        data.release();
      }
    } finally {
      for (const n of ['g1', 'g2']) fs.rmSync(path.join(dir, 'd6', n), { force: true });
    }
  });

  it('fds opened ahead and never used are closed once stale', async () => {
    fresh();
    const count = () => fs.readdirSync('/proc/self/fd').length;
    g.session.ttlMs = LONG;
    const big = lower.walk(lower.root, 'big') as GoferNode;
    lower.readdir(big);
    const order = [...big.listing!.keys()];
    g.session.ttlMs = 30;
    // Keep the listing fresh by hand (the window is short on purpose).
    const relist = () => { big.listingAt = performance.now(); };
    const before = count();
    for (let round = 0; round < 4; round++) {
      relist();
      lower.open(lower.walk(big, order[100 + 20 * round]) as GoferNode).release();
      await sleep(50);
    }
    relist();
    lower.open(lower.walk(big, order[500]) as GoferNode).release();
    // The last round's 8 and the kept fds of the 5 files opened; never all 5 x 8 ahead.
    expect(count() - before).toBeLessThanOrEqual(8 + 5 + 2);
  });

  it('a lookup of a directory at the end of a path brings its listing: the readdir after it costs nothing', async () => {
    fresh();
    g.session.ttlMs = LONG;
    // No listing of the root: the lookup asks the server.
    const { value: d7, writes } = writesDuring(() => lower.walk(lower.root, 'd7') as GoferNode);
    expect(writes).toBe(1);
    const { value: ents, writes: w2 } = writesDuring(() => lower.readdir(d7));
    expect(w2).toBe(0);
    expect(names(ents)).toEqual(fs.readdirSync(path.join(dir, 'd7')).sort());
    // Only the first readdir: the next one asks again (listing, and its siblings none).
    const { writes: w3 } = writesDuring(() => lower.readdir(d7));
    expect(w3).toBe(1);
    // A file at the end of a path: the same single write, and no listing.
    const { value: f, writes: w4 } = writesDuring(() => lower.walk(lower.root, 'plain') as GoferNode);
    expect([w4, f.attr.size, f.listing]).toEqual([1, 1, null]);
    // After the window a directory is revalidated with its listing in the same write.
    g.session.ttlMs = ATTR_TTL_MS;
    fs.writeFileSync(path.join(dir, 'd7', 'later'), '');
    try {
      await sleep(ATTR_TTL_MS + 30);
      const { value: ok, writes: w5 } = writesDuring(() => lower.revalidate(d7));
      expect([ok, w5]).toEqual([true, 1]);
      g.session.ttlMs = LONG;
      const { value: again, writes: w6 } = writesDuring(() => lower.readdir(d7));
      expect(w6).toBe(0);
      expect(names(again)).toContain('later');
    } finally {
      fs.unlinkSync(path.join(dir, 'd7', 'later'));
    }
  });

  it('a directory\'s listing brings its cousins\' (the subdirectories of siblings listed ahead): a tree of single-child directories in 2 writes', () => {
    fresh();
    g.session.ttlMs = LONG;
    const cous = lower.walk(lower.root, 'cous') as GoferNode;
    lower.readdir(cous);
    let total = 0;
    for (let k = 0; k < 4; k++) {
      const kk = lower.walk(cous, `k${k}`) as GoferNode;
      const a = writesDuring(() => lower.readdir(kk));
      const c = lower.walk(kk, 'c') as GoferNode;
      const b = writesDuring(() => lower.readdir(c));
      expect(b.value.map((e) => e.name)).toEqual([`leaf${k}`]);
      total += a.writes + b.writes;
    }
    // k0 (with k1..k3 ahead), then k0/c with k1/c..k3/c ahead; nothing after.
    expect(total).toBe(2);
  });

  it('lookups and revalidations in a directory whose listing went stale fetch the next entries\' attributes along: one write per batch', async () => {
    fresh();
    g.session.ttlMs = LONG;
    const big = lower.walk(lower.root, 'big') as GoferNode;
    lower.readdir(big);
    const order = [...big.listing!.keys()];
    big.listingAt = performance.now() - 2 * LONG; // a scan that outlasted the window
    const { value: nodes, writes } = writesDuring(() => order.slice(0, 16).map((n) => lower.walk(big, n) as GoferNode));
    expect(writes).toBe(1);
    for (const n of nodes) expect(n.attr.ino).toBe(fs.lstatSync(path.join(dir, 'big', n.name)).ino);
    // The same names again once their own attributes are old: revalidated in one write.
    for (const n of nodes) n.attrAt = performance.now() - 2 * LONG;
    const { value: oks, writes: w2 } = writesDuring(() => nodes.map((n) => lower.revalidate(n)));
    expect(oks.every((x) => x)).toBe(true);
    expect(w2).toBe(1);
    // A name removed on the host: within the window of its batch it is trusted; after, gone.
    g.session.ttlMs = ATTR_TTL_MS;
    for (const n of nodes) n.attrAt = performance.now() - 2 * LONG;
    lower.revalidate(nodes[0]); // asks for nodes[1..15] along
    fs.renameSync(path.join(dir, 'big', order[5]), path.join(dir, 'moved-away'));
    try {
      await sleep(ATTR_TTL_MS + 30);
      expect(lower.revalidate(nodes[5])).toBe(false);
      expect(lower.walk(big, order[5])).toBeNull();
    } finally {
      fs.renameSync(path.join(dir, 'moved-away'), path.join(dir, 'big', order[5]));
    }
  });
});
