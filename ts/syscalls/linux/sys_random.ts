// getrandom (Linux drivers/char/random.c). The sentry's CSPRNG is always ready, so
// GRND_NONBLOCK never has to say EAGAIN and GRND_RANDOM draws from the same pool.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL } from '../../abi/linux/errno';
import { SYS_getrandom } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { accessOk, copyOutPartial } from './user_io';

const GRND_NONBLOCK = 0x1;
const GRND_RANDOM = 0x2;
const GRND_INSECURE = 0x4;
/** Most bytes one call returns (INT_MAX >> (ENTROPY_SHIFT + 3), as /dev/urandom reads were). */
const MAX_PER_CALL = 33554431;
const CHUNK = 64 << 10;

function sysGetrandom(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const flags = a.uint(2);
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0) fail(EINVAL);
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) === (GRND_INSECURE | GRND_RANDOM)) fail(EINVAL);
  // import_ubuf: the range is checked (clamped to MAX_RW_COUNT) even for a zero length.
  if (!accessOk(addr, Math.min(a.size(1), 0x7ffff000))) fail(EFAULT);
  const count = Math.min(a.size(1), MAX_PER_CALL);
  if (count === 0) return 0;
  const buf = new Uint8Array(Math.min(count, CHUNK));
  let done = 0;
  while (done < count) {
    const chunk = buf.subarray(0, Math.min(count - done, CHUNK));
    t.kernel.fillRandom(chunk);
    let n: number;
    try {
      n = copyOutPartial(t, addr + done, chunk);
    } catch (e) {
      // Linux returns what it managed to copy before the fault.
      if (done > 0 && e instanceof SyscallError) return done;
      throw e;
    }
    done += n;
    if (n < chunk.length) break;
  }
  return done;
}

export function registerRandom(table: SyscallTable): void {
  table[SYS_getrandom] = { name: 'getrandom', handler: sysGetrandom, args: ['outbuf', 'size', 'hex'] };
}
