// What the sentry implements of the amd64 syscall table, for `tsvisor syscalls` (gVisor's
// compatibility page, from the code itself): a number with a handler is full unless PARTIAL
// says what it lacks; a number without one is unsupported (the sentry answers ENOSYS), and
// UNSUPPORTED may say why. Keep these notes next to the truth: a handler that gains what
// its note says it lacks must drop the note.

import { SYSCALL_NAMES } from '../../abi/linux/syscall_numbers';
import type { SyscallTable } from './types';

/** Implemented with something Linux has left out: what is missing. */
export const PARTIAL: Record<string, string> = {
  ptrace: 'between sandboxed processes; SECCOMP_GET_FILTER/METADATA and GET_RSEQ_CONFIGURATION are EIO; no hardware breakpoints (DR7 enable bits are EIO); segment selector writes are checked but not applied; a PTRACE_EVENT_SECCOMP stop of an int 0x80 call re-runs it as a 64-bit call; no PR_SET_PTRACER (yama scope 1: attach needs a descendant or CAP_SYS_PTRACE)',
  mount: 'tmpfs/ramfs, proc, sysfs and devpts (an instance per mount, as Linux 4.7+), bind mounts (MS_REC too), MS_REMOUNT, MS_MOVE and the propagation types (recorded; no propagation between namespaces); block-device file systems ENOTBLK, others ENODEV; tmpfs options as Linux (size=, nr_inodes= enforced)',
  fsopen: 'the file systems of mount(2): tmpfs, ramfs, proc, sysfs, devpts, cgroup2',
  fsconfig: 'string and flag parameters of those file systems, source; the superblock flags (ro, sync...) are unknown keys (EINVAL)',
  open_tree: 'the submounts of a detached clone (AT_RECURSIVE) are crossed by path walks only once it is attached',
  move_mount: 'MOVE_MOUNT_SET_GROUP and MOVE_MOUNT_BENEATH are EINVAL',
  mount_setattr: 'MOUNT_ATTR_IDMAP is EINVAL; making a mount read-only does not wait for its writers',
  io_uring_setup: 'Linux 6.1 rings; no SQ polling thread: SQPOLL rings always ask for IORING_ENTER_SQ_WAKEUP; IOPOLL rings refuse reads and writes (EOPNOTSUPP)',
  io_uring_enter: 'requests that would wait on a pollable file park on its readiness; those that must wait without one (an open under a lease, SPLICE) run as an io-wq worker would; not done: URING_CMD, SENDMSG_ZC, RECVMSG with provided buffers or multishot, zero-copy (SEND_ZC copies; its notification follows the result)',
  io_uring_register: 'buffers, files (and their update), eventfd, probe, personalities, restrictions, enable rings, ring fds, provided buffer rings, file alloc ranges, io-wq affinity and limits (no workers); not done: the rsrc tables with tags (FILES2, BUFFERS2 and their updates), sync cancel',
  umount2: 'MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW; MNT_FORCE is a plain unmount',
  clone: 'new user, UTS, IPC, network, mount, cgroup and pid namespaces (pids per namespace, the first child its init); a child enters the time namespace for children',
  clone3: 'new user, UTS, IPC, network, mount, cgroup, pid and time namespaces; set_tid chooses pids per namespace level; CLONE_INTO_CGROUP starts the child in a cgroup2 directory\'s cgroup',
  seccomp: 'filters run in the sentry; no user notification (NEW_LISTENER is EINVAL, USER_NOTIF not available)',
  pidfd_open: 'PIDFD_THREAD (pidfds of threads, Linux 6.9) is EINVAL',
  unshare: 'new user, UTS, IPC, network, mount (every mount private), cgroup, pid and time (both for the children; time offsets in /proc/<pid>/timens_offsets until a task enters) namespaces',
  setns: 'joins user, UTS, IPC, network, mount, cgroup, pid (own or a descendant, for the children) and time namespaces',
  mincore: 'anonymous pages the sandbox mapped ahead of use (fault-around) report as resident where Linux says 0',
  io_submit: 'an IOCB_CMD_POLL completed by a wake-up reports the file\'s readiness, where Linux reports the wake-up\'s key',
  settimeofday: 'setting the time is EPERM even with CAP_SYS_TIME (the host clock is not moved); the time zone is set',
  clock_settime: 'CLOCK_REALTIME is EPERM even with CAP_SYS_TIME (the host clock is not moved)',
  move_pages: 'pages the sandbox mapped ahead of use (fault-around) report as present where Linux says ENOENT',
  inotify_add_watch: 'no watches on files without a path (a pipe via /proc/self/fd); no IN_DELETE_SELF for a host file unlinked in the overlay',
  adjtimex: 'reads the state; adjustments are EPERM even with CAP_SYS_TIME (the host clock is not moved)',
  clock_adjtime: 'reads CLOCK_REALTIME\'s state; adjustments are EPERM even with CAP_SYS_TIME',
  fcntl: 'truncate(2) does not break leases; O_ASYNC sends POLL_OUT whenever a writable file\'s writers are woken (Linux: sockets only after running out of room)',
  ioctl: 'terminals, FIONREAD/FIONBIO/FIOASYNC/FIOCLEX/FIONCLEX, sockets (FIOSETOWN/SIOCSPGRP too; SIOCGIF* on any socket; SIOCSIF* EPERM, or EOPNOTSUPP with CAP_NET_ADMIN), seals; other requests ENOTTY',
  prctl: 'names, dumpability, parent-death signal, no_new_privs, seccomp, capabilities, keepcaps, securebits, timer slack, TSC/timing modes, MCE kill policy, THP disable, tid address, perf switches, KSM merge, I/O flusher, auxv; PR_SET_TSC SIGSEGV, PR_SET_MDWE, PR_SET_MM changes (other than the map size), speculation control, PR_SET_PTRACER and other options EINVAL',
  getrusage: 'CPU times and max RSS (the fault, switch and block I/O counters are zero); user time is the stub thread\'s host CPU, system time the sentry\'s handling time',
  wait4: 'rusage has the CPU times and max RSS only (the fault, switch and block I/O counters are zero)',
  waitid: 'rusage has the CPU times and max RSS only (the fault, switch and block I/O counters are zero)',
  socket: 'AF_UNIX, and AF_INET/AF_INET6 TCP and UDP over the sandbox stack: lo, and eth0 (IPv4 and IPv6) through the user-mode NAT to the host; with --network=host, host TCP/UDP sockets (an allowlist of options; ancillary data both ways; ping and raw sockets stay on the sandbox stack); ping sockets (SOCK_DGRAM IPPROTO_ICMP/ICMPV6) and raw ICMP sockets on the sandbox stack, raw sockets of other protocols EPROTONOSUPPORT; AF_NETLINK NETLINK_ROUTE (RTM_GETLINK/GETADDR/GETROUTE/GETNEIGH of the sandbox stack; RTM_NEWADDR/DELADDR (v4, v6), IPv4 unicast RTM_NEWROUTE/DELROUTE in the main table and RTM_NEWLINK/SETLINK bringing a link up or down, with CAP_NET_ADMIN over the network namespace\'s owner, no multicast notifications; creating links and other changes EPERM/EOPNOTSUPP; each network namespace its own stack), NETLINK_SOCK_DIAG (SOCK_DIAG_BY_FAMILY dumps and lookups of TCP, UDP and unix sockets, as ss uses them; SOCK_DESTROY and the old TCPDIAG requests EOPNOTSUPP; with --network=host the host sockets are not listed) and NETLINK_KOBJECT_UEVENT; other families EAFNOSUPPORT',
  socketpair: 'AF_UNIX only (EOPNOTSUPP for AF_INET and AF_NETLINK, as Linux)',
  timerfd_settime: 'TFD_TIMER_CANCEL_ON_SET is accepted but never cancels (the clock cannot be set)',
  sched_setattr: 'SCHED_DEADLINE is EINVAL; policies are recorded, not scheduled',
  sched_setscheduler: 'policies are recorded, not scheduled',
  execve: 'file capabilities (security.capability) are not applied',
  execveat: 'file capabilities (security.capability) are not applied',
  name_to_handle_at: 'decodable handles on tmpfs only; other file systems give a generic 8-byte FID (Linux: each its own format); AT_HANDLE_MNT_ID_UNIQUE reports the mountinfo id (never reused here)',
  acct: 'records have ac_mem, ac_minflt, ac_majflt and ac_tty zero and never the ASU flag',
  add_key: 'the "user" and "keyring" types only (others ENODEV); no quotas (no /proc/key-users); /proc/keys\'s usage column counts the keyrings linking a key',
  request_key: 'finds keys only: no upcall to a request-key helper, so an absent key is ENOKEY even with a callout (Linux leaves a negative key and fails as the helper does)',
  keyctl: 'GET_KEYRING_ID, JOIN_SESSION_KEYRING, UPDATE, REVOKE, CHOWN (no quotas), SETPERM, DESCRIBE, CLEAR, LINK, UNLINK, SEARCH, READ, INVALIDATE; other operations (SET_TIMEOUT, instantiation, DH, restrict...) EOPNOTSUPP; a child inherits its parent\'s session keyring when it first asks, not at fork',
  vhangup: 'on the host console (tsvisor\'s own terminal) the session loses it and the leader gets SIGHUP/SIGCONT, but its open files are not hung up (devpts ptys are)',
  open: 'O_DIRECT is accepted but its alignment rules are not applied to files of the root and of a --volume (host file systems): a misaligned read or write succeeds where the host file system says EINVAL',
  openat: 'O_DIRECT is accepted but its alignment rules are not applied to files of the root and of a --volume (host file systems): a misaligned read or write succeeds where the host file system says EINVAL',
  openat2: 'O_DIRECT is accepted but its alignment rules are not applied to files of the root and of a --volume (host file systems): a misaligned read or write succeeds where the host file system says EINVAL',
  open_by_handle_at: 'tmpfs handles only (others ESTALE); an unlinked file kept alive only by a mapping is ESTALE',
  landlock_restrict_self: 'ABI 2 (Linux 6.1): enforced on open, execve, making, removing, linking and renaming names, mount changes and ptrace access; /proc/<pid> files of a task outside the domain stay readable as DAC allows',
};

/** Numbers Linux itself answers ENOSYS on x86-64 (sys_ni_syscall): the sentry's ENOSYS is
 *  exact for them. */
export const LINUX_ENOSYS = new Set([
  'uselib', 'create_module', 'get_kernel_syms', 'query_module', 'nfsservctl', 'getpmsg', 'putpmsg',
  'afs_syscall', 'tuxcall', 'security', 'vserver', 'epoll_ctl_old', 'epoll_wait_old', '_sysctl',
  // Removed (lookup_dcookie, 6.8) or 32-bit only (the thread-area calls answer ENOSYS to a
  // 64-bit caller on this kernel too).
  'lookup_dcookie', 'set_thread_area', 'get_thread_area',
]);

/** Why a number without a handler has none, where there is more to say than "not yet". */
export const UNSUPPORTED: Record<string, string> = {
  bpf: 'no BPF',
  perf_event_open: 'no performance counters',
  kexec_load: 'host-level: never',
  kexec_file_load: 'host-level: never',
  init_module: 'host-level: never',
  finit_module: 'host-level: never',
  delete_module: 'host-level: never',
  reboot: 'host-level: never',
  swapon: 'host-level: never',
  swapoff: 'host-level: never',
  iopl: 'host-level: never',
  ioperm: 'host-level: never',
};

export type SupportState = 'full' | 'partial' | 'unsupported';

export interface SyscallSupport { nr: number; name: string; state: SupportState; note: string }

export function syscallSupport(table: SyscallTable): SyscallSupport[] {
  const out: SyscallSupport[] = [];
  SYSCALL_NAMES.forEach((name, nr) => {
    if (!name) return;
    if (table[nr] !== undefined) {
      const note = PARTIAL[name];
      out.push({ nr, name, state: note !== undefined ? 'partial' : 'full', note: note ?? '' });
    } else if (LINUX_ENOSYS.has(name)) {
      out.push({ nr, name, state: 'full', note: 'ENOSYS, as in Linux' });
    } else {
      out.push({ nr, name, state: 'unsupported', note: UNSUPPORTED[name] ?? '' });
    }
  });
  return out;
}
