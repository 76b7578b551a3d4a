// Wrong answers of issue 12: each subcommand of exact.c must give the same output and status
// in the sandbox as natively.
import { describe, expect, it } from 'vitest';
import { describeResult, fixture, platforms, runNative, runSandbox, shellStatus } from '../helpers/run';

const TIMEOUT_MS = 20_000;

describe.each(platforms)('%s', (platform) => {
  const same = async (cmd: string): Promise<void> => {
    const argv = [fixture('exact'), cmd];
    const native = await runNative(argv, { timeoutMs: TIMEOUT_MS });
    expect(native.stderr).not.toContain('killed after');
    const r = await runSandbox(argv, { platform, timeoutMs: TIMEOUT_MS });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(shellStatus(r), describeResult(r)).toBe(shellStatus(native));
  };

  it('memory: SIGBUS past EOF, /dev/zero, map types, high offsets, writes from faulting buffers', () => same('mem'));
  it('mremap: spans, errnos of MAYMOVE/FIXED/DONTUNMAP, shared anonymous data kept', () => same('remap'));
  it('O_PATH: F_GETFL flags, I/O is EBADF', () => same('opath'));
  it('overflowing offsets and counts in pread/pwrite/sendfile', () => same('offsets'));
  it('getdents64 with a small buffer', () => same('dents'));
  it('kill() with a thread id', () => same('killtid'));
  it('clone with a non-canonical TLS', () => same('clonetls'));
  it('execveat AT_SYMLINK_NOFOLLOW and a close-on-exec script fd', () => same('execat'));
  it('execveat through an fd (a memfd, a file, relative to a directory): the script is /dev/fd/N[/name]', () => same('execfd'));
  it('PR_SET_CHILD_SUBREAPER reparents orphans', () => same('subreaper'));
  it('/sys refuses renames as Linux does', () => same('sysfs'));
  it('vsyscall time() with a bad pointer: SIGSEGV', () => same('vsyscall'));
  it('atime (relatime) on following and reading a symlink, reading and listing files', () => same('symatime'));
  it('a fatal signal to a stopped process waits for SIGCONT; SIGKILL does not', () => same('stopkill'));
  it('truncating a mapped file and growing shared anonymous memory: SIGBUS past the end', () => same('truncmap'));
}, 60_000);
