// make -j2 on a small project (issue 7's real-program list): two recipes run at once through
// make's jobserver, one of them dropping privileges with setpriv; the output and exit status
// must be the native run's. The two recipes wait for each other, so a make that ran them one
// after the other would print "serial".
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, platforms, runNative, runSandbox, skipBecause } from '../helpers/run';

const skip = skipBecause(process.getuid?.() !== 0 || !existsSync('/usr/bin/make') || !existsSync('/usr/bin/setpriv'),
  'make -j2 with setpriv needs root, /usr/bin/make and /usr/bin/setpriv (util-linux)');

const project = mkdtempSync(path.join(os.tmpdir(), 'tsvisor-makej-'));
chmodSync(project, 0o755); // the recipe that drops to uid 1000 still reads its directory
const waitFor = (f: string): string =>
  `for i in $$(seq 100); do [ -e ${f} ] && exit 0; sleep 0.05; done; echo serial; exit 0`;
writeFileSync(path.join(project, 'Makefile'), [
  'all: a.txt b.txt',
  '\t@cat a.txt b.txt',
  'a.txt:',
  '\t@setpriv --reuid=1000 --regid=1000 --clear-groups sh -c \'echo "a as $$(id -u):$$(id -g) groups=$$(id -G)";' +
    ' touch /root/x 2>/dev/null || echo "a cannot write /root"\' > a.tmp',
  `\t@touch a.started; sh -c '${waitFor('b.started')}' >> a.tmp; mv a.tmp a.txt`,
  'b.txt:',
  `\t@touch b.started; sh -c '${waitFor('a.started')}' > b.tmp; echo "b as $$(id -u)" >> b.tmp; mv b.tmp b.txt`,
  'clean:',
  '\t@rm -f a.txt b.txt a.started b.started',
  '',
].join('\n'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const clean = (): void => {
  for (const f of ['a.txt', 'b.txt', 'a.started', 'b.started', 'a.tmp', 'b.tmp']) rmSync(path.join(project, f), { force: true });
};

describe.each(platforms)('%s', (platform) => {
  it.skipIf(skip)('make -j2 runs two recipes at once, one under setpriv, as natively', async () => {
    clean();
    const env = { PATH: '/usr/bin:/bin' };
    const native = await runNative(['/usr/bin/make', '-j2'], { cwd: project, env, timeoutMs: 60_000 });
    clean();
    expect(native.stdout, describeResult(native)).toBe('a as 1000:1000 groups=1000\na cannot write /root\nb as 0\n');
    const r = await runSandbox(['/usr/bin/make', '-j2'], { platform, extraArgs: ['--cwd', project], env, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code, describeResult(r)).toBe(native.code);
  }, 120_000);
});
