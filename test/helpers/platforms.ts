// Which platforms the sandbox tests run on by default: every platform that works on this
// host. The global setup asks once (and says once why a platform is left out); run.ts reads
// its answer. A platform works if the addon can make it, and for kvm also if a vCPU here
// really takes a ring-3 syscall into ring 0 (test/fixtures/kvm_probe.c): some nested hosts
// open /dev/kvm and create VMs whose vCPUs get that wrong.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const ALL_PLATFORMS = ['systrap', 'ptrace', 'kvm'];

/** Why the addon cannot make each platform here (null where it can), asked of a separate node
 *  so that no platform (and its stub processes) lives in the test runner itself. */
function addonProblems(names: string[]): Record<string, string | null> {
  const script = `
    const addon = require(${JSON.stringify(path.join(root, 'build', 'tsvisor.node'))});
    const out = {};
    for (const n of ${JSON.stringify(names)}) {
      try { const p = new addon.Platform(new addon.MemoryFile(), n); p.release?.(); out[n] = null; }
      catch (e) { out[n] = e instanceof Error ? e.message : String(e); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) {
    try { return JSON.parse(r.stdout) as Record<string, string | null>; } catch { /* below */ }
  }
  const why = `the addon could not be asked (${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0]})`;
  return Object.fromEntries(names.map((n) => [n, why]));
}

/** Why a KVM vCPU cannot run the kvm platform's way here, or null where it can. */
export function kvmHostProblem(): string | null {
  if (!existsSync('/dev/kvm')) return '/dev/kvm: No such file or directory';
  const probe = path.join(root, 'test', 'fixtures', 'bin', 'kvm_probe');
  if (!existsSync(probe)) return `${probe} is not built (the test setup compiles it)`;
  const r = spawnSync(probe, [], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? null : (r.stdout || r.stderr || `kvm_probe: exit ${r.status}`).trim();
}

/** Every platform that works here, and why each other one does not. */
export function detectPlatforms(): { usable: string[]; leftOut: { name: string; why: string }[] } {
  const problems = addonProblems(ALL_PLATFORMS);
  const kvmHost = kvmHostProblem();
  // The host's own KVM first: the addon's refusal matters only where a vCPU could run.
  if (kvmHost !== null) problems.kvm = kvmHost;
  const usable: string[] = [];
  const leftOut: { name: string; why: string }[] = [];
  for (const n of ALL_PLATFORMS) {
    const why = problems[n];
    if (why === null || why === undefined) usable.push(n);
    else leftOut.push({ name: n, why });
  }
  return { usable, leftOut };
}

/** Says once why each left-out platform's sandbox tests do not run. */
export function warnLeftOut(leftOut: { name: string; why: string }[]): void {
  for (const { name, why } of leftOut) {
    console.warn(`[tsvisor tests] platform ${name} is not available here, its sandbox tests are skipped: ${why}`);
  }
}
