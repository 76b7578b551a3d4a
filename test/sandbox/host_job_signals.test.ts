// The terminal's job-control signals reach tsvisor's process group (a user's ^C, ^Z and fg on
// `tsvisor run` in a shell): tsvisor forwards them into the sandbox, and the gofer, which
// serves every file, must not take them itself (it died of SIGINT, and a stop then SIGCONT
// restarted its poll with restart_syscall, which its seccomp filter killed): afterwards every
// file access gave EIO.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, platforms, TIME_SCALE } from '../helpers/run';

const script = [
  "trap 'echo got INT' INT",
  'echo ready',
  'i=0',
  // Long enough for the signals to land inside the loop (fewer under an emulated CPU, where
  // each round is seconds).
  `while [ $i -lt ${TIME_SCALE > 1 ? 15 : 60} ]; do`,
  // (^C also ends the cat of the moment, as it would natively: only a read that fails
  // with an error message counts.)
  '  cat /etc/hostname > /dev/null',
  '  sleep 0.05',
  '  i=$((i+1))',
  'done',
  'cat /etc/passwd | head -1 | cut -c1-4',
].join('\n');

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

describe.each(platforms)('%s', (platform) => {
  it('^C, ^Z and fg sent to tsvisor\'s process group leave file access working', async () => {
    // detached: tsvisor leads a process group of its own, as a shell's job does.
    const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--', '/bin/bash', '-c', script],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pgid = child.pid!;
    // The signals come once bash has its trap (a loaded host starts it slowly).
    for (let i = 0; i < 600 * TIME_SCALE && !out.includes('ready'); i++) await sleep(100);
    process.kill(-pgid, 'SIGINT');
    await sleep(300);
    process.kill(-pgid, 'SIGTSTP');
    await sleep(500);
    process.kill(-pgid, 'SIGCONT');
    await sleep(300);
    process.kill(-pgid, 'SIGINT');
    const code = await done;
    expect(out).not.toMatch(/Input\/output error|No such file/);
    expect(out).toMatch(/got INT/);
    expect(out.trimEnd().split('\n').pop()).toBe('root');
    expect(code).toBe(0);
  }, 60_000 * TIME_SCALE);

  // A shell's fg that comes before the ^Z has stopped the program (at once here; under TCG
  // 500 ms was not enough): on Linux the SIGCONT undoes the stop whichever lands first, so
  // the program runs on. tsvisor stopped itself once the program stopped, with nothing left
  // to continue it.
  it('^Z with fg right behind it: the program runs on and tsvisor does not stay stopped', async () => {
    const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--', '/bin/bash', '-c',
      // Big copies keep the sentry's thread busy, so both signals are taken back to back.
      // (Fewer under an emulated CPU, where each is seconds.)
      `echo ready; i=0; while [ $i -lt ${TIME_SCALE > 1 ? 8 : 60} ]; do dd if=/dev/zero of=/tmp/big bs=64M count=1 2>/dev/null; i=$((i+1)); done; echo done`],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    let exited = false;
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => { exited = true; resolve(code); }));
    const pgid = child.pid!;
    for (let i = 0; i < 600 * TIME_SCALE && !out.includes('ready'); i++) await sleep(100);
    // The window is between tsvisor taking the ^Z and the program stopping; a SIGCONT sent
    // at once may discard the ^Z before tsvisor took it, so every other round waits 1 ms. Hit
    // on the host in about a third of the runs without the fix (the deterministic check is
    // test/unit/sandbox/tstp_gate.test.ts).
    for (let round = 0; round < 40 && !exited && !out.includes('done'); round++) {
      process.kill(-pgid, 'SIGTSTP');
      if (round % 2 === 1) await sleep(1);
      process.kill(-pgid, 'SIGCONT');
      await sleep(50);
    }
    // A tsvisor that stopped itself stays so: name that, then end it.
    let stoppedFor = 0;
    while (!exited && stoppedFor < 3000 * TIME_SCALE) {
      await sleep(100);
      stoppedFor = processState(pgid) === 'T' ? stoppedFor + 100 : 0;
    }
    const state = exited ? 'exited' : processState(pgid);
    if (!exited) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
    const code = await done;
    expect(state, out).toBe('exited');
    expect(out.trimEnd().split('\n').pop()).toBe('done');
    expect(code).toBe(0);
  }, 60_000 * TIME_SCALE);
});

/** The state letter of /proc/PID/stat (T: stopped), or 'gone'. */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return 'gone';
  }
}
