// The common `tsvisor run [options] [--] PROGRAM [ARGS...]` read without commander: loading
// commander and building its program cost ~2-3 ms of every start-up (issue 10). Only a command
// line whose every word is understood here is taken — known long options, each value in its
// own word or after '=' — and it yields what commander would give the action; anything else
// (help, --version, `syscalls`, an unknown or malformed option, an option after the program
// without '--') returns null and goes to commander (commander_cli.ts), errors included.

import type { RunOptions } from './run_command';

/** run's options that take a value: the RunOptions key, and whether they repeat (collect). */
const VALUED: ReadonlyMap<string, { key: keyof RunOptions; repeat: boolean }> = new Map([
  ['--platform', { key: 'platform', repeat: false }],
  ['--debug-log', { key: 'debugLog', repeat: false }],
  ['--env', { key: 'env', repeat: true }],
  ['--cwd', { key: 'cwd', repeat: false }],
  ['--memory', { key: 'memory', repeat: false }],
  ['--pids', { key: 'pids', repeat: false }],
  ['--rootfs', { key: 'rootfs', repeat: false }],
  ['--overlay', { key: 'overlay', repeat: false }],
  ['--volume', { key: 'volume', repeat: true }],
  ['--network', { key: 'network', repeat: false }],
  ['--publish', { key: 'publish', repeat: true }],
]);

export interface FastRun { prog: string; args: string[]; options: RunOptions }

/** argv as process.argv (node, script, words...). */
export function parseRunFast(argv: readonly string[]): FastRun | null {
  if (argv[2] !== 'run') return null;
  const o: RunOptions = {
    platform: 'auto', strace: false, env: [], overlay: 'memory', volume: [], network: 'sandbox', publish: [],
  };
  const values = o as unknown as Record<string, string | string[] | boolean | undefined>;
  let i = 3;
  for (; i < argv.length; i++) {
    const w = argv[i];
    if (w === '--') { i++; break; }
    if (!w.startsWith('-') || w === '-') break;
    if (w === '--strace') { o.strace = true; continue; }
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    const spec = VALUED.get(name);
    if (!spec) return null;
    let value: string;
    if (eq >= 0) {
      value = w.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) return null;
      value = argv[++i];
      // commander would take it as the value; whether that is meant is its business.
      if (value.startsWith('-')) return null;
    }
    if (spec.repeat) (values[spec.key] as string[]).push(value);
    else values[spec.key] = value;
  }
  if (i >= argv.length) return null;
  const rest = argv.slice(i);
  const dashes = argv[i - 1] === '--';
  // Without '--', commander reads options among the program's arguments too.
  if (!dashes && rest.some((w) => w.startsWith('-') && w !== '-')) return null;
  return { prog: rest[0], args: rest.slice(1), options: o };
}
