// The command line: `tsvisor run [options] -- PROGRAM [ARGS...]`, `tsvisor syscalls`, help and
// version. Owns argument parsing and turning the program's wait status into tsvisor's own
// exit status; the sandbox itself is ../sandbox. A plain `run` is read by fast_argv.ts; any
// other command line by commander (commander_cli.ts, a chunk of the bundle loaded only then).

import type * as CommanderCli from './commander_cli';
import { parseRunFast } from './fast_argv';
import { runCommand } from './run_command';
import { reportFailure } from './failure';
import { losslessArgv } from './raw_argv';
export { startupMark } from '../sandbox/startup_trace';
export { exitStatusOf } from './run_command';

export async function main(nodeArgv: string[]): Promise<number> {
  const argv = losslessArgv(nodeArgv);
  const fast = parseRunFast(argv);
  if (fast === null) return (require('./commander_cli') as typeof CommanderCli).commanderMain(argv);
  try {
    return await runCommand(fast.prog, fast.args, fast.options);
  } catch (e) {
    return reportFailure(e);
  }
}
