// /proc/<pid>/pagemap and map_files compared with the native run of proc_pagemap.c: page
// flags across touches, fork sharing and copy-on-write, the frame hidden without
// CAP_SYS_ADMIN, the read rules with a fixed-seed fuzz of offsets and counts, and map_files'
// names, modes, links and refusals (before, neither existed).
import { describe, expect, it } from 'vitest';
import { nativeSoftDirty } from '../helpers/native_kernel';
import { describeResult, fixture, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

/** A kernel built with CONFIG_MEM_SOFT_DIRTY sets bit 55 of each pagemap entry (native_kernel.ts). */
const softDirty = skipBecause(nativeSoftDirty(),
  'the host kernel has CONFIG_MEM_SOFT_DIRTY (every new mapping is soft-dirty): the native entries\' soft-dirty bit is checked and cleared before the comparison');

/** The native output with the soft-dirty bit (55: the flags' bit 0) of every entry cleared,
 *  where the native kernel sets it; checked to be set on the first entry there. 1ff is no entry
 *  (a read that failed: all ones), left as it is. */
function withoutSoftDirty(stdout: string): string {
  if (!softDirty) return stdout;
  const flags = /^(.{22} flags )([0-9a-f]{3})( pfn .*)$/gm;
  expect(stdout.match(flags)?.[0], `the first entry should be soft-dirty:\n${stdout}`).toMatch(/flags [0-9a-f]{2}[13579bdf] /);
  return stdout.replace(flags, (line: string, head: string, hex: string, tail: string) =>
    hex === '1ff' ? line : `${head}${(parseInt(hex, 16) & ~1).toString(16).padStart(3, '0')}${tail}`);
}

describe.each(platforms)('%s', (platform) => {
  it('pagemap and map_files read as natively', async () => {
    const native = await runNative([fixture('proc_pagemap')], { timeoutMs: 60_000 });
    const r = await runSandbox([fixture('proc_pagemap')], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(withoutSoftDirty(native.stdout));
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
