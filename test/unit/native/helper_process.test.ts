// HelperProcess (crates/addon/src/helper_process.rs), how the sentry starts the gofer: the
// child gets exactly fds 0-3 (stdin/stdout /dev/null, our stderr, the given fd as 3), our
// environment and an empty signal mask, and is reaped once it exits; kill() after that is a
// no-op. The spawn runs on the helper's thread: one that fails there leaves no child.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addon } from '../../../ts/native/addon';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Until /proc/PID is gone (reaped, not a zombie); false after ~2 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!fs.existsSync(`/proc/${pid}`)) return true;
    await sleep(20);
  }
  return false;
}

describe('HelperProcess', () => {
  it('starts a program with fd 3, /dev/null stdio, our environment and no other fd', async () => {
    const [mine, theirs] = addon().p9Socketpair();
    // Open fds of the sentry (all close-on-exec here; closefrom covers any that is not).
    const stray = fs.openSync('/dev/null', 'r');
    process.env.HELPER_TEST = 'passed';
    // sleep keeps what it inherits and opens nothing: its fds are what the spawn gave it.
    const h = addon().HelperProcess.spawn('/bin/sleep', ['30'], theirs);
    addon().p9Close(theirs);
    fs.closeSync(stray);
    try {
      expect(h.pid).toBeGreaterThan(0);
      let fds: string[] = [];
      for (let i = 0; i < 100; i++) {
        // Until exec is done: the comm is sleep's (before, /proc shows the spawning side) and
        // the new stack's environment is set up (the kernel sets comm first).
        if (fs.readFileSync(`/proc/${h.pid}/comm`, 'utf8').trim() === 'sleep' && fs.readFileSync(`/proc/${h.pid}/environ`).length > 0) {
          fds = fs.readdirSync(`/proc/${h.pid}/fd`).sort((a, b) => Number(a) - Number(b));
          break;
        }
        await sleep(10);
      }
      // stderr is ours, as it is (the test runner may run us without one).
      const ours2 = fs.existsSync('/proc/self/fd/2') ? ['2'] : [];
      expect(fds).toEqual(['0', '1', ...ours2, '3']);
      expect(fs.readlinkSync(`/proc/${h.pid}/fd/0`)).toBe('/dev/null');
      expect(fs.readlinkSync(`/proc/${h.pid}/fd/1`)).toBe('/dev/null');
      expect(fs.readlinkSync(`/proc/${h.pid}/fd/3`)).toMatch(/^socket:/);
      expect(fs.readFileSync(`/proc/${h.pid}/environ`, 'utf8').split('\0')).toContain('HELPER_TEST=passed');
      expect(fs.readFileSync(`/proc/${h.pid}/status`, 'utf8')).toMatch(/SigBlk:\s+0+\n/);
    } finally {
      h.kill(9);
      fs.closeSync(mine);
    }
    // Reaped by its thread (no zombie left), after which kill() must not signal anyone.
    expect(await gone(h.pid)).toBe(true);
    h.kill(9);
  });

  it('a program that cannot be started is an errno', () => {
    const [mine, theirs] = addon().p9Socketpair();
    try {
      expect(() => addon().HelperProcess.spawn('/nonexistent/helper', [], theirs)).toThrow(/^ENOENT/);
    } finally {
      addon().p9Close(mine);
      addon().p9Close(theirs);
    }
  });

  it('a spawn that fails on its thread (not an executable format) is a child gone at once', () => {
    // Passes access(X_OK), so spawn() returns; posix_spawn then fails with ENOEXEC on the
    // helper's thread: no pid, the socket's other end closes, kill() signals no one.
    const dir = fs.mkdtempSync('/tmp/tsvisor-helper-');
    const bogus = `${dir}/not-a-program`;
    fs.writeFileSync(bogus, '\x01\x02 neither ELF nor #!\n', { mode: 0o755 });
    const [mine, theirs] = addon().p9Socketpair();
    try {
      const h = addon().HelperProcess.spawn(bogus, [], theirs);
      addon().p9Close(theirs);
      expect(h.pid).toBe(-1);
      h.kill(9);
      // EOF on our end: the recv fails with that, not with its deadline (ETIMEDOUT).
      let err = '';
      try { addon().p9RecvSome(mine, new Int32Array(5), 8192, 20_000); } catch (e) { err = String(e); }
      expect(err).not.toBe('');
      expect(err).not.toMatch(/ETIMEDOUT/);
    } finally {
      addon().p9Close(mine);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill() ends a running helper', async () => {
    const [mine, theirs] = addon().p9Socketpair();
    const h = addon().HelperProcess.spawn('/bin/sleep', ['30'], theirs);
    addon().p9Close(theirs);
    h.kill(9);
    expect(await gone(h.pid)).toBe(true);
    addon().p9Close(mine);
  });
});
