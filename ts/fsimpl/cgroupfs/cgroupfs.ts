// cgroupfs: the cgroup2 file system (Linux kernel/cgroup over kernfs, gVisor fsimpl/cgroupfs):
// a directory per cgroup of the kernel's hierarchy (kernel/cgroup), rooted at the mounter's
// cgroup namespace root, holding the cgroup's interface files (cgroup_files.ts) and its
// children. mkdir makes a cgroup, rmdir removes an empty one. Names change behind the VFS
// (controllers enabled elsewhere add files), so no dentry is cached.

import type { Kernel } from '../../kernel/kernel';
import type { Credentials } from '../../kernel/credentials';
import { CGROUP2_SUPER_MAGIC } from '../../abi/linux/fs';
import type { Inode } from '../../vfs/inode';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EACCES, EINVAL, ENODEV, ENOTDIR } from '../../abi/linux/errno';
import { KDir, type DirSource } from '../kernfs/dir';
import { KernFS } from '../kernfs/kernfs';
import { type Cgroup } from '../../kernel/cgroup/cgroup';
import { mkdirCgroup, rmdirCgroup } from '../../kernel/cgroup/cgroup_ops';
import { cgroupFiles } from './cgroup_files';

/** The mount options cgroup2 takes (cgroup2_parse_param); the sandbox's hierarchy behaves as
 *  with nsdelegate whichever are given. */
export const CGROUP2_OPTIONS = new Set(['nsdelegate', 'favordynmods', 'memory_localevents', 'memory_recursiveprot',
  'memory_hugetlb_accounting', 'pids_localevents']);

export class CgroupFS extends KernFS {
  private readonly dirs = new WeakMap<Cgroup, CgroupDir>();
  readonly root: CgroupDir;

  constructor(readonly kernel: Kernel, rootCgroup: Cgroup) {
    super('cgroup2', CGROUP2_SUPER_MAGIC, false);
    this.root = this.dirOf(rootCgroup);
  }

  override get source(): string { return 'cgroup2'; }

  override mountOptions(): string { return 'nsdelegate'; }

  dirOf(cg: Cgroup): CgroupDir {
    let d = this.dirs.get(cg);
    if (!d) this.dirs.set(cg, d = new CgroupDir(this, cg));
    return d;
  }
}

/** Mount data for cgroup2: each option one it knows (EINVAL otherwise). */
export function checkCgroup2Options(data: string): void {
  for (const opt of data.split(',')) {
    if (opt !== '' && !CGROUP2_OPTIONS.has(opt)) fail(EINVAL);
  }
}

function dirSource(fs: CgroupFS, cg: Cgroup): DirSource {
  const files = cgroupFiles(fs, cg);
  return {
    names: () => [...files.names(), ...cg.children.keys()],
    get: (name) => files.get(name) ?? childDir(fs, cg, name),
  };
}

function childDir(fs: CgroupFS, cg: Cgroup, name: string): Inode | null {
  const c = cg.children.get(name);
  return c ? fs.dirOf(c) : null;
}

export class CgroupDir extends KDir {
  constructor(readonly cfs: CgroupFS, readonly cg: Cgroup) {
    super(cfs, `${cg.id}`, dirSource(cfs, cg), cg.dirMode, cg.owner);
  }

  override mkdir(name: string, mode: number, creds: Credentials): Inode {
    if (this.cg.removed) throw new SyscallError(ENODEV);
    return this.cfs.dirOf(mkdirCgroup(this.cg, name, mode & 0o7777, creds));
  }

  /** kernfs directories have no create: open(O_CREAT) is EACCES (lookup_open). */
  override create(_name: string, _mode: number, _creds: Credentials): Inode {
    throw new SyscallError(EACCES);
  }

  override rmdir(_name: string, child: Inode): void {
    if (!(child instanceof CgroupDir)) throw new SyscallError(ENOTDIR);
    rmdirCgroup(child.cg);
  }
}
