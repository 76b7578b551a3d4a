// Terminal control reaches the real terminal: under a pty (script(1) from util-linux), the
// fixture's tcgetattr/tcsetattr/TIOCGWINSZ in the sandbox must see what they see natively.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, fixture, platforms } from '../helpers/run';

const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
if (!script) console.warn('script(1) is not installed: the terminal tests are skipped');

function underPty(cmd: string): string {
  // -q: no banner; -e: the command's status; the log goes nowhere. stty sets a known size.
  const out = execFileSync(script!, ['-qec', `stty cols 91 rows 33; ${cmd}`, '/dev/null'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000,
  });
  return out.replace(/\r/g, '');
}

describe.each(platforms)('%s', (platform) => {
  it.skipIf(!script)('tcgetattr, raw mode and the window size reach the real terminal', () => {
    const native = underPty(fixture('tty'));
    expect(native).toContain('raw: canonical 0 echo 0');
    expect(native).toContain('winsize 91x33');
    const sandboxed = underPty(`${process.execPath} ${cli} run --platform=${platform} -- ${fixture('tty')}`);
    expect(sandboxed).toBe(native);
  });
});
