// ts/loader/vdso_text.ts is ts/loader/vdso_text.S assembled: assemble it again (GNU as) and
// compare the bytes and the functions' offsets, so that the two cannot drift apart.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VDSO_FUNCTIONS, VDSO_TEXT } from '../../../ts/loader/vdso_text';
import { repoRoot } from '../../helpers/run';

function have(tool: string): boolean {
  try { execFileSync(tool, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
const noTools = !have('as') || !have('objcopy') || !have('nm');
if (noTools) console.warn('[tsvisor tests] skipping: vdso_text.S needs as, objcopy and nm');

describe('vdso_text', () => {
  it.skipIf(noTools)('is vdso_text.S assembled', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vdso-text-'));
    try {
      const obj = path.join(dir, 'v.o'), bin = path.join(dir, 'v.bin');
      execFileSync('as', ['-o', obj, path.join(repoRoot, 'ts/loader/vdso_text.S')]);
      execFileSync('objcopy', ['-O', 'binary', '-j', '.text', obj, bin]);
      expect(Buffer.from(VDSO_TEXT).toString('hex')).toBe(readFileSync(bin).toString('hex'));
      const syms = new Map(execFileSync('nm', [obj], { encoding: 'utf8' }).trim().split('\n')
        .map((l) => l.split(' ')).map(([a, , n]) => [n, parseInt(a, 16)] as const));
      for (const [name, off] of VDSO_FUNCTIONS) expect(syms.get(name), name).toBe(off);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
