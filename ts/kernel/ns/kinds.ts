// The namespace kinds (include/uapi/linux/sched.h's CLONE_NEW* flags, include/linux/proc_ns.h's
// inode numbers of the initial namespaces), in a module of their own that imports nothing, so
// that namespace objects made at load time (the initial pid namespace) can name their kind.

export const CLONE_NEWTIME = 0x80, CLONE_NEWNS = 0x20000, CLONE_NEWCGROUP = 0x2000000, CLONE_NEWUTS = 0x4000000,
  CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;

export interface NsKind { readonly name: string; readonly type: number; readonly ino: number }

const kind = (name: string, type: number, ino: number): NsKind => ({ name, type, ino });
export const NS_NET = kind('net', CLONE_NEWNET, 0xeffffff9);
export const NS_UTS = kind('uts', CLONE_NEWUTS, 0xeffffffe);
export const NS_IPC = kind('ipc', CLONE_NEWIPC, 0xefffffff);
export const NS_PID = kind('pid', CLONE_NEWPID, 0xeffffffc);
export const NS_USER = kind('user', CLONE_NEWUSER, 0xeffffffd);
export const NS_MNT = kind('mnt', CLONE_NEWNS, 0xeffffff8);
export const NS_CGROUP = kind('cgroup', CLONE_NEWCGROUP, 0xeffffffb);
export const NS_TIME = kind('time', CLONE_NEWTIME, 0xeffffffa);
