// The first process's fd table: the sandbox's stdin, stdout and stderr are the host's.

import { SyscallError } from '../kernel/syscall_error';
import { FDTable } from './fd_table';
import { HostFileDescription, type HostFileOptions } from './host_file';

/** fds 0, 1, 2 wrapping host fds 0, 1, 2 (or the given ones). The host fds stay open when
 *  the application closes them: they are the sentry's own stdio too. A host fd that is not
 *  open is left closed. */
export function newStdioFDTable(hostFds: number[] = [0, 1, 2], opts: HostFileOptions = {}): FDTable {
  const table = new FDTable();
  hostFds.forEach((hostFd, fd) => {
    let desc: HostFileDescription;
    try {
      desc = new HostFileDescription(hostFd, { ...opts, closeOnRelease: false });
    } catch (e) {
      // A host fd we were started without stays closed in the sandbox too.
      if (e instanceof SyscallError) return;
      throw e;
    }
    table.setFD(fd, desc, false);
    desc.decRef();
  });
  return table;
}
