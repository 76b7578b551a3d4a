// The file system types the sandbox has registered (Linux's file_systems list), in
// registration order: /proc/filesystems prints them and sysfs(2) indexes them.

export interface FileSystemType { name: string; nodev: boolean }

export const FILESYSTEM_TYPES: readonly FileSystemType[] = [
  { name: 'sysfs', nodev: true }, { name: 'tmpfs', nodev: true }, { name: 'proc', nodev: true },
  { name: 'cgroup2', nodev: true }, { name: 'devtmpfs', nodev: true }, { name: 'devpts', nodev: true },
  { name: 'overlay', nodev: true },
];

/** /proc/filesystems. */
export function filesystemsText(): string {
  return FILESYSTEM_TYPES.map((f) => `${f.nodev ? 'nodev' : ''}\t${f.name}\n`).join('');
}
