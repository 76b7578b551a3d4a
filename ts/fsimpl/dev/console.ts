// /dev/console (5,1): tsvisor's own terminal when it runs on one (ts/vfs/host_tty.ts), else
// ENXIO. Its node is also how ttyname() names the terminal on the sandbox's stdio: those
// files report this node's identity in fstat and its path in /proc/self/fd.

import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { makeDev } from '../../abi/linux/stat';
import type { Inode } from '../../vfs/inode';
import { registerCharDevice } from '../../vfs/devices';
import { reopenConsole, setConsoleNode } from '../../vfs/host_tty';

export const DEV_CONSOLE = makeDev(5, 1);
export const CONSOLE_PATH = '/dev/console';

export function registerConsole(inode: Inode): void {
  setConsoleNode(CONSOLE_PATH, () => inode.stat());
  registerCharDevice(DEV_CONSOLE, (_t, _vd, flags) => {
    const f = reopenConsole(flags);
    if (!f) throw new SyscallError(ENXIO);
    return f;
  });
}
