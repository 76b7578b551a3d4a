// /dev/tty (5,0): the controlling terminal. Sandboxed processes have none yet (there is no
// session/terminal model), so opening it is ENXIO, as Linux says to a process without one.

import { SyscallError } from '../../kernel/syscall_error';
import { ENXIO } from '../../abi/linux/errno';
import { makeDev } from '../../abi/linux/stat';
import { registerCharDevice } from '../../vfs/devices';

export function registerTty(): void {
  registerCharDevice(makeDev(5, 0), () => { throw new SyscallError(ENXIO); });
}
