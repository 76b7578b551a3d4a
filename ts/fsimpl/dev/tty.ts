// /dev/tty (5,0): the caller's controlling terminal, opened anew (Linux tty_open_current_tty);
// ENXIO for a process without one.

import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { makeDev } from '../../abi/linux/stat';
import { controllingTty } from '../../kernel/job_control_tty';
import { registerCharDevice } from '../../vfs/devices';

export function registerTty(): void {
  registerCharDevice(makeDev(5, 0), (t, _vd, flags) => {
    const tty = t ? controllingTty(t) : null;
    if (!t || !tty) throw new SyscallError(ENXIO);
    return tty.reopen(t, flags);
  });
}
