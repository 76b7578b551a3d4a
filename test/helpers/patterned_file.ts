// A temporary directory per test file and, in it, fresh directories each holding one file `f`
// of 3*4096+100 bytes where byte i is i % 251: what the gofer I/O fixtures (gofer_direct_io.c,
// gofer_io_fresh.c) read and check.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Call at the top of a test file: returns dirWithFile(name), a fresh directory holding `f`. */
export function patternedFiles(prefix: string): (name: string) => string {
  let base = '';
  let n = 0;
  beforeAll(() => { base = fs.mkdtempSync(path.join(tmpdir(), prefix)); });
  afterAll(() => { if (base) fs.rmSync(base, { recursive: true, force: true }); });
  return (name: string): string => {
    const d = path.join(base, `${name}-${n++}`);
    fs.mkdirSync(d);
    const b = Buffer.alloc(3 * 4096 + 100);
    for (let i = 0; i < b.length; i++) b[i] = i % 251;
    fs.writeFileSync(path.join(d, 'f'), b);
    return d;
  };
}
