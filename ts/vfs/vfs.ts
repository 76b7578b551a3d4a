// The virtual file system layer of the sentry. It owns ts/vfs/**: open file descriptions
// (FileDescription and its implementations), fd tables, and path lookup. It does not decode
// syscalls (ts/syscalls/linux does, and calls in here), and it does not touch tasks, memory
// or the kernel's own state beyond what a call is handed. Mounts, dentries and the file
// system implementations (tmpfs, proc, gofer...) will land under ts/vfs and ts/fsimpl.

export { FileDescription, seekPosition, type Stat, type Timespec } from './file_description';
export { FDTable, type NewFDOptions } from './fd_table';
export { HostFileDescription, type HostFileOptions } from './host_file';
export { newStdioFDTable } from './stdio';
export { absolutePath, readlinkPath, statPath } from './lookup';
