// fast_argv.ts reads a plain `tsvisor run` without commander; whatever it accepts must be read
// exactly as commander reads it (commander_cli.ts), and what it cannot read exactly it must
// leave to commander (null). Checked on chosen command lines and on 3,000 drawn from a fixed
// seed out of options, values, '=' forms, '--', dashes and program words.
import { describe, expect, it } from 'vitest';
import { parseRunFast } from '../../../ts/cli/fast_argv';
import { commanderProgram } from '../../../ts/cli/commander_cli';
import type { RunOptions } from '../../../ts/cli/run_command';

type Parsed = { prog: string; args: string[]; options: RunOptions } | 'error' | 'other';

async function viaCommander(argv: string[]): Promise<Parsed> {
  let got: Parsed = 'other';
  const program = commanderProgram(async (prog, args, options) => { got = { prog, args, options: { ...options } }; });
  // No output: a usage error is what we compare, not its text.
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  for (const c of program.commands) c.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    await program.parseAsync(argv);
  } catch {
    return 'error';
  }
  return got;
}

const node = ['node', 'tsvisor.js'];

describe('parseRunFast', () => {
  it('reads the usual command lines as commander does', async () => {
    const lines = [
      ['run', '--', '/bin/true'],
      ['run', '/bin/echo', 'a', 'b'],
      ['run', '--platform', 'ptrace', '--strace', '--', 'ls', '-l', '/'],
      ['run', '--env', 'A=1', '--env=B=2', '--volume', '/tmp:/mnt:ro', '--', 'sh', '-c', 'echo $A'],
      ['run', '--memory=512M', '--pids', '20', '--network', 'none', '--cwd', '/', 'true'],
      ['run', '--publish', '8080:80', '--publish=127.0.0.1:9000:90/udp', '--', 'srv', '--', 'x'],
      ['run', '--overlay', 'none', '--rootfs', '/srv/root', '--debug-log', '/tmp/log', '--', '/bin/sh'],
      ['run', '--cwd=', '--', 'true'],
      ['run', '-', 'x'],
    ];
    for (const l of lines) {
      const fast = parseRunFast([...node, ...l]);
      expect(fast, l.join(' ')).not.toBeNull();
      expect(fast, l.join(' ')).toEqual(await viaCommander([...node, ...l]));
    }
  });

  it('leaves to commander what it does not read exactly', () => {
    const lines = [
      ['--version'], ['--help'], ['syscalls'], ['run'], ['run', '--'], ['run', '--help'], ['run', '-h'],
      ['run', '--no-such', '--', 'true'], ['run', '--strace=1', '--', 'true'], ['run', '--platform'],
      ['run', '--env', '-X', '--', 'true'], ['run', 'ls', '-l'], ['run', '-x', 'true'], ['run', '--platforms=x', 'true'],
    ];
    for (const l of lines) expect(parseRunFast([...node, ...l]), l.join(' ')).toBeNull();
  });

  it('agrees with commander on 3,000 command lines drawn from a fixed seed', async () => {
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const words = [
      '--platform', '--strace', '--debug-log', '--env', '--cwd', '--memory', '--pids', '--rootfs', '--overlay',
      '--volume', '--network', '--publish', '--', '-', '-x', '--bogus', '--env=A=1', '--platform=ptrace', '--strace=',
      '--cwd=', '--network=none', 'A=1', 'B=', '/bin/true', 'ls', 'x y', '', '=', '--=', '-1', '512M', '--e',
    ];
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const l = ['run'];
      for (let k = rnd(7); k > 0; k--) l.push(words[rnd(words.length)]);
      const fast = parseRunFast([...node, ...l]);
      if (fast === null) continue;
      accepted++;
      expect(fast, JSON.stringify(l)).toEqual(await viaCommander([...node, ...l]));
    }
    // The draw must exercise the fast path, not only the fallback.
    expect(accepted).toBeGreaterThan(300);
  });
});
