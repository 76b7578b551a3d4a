// Namespace files (Linux fs/nsfs.c, kernel/nsproxy.c): what /proc/<pid>/ns/* opens, one
// namespace object each (ns/namespace.ts, ns/user_namespace.ts), whose inode number the file
// shows; the initial namespaces have the numbers Linux gives them (include/linux/proc_ns.h).
// An open file keeps its namespace alive. It reads nothing, seeks nowhere, and answers the
// NS_GET_* ioctls; setns(2) takes it.

import type { Task } from './task';
import { SyscallError } from './syscall_error';
import { EINVAL, ENOTTY, EPERM, ESPIPE, ESRCH } from '../abi/linux/errno';
import { O_RDONLY } from '../abi/linux/fcntl';
import { S_IFREG } from '../abi/linux/stat';
import { FileDescription, type Stat } from '../vfs/file_description';
import { anonDev } from '../vfs/file_system';
import { nofileLimit } from '../syscalls/linux/fd_util';
import type { Namespace } from './ns/namespace';
import { findTask, taskInNs, tgidIn, tidIn, type PidNamespace } from './ns/pid_ns';
import { fromKuid, type UserNamespace } from './ns/user_namespace';

export {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
  NS_CGROUP, NS_IPC, NS_MNT, NS_NET, NS_PID, NS_TIME, NS_USER, NS_UTS, type NsKind,
} from './ns/kinds';
import {
  NS_CGROUP, NS_IPC, NS_MNT, NS_NET, NS_PID, NS_TIME, NS_USER, NS_UTS, type NsKind,
} from './ns/kinds';

/** /proc/<pid>/ns's entries, in Linux's order (fs/proc/namespaces.c ns_entries). */
export const NS_ENTRIES: readonly (readonly [string, NsKind])[] = [
  ['net', NS_NET], ['uts', NS_UTS], ['ipc', NS_IPC], ['pid', NS_PID], ['pid_for_children', NS_PID],
  ['user', NS_USER], ['mnt', NS_MNT], ['cgroup', NS_CGROUP], ['time', NS_TIME], ['time_for_children', NS_TIME],
];

const NS_GET_USERNS = 0xb701, NS_GET_PARENT = 0xb702, NS_GET_NSTYPE = 0xb703, NS_GET_OWNER_UID = 0xb704;
// _IOR(0xb7, 6..9, int): a pid translated between the caller's pid namespace and the file's.
const NS_GET_PID_FROM_PIDNS = 0x8004b706, NS_GET_TGID_FROM_PIDNS = 0x8004b707, NS_GET_PID_IN_PIDNS = 0x8004b708,
  NS_GET_TGID_IN_PIDNS = 0x8004b709;

let nsfsDev = -1;
const bootTime = Date.now();

/** The namespace a file names: a user namespace or one of an NsProxy's. */
export type AnyNamespace = Namespace | UserNamespace;

export function nsKindOf(ns: AnyNamespace): NsKind {
  return 'kind' in ns ? ns.kind : NS_USER;
}

/** The user namespace that owns ns (a user namespace's parent; null for the initial one). */
export function nsOwner(ns: AnyNamespace): UserNamespace | null {
  return 'kind' in ns ? ns.userNs : ns.parent;
}

/** ns_get_owner's rule: the caller may see a user namespace that is its own or below it. */
function visible(t: Task, ns: UserNamespace | null): ns is UserNamespace {
  return ns !== null && t.creds.userNs.isAncestorOf(ns);
}

/** The NS_GET_*PID* ioctls: `arg` (the pid itself) names a task in the file's namespace
 *  (FROM) or the caller's (IN); the answer is its id in the other, ESRCH when it has none. */
function translatePid(t: Task, f: NsFile, cmd: number, arg: number): number {
  if (f.kind !== NS_PID) throw new SyscallError(EINVAL);
  const ns = f.ns as PidNamespace;
  const id = arg | 0;
  const into = cmd === NS_GET_PID_IN_PIDNS || cmd === NS_GET_TGID_IN_PIDNS;
  const task = id <= 0 ? undefined : into ? findTask(t, id) : taskInNs(t.kernel, ns, id);
  if (task === undefined) throw new SyscallError(ESRCH);
  const to = into ? ns : t.threadPid.ns;
  const r = cmd === NS_GET_PID_FROM_PIDNS || cmd === NS_GET_PID_IN_PIDNS ? tidIn(to, task) : tgidIn(to, task.tg);
  if (r === 0) throw new SyscallError(ESRCH);
  return r;
}

export class NsFile extends FileDescription {
  readonly kind: NsKind;
  constructor(readonly ns: AnyNamespace) {
    super(O_RDONLY);
    this.kind = nsKindOf(ns);
  }

  override stat(): Stat {
    if (nsfsDev < 0) nsfsDev = anonDev();
    const ts = { sec: Math.floor(bootTime / 1000), nsec: (bootTime % 1000) * 1_000_000 };
    return {
      dev: nsfsDev, ino: this.ns.ino, mode: S_IFREG | 0o444, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atime: ts, mtime: ts, ctime: ts,
    };
  }

  override describe(): string { return `${this.kind.name}:[${this.ns.ino}]`; }

  override lseek(): number { throw new SyscallError(ESPIPE); }

  override ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case NS_GET_USERNS: {
        const owner = nsOwner(this.ns);
        if (!visible(t, owner)) throw new SyscallError(EPERM);
        return t.fdTable.newFD(new NsFile(owner), { cloexec: true, limit: nofileLimit(t) });
      }
      case NS_GET_PARENT: {
        // Only pid and user namespaces are nested.
        if (this.kind === NS_PID) {
          // pidns_get_parent: the parent, if the caller's own namespace is it or above it.
          const parent = (this.ns as PidNamespace).parent;
          if (parent === null || !t.threadPid.ns.isAncestorOf(parent)) throw new SyscallError(EPERM);
          return t.fdTable.newFD(new NsFile(parent), { cloexec: true, limit: nofileLimit(t) });
        }
        if (this.kind !== NS_USER) throw new SyscallError(EINVAL);
        const parent = (this.ns as UserNamespace).parent;
        if (!visible(t, parent)) throw new SyscallError(EPERM);
        return t.fdTable.newFD(new NsFile(parent), { cloexec: true, limit: nofileLimit(t) });
      }
      case NS_GET_NSTYPE:
        return this.kind.type;
      case NS_GET_PID_FROM_PIDNS: case NS_GET_TGID_FROM_PIDNS: case NS_GET_PID_IN_PIDNS: case NS_GET_TGID_IN_PIDNS:
        return translatePid(t, this, cmd, arg);
      case NS_GET_OWNER_UID:
        if (this.kind !== NS_USER) throw new SyscallError(EINVAL);
        t.mm.writeU32(arg, fromKuid(t.creds.userNs, (this.ns as UserNamespace).owner));
        return 0;
      default:
        throw new SyscallError(ENOTTY);
    }
  }
}
