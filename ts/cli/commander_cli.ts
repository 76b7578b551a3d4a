// The whole command line with commander: help, --version, `syscalls`, and every `run` that
// fast_argv.ts leaves to it (usage errors included). A chunk of the bundle of its own
// (scripts/bundle.mjs): main.ts loads it only for such a command line.

import { Command } from 'commander';
import { UserError } from '../sandbox/sandbox';
import { DEFAULT_PIDS } from '../sandbox/limits';
import { formatSyscallSupport } from './syscalls_table';
import { runCommand, type RunOptions } from './run_command';
import { reportFailure } from './failure';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export type RunAction = (prog: string, args: string[], o: RunOptions) => Promise<void>;

/** The command line's commander program; `run` calls onRun (test/unit/cli compares it with
 *  fast_argv.ts). */
export function commanderProgram(onRun: RunAction): Command {
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
    .action(onRun);
  program
    .command('syscalls')
    .description('list every amd64 system call with what the sandbox implements of it')
    .option('--state <state>', 'only those that are full, partial or unsupported')
    .action((o: { state?: string }) => {
      process.stdout.write(formatSyscallSupport(o.state));
    });
  return program;
}

export async function commanderMain(argv: string[]): Promise<number> {
  let status = 0;
  const program = commanderProgram(async (prog, args, o) => { status = await runCommand(prog, args, o); });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = e instanceof UserError ? undefined : (e as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      const ec = (e as { exitCode?: number }).exitCode ?? 125;
      return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : (ec === 0 ? 0 : 125);
    }
    return reportFailure(e);
  }
  return status;
}
