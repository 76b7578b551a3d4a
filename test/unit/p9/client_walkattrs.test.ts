// Client.walkAttrs (Twalkgetattr, our extension) against forged replies: the reply is a parser
// boundary. A reply that contradicts its request (more steps than names, every name walked
// and an errno, a stop with no errno or none with no step, an errno out of range, a cut or
// padded step) breaks the connection with EIO; it never yields a step, a fid the server did
// not make, or a crash. A fixed-seed fuzzer mutates good replies.
import { describe, expect, it } from 'vitest';
import { Client, type WalkStep } from '../../../ts/p9/client';
import * as m from '../../../ts/p9/messages';
import type { Received } from '../../../ts/p9/transport';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EIO, ENOENT, ENOTDIR } from '../../../ts/abi/linux/errno';
import { ScriptedTransport, p9Reply } from '../../helpers/p9_fake_transport';

const qid = (path: bigint) => ({ type: 0x80, version: 0, path });
const attr = (path: bigint): m.Fields => ({
  valid: 0x7ffn, qid: qid(path), mode: 0o40755, uid: 1, gid: 2, nlink: 2, rdev: 0, size: 4096, blksize: 4096, blocks: 8,
  atime_sec: 1, atime_nsec: 2, mtime_sec: 3, mtime_nsec: 4, ctime_sec: 5, ctime_nsec: 6, btime_sec: 0, btime_nsec: 0,
  gen: 0n, data_version: 0n,
});

/** A client whose server answers Twalkgetattr with answer(request) and Tclunk with Rclunk. */
function client(answer: (req: m.Message) => Received): { c: Client; t: ScriptedTransport } {
  const t = new ScriptedTransport((req) => {
    if (req.type === m.Tversion) return [p9Reply(m.Rversion, m.NOTAG, { msize: 8192, version: '9P2000.L' })];
    if (req.type === m.Tclunk) return [p9Reply(m.Rclunk, req.tag, {})];
    if (req.type === m.Tgetattr) return [p9Reply(m.Rgetattr, req.tag, attr(9n))];
    return [answer(req)];
  });
  const c = new Client(t, { closeFd: () => {}, inOrder: true, goferExtensions: true });
  c.version();
  return { c, t };
}

const reply = (tag: number, ecode: number, n: number): Received =>
  p9Reply(m.Rwalkgetattr, tag, { ecode, steps: Array.from({ length: n }, (_, i) => attr(BigInt(i + 1))) });
const errnoOf = (f: () => unknown): number | string => {
  try { f(); return 'no error'; } catch (e) { return e instanceof SyscallError ? e.errno : String(e); }
};

describe('9P client: walkAttrs (Twalkgetattr)', () => {
  it('every name walked: each step\'s attributes, a fid for the last only', () => {
    const { c, t } = client((req) => reply(req.tag, 0, 3));
    const steps = c.walkAttrs(1, ['a', 'b', 'c']);
    expect(steps.map((s) => ('fid' in s ? s.fid : s.errno))).toEqual([-1, -1, (t.sent.at(-1)!.fields.newfid as number)]);
    expect(steps.map((s) => ('attr' in s ? s.attr.qid.path : 0n))).toEqual([1n, 2n, 3n]);
  });

  it('a stop after the first name: the steps walked and the errno; a first name that fails is its errno', () => {
    const { c } = client((req) => ((req.fields.names as string[])[0] === 'x' ? p9Reply(m.Rlerror, req.tag, { ecode: ENOENT }) : reply(req.tag, ENOTDIR, 1)));
    const steps: WalkStep[] = c.walkAttrs(1, ['a', 'b', 'c']);
    expect(steps.map((s) => ('errno' in s ? s.errno : s.fid))).toEqual([-1, ENOTDIR]);
    expect(c.walkAttrs(1, ['x', 'b'])).toEqual([{ errno: ENOENT }]);
    // The newfids of walks that made none are free again: the next walk reuses one.
    expect(c.walkAttrs(1, ['a', 'b', 'c']).length).toBe(2);
  });

  for (const [what, ecode, n] of [
    ['more steps than names', 0, 4],
    ['every name walked and an errno', ENOENT, 3],
    ['a stop with no errno', 0, 2],
    ['an errno with no step', ENOENT, 0],
    ['an errno out of range', 5000, 1],
    ['a negative errno', -1 >>> 0, 1],
  ] as const) {
    it(`a reply with ${what} breaks the connection (EIO), no step taken`, () => {
      const { c } = client((req) => reply(req.tag, ecode, n));
      expect(errnoOf(() => c.walkAttrs(1, ['a', 'b', 'c']))).toBe(EIO);
      // Broken from now on: a walk fails its first step with EIO (as walkChain's would).
      expect(c.walkAttrs(1, ['a'])).toEqual([{ errno: EIO }]);
    });
  }

  it('fuzz: mutated replies from a fixed seed give steps that agree with the request, or EIO (seed 13)', () => {
    let x = 13;
    const rnd = (k: number): number => { x = (x * 1103515245 + 12345) >>> 0; return (x >>> 8) % k; };
    for (let round = 0; round < 2000; round++) {
      const names = ['a', 'b', 'c', 'd'].slice(0, 1 + rnd(4));
      const { c } = client((req) => {
        const good = reply(req.tag, rnd(3) === 0 ? ENOENT : 0, rnd(3) === 0 ? rnd(6) : names.length).msg;
        const b = Uint8Array.from(good);
        for (let k = rnd(4); k > 0; k--) b[7 + rnd(b.length - 7)] = rnd(256);
        // Keep the size field whole most of the time, so that what is inside gets parsed.
        if (rnd(8) > 0) new DataView(b.buffer).setUint32(0, b.length, true);
        return { msg: b, fds: [] };
      });
      let steps: WalkStep[];
      try { steps = c.walkAttrs(1, names); } catch (e) {
        expect(e instanceof SyscallError && e.errno).toBe(EIO);
        continue;
      }
      const walked = steps.filter((s) => 'attr' in s).length;
      expect(walked).toBeLessThanOrEqual(names.length);
      const last = steps.at(-1)!;
      if (walked === names.length) expect('fid' in last && last.fid >= 0).toBe(true);
      else {
        expect('errno' in last && last.errno > 0 && last.errno < 4096).toBe(true);
        expect(steps.every((s) => !('fid' in s) || s.fid === -1)).toBe(true);
      }
    }
  });
});
