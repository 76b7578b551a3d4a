// What the first process inherits from the host process that started the sandbox, as a
// child of it would: its supplementary groups (Node's process.getgroups() adds the effective
// gid, which getgroups(2) does not report) and its umask. Read once at start-up from the
// host's /proc/self/status; Node's own answers where that file is missing.

import * as fs from 'node:fs';

export interface HostIdentity {
  groups: number[];
  umask: number;
}

export function hostIdentity(): HostIdentity {
  let status = '';
  try {
    status = fs.readFileSync('/proc/self/status', 'latin1');
  } catch {
    // No /proc on the host: fall back below.
  }
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}:\\t?(.*)$`, 'm').exec(status);
    return m ? m[1].trim() : null;
  };
  const g = field('Groups');
  const groups = g !== null
    ? g.split(/\s+/).filter((s) => s !== '').map(Number)
    : [...new Set(process.getgroups?.() ?? [])];
  const u = field('Umask');
  const umask = u !== null ? parseInt(u, 8) & 0o777 : 0o022;
  return { groups: [...new Set(groups)].sort((a, b) => a - b), umask };
}
