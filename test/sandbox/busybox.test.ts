// busybox-static (/bin/busybox): real single-process programs in the sandbox.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { busybox, describeResult, haveBusybox, leftOutOfKvmCi, platforms, runSandbox, skipBecause } from '../helpers/run';

const missing = skipBecause(!haveBusybox, `${busybox} not found (apt-get install busybox-static)`);

describe.each(platforms)('%s', (platform) => {
  const bb = (args: string[], stdin?: string) => runSandbox([busybox, ...args], { platform, stdin });
  // On kvm in CI, the cases that start, write, pipe, read stdin and compute stay; these only
  // repeat the applets' semantics (each a sandbox start) that the host's runs check.
  const applets = (what: string): boolean => missing || leftOutOfKvmCi(platform, `busybox ${what} (the applet's semantics; a sandbox start each)`);

  it.skipIf(missing)('echo hello', async () => {
    const r = await bb(['echo', 'hello']);
    expect(r.stdout, describeResult(r)).toBe('hello\n');
    expect(r.code).toBe(0);
  });

  it.skipIf(applets('uname'))('uname -a starts with Linux', async () => {
    const r = await bb(['uname', '-a']);
    expect(r.stdout, describeResult(r)).toMatch(/^Linux /);
    expect(r.stdout).toMatch(/x86_64/);
    expect(r.code).toBe(0);
  });

  it.skipIf(applets('true and false'))('true exits 0, false exits 1', async () => {
    const t = await bb(['true']);
    expect(t.code, describeResult(t)).toBe(0);
    const f = await bb(['false']);
    expect(f.code, describeResult(f)).toBe(1);
  });

  it.skipIf(missing)('seq 1 1000 | wc -l', async () => {
    const seq = await bb(['seq', '1', '1000']);
    expect(seq.code, describeResult(seq)).toBe(0);
    const want = Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join('');
    expect(seq.stdout).toBe(want);
    const wc = await bb(['wc', '-l'], seq.stdout);
    expect(wc.stdout.trim(), describeResult(wc)).toBe('1000');
    expect(wc.code).toBe(0);
  });

  it.skipIf(applets('sh arithmetic'))('sh -c with arithmetic expansion (builtins only, no fork)', async () => {
    const r = await bb(['sh', '-c', 'echo $((6*7))']);
    expect(r.stdout, describeResult(r)).toBe('42\n');
    expect(r.code).toBe(0);
  });

  it.skipIf(missing)('sh -c exit status', async () => {
    const r = await bb(['sh', '-c', 'exit 5']);
    expect(r.code, describeResult(r)).toBe(5);
  });

  it.skipIf(missing)('cat echoes stdin', async () => {
    const input = 'line one\nline two\n' + 'x'.repeat(100_000) + '\nlast\n';
    const r = await bb(['cat'], input);
    expect(r.stdout === input, describeResult({ ...r, stdout: r.stdout.slice(0, 200) })).toBe(true);
    expect(r.code).toBe(0);
  });

  it.skipIf(missing)('sha256sum of stdin matches node:crypto', async () => {
    const input = Buffer.alloc(300_000);
    for (let i = 0; i < input.length; i++) input[i] = (i * 31 + 7) & 0xff;
    const want = createHash('sha256').update(input).digest('hex');
    const r = await runSandbox([busybox, 'sha256sum'], { platform, stdin: input });
    expect(r.stdout, describeResult(r)).toBe(`${want}  -\n`);
    expect(r.code).toBe(0);
  });

  it.skipIf(applets('tr, basename, expr and printf'))('tr, basename, expr, printf', async () => {
    const tr = await bb(['tr', 'a-z', 'A-Z'], 'shout\n');
    expect(tr.stdout, describeResult(tr)).toBe('SHOUT\n');
    const base = await bb(['basename', '/a/b/c.txt', '.txt']);
    expect(base.stdout, describeResult(base)).toBe('c\n');
    const expr = await bb(['expr', '6', '*', '7']);
    expect(expr.stdout, describeResult(expr)).toBe('42\n');
    const pf = await bb(['printf', '%s-%05d\\n', 'x', '42']);
    expect(pf.stdout, describeResult(pf)).toBe('x-00042\n');
  });

  it.skipIf(applets('an unknown applet'))('an unknown applet fails with status 127', async () => {
    const r = await bb(['no-such-applet']);
    expect(r.code, describeResult(r)).toBe(127);
  });
});
