// seccomp for applications (issue 7): the filters a program installs are evaluated by the
// sentry, compared with the native run of fixture seccomp.c (every action, strict mode,
// stacking, fork/exec inheritance, TSYNC, the privilege rule, bad programs); a Python
// program installing a filter through ctypes; and the attack: the host processes of the
// sandbox never receive the application's filters, and the path limit bounds hostile stacks.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  processTree, describeResult, fixture, platforms, repoRoot, runNative, runSandbox, sandboxArgs, skipBecause, TIME_SCALE,
} from '../helpers/run';

const python = '/usr/bin/python3';
const noPython = skipBecause(!existsSync(python), `${python} not found`);

// Installs a filter with ctypes: uname(2) fails with EPERM, the rest runs.
const PY_FILTER = `
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
insns = [(0x20, 0, 0, 0), (0x15, 0, 1, 63), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]
buf = ctypes.create_string_buffer(b''.join(struct.pack('<HBBI', *i) for i in insns))
fbuf = ctypes.create_string_buffer(struct.pack('<HxxxxxxQ', len(insns), ctypes.addressof(buf)))
print('nnp', libc.prctl(38, 1, 0, 0, 0))
print('seccomp', libc.syscall(317, 1, 0, fbuf))
try:
    os.uname()
    print('uname ran')
except PermissionError as e:
    print('uname refused:', e.errno)
print('getpid positive', os.getpid() > 0)
print([l for l in open('/proc/self/status').read().splitlines() if l.startswith('Seccomp')])
`;

/** Seccomp_filters of every host process of a sandbox whose program holds n filters. */
function hostFilterCounts(platform: string, n: number): Promise<{ counts: number[]; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, sandboxArgs([fixture('seccomp'), 'hold', String(n)], { platform }),
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    let counts: number[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready') && counts.length === 0 && child.pid !== undefined) {
        for (const p of processTree(child.pid)) {
          try {
            const m = /Seccomp_filters:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
            if (m) counts.push(Number(m[1]));
          } catch { /* gone */ }
        }
        counts = [...new Set(counts)].sort((a, b) => a - b);
        child.stdin.end();
      }
    });
    child.on('error', reject);
    child.on('close', () => { clearTimeout(timer); resolve({ counts, stdout }); });
  });
}

describe.each(platforms)('%s', (platform) => {
  it('every action, strict mode, stacking, inheritance, TSYNC, EACCES and bad programs as natively', async () => {
    const native = await runNative([fixture('seccomp')], { timeoutMs: 60_000 });
    expect(native.code, describeResult(native)).toBe(0);
    const r = await runSandbox([fixture('seccomp')], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(0);
    // The fixture really saw the actions (a run where seccomp did nothing differs).
    expect(r.stdout).toContain('kill_process: killed by signal 31');
    expect(r.stdout).toContain('SIGSYS sig 31 code 1 syscall 102 arch 0xc000003e errno 42 call_addr==rip 1 rax==nr 1');
    expect(r.stdout).toContain('strict: killed by signal 9');
    expect(r.stdout).toContain("exec'd Seccomp_filters:\t1");
    // The path limit bounds hostile stacks of maximum-size filters as Linux does.
    expect(r.stdout).toContain('shape 0 len 4096: 3 installed, then Cannot allocate memory');
    expect(r.stdout).toContain('shape 6 len 1601: 4 installed, then Cannot allocate memory');
    // The fixed-seed fuzz really ran programs (some kill, some are refused).
    expect(r.stdout).toMatch(/fuzz 199 len \d+: /);
  }, 240_000 * TIME_SCALE);

  it.skipIf(noPython)('python3 installs a filter with ctypes', async () => {
    const native = await runNative([python, '-c', PY_FILTER], { timeoutMs: 60_000 });
    const r = await runSandbox([python, '-c', PY_FILTER], { platform, timeoutMs: 120_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.stdout).toContain('uname refused: 1');
  }, 240_000 * TIME_SCALE);

  it('user notification is left out: USER_NOTIF unavailable, NEW_LISTENER EINVAL', async () => {
    const r = await runSandbox([fixture('seccomp'), 'notif'], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toContain('avail USER_NOTIF: -1 Operation not supported');
    expect(r.stdout).toContain('NEW_LISTENER: -1 Invalid argument');
    expect(r.stdout).toContain('PR_GET_SECCOMP: 0');
    expect(r.stdout).toContain('actions_avail: kill_process kill_thread trap errno trace log allow\n');
  }, 120_000 * TIME_SCALE);

  it('attack: application filters never reach the host processes', async () => {
    const none = await hostFilterCounts(platform, 0);
    const five = await hostFilterCounts(platform, 5);
    expect(none.stdout).toContain('getpid ran');
    expect(five.stdout).toContain('getpid Operation not permitted');
    expect(none.counts.length).toBeGreaterThan(0);
    expect(five.counts).toEqual(none.counts);
  }, 180_000 * TIME_SCALE);
});
