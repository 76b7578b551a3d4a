// No stray stub process is left behind when the sentry exits, or when it is killed
// (PTRACE_O_EXITKILL, PR_SET_PDEATHSIG).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, platforms, repoRoot, sandboxArgs } from '../helpers/run';

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  start: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ... starttime is field 22; comm may contain spaces and parens.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return null;
  }
}

function descendants(root: number): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
  const out: Proc[] = [];
  const want = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (want.has(p.ppid) && !want.has(p.pid)) {
        want.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/** Alive: exists with the same start time and is not a zombie. */
function alive(p: Proc): boolean {
  const now = readProc(p.pid);
  return now !== null && now.start === p.start && now.state !== 'Z' && now.state !== 'X';
}

async function waitGone(procs: Proc[], ms: number): Promise<Proc[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = procs.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startSleeper(platform: string): Promise<{ child: ChildProcess; procs: Proc[] }> {
  const child = spawn(process.execPath, sandboxArgs([fixture('sleeper'), '30'], { platform }), {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (b) => (err += b));
    child.stdout!.on('data', (b) => {
      out += b;
      if (out.includes('ready\n')) resolve({ child, procs: descendants(child.pid!) });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`sandbox exited (${code}) before the program was ready:\n${out}\n${err}`)));
  });
}

describe.each(platforms)('%s', (platform) => {
  it('SIGKILL of the sentry leaves no stub process behind', async () => {
    const { child, procs } = await startSleeper(platform);
    // The sentry runs the program in at least one process of its own (the stub).
    expect(procs.length).toBeGreaterThan(0);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const left = await waitGone(procs, 5000);
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    expect(left.map((p) => p.pid)).toEqual([]);
  });

  it('SIGTERM of the sentry ends the program and leaves nothing behind', async () => {
    const { child, procs } = await startSleeper(platform);
    const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
    child.kill('SIGTERM');
    const status = await exited;
    expect(status).not.toBe(0);
    const left = await waitGone(procs, 5000);
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    expect(left.map((p) => p.pid)).toEqual([]);
  });
});
