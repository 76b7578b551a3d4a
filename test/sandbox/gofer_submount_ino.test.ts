// Files of a file system mounted below the root's tree (a tmpfs in a mount namespace of the
// test's own): each keeps an st_ino of its own in the sandbox, so find walks it as natively.
// Before, the gofer's device prefix put their qid paths past 2^53 and every one of them read
// as the same st_ino (ts/fsimpl/gofer/qid_ino.ts): find stopped at a "file system loop".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, describeResult, platforms, runNative, skipBecause } from '../helpers/run';

const dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-submount-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The script runs in a mount namespace of its own with a tmpfs on `dir`: nothing shows outside. */
const inMountNs = (script: string): string[] => ['unshare', '-m', 'sh', '-c', `mount -t tmpfs none ${dir} && ${script}`];
const cannotMount = skipBecause(process.getuid?.() !== 0 || spawnSync(inMountNs('true')[0]!, inMountNs('true').slice(1)).status !== 0,
  'mounting a tmpfs in a mount namespace of its own needs root and unshare(1)');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(cannotMount)('files on a submount of the root have inode numbers of their own; find walks it as natively', async () => {
    const tree = `mkdir -p ${dir}/a/b/c ${dir}/d && touch ${dir}/a/f1 ${dir}/a/f2 ${dir}/a/b/c/f3`;
    const run = `node ${cli} run --platform ${platform} --`;
    const r = await runNative(inMountNs(`${tree} && ${run} /bin/sh -c 'stat -c %i ${dir}/* ${dir}/a/* ${dir}/a/b/c/* | sort -u | wc -l; find ${dir} | sort'`),
      { timeoutMs: 60_000 });
    const native = await runNative(inMountNs(`${tree} && find ${dir} | sort`));
    expect(r.code, describeResult(r)).toBe(0);
    // a, d; a/b, a/f1, a/f2; a/b/c/f3: six files, six inode numbers.
    expect(r.stdout, describeResult(r)).toBe(`6\n${native.stdout}`);
  }, 120_000);
});
