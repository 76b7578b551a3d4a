// HelperProcess (crates/addon/src/helper_process.rs), how the sentry starts the gofer: the
// child gets exactly fds 0-3 (stdin/stdout /dev/null, our stderr, the given fd as 3), our
// environment, and an empty signal mask; kill() after it has exited and been reaped is a no-op.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addon } from '../../../ts/native/addon';

const script = [
  'exec 4>&3', // so that ls below is not the one whose fds we list: $$ is the shell
  'echo "fds $(ls /proc/$$/fd | sort -n | tr "\\n" " ")" >&3',
  'echo "stdio $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)" >&3',
  'echo "env $HELPER_TEST" >&3',
  'echo "sigblk $(grep SigBlk /proc/$$/status | tr -d "\\t ")" >&3',
  'read x <&3; echo "got $x" >&3',
].join('\n');

function readAll(fd: number): string {
  let out = '';
  const buf = Buffer.alloc(4096);
  for (let n; (n = fs.readSync(fd, buf)) > 0;) out += buf.subarray(0, n).toString();
  return out;
}

describe('HelperProcess', () => {
  it('starts a program with fd 3, /dev/null stdio, our environment and no other fd', async () => {
    const [mine, theirs] = addon().p9Socketpair();
    // Open fds of the sentry (all close-on-exec here; closefrom covers any that is not).
    const stray = fs.openSync('/dev/null', 'r');
    process.env.HELPER_TEST = 'passed';
    const h = addon().HelperProcess.spawn('/bin/sh', ['-c', script], theirs);
    addon().p9Close(theirs);
    fs.closeSync(stray);
    expect(h.pid).toBeGreaterThan(0);
    fs.writeSync(mine, 'ping\n');
    const out = readAll(mine);
    fs.closeSync(mine);
    expect(out).toContain('fds 0 1 2 3 4 \n');
    expect(out).toContain('stdio /dev/null /dev/null\n');
    expect(out).toContain('env passed\n');
    expect(out).toContain('sigblk SigBlk:0000000000000000\n');
    expect(out).toContain('got ping\n');
    // Reaped by its thread (no zombie left), after which kill() must not signal anyone.
    const gone = (): boolean => { try { return !fs.readFileSync(`/proc/${h.pid}/stat`, 'utf8').includes(') Z'); } catch { return true; } };
    for (let i = 0; i < 100 && (fs.existsSync(`/proc/${h.pid}`) || !gone()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(`/proc/${h.pid}`)).toBe(false);
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

  it('kill() ends a running helper', async () => {
    const [mine, theirs] = addon().p9Socketpair();
    const h = addon().HelperProcess.spawn('/bin/sleep', ['30'], theirs);
    addon().p9Close(theirs);
    h.kill(9);
    for (let i = 0; i < 100 && fs.existsSync(`/proc/${h.pid}`); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(`/proc/${h.pid}`)).toBe(false);
    addon().p9Close(mine);
  });
});
