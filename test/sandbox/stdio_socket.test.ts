// Stdio that is a host socket (net/host/host_stdio_socket.ts): the test harness starts the
// sandbox with Node's spawn, whose stdio pipes are socketpairs, so this is every test's
// situation and that of any program run by a Node parent. stdio_socket.c's questions are
// answered as natively, and a sandboxed Node, which classifies its stdout that way, prints.
import { describe, expect, it } from 'vitest';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('a socket for stdout is seen as one, as natively', async () => {
    await expectSameAsNative([fixture('stdio_socket')], platform);
  });

  it('Node prints to a socket stdout', async () => {
    const r = await runSandbox([process.execPath, '-e', 'console.log("to a socket"); process.stdout.write("and more\\n")'],
      { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe('to a socket\nand more\n');
    expect(r.code).toBe(0);
  }, 90_000);
});
