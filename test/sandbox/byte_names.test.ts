// Names, link targets, argv and environment are bytes, not text (ts/abi/byte_string.ts): a byte
// that is not UTF-8 must come back as itself, never as U+FFFD (which made "a\xffb" and
// "a\xef\xbf\xbdb" one file).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, describeResult, expectSameAsNativeInFreshDir, expectSameAsNativeOnVolume, platforms, runNative, runSandbox } from '../helpers/run';

/** Runs a shell line natively, whose words may hold any byte (printf makes them). */
function sh(line: string): Buffer {
  return execFileSync('/bin/sh', ['-c', line], { timeout: 60_000 });
}

describe.each(platforms)('%s', (platform) => {
  it('names, link targets, cwd, socket names, inotify names, argv and environ in the memory overlay', async () => {
    await expectSameAsNativeInFreshDir('byte_names', 'byte-names-', platform);
  });

  it('the same on a --volume, and the host sees the very bytes', async () => {
    await expectSameAsNativeOnVolume('byte_names', 'byte-names-', platform, {
      hostCheck: (vd, nd) => {
        const names = (dir: string): string[] => readdirSync(dir, { encoding: 'buffer' }).map((b) => b.toString('hex')).sort();
        expect(names(vd)).toEqual(names(nd));
        expect(names(vd)).toContain(Buffer.from('63fe', 'hex').toString('hex'));
      },
    });
  });

  it("tsvisor's own argv, environment and working directory reach the program byte for byte", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'byte-names-cwd-'));
    try {
      const run = `node ${cli} run --platform ${platform} --`;
      const argv = sh(`${run} /usr/bin/printf %s "$(printf 'a\\377\\303\\251\\355\\240\\200')"`);
      expect(argv.toString('hex')).toBe('61ffc3a9eda080');
      const env = sh(`X="$(printf '\\376z')" ${run} /bin/sh -c 'printf %s "$X"'`);
      expect(env.toString('hex')).toBe('fe7a');
      const cwd = sh(`d="${dir}/$(printf 'c\\377')" && mkdir "$d" && cd "$d" && ${run} /bin/pwd`);
      expect(cwd.toString('hex')).toBe(Buffer.concat([Buffer.from(`${dir}/c`), Buffer.from([0xff, 0x0a])]).toString('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a #! line ends its interpreter at a space or tab only: a CR stays in the name (ENOENT)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'byte-names-sb-'));
    try {
      sh(`printf '#!/bin/sh\\r\\necho ran\\n' > ${dir}/crlf && chmod +x ${dir}/crlf`);
      const probe = `${dir}/crlf; echo "rc=$?"`;
      const native = await runNative(['/bin/sh', '-c', `${probe} 2>/dev/null`]);
      const r = await runSandbox(['/bin/sh', '-c', `${probe} 2>/dev/null`], { platform });
      expect(native.stdout).toBe('rc=127\n');
      expect(r.stdout, describeResult(r)).toBe(native.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
