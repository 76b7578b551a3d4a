// A file system context's message log (vfs/fs_context.ts, Linux fscontext_read): messages come
// back oldest first, each whole; the ring keeps the last eight; one that does not fit the
// reader's buffer is EMSGSIZE and gone; none left is ENODATA.
import { describe, expect, it } from 'vitest';
import { FsContext } from '../../../ts/vfs/fs_context';
import type { Task } from '../../../ts/kernel/task';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EMSGSIZE, ENODATA } from '../../../ts/abi/linux/errno';

const task = { creds: { euid: 0, egid: 0 } } as unknown as Task;

function readMsg(ctx: FsContext, size = 256): string | number {
  const buf = new Uint8Array(size);
  try {
    return Buffer.from(buf.subarray(0, ctx.read(task, buf, 0))).toString();
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
}

describe('fs_context log', () => {
  it('keeps the last eight, oldest first, each whole', () => {
    const ctx = new FsContext(task, 'tmpfs', 'create-params');
    expect(readMsg(ctx)).toBe(ENODATA);
    for (let i = 0; i < 10; i++) ctx.error(`tmpfs: message ${i}`);
    for (let i = 2; i < 10; i++) expect(readMsg(ctx)).toBe(`e tmpfs: message ${i}\n`);
    expect(readMsg(ctx)).toBe(ENODATA);
  });

  it('a message larger than the buffer is EMSGSIZE and dropped', () => {
    const ctx = new FsContext(task, 'tmpfs', 'create-params');
    ctx.error('tmpfs: Unknown parameter \'bogus\'');
    ctx.error('short');
    expect(readMsg(ctx, 8)).toBe(EMSGSIZE);
    expect(readMsg(ctx)).toBe('e short\n');
    expect(ctx.describe()).toBe('anon_inode:[fscontext]');
  });
});
