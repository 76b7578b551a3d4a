// Reading a path argument (Linux getname): at most PATH_MAX bytes with the NUL, else
// ENAMETOOLONG; EFAULT if unreadable. Whether an empty path is allowed is the caller's call.
// Importing this also sets up the default root file system (fsimpl/root.ts) for kernels the
// sandbox did not give one.

import type { Task } from '../../kernel/task';
import { PATH_MAX } from '../../abi/linux/fcntl';
import '../../fsimpl/root';

export function copyInPath(t: Task, addr: number): string {
  return t.mm.readCString(addr, PATH_MAX);
}
