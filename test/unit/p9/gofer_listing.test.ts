// The lower layer over tsvisor-gofer with Treaddirattr (PROTOCOL.md): a listing brings every
// entry's attributes, lookups and stats within ATTR_TTL_MS of it cost no round trip, a name
// the listing lacks is absent without asking, opening or listing a listed entry is one round
// trip, and once the listing is older than ATTR_TTL_MS the host's changes are seen again.
// Round trips are counted at the transport (each send or call is one write to the gofer). The
// window is made long where a test counts round trips inside it (a crowded host can take
// 100 ms between two calls), and ATTR_TTL_MS where it waits for it to pass.
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

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('lower layer listings over tsvisor-gofer', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-listing-'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'inner'), 'inner\n');
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, `f${i}`), 'x'.repeat(i));
    fs.symlinkSync('f1', path.join(dir, 'ln'));
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
    lower = new GoferLowerFS(g.session, 't');
  });
  const LONG = 60_000;
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => { lower.root.listing = null; g.session.ttlMs = ATTR_TTL_MS; });

  it('lists with attributes, and answers lookups from the listing without a round trip', () => {
    g.session.ttlMs = LONG;
    const { value: ents, writes } = writesDuring(() => lower.readdir(lower.root));
    expect(ents.length).toBe(302);
    expect(writes).toBe(1); // walk (none: the root has its fid) + open + Treaddirattr, end flag set
    const { value: nodes, writes: lookups } = writesDuring(() => ['f7', 'f299', 'ln', 'sub', 'missing'].map((n) => lower.walk(lower.root, n)));
    expect(lookups).toBe(0);
    expect(nodes[4]).toBeNull();
    for (const [i, name] of ['f7', 'f299', 'ln', 'sub'].entries()) {
      const n = nodes[i] as GoferNode;
      const st = fs.lstatSync(path.join(dir, name));
      expect(n.fid).toBe(-1);
      expect([n.attr.mode, n.attr.size, n.attr.ino, n.attr.nlink, n.attr.mtime.sec]).toEqual([st.mode, st.size, st.ino, st.nlink, Math.floor(st.mtimeMs / 1000)]);
      expect(Number(n.qid.path)).toBe(st.ino);
    }
    // Opening a listed file is one round trip (walk from the parent + Tlopen), and reads it.
    const { value: data, writes: opens } = writesDuring(() => lower.open(nodes[0]!));
    expect(opens).toBe(1);
    const buf = new Uint8Array(16);
    expect(data.pread(buf, 0)).toBe(7);
    data.release();
    // Listing a listed directory: one round trip too (walk + open + Treaddirattr).
    const { value: inner, writes: lists } = writesDuring(() => lower.readdir(nodes[3]!));
    expect(inner.map((e) => e.name)).toEqual(['inner']);
    expect(lists).toBe(1);
    // Reading a listed symlink: its target came with the listing, no round trip.
    const { value: target, writes: links } = writesDuring(() => lower.readlink(nodes[2]!));
    expect(target).toBe('f1');
    expect(links).toBe(0);
    // Read again within the window (path resolution reads a link at each traversal): none.
    const { value: again, writes: relinks } = writesDuring(() => lower.readlink(nodes[2]!));
    expect([again, relinks]).toEqual(['f1', 0]);
  });

  it('a listing older than ATTR_TTL_MS is not trusted: host changes are seen', async () => {
    g.session.ttlMs = LONG;
    lower.readdir(lower.root);
    fs.writeFileSync(path.join(dir, 'late'), 'late');
    fs.unlinkSync(path.join(dir, 'f5'));
    fs.writeFileSync(path.join(dir, 'f6'), 'grown to sixteen');
    // Within the window the listing answers (the documented staleness bound)...
    expect(lower.walk(lower.root, 'late')).toBeNull();
    g.session.ttlMs = ATTR_TTL_MS;
    await sleep(ATTR_TTL_MS + 30);
    // ...after it, the server does.
    expect(lower.walk(lower.root, 'late')).not.toBeNull();
    expect(lower.walk(lower.root, 'f5')).toBeNull();
    expect(lower.walk(lower.root, 'f6')!.attr.size).toBe(16);
  });

  it('a node from a listing revalidates against the host after ATTR_TTL_MS', async () => {
    g.session.ttlMs = LONG;
    lower.readdir(lower.root);
    const n = lower.walk(lower.root, 'f9')!;
    expect(lower.revalidate(n)).toBe(true);
    g.session.ttlMs = ATTR_TTL_MS;
    fs.writeFileSync(path.join(dir, 'f9.tmp'), 'replacement');
    fs.renameSync(path.join(dir, 'f9.tmp'), path.join(dir, 'f9'));
    await sleep(ATTR_TTL_MS + 30);
    expect(lower.revalidate(n)).toBe(false);
    const again = lower.walk(lower.root, 'f9')!;
    expect(lower.getattr(again).size).toBe('replacement'.length);
  });

  it('a directory being scanned is listed again when its listing goes stale; revalidation uses a fresh listing', async () => {
    g.session.ttlMs = LONG;
    lower.readdir(lower.root);
    const a = lower.walk(lower.root, 'f10')!;
    lower.walk(lower.root, 'f11');
    lower.walk(lower.root, 'f12');
    g.session.ttlMs = ATTR_TTL_MS;
    await sleep(ATTR_TTL_MS + 30);
    // Stale, after three hits: the next lookup lists again (one round trip) and the ones
    // after it are answered from the new listing.
    const { value: n13, writes } = writesDuring(() => {
      const first = lower.walk(lower.root, 'f13');
      g.session.ttlMs = LONG;
      return [first, lower.walk(lower.root, 'f14'), lower.walk(lower.root, 'nope')];
    });
    expect(writes).toBe(1);
    expect(n13[0]!.attr.size).toBe(13);
    expect(n13[2]).toBeNull();
    // A node whose own check is old, checked against its parent's fresh listing: no round trip.
    a.attrAt = performance.now() - 2 * LONG;
    const { value: ok, writes: checks } = writesDuring(() => lower.revalidate(a));
    expect([ok, checks]).toEqual([true, 0]);
    fs.writeFileSync(path.join(dir, 'f10.tmp'), 'another file');
    fs.renameSync(path.join(dir, 'f10.tmp'), path.join(dir, 'f10'));
    lower.readdir(lower.root);
    a.attrAt = performance.now() - 2 * LONG;
    const { value: stale, writes: checks2 } = writesDuring(() => lower.revalidate(a));
    expect([stale, checks2]).toEqual([false, 0]);
  });

  it('a listed directory gets its own fid with its listing: listing below it is one round trip each', () => {
    g.session.ttlMs = LONG;
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'leaf'), '');
    try {
      lower.readdir(lower.root);
      const sub = lower.walk(lower.root, 'sub') as GoferNode;
      expect(sub.fid).toBe(-1);
      const { value: ents, writes } = writesDuring(() => lower.readdir(sub));
      expect(ents.map((e) => e.name).sort()).toEqual(['deeper', 'inner']);
      expect(writes).toBe(1);
      expect(sub.fid).toBeGreaterThanOrEqual(0);
      // Below it: one round trip, walking from sub's fid (without it, a walk to sub first).
      const deeper = lower.walk(sub, 'deeper') as GoferNode;
      const { value: inner, writes: w2 } = writesDuring(() => lower.readdir(deeper));
      expect(inner.map((e) => e.name)).toEqual(['leaf']);
      expect(w2).toBe(1);
      // A listed directory the host removed since: ENOENT, and no fid taken.
      fs.rmSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
      const again = lower.walk(sub, 'deeper') as GoferNode;
      again.fid = -1;
      expect(() => lower.readdir(again)).toThrow(expect.objectContaining({ errno: 2 }));
      expect(again.fid).toBe(-1);
    } finally {
      fs.rmSync(path.join(dir, 'sub', 'deeper'), { recursive: true, force: true });
    }
  });

  it('a directory larger than one reply is listed whole, page by page', () => {
    const small = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
    try {
      // A small msize: many Rreaddirattr pages, the end flag only on the last.
      (small.session.client as unknown as { msize: number }).msize = 4096 + 24;
      const l = new GoferLowerFS(small.session, 't');
      const { value: ents, writes } = writesDuring(() => l.readdir(l.root));
      expect(new Set(ents.map((e) => e.name)).size).toBe(ents.length);
      expect(ents.length).toBe(fs.readdirSync(dir).length);
      expect(writes).toBeGreaterThan(3);
      expect(l.walk(l.root, 'f123')!.attr.size).toBe(123);
    } finally {
      small.close();
    }
  });
});
