// The virtual file system layer of the sentry (Linux fs/, gVisor vfs). It owns ts/vfs/**:
// open file descriptions (FileDescription, VfsFile and the generic directory file), fd
// tables, the mount tree (Mount, MountNamespace), dentries and the Inode interface every
// file system implements, path resolution (resolve.ts: symlinks, '..', mounts, permission
// to search) and the path operations built on it (open, create, remove, rename, attributes),
// plus the executable lookup execve uses. It must not decode syscalls (ts/syscalls/linux
// does, then calls in here), change task, memory or kernel state beyond what a call is
// handed, or know any file system's internals: those live under ts/fsimpl.

export { FileDescription, seekPosition, type Stat, type Timespec } from './file_description';
export { FDTable, type NewFDOptions } from './fd_table';
export { HostFileDescription, type HostFileOptions } from './host_file';
export { newStdioFDTable } from './stdio';
export { locate, locateVd, readlinkPath, statPath } from './lookup';
export { Inode, type DirEntry, type SetAttr } from './inode';
export { Dentry } from './dentry';
export { Mount, MountNamespace, type MountFlags } from './mount';
export { VirtualDentry } from './virtual_dentry';
export { VfsFile, PathFile } from './vfs_file';
export { DirectoryFile } from './directory_file';
export { walk, type ResolveContext, type WalkOptions } from './resolve';
export { openAt, type OpenRequest } from './open';
export { cwdOf, installMountNamespace, mountNamespaceOf, resolveContext, setCwd, startOf } from './task_fs';
export { openExecutable, openExecutableIn } from './exec_file';
