// The lower layer keeps at most MAX_LISTINGS (256) directory listings, the least recently
// used dropped first: a big directory whose subdirectories are listed one after another (find
// in /usr/share/doc) keeps its own listing while lookups in it go on, so each next lookup
// there costs no round trip (they cost one each when listings were dropped by age).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoferProcess, goferBinary } from '../../../ts/fsimpl/gofer/gofer_process';
import { GoferLowerFS } from '../../../ts/fsimpl/gofer/gofer_lower';
import { ATTR_TTL_MS, type GoferNode } from '../../../ts/fsimpl/gofer/session';
import { skipBecause } from '../../helpers/run';
import { writesDuring } from '../../helpers/p9_writes';

const binary = goferBinary();
const SUBS = 320;

describe.skipIf(skipBecause(binary === null, 'build/tsvisor-gofer is not built (npm run build:gofer)'))('listings kept by use', () => {
  let dir: string;
  let g: GoferProcess;
  let lower: GoferLowerFS;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-lru-'));
    for (let i = 0; i < SUBS; i++) {
      fs.mkdirSync(path.join(dir, 'big', `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(dir, 'big', `d${i}`, 'f'), 'x');
    }
    g = new GoferProcess(binary!, [{ name: 't', hostDir: dir, readOnly: true }]);
    lower = new GoferLowerFS(g.session, 't');
  });
  afterAll(() => {
    g?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a directory looked up in while 320 of its subdirectories are listed keeps its listing', () => {
    g.session.ttlMs = 60_000; // a crowded host must not age the listings out
    try {
      const big = lower.walk(lower.root, 'big') as GoferNode;
      lower.readdir(big);
      let lookupWrites = 0;
      for (let i = 0; i < SUBS; i++) {
        const { value: sub, writes } = writesDuring(() => lower.walk(big, `d${i}`));
        lookupWrites += writes;
        expect(sub).not.toBeNull();
        expect(lower.readdir(sub!).map((e) => e.name)).toEqual(['f']);
      }
      expect(big.listing).not.toBeNull();
      // Dropped by age, the lookups past the 256th listing were a round trip each (64 here).
      expect(lookupWrites).toBe(0);
    } finally {
      g.session.ttlMs = ATTR_TTL_MS;
    }
  });
});
