// A host file as a LoadableFile: the first program the sandbox runs (and its interpreter)
// before any VFS exists. Segment pages are filled straight from the host fd into the memory
// file (pread by the addon), lazily, so the fd must outlive every mapping of the file: fds
// are kept in a small cache keyed by the file's identity and never closed. Private pages come
// from the page cache (mm/page_cache.ts), shared with the lower layer's opens of the file.

import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { NativeMemoryFile } from '../native/addon';
import { EACCES, EIO } from '../abi/linux/errno';
import { SyscallError } from '../kernel/syscall_error';
import type { LoadableFile } from './loadable_file';
import { type FileVersion, withPageCache } from '../mm/page_cache';

const openFds = new Map<string, number>();

export function openHostFile(path: string): LoadableFile {
  let fd: number;
  let st: fs.Stats;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY); // libuv adds O_CLOEXEC
  } catch (e) {
    throw toSyscallError(e);
  }
  try {
    st = fs.fstatSync(fd);
    // execve wants a regular file with execute permission (EACCES otherwise, as Linux).
    if (!st.isFile()) throw new SyscallError(EACCES);
    fs.accessSync(path, fs.constants.X_OK);
  } catch (e) {
    fs.closeSync(fd);
    throw toSyscallError(e);
  }
  const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
  const cached = openFds.get(key);
  if (cached !== undefined) {
    fs.closeSync(fd);
    fd = cached;
  } else {
    openFds.set(key, fd);
  }
  const hostFd = fd;
  return {
    path,
    size: st.size,
    read(offset: number, length: number): Uint8Array {
      const buf = new Uint8Array(Math.max(0, Math.min(length, st.size - offset)));
      let done = 0;
      while (done < buf.length) {
        const n = fs.readSync(hostFd, buf, done, buf.length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return done === buf.length ? buf : buf.subarray(0, done);
    },
    backing: withPageCache({
      name: path,
      fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void {
        let done = 0;
        while (done < length) {
          const n = mf.readFromHostFd(hostFd, fileOffset + done, mfOffset + done, length - done);
          if (n === 0) break; // EOF: the rest of the pages stays zero
          done += n;
        }
      },
      copyWhenWritable: true,
    }, () => hostFileVersion(hostFd)),
  };
}

/** The page cache's name for a host file (the same as the lower layer's, so that the first
 *  program and its later execs through the gofer share pages). */
function hostFileVersion(fd: number): FileVersion {
  const st = fs.fstatSync(fd, { bigint: true });
  return { key: `lower:${st.dev}:${st.ino}`, version: `${ns(st.mtimeNs)}:${ns(st.ctimeNs)}:${st.size}` };
}

/** A timestamp in ns as statFromHost's "sec.nsec". */
function ns(t: bigint): string {
  return `${t / 1_000_000_000n}.${t % 1_000_000_000n}`;
}

/** A Node fs error as the errno Linux would give (the host's errno numbers are Linux's). */
function toSyscallError(e: unknown): SyscallError {
  if (e instanceof SyscallError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EISDIR') return new SyscallError(EACCES);
  const errno = code !== undefined ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return new SyscallError(errno ?? EIO);
}
