// The command line (commander): `tsvisor run [options] -- PROGRAM [ARGS...]`. Owns argument
// parsing and turning the program's wait status into tsvisor's own exit status; the
// sandbox itself is ../sandbox.

import { parseMounts } from '../sandbox/mounts';
import { Command } from 'commander';
import { runSandbox, UserError } from '../sandbox/sandbox';
import { DEFAULT_PIDS, parsePids, parseSize } from '../sandbox/limits';
import { formatSyscallSupport } from './syscalls_table';
import { parseNetworkFlags } from '../sandbox/network';
export { startupMark } from '../sandbox/startup_trace';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** The shell's convention: the exit code, or 128+N after death by signal N. */
export function exitStatusOf(wait: number): number {
  const sig = wait & 0x7f;
  return sig === 0 ? (wait >> 8) & 0xff : 128 + sig;
}

export async function main(argv: string[]): Promise<number> {
  let status = 0;
  const program = new Command()
    .name('tsvisor')
    .description('Run unmodified x86-64 Linux programs in an application kernel written in TypeScript')
    .version('0.1.0');
  // Before the subcommands: each copies it when made, so a bad option of `run` is a usage
  // error (125) too, instead of commander's own process.exit(1).
  program.exitOverride();
  program
    .command('run')
    .description('run PROGRAM in a new sandbox whose root is the host\'s / (or --rootfs), read-only unless --overlay=none')
    .option('--platform <name>', 'how application syscalls are trapped: systrap, ptrace, kvm (needs /dev/kvm), or auto (the first of systrap, ptrace that works here)', 'auto')
    .option('--strace', 'print each syscall, its arguments and its result to stderr', false)
    .option('--debug-log <file>', 'append the sentry\'s debug log to FILE')
    .option('--env <K=V>', 'set an environment variable for the program (repeatable)', collect, [] as string[])
    .option('--cwd <dir>', 'working directory of the program (default: the host\'s cwd, or / with --rootfs)')
    .option('--memory <size>', 'most memory the program\'s processes may use together (512M, 2G, max); past it the process that needs more is killed (default: half the host\'s RAM)')
    .option('--pids <n>', `most tasks (processes and threads) at once; fork past it fails with EAGAIN (default ${DEFAULT_PIDS}, or max)`)
    .option('--rootfs <dir>', 'host directory that is the sandbox\'s root file system (default /)')
    .option('--overlay <kind>', 'memory: writes to the root stay in memory; none: they reach the --rootfs tree', 'memory')
    .option('--volume <host:path[:ro]>', 'serve host directory HOST at PATH in the sandbox, writable, or read-only with :ro (repeatable)', collect, [] as string[])
    .option('--network <mode>', 'sandbox (own stack: lo, eth0 10.0.2.15 behind a user-mode NAT; 10.0.2.2 is the host\'s 127.0.0.1), none (lo only), or host (host sockets)', 'sandbox')
    .option('--publish <[hostaddr:]hostport:port[/udp]>', 'forward the host\'s 127.0.0.1:HOSTPORT (or [::1]:HOSTPORT to the sandbox\'s IPv6 address) to the sandbox\'s port (repeatable)', collect, [] as string[])
    .argument('<program>', 'program to run (looked up in PATH if it has no slash)')
    .argument('[args...]', 'its arguments')
    .allowUnknownOption(false)
    .action(async (prog: string, args: string[], o: {
      platform: string; strace: boolean; debugLog?: string; env: string[]; cwd?: string; memory?: string; pids?: string;
      rootfs?: string; overlay: string; volume: string[]; network: string; publish: string[];
    }) => {
      const mounts = parseMounts(o);
      const network = parseNetworkFlags(o.network, o.publish);
      const env = new Map<string, string>();
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env.set(k, v);
      for (const kv of o.env) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UserError(`tsvisor: --env wants K=V, got "${kv}"`, 125);
        env.set(kv.slice(0, i), kv.slice(i + 1));
      }
      const wait = await runSandbox({
        platform: o.platform, strace: o.strace, debugLog: o.debugLog, mounts,
        cwd: o.cwd ?? (o.rootfs !== undefined ? '/' : process.cwd()),
        env: [...env].map(([k, v]) => `${k}=${v}`), argv: [prog, ...args],
        network,
        limits: {
          memoryBytes: o.memory !== undefined ? parseSize(o.memory) : undefined,
          pids: o.pids !== undefined ? parsePids(o.pids) : undefined,
        },
      });
      status = exitStatusOf(wait);
    });
  program
    .command('syscalls')
    .description('list every amd64 system call with what the sandbox implements of it')
    .option('--state <state>', 'only those that are full, partial or unsupported')
    .action((o: { state?: string }) => {
      process.stdout.write(formatSyscallSupport(o.state));
    });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(e.message + '\n');
      return e.status;
    }
    const code = (e as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      const ec = (e as { exitCode?: number }).exitCode ?? 125;
      return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : (ec === 0 ? 0 : 125);
    }
    process.stderr.write(`tsvisor: ${e instanceof Error ? e.stack : String(e)}\n`);
    return 125;
  }
  return status;
}
