// What `tsvisor run` does once its command line is parsed (by fast_argv.ts or by commander in
// commander_cli.ts): builds the sandbox's options and runs it.

import { parseMounts } from '../sandbox/mounts';
import { runSandbox, UserError } from '../sandbox/sandbox';
import { parsePids, parseSize } from '../sandbox/limits';
import { parseNetworkFlags } from '../sandbox/network';
import { losslessCwd, losslessEnv } from './raw_argv';

/** `run`'s options, as commander hands them to the action (defaults filled in). */
export interface RunOptions {
  platform: string; strace: boolean; debugLog?: string; env: string[]; cwd?: string; memory?: string; pids?: string;
  rootfs?: string; overlay: string; volume: string[]; network: string; publish: string[];
}

/** The shell's convention: the exit code, or 128+N after death by signal N. */
export function exitStatusOf(wait: number): number {
  const sig = wait & 0x7f;
  return sig === 0 ? (wait >> 8) & 0xff : 128 + sig;
}

/** Runs prog with args in a new sandbox; resolves to tsvisor's exit status. */
export async function runCommand(prog: string, args: string[], o: RunOptions): Promise<number> {
  const mounts = parseMounts(o);
  const network = parseNetworkFlags(o.network, o.publish);
  const env = new Map<string, string>();
  for (const [k, v] of losslessEnv(process.env)) env.set(k, v);
  for (const kv of o.env) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UserError(`tsvisor: --env wants K=V, got "${kv}"`, 125);
    env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const wait = await runSandbox({
    platform: o.platform, strace: o.strace, debugLog: o.debugLog, mounts,
    cwd: o.cwd ?? (o.rootfs !== undefined ? '/' : losslessCwd()),
    env: [...env].map(([k, v]) => `${k}=${v}`), argv: [prog, ...args],
    network,
    limits: {
      memoryBytes: o.memory !== undefined ? parseSize(o.memory) : undefined,
      pids: o.pids !== undefined ? parsePids(o.pids) : undefined,
    },
  });
  return exitStatusOf(wait);
}
