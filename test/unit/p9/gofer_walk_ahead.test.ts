// Walks ahead over tsvisor-gofer (session.ts fetchAhead, one Twalkgetattr): a lookup that must
// ask the server while the path walk has names to go asks for all of them in one request; the
// directories on the way get no fid (one needed later is walked to from the nearest ancestor
// holding one, in the same request as the next walk below it); the steps answer
// that walk's next lookups and revalidations (and no other walk's), stop where the host tree
// stops (a missing name, a file or a symlink in the middle), and no fid is left behind. The
// resolver's `ahead` is its stack of remaining names, last first; here walkPath plays the
// resolver. Round trips are counted at the transport, requests by type.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { ATTR_TTL_MS, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import { SocketTransport } from '../../../ts/p9/transport';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { skipBecause } from '../../helpers/run';

const binary = goferBinary();
const Tclunk = 120, Twalk = 110, Twalkgetattr = 132;

/** Writes to the gofer while fn runs, and the requests they carried by type. */
function traffic<T>(fn: () => T): { value: T; writes: number; types: Map<number, number> } {
  const proto = SocketTransport.prototype;
  const { send, call } = proto;
  let writes = 0;
  const types = new Map<number, number>();
  const count = (msg: Uint8Array): void => {
    writes++;
    for (let at = 0; at + 5 <= msg.length;) {
      types.set(msg[at + 4], (types.get(msg[at + 4]) ?? 0) + 1);
      const size = msg[at] | (msg[at + 1] << 8) | (msg[at + 2] << 16) | (msg[at + 3] << 24);
      if (size < 7) break;
      at += size;
    }
  };
  proto.send = function (this: SocketTransport, msg) { count(msg); return send.call(this, msg); };
  proto.call = function (this: SocketTransport, msg, max) { count(msg); return call.call(this, msg, max); };
  try { return { value: fn(), writes, types }; } finally { proto.send = send; proto.call = call; }
}

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('walks ahead over tsvisor-gofer', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;
  const deep = Array.from({ length: 20 }, (_, i) => `d${i}`);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-ahead-'));
    fs.mkdirSync(path.join(dir, 'a/b/c/d'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a/b/c/d/file'), 'deep\n');
    fs.writeFileSync(path.join(dir, 'a/plain'), 'plain\n');
    fs.symlinkSync('c', path.join(dir, 'a/b/lnk'));
    fs.mkdirSync(path.join(dir, ...deep), { recursive: true });
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
    lower = new GoferLowerFS(g.session, 't');
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  // Each test starts cold: a fresh lower layer on the same session (the root keeps its fid).
  beforeEach(() => {
    g.session.ttlMs = 60_000;
    lower = new GoferLowerFS(g.session, 't');
  });

  /** Looks up names one by one as the resolver does, with its stack as `ahead`; returns the
   *  nodes found (null where the walk stopped, and nothing after it). */
  function walkPath(names: string[], from: GoferNode = lower.root, stack = [...names].reverse()): (GoferNode | null)[] {
    const out: (GoferNode | null)[] = [];
    let cur = from;
    while (stack.length > 0) {
      const n = lower.walk(cur, stack.pop()!, stack) as GoferNode | null;
      out.push(n);
      if (!n || (n.attr.mode & 0o170000) !== 0o040000) break;
      cur = n;
    }
    return out;
  }

  it('a cold deep path is one request, each node with the host attributes, the last with its fid', () => {
    const { value: nodes, writes, types } = traffic(() => walkPath(['a', 'b', 'c', 'd', 'file']));
    expect(writes).toBe(1);
    expect([...types]).toEqual([[Twalkgetattr, 1]]);
    let p = dir;
    for (const [i, name] of ['a', 'b', 'c', 'd', 'file'].entries()) {
      p = path.join(p, name);
      const st = fs.lstatSync(p);
      const n = nodes[i]!;
      if (i === 4) expect(n.fid).toBeGreaterThanOrEqual(0); else expect(n.fid).toBe(-1);
      expect([n.name, n.attr.mode, n.attr.ino, n.attr.size, n.attr.uid]).toEqual([name, st.mode, st.ino, st.size, st.uid]);
    }
  });

  it('listing a directory walked through (no fid) is one write: its names from the nearest fid go with the listing, and it keeps a fid', () => {
    const nodes = walkPath(['a', 'b', 'c', 'd', 'file']) as GoferNode[];
    expect(nodes[2].fid).toBe(-1);
    const { value: ents, writes } = traffic(() => lower.readdir(nodes[2]));
    expect(writes).toBe(1);
    expect(ents.map((e) => e.name).sort()).toEqual(['d']);
    expect(nodes[2].fid).toBeGreaterThanOrEqual(0);
  });

  it('the last name of a path in a directory walked through (no fid) is one write with its listing', () => {
    const nodes = walkPath(['a', 'b', 'c', 'd', 'file']) as GoferNode[];
    lower = new GoferLowerFS(g.session, 't');
    const { value: d, writes } = traffic(() => lower.walk(nodes[2], 'd') as GoferNode);
    expect(writes).toBe(1);
    expect(d.fid).toBeGreaterThanOrEqual(0);
    expect(d.attr.ino).toBe(fs.statSync(path.join(dir, 'a/b/c/d')).ino);
    const list = traffic(() => lower.readdir(d));
    expect([list.writes, list.value.map((e) => e.name)]).toEqual([0, ['file']]);
  });

  it('a lookup with nothing ahead is one request too: a fid and the host attributes', () => {
    const { value: n, writes, types } = traffic(() => g.session.walk(lower.root, 'a') as GoferNode);
    expect(writes).toBe(1);
    expect([...types]).toEqual([[Twalkgetattr, 1]]);
    expect(n.fid).toBeGreaterThanOrEqual(0);
    expect([n.attr.mode, n.attr.ino]).toEqual([fs.lstatSync(path.join(dir, 'a')).mode, fs.lstatSync(path.join(dir, 'a')).ino]);
    expect(g.session.walk(lower.root, 'nope')).toBeNull();
  });

  it('a directory on the way that needs a fid later gets it in one walk from the nearest ancestor holding one', () => {
    const nodes = walkPath(['a', 'b', 'c', 'd', 'file']) as GoferNode[];
    const { value: fid, writes, types } = traffic(() => g.session.fidOf(nodes[3]));
    expect(writes).toBe(1);
    expect(types.get(Twalk)).toBe(1);
    expect(nodes[3].fid).toBe(fid);
    expect(g.session.client.getattr(fid).qid.path).toBe(nodes[3].qid.path);
  });

  it('stops where the tree stops: a missing name, a file in the middle, a symlink in the middle', () => {
    const missing = traffic(() => walkPath(['a', 'b', 'x', 'd', 'file']));
    expect(missing.value.map((n) => n?.name ?? null)).toEqual(['a', 'b', null]);
    expect(missing.writes).toBe(1);
    lower = new GoferLowerFS(g.session, 't');
    const file = traffic(() => walkPath(['a', 'plain', 'b']));
    // The resolver stops at the file itself (ENOTDIR is its to give): the walk below it is
    // the server's failure, never a node.
    expect(file.value.map((n) => n?.name ?? null)).toEqual(['a', 'plain']);
    expect(file.writes).toBe(1);
    lower = new GoferLowerFS(g.session, 't');
    const link = traffic(() => {
      const stack = ['file', 'd', 'lnk', 'b', 'a'];
      const nodes = walkPath(['a', 'b', 'lnk'], lower.root, stack);
      // The resolver follows the link itself ("c" below b), pushing its target on the same
      // stack: the steps fetched past the link are no use there.
      const b = nodes[1]!;
      const rest = walkPath(['c', 'd', 'file'], b, [...stack, 'c']);
      return [...nodes, ...rest];
    });
    expect(link.value.map((n) => n?.name ?? null)).toEqual(['a', 'b', 'lnk', 'c', 'd', 'file']);
    expect(link.value[2]!.attr.mode & 0o170000).toBe(0o120000);
    expect(link.writes).toBe(2);
  });

  it('steps serve only the walk that fetched them, and unused ones are clunked', () => {
    const first = traffic(() => {
      const stack = ['file', 'd', 'c', 'b'];
      return lower.walk(lower.root, 'a', stack) as GoferNode;
    });
    expect(first.writes).toBe(1);
    expect(first.types.get(Twalkgetattr)).toBe(1);
    // Another walk (another stack) below the same node asks the server itself, from the root
    // (a holds no fid), in one request; the first walk's unused steps let go of the one fid
    // among them (the last) in the same write.
    const other = traffic(() => lower.walk(first.value, 'b', ['d', 'c']));
    expect(other.writes).toBe(1);
    expect(other.types.get(Tclunk)).toBe(1);
    expect(other.types.get(Twalkgetattr)).toBe(1);
    expect(other.types.get(Twalk)).toBeUndefined();
  });

  it('a stale path is revalidated in one round trip, and a replaced directory is seen', () => {
    const nodes = walkPath(['a', 'b', 'c', 'd', 'file']) as GoferNode[];
    for (const n of nodes) n.attrAt = -Infinity;
    const stack = ['file', 'd', 'c', 'b'];
    const { value: ok, writes } = traffic(() => {
      const r = [lower.revalidate(nodes[0], stack)];
      for (let i = 1; i < nodes.length; i++) { stack.pop(); r.push(lower.revalidate(nodes[i], stack)); }
      return r;
    });
    expect(ok).toEqual([true, true, true, true, true]);
    expect(writes).toBe(1);
    for (const n of nodes) expect(performance.now() - n.attrAt).toBeLessThan(60_000);
    // The host replaces c: c's check fails, and the lookup that follows takes the new c
    // from the same round trip; d below it is the new d.
    fs.renameSync(path.join(dir, 'a/b/c'), path.join(dir, 'a/b/c.old'));
    fs.mkdirSync(path.join(dir, 'a/b/c/d'), { recursive: true });
    try {
      for (const n of nodes) n.attrAt = -Infinity;
      const s2 = ['file', 'd', 'c', 'b'];
      const r = traffic(() => {
        expect(lower.revalidate(nodes[0], s2)).toBe(true);
        s2.pop();
        expect(lower.revalidate(nodes[1], s2)).toBe(true);
        s2.pop();
        expect(lower.revalidate(nodes[2], s2)).toBe(false);
        const c = lower.walk(nodes[1], 'c', s2) as GoferNode;
        s2.pop();
        const d = lower.walk(c, 'd', s2) as GoferNode;
        s2.pop();
        return [c, d, lower.walk(d, 'file', s2)];
      });
      expect(r.writes).toBe(1);
      expect(r.value[0]!.attr.ino).toBe(fs.statSync(path.join(dir, 'a/b/c')).ino);
      expect(r.value[1]!.attr.ino).toBe(fs.statSync(path.join(dir, 'a/b/c/d')).ino);
      expect(r.value[2]).toBeNull();
    } finally {
      fs.rmSync(path.join(dir, 'a/b/c'), { recursive: true });
      fs.renameSync(path.join(dir, 'a/b/c.old'), path.join(dir, 'a/b/c'));
    }
  });

  it('steps older than the trust window are not used', () => {
    const first = lower.walk(lower.root, 'a', ['file', 'd', 'c', 'b']) as GoferNode;
    g.session.ttlMs = 0;
    const { writes } = traffic(() => lower.walk(first, 'b', ['file', 'd', 'c']));
    g.session.ttlMs = ATTR_TTL_MS;
    expect(writes).toBe(1);
  });

  it('a walk deeper than one chain goes on in another; \'..\' ends a chain', () => {
    const { value: nodes, writes } = traffic(() => walkPath(deep));
    expect(nodes.map((n) => n?.name)).toEqual(deep);
    expect(writes).toBe(2);
    lower = new GoferLowerFS(g.session, 't');
    const dots = traffic(() => lower.walk(lower.root, 'a', ['c', '..', 'b']));
    expect([...dots.types]).toEqual([[Twalkgetattr, 1]]);
  });

  it('a name the server refuses fails the step with its errno, not a node', () => {
    // The resolver never sends these; a step of them is the server's EINVAL.
    expect(() => walkPath(['a', 'b/c'])).toThrow(SyscallError);
    lower = new GoferLowerFS(g.session, 't');
    expect(() => walkPath(['a', 'x'.repeat(300)])).toThrow(SyscallError);
  });
});
