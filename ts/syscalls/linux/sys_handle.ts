// name_to_handle_at, open_by_handle_at (Linux fs/fhandle.c). The handle format and the table
// that decodes handles are vfs/file_handle.ts; this file copies struct file_handle
// { u32 handle_bytes; i32 handle_type; u8 f_handle[] } in and out, in Linux's order of checks.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EEXIST, EINVAL, ENOTSUP as EOPNOTSUPP, EOVERFLOW, EPERM, ESTALE } from '../../abi/linux/errno';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH,
} from '../../abi/linux/fcntl';
import { SYS_name_to_handle_at, SYS_open_by_handle_at } from '../../abi/linux/syscall_numbers';
import { CAP_DAC_READ_SEARCH } from '../../kernel/capabilities';
import { FILEID_INVALID, MAX_HANDLE_SZ, canDecode, decodeHandle, encodeHandle } from '../../vfs/file_handle';
import { locate } from '../../vfs/lookup';
import { openFound } from '../../vfs/open';
import { cwdOf, resolveContext } from '../../vfs/task_fs';
import { VfsFile } from '../../vfs/vfs_file';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import type { Mount } from '../../vfs/mount';
import type { SyscallArgs, SyscallTable } from './types';
import { nofileLimit } from './fd_util';
import { copyInPath } from './path';

const AT_HANDLE_MNT_ID_UNIQUE = 0x001;
const AT_HANDLE_CONNECTABLE = 0x002;
const AT_HANDLE_FID = 0x200;
const VALID_FLAGS = AT_SYMLINK_FOLLOW | AT_EMPTY_PATH | AT_HANDLE_FID | AT_HANDLE_MNT_ID_UNIQUE | AT_HANDLE_CONNECTABLE;
const HEADER = 8;
// Flags user space may see in handle_type's high half (FILEID_IS_CONNECTABLE, FILEID_IS_DIR).
const FILEID_USER_FLAGS_MASK = 0xffff0000;
const FILEID_VALID_USER_FLAGS = 0x30000;

function header(t: Task, addr: number): { bytes: number; type: number } {
  const h = t.mm.copyIn(addr, HEADER);
  const v = new DataView(h.buffer, h.byteOffset, HEADER);
  return { bytes: v.getUint32(0, true), type: v.getInt32(4, true) };
}

function sysNameToHandleAt(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const flags = a.int(4);
  if ((flags & ~VALID_FLAGS) !== 0) fail(EINVAL);
  if ((flags & AT_HANDLE_CONNECTABLE) && (flags & AT_HANDLE_FID)) fail(EINVAL);
  const path = copyInPath(t, a.ptr(1));
  const l = locate(t, dirfd, path, (flags & AT_SYMLINK_FOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  // A file with no place in the tree (a pipe, a socket) is on a file system without handles.
  if (!l.vd) fail(EOPNOTSUPP);
  const vd = l.vd;
  // Connectable handles need a connected name; tmpfs cannot decode them at all.
  if ((flags & AT_HANDLE_CONNECTABLE) && vd.dentry.deleted) fail(EINVAL);
  if ((flags & AT_HANDLE_FID) === 0 && (!canDecode(vd.mount.fs) || (flags & AT_HANDLE_CONNECTABLE))) fail(EOPNOTSUPP);
  const ufh = a.ptr(2);
  const want = header(t, ufh);
  if (want.bytes > MAX_HANDLE_SZ) fail(EINVAL);
  const h = encodeHandle(vd.mount.fs, vd.dentry);
  const need = h.words.length * 4;
  const overflow = need > (want.bytes & ~3);
  const out = new Uint8Array(HEADER + (overflow ? 0 : need));
  const v = new DataView(out.buffer);
  v.setUint32(0, need, true);
  v.setInt32(4, overflow ? FILEID_INVALID : h.type, true);
  if (!overflow) h.words.forEach((w, i) => v.setUint32(HEADER + 4 * i, w, true));
  // The mount id is written even when the handle does not fit, then the handle.
  const mountId = vd.mount.id;
  if (flags & AT_HANDLE_MNT_ID_UNIQUE) {
    // Mount ids here are never reused, which is what the unique id promises.
    const m = new Uint8Array(8);
    new DataView(m.buffer).setBigUint64(0, BigInt(mountId), true);
    t.mm.copyOut(a.ptr(3), m);
  } else {
    const m = new Uint8Array(4);
    new DataView(m.buffer).setInt32(0, mountId, true);
    t.mm.copyOut(a.ptr(3), m);
  }
  t.mm.copyOut(ufh, out);
  if (overflow) fail(EOVERFLOW);
  return 0;
}

/** get_path_anchor: the mount handles are decoded in (the cwd's for AT_FDCWD). */
function anchorMount(t: Task, fd: number): Mount | null {
  if (fd === AT_FDCWD) return cwdOf(t).mount;
  const f = t.fdTable.get(fd);
  if (f === undefined) fail(EBADF);
  return f instanceof VfsFile ? f.vd.mount : null;
}

function sysOpenByHandleAt(t: Task, a: SyscallArgs): number {
  const mount = anchorMount(t, a.int(0));
  let flags = a.int(2);
  if (!t.creds.hasCapability(CAP_DAC_READ_SEARCH)) fail(EPERM);
  const ufh = a.ptr(1);
  const h = header(t, ufh);
  if (h.bytes > MAX_HANDLE_SZ || h.bytes === 0) fail(EINVAL);
  if (h.type < 0 || ((h.type & FILEID_USER_FLAGS_MASK) & ~FILEID_VALID_USER_FLAGS) !== 0) fail(EINVAL);
  const raw = t.mm.copyIn(ufh + HEADER, h.bytes);
  const words = new Uint32Array(h.bytes >>> 2);
  const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = rv.getUint32(4 * i, true);
  const dentry = mount === null ? null : decodeHandle(mount.fs, words);
  if (dentry === null) fail(ESTALE);
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) fail(EEXIST);
  const f = openFound(resolveContext(t), new VirtualDentry(mount!, dentry), flags);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

export function registerHandle(table: SyscallTable): void {
  table[SYS_name_to_handle_at] = {
    name: 'name_to_handle_at', handler: sysNameToHandleAt, args: ['fd', 'path', 'hex', 'hex', 'hex'],
  };
  table[SYS_open_by_handle_at] = { name: 'open_by_handle_at', handler: sysOpenByHandleAt, args: ['fd', 'hex', 'hex'] };
}
