// i_writecount (Linux get_write_access, deny_write_access): a regular file is either open for
// writing or the program an address space runs, never both at once; whichever comes second
// gets ETXTBSY (open for writing or truncate of a running program, exec of a file open for
// writing). Counted per file (Inode.identity()), not per inode object: positive for the
// descriptions open for writing, negative for the address spaces running it. The count's
// holders keep the identity alive, so an entry lives exactly as long as it is non-zero.

import { SyscallError } from '../kernel/syscall_error';
import { ETXTBSY } from '../abi/linux/errno';
import type { ExeFile } from '../mm/exe_file';
import type { Inode } from './inode';

const counts = new WeakMap<object, number>();

function add(key: object, n: number): void {
  const next = (counts.get(key) ?? 0) + n;
  if (next === 0) counts.delete(key);
  else counts.set(key, next);
}

/** Before a write (open for writing, truncate): ETXTBSY while a program runs the file. */
export function checkWriteAccess(inode: Inode): void {
  if ((counts.get(inode.identity()) ?? 0) < 0) throw new SyscallError(ETXTBSY);
}

/** get_write_access for an open description; the returned function puts it back. */
export function getWriteAccess(inode: Inode): () => void {
  checkWriteAccess(inode);
  const key = inode.identity();
  add(key, 1);
  return () => add(key, -1);
}

/** Before exec (open_exec's deny_write_access): ETXTBSY while the file is open for writing.
 *  What an address space runs is then counted by its ExeFile. */
export function execFileOf(inode: Inode): ExeFile {
  const key = inode.identity();
  if ((counts.get(key) ?? 0) > 0) throw new SyscallError(ETXTBSY);
  return { deny: () => add(key, -1), allow: () => add(key, 1) };
}
