// SyscallError: the errno travels, no stack trace is recorded (a cost per failed syscall),
// and the process-wide stack trace limit is left as it was.
import { describe, expect, it } from 'vitest';
import { SyscallError, fail } from '../../../ts/kernel/syscall_error';

describe('SyscallError', () => {
  it('carries its errno, records no frames, leaves Error.stackTraceLimit alone', () => {
    const before = Error.stackTraceLimit;
    let caught: unknown;
    try { fail(13); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(SyscallError);
    expect(caught).toBeInstanceOf(Error);
    const e = caught as SyscallError;
    expect(e.errno).toBe(13);
    expect(e.message).toBe('errno 13');
    expect(e.stack ?? '').not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('x').stack).toMatch(/\n\s+at /);
    expect(new SyscallError(2, 'ENOENT here').message).toBe('ENOENT here');
  });
});
