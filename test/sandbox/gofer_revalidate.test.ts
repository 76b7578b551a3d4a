// Host-side changes to a tree the sandbox reads, seen as the revalidation rule says
// (fsimpl/gofer/session.ts: what the server said is trusted for ATTR_TTL_MS on a writable
// tree, LOWER_TTL_MS on the root's read-only lower layer, then asked again): after the
// window, a file rewritten (content and size), a file removed, a file renamed (the old
// name gone, the new one there, an fd opened before still reading it, and fstat on it, as
// on one of the removed file), a name that was
// missing when looked up (a negative lookup) created, and a directory's listing with an entry
// added and one removed, and a directory replaced by a file of its name, are each what a native run sees after the same host changes. Through
// a --volume, the root with --overlay=none, and the root's lower layer.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, platforms, TIME_SCALE } from '../helpers/run';

const made: string[] = [];
afterAll(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

function tree(): string {
  const d = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-reval-'));
  made.push(d);
  fs.writeFileSync(path.join(d, 'f'), 'one\n');
  fs.mkdirSync(path.join(d, 'd'));
  for (const n of ['a', 'b']) fs.writeFileSync(path.join(d, 'd', n), `${n}\n`);
  fs.writeFileSync(path.join(d, 'gone'), 'gone\n');
  fs.writeFileSync(path.join(d, 'old'), 'moved\n');
  fs.mkdirSync(path.join(d, 'kind'));
  fs.writeFileSync(path.join(d, 'kind', 'x'), 'x\n');
  return d;
}

/** The changes a host process makes while the program waits. */
function change(d: string): void {
  fs.appendFileSync(path.join(d, 'f'), 'two\n');
  fs.writeFileSync(path.join(d, 'd', 'c'), 'c\n');
  fs.unlinkSync(path.join(d, 'd', 'a'));
  fs.unlinkSync(path.join(d, 'gone'));
  fs.renameSync(path.join(d, 'old'), path.join(d, 'new'));
  fs.writeFileSync(path.join(d, 'neg'), 'made\n');
  fs.rmSync(path.join(d, 'kind'), { recursive: true });
  fs.writeFileSync(path.join(d, 'kind'), 'a file now\n');
}

const look = 'cat f; stat -c %s f; ls d; cat gone; cat old; cat new; cat neg; ls kind; cat kind; ls';
function script(waitS: number): string {
  return `exec 2>&1; ${look}; exec 3< old 4< gone; echo ready; read x; sleep ${waitS}; ${look}; cat <&3; cat <&4`;
}

/** Runs argv, makes the host changes in dir when it prints "ready", then lets it go on. */
function drive(argv: string[], dir: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '', changed = false;
    c.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!changed && out.includes('ready\n')) {
        changed = true;
        change(dir);
        c.stdin.write('go\n');
      }
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), 50_000 * TIME_SCALE);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

describe.each(platforms)('%s', (platform) => {
  it.each([
    ['a --volume', (d: string) => ['--volume', `${d}:${d}`], 0.2],
    ['the root with --overlay=none', () => ['--rootfs', '/', '--overlay=none'], 0.2],
    ['the root\'s lower layer', () => [], 1.2],
  ] as const)('host changes seen through %s after the window, as natively', async (_via, args, waitS) => {
    const nd = tree();
    const native = await drive(['/bin/sh', '-c', `cd ${nd} && ${script(waitS)}`], nd);
    expect(native.code).toBe(0);
    expect(native.out).toContain('made\n');
    const sd = tree();
    const r = await drive([process.execPath, cli, 'run', `--platform=${platform}`, ...args(sd), '--cwd', sd, '--', '/bin/sh', '-c', script(waitS)], sd);
    expect(r.out.replaceAll(sd, nd)).toBe(native.out);
    expect(r.code).toBe(0);
  }, 60_000 * TIME_SCALE);
});
