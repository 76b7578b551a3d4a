// /dev/ptmx and /dev/pts/N (Linux drivers/tty/pty.c unix98 ptys, fs/devpts): opening ptmx
// makes a Terminal with the lowest free index and its replica node /dev/pts/N (char 136:N,
// mode=, 0620 here), locked until TIOCSPTLCK unlocks it. The last close of the master hangs
// the session up and removes the node. The nodes and their numbers are the devpts instance's
// (devpts_fs.ts; each mount of devpts is one), found as Linux's devpts_acquire does:
// /dev/pts/ptmx is in it, /dev/ptmx finds it mounted on its sibling pts/.

import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EINVAL, EIO, ENODEV, ENOENT, ENOSPC, ENXIO } from '../../abi/linux/errno';
import { O_ACCMODE, O_CLOEXEC, O_NOCTTY, O_NONBLOCK } from '../../abi/linux/fcntl';
import { SIGHUP } from '../../abi/linux/signal';
import { sigInfo } from '../../kernel/sig_pending';
import { SI_KERNEL, sendSignalToProcess } from '../../kernel/signals';
import { TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER, TIOCSPTLCK } from '../../abi/linux/ioctl';
import { S_IFCHR, makeDev } from '../../abi/linux/stat';
import { crossDown } from '../../vfs/resolve';
import { resolveContext } from '../../vfs/task_fs';
import { disassociateCtty, maybeAcquireTty } from '../../kernel/job_control_tty';
import { registerCharDevice } from '../../vfs/devices';
import type { Dentry } from '../../vfs/dentry';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import { nofileLimit } from '../../syscalls/linux/fd_util';
import { Terminal } from './terminal';
import { PtyMasterFile, PtyReplicaFile, setMasterCloseHook } from './pty_files';
import { DEV_PTMX, DevptsFS, devptsOf } from './devpts_fs';

export { DEV_PTMX };
export const PTS_MAJOR = 136;
/** /proc/sys/kernel/pty/max's default. */
const PTY_MAX = 4096;

interface Pty { term: Terminal; node: VirtualDentry; dir: Dentry; fs: DevptsFS }

/** Each instance's ptys by index, and each terminal's pty. */
const instances = new WeakMap<DevptsFS, Map<number, Pty>>();
const ptyOfTerm = new WeakMap<Terminal, Pty>();

function ptysOf(fs: DevptsFS): Map<number, Pty> {
  let m = instances.get(fs);
  if (m === undefined) instances.set(fs, m = new Map());
  return m;
}

function lowestFreeIndex(ptys: Map<number, Pty>): number {
  for (let i = 0; i < PTY_MAX; i++) if (!ptys.has(i)) return i;
  throw new SyscallError(ENOSPC);
}

/** A replica open: locked ptys refuse; a session leader without a terminal acquires it. */
function openReplica(t: Task | null, pty: Pty, vd: VirtualDentry, flags: number): PtyReplicaFile {
  const f = new PtyReplicaFile(flags, vd, pty.term);
  if (t && (flags & O_NOCTTY) === 0) maybeAcquireTty(t, pty.term.job);
  return f;
}

/** Where the devpts instance a ptmx open at vd uses is mounted (devpts_acquire): its own
 *  mount for pts/ptmx, else the devpts mounted on the pts/ beside it (ENODEV if none). */
function devptsPlace(t: Task, vd: VirtualDentry): VirtualDentry {
  const own = vd.dentry.inode.fs;
  if (own instanceof DevptsFS) return new VirtualDentry(vd.mount, own.rootDentry);
  const dir = vd.dentry.parent?.lookup('pts');
  if (!dir) throw new SyscallError(ENOENT);
  const pts = crossDown(resolveContext(t).ns, new VirtualDentry(vd.mount, dir));
  if (!(pts.dentry.inode.fs instanceof DevptsFS)) throw new SyscallError(ENODEV);
  return pts;
}

function openPtmx(t: Task | null, vd: VirtualDentry, flags: number): PtyMasterFile {
  if (!t) throw new SyscallError(ENXIO);
  const place = devptsPlace(t, vd);
  const dir = place.dentry;
  const fs = dir.inode.fs as DevptsFS;
  const ptys = ptysOf(fs);
  const index = lowestFreeIndex(ptys);
  if (index >= fs.max) throw new SyscallError(ENOSPC);
  const name = String(index);
  const inode = dir.inode.mknod(name, S_IFCHR | fs.mode, makeDev(PTS_MAJOR, index), t.creds);
  if (fs.uid !== undefined || fs.gid !== undefined) inode.setattr({ uid: fs.uid, gid: fs.gid });
  const node = new VirtualDentry(place.mount, dir.added(name, inode));
  const pty: Pty = {
    term: new Terminal(t.kernel, index, (tt, fl) => openReplica(tt, pty, node, fl)),
    node, dir, fs,
  };
  ptys.set(index, pty);
  ptyOfTerm.set(pty.term, pty);
  const kernel = t.kernel;
  // One opener per number for every instance: the node opened says whose pty it is (a node
  // made elsewhere with mknod, the first instance's).
  registerCharDevice(makeDev(PTS_MAJOR, index), (tt, rvd, fl) => {
    const inst = rvd.dentry.inode.fs instanceof DevptsFS ? rvd.dentry.inode.fs : devptsOf(kernel);
    const p = ptysOf(inst).get(index);
    if (!p) throw new SyscallError(ENXIO);
    if (p.term.locked) throw new SyscallError(EIO);
    return openReplica(tt, p, rvd, fl);
  });
  return new PtyMasterFile(flags, vd, pty.term, (tt, cmd, arg) => masterIoctl(tt, pty, cmd, arg));
}

/** The ptmx-only ioctls. */
function masterIoctl(t: Task, pty: Pty, cmd: number, arg: number): number | null {
  switch (cmd) {
    case TIOCGPTN:
      t.mm.writeI32(arg, pty.term.index);
      return 0;
    case TIOCSPTLCK:
      pty.term.locked = t.mm.readI32(arg) !== 0;
      return 0;
    case TIOCGPTLCK:
      t.mm.writeI32(arg, pty.term.locked ? 1 : 0);
      return 0;
    case TIOCGPTPEER: {
      // ptm_open_peer: arg is the new file's open flags.
      if ((arg & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) !== 0) throw new SyscallError(EINVAL);
      const f = openReplica(t, pty, pty.node, arg);
      try {
        return t.fdTable.newFD(f, { cloexec: (arg & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
      } finally {
        f.decRef();
      }
    }
    default:
      return null;
  }
}

/** The master's last close: the replica side is hung up (its session's foreground job gets
 *  SIGHUP and SIGCONT, the leader SIGHUP), the node and the index go. */
function masterClosed(term: Terminal): void {
  term.masterOpen = false;
  term.replicaQueue.notify(0x10 | 0x1);
  const sid = term.job.sid;
  if (sid !== 0) {
    disassociateCtty(term.kernel, term.job);
    const leader = term.kernel.threadGroups.get(sid);
    if (leader && !leader.zombie) sendSignalToProcess(leader, sigInfo(SIGHUP, SI_KERNEL));
  }
  const pty = ptyOfTerm.get(term);
  const ptys = pty && ptysOf(pty.fs);
  if (!pty || !ptys || ptys.get(term.index) !== pty) return;
  ptys.delete(term.index);
  const name = String(term.index);
  const inode = pty.dir.inode.lookup(name);
  if (inode) {
    pty.dir.inode.unlink(name, inode);
    pty.dir.removed(name);
  }
}

let registered = false;

export function registerPtmx(): void {
  if (registered) return;
  registered = true;
  setMasterCloseHook(masterClosed);
  registerCharDevice(DEV_PTMX, openPtmx);
}
