// The terminal's job-control signals reach tsvisor's process group (a user's ^C, ^Z and fg on
// `tsvisor run` in a shell): tsvisor forwards them into the sandbox, and the gofer, which
// serves every file, must not take them itself (it died of SIGINT, and a stop then SIGCONT
// restarted its poll with restart_syscall, which its seccomp filter killed): afterwards every
// file access gave EIO.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, fixture, platforms, processTree, skipBecause, TIME_SCALE } from '../helpers/run';

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

/** The host state letter of a process (R, S, T...). */
function hostState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '?';
  }
}

/** A program started as a shell starts a job: detached, so that it leads a process group of
 *  its own, with its output collected. */
interface Job {
  pgid: number;
  out(): string;
  /** The exit code, or -1 if it had not ended after ms. */
  exit(ms: number): Promise<number | null>;
  /** Until the output includes text (a loaded host starts programs slowly). */
  waitFor(text: string): Promise<void>;
  /** SIGKILL to the whole group, whatever happened. */
  end(): void;
}

function startJob(argv: string[]): Job {
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pgid = child.pid!;
  return {
    pgid,
    out: () => out,
    exit: (ms) => Promise.race([done, sleep(ms).then(() => -1)]),
    waitFor: async (text) => {
      for (let i = 0; i < 3000 * TIME_SCALE && !out.includes(text); i++) await sleep(20);
    },
    end: () => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } },
  };
}

describe.each(platforms)('%s', (platform) => {
  const sandboxed = (...argv: string[]): string[] => [process.execPath, cli, 'run', `--platform=${platform}`, '--', ...argv];
  it('^C, ^Z and fg sent to tsvisor\'s process group leave file access working', async () => {
    const job = startJob(sandboxed('/bin/bash', '-c', script));
    try {
      // The signals come once bash has its trap.
      await job.waitFor('ready');
      process.kill(-job.pgid, 'SIGINT');
      await sleep(300);
      process.kill(-job.pgid, 'SIGTSTP');
      await sleep(500);
      process.kill(-job.pgid, 'SIGCONT');
      await sleep(300);
      process.kill(-job.pgid, 'SIGINT');
      const code = await job.exit(50_000 * TIME_SCALE);
      const out = job.out();
      expect(out).not.toMatch(/Input\/output error|No such file/);
      expect(out).toMatch(/got INT/);
      expect(out.trimEnd().split('\n').pop()).toBe('root');
      expect(code).toBe(0);
    } finally {
      job.end();
    }
  }, 60_000 * TIME_SCALE);

  // A program that catches ^Z stops itself only after tidying up (vim, less): tsvisor must
  // stop too once it does, not give up 20 ms after the ^Z, or the user's shell never gets
  // its terminal back; and fg's SIGCONT continues it.
  it('^Z on a program that stops itself late stops tsvisor, and fg continues it', async () => {
    const job = startJob(sandboxed(fixture('tstp_tidy')));
    try {
      await job.waitFor('ready');
      process.kill(-job.pgid, 'SIGTSTP');
      let state = '';
      for (let i = 0; i < 100 * TIME_SCALE && state !== 'T'; i++) {
        await sleep(100);
        state = hostState(job.pgid);
      }
      expect(state).toBe('T');
      process.kill(-job.pgid, 'SIGCONT');
      expect(await job.exit(30_000 * TIME_SCALE)).toBe(0);
      expect(job.out()).toBe('ready\ncontinued\n');
    } finally {
      job.end();
    }
  }, 60_000 * TIME_SCALE);

  // fg right after ^Z, before the job could stop (here SIGTSTP is blocked): the SIGCONT must
  // still reach the job, where it discards the pending stop, as natively. It was dropped
  // when the job was not stopped yet, and the job then stopped for good once it unblocked.
  it('fg before the job has stopped cancels the pending stop, as natively', async () => {
    const drive = async (argv: string[]): Promise<{ out: string; code: number | null }> => {
      const job = startJob(argv);
      try {
        await job.waitFor('ready');
        process.kill(-job.pgid, 'SIGTSTP');
        await sleep(100);
        process.kill(-job.pgid, 'SIGCONT');
        const code = await job.exit(20_000 * TIME_SCALE);
        return { out: job.out(), code };
      } finally {
        job.end();
      }
    };
    const native = await drive([fixture('tstp_blocked')]);
    expect(native).toEqual({ out: 'ready\nstop pending 0\ndone\n', code: 0 });
    expect(await drive(sandboxed(fixture('tstp_blocked')))).toEqual(native);
  }, 60_000 * TIME_SCALE);

  // A stub is in a process group of its own, but one spawned while ^Z or ^C was sent to
  // tsvisor's group could take the signal before it got there: it stopped before its exec
  // and the sentry waited on it for ever, or died. Stubs ignore a terminal's signals; sent
  // straight to every stub (spares too) they change nothing for the program.
  it('a terminal\'s signals sent straight to the stubs change nothing', async () => {
    if (skipBecause(platform === 'kvm', 'kvm has no stub processes (the program runs in the sentry\'s vCPU threads)')) return;
    const script = 'echo ready; i=0; while [ $i -lt 30 ]; do sleep 0.02; i=$((i+1)); done; echo done';
    const job = startJob(sandboxed('/bin/sh', '-c', script));
    try {
      await job.waitFor('ready');
      const stubs = processTree(job.pgid).filter((p) => {
        try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'tsvisor-stub'; } catch { return false; }
      });
      expect(stubs.length).toBeGreaterThan(0);
      for (const sig of ['SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM'] as const) {
        for (const p of stubs) process.kill(p, sig);
      }
      const code = await job.exit(30_000 * TIME_SCALE);
      expect({ code, out: job.out() }).toEqual({ code: 0, out: 'ready\ndone\n' });
    } finally {
      job.end();
    }
  }, 60_000 * TIME_SCALE);

  // A shell's fg that comes before the ^Z has stopped the program (at once here; under TCG
  // 500 ms was not enough): on Linux the SIGCONT undoes the stop whichever lands first, so
  // the program runs on. tsvisor stopped itself once the program stopped, with nothing left
  // to continue it.
  it('^Z with fg right behind it: the program runs on and tsvisor does not stay stopped', async () => {
    // Big copies keep the sentry's thread busy, so both signals are taken back to back.
    // (Fewer under an emulated CPU, where each is seconds.)
    const job = startJob(sandboxed('/bin/bash', '-c',
      `echo ready; i=0; while [ $i -lt ${TIME_SCALE > 1 ? 8 : 60} ]; do dd if=/dev/zero of=/tmp/big bs=64M count=1 2>/dev/null; i=$((i+1)); done; echo done`));
    try {
      await job.waitFor('ready');
      // The window is between tsvisor taking the ^Z and the program stopping; a SIGCONT sent
      // at once may discard the ^Z before tsvisor took it, so every other round waits 1 ms.
      let code: number | null = -1;
      for (let round = 0; round < 40 && code === -1 && !job.out().includes('done'); round++) {
        process.kill(-job.pgid, 'SIGTSTP');
        if (round % 2 === 1) await sleep(1);
        process.kill(-job.pgid, 'SIGCONT');
        code = await job.exit(50);
      }
      // A tsvisor that stopped itself stays so: name that, then end it.
      let stoppedFor = 0;
      while (code === -1 && stoppedFor < 3000 * TIME_SCALE) {
        code = await job.exit(100);
        stoppedFor = hostState(job.pgid) === 'T' ? stoppedFor + 100 : 0;
      }
      expect({ code, stopped: stoppedFor > 0 }, job.out()).toEqual({ code: 0, stopped: false });
      expect(job.out().trimEnd().split('\n').pop()).toBe('done');
    } finally {
      job.end();
    }
  }, 60_000 * TIME_SCALE);
});
