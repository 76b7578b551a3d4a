// The mqueue file system (Linux ipc/mqueue.c's mqueue_fs): one flat directory of POSIX
// message queues per sandbox, named without the leading '/' that the C library strips.
//
// Owns: queue names (open, create, unlink), the limits of mq_attr (the fs.mqueue sysctls'
// defaults), the access check on open, and notification owners dropped when their process
// closes the queue. Queues outlive their names while a description keeps them open.
// Not done: mounting it (/dev/mqueue) for ls and rm; mq_* are the only way in.

import type { IpcNamespace } from '../../kernel/ipc/ipc';
import { ipcOf } from '../../kernel/ns/nsproxy';
import type { Task } from '../../kernel/task';
import { EACCES, EEXIST, EINVAL, ENAMETOOLONG, ENOENT } from '../../abi/linux/errno';
import { O_ACCMODE, O_CREAT, O_EXCL, O_NONBLOCK, O_RDWR, O_WRONLY } from '../../abi/linux/fcntl';
import { CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import { fail } from '../../kernel/syscall_error';
import { MQueue } from './queue';
import { MqFile } from './file';
import { stringByteLength } from '../../abi/byte_string';

export const DFLT_MSGMAX = 10;
export const DFLT_MSGSIZEMAX = 8192;
const HARD_MSGMAX = 65536;
const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
const NAME_MAX = 255;

export interface MqAttrIn { maxmsg: number; msgsize: number }

class MqueueFs {
  readonly names = new Map<string, MQueue>();
  private nextIno = 1;
  allocIno(): number { return this.nextIno++; }
}

// One queue file system per IPC namespace (Linux's ipc_namespace.mq_mnt).
const filesystems = new WeakMap<IpcNamespace, MqueueFs>();

function mqfs(t: Task): MqueueFs {
  const ns = ipcOf(t);
  let fs = filesystems.get(ns);
  if (fs === undefined) {
    fs = new MqueueFs();
    filesystems.set(ns, fs);
  }
  return fs;
}

/** A name lookup in the root (lookup_one_len): no '/', not empty, '.' or '..'. */
function checkName(name: string): void {
  if (name.length === 0 || name === '.' || name === '..' || name.includes('/')) fail(EACCES);
  if (stringByteLength(name) > NAME_MAX) fail(ENAMETOOLONG);
}

/** mq_attr_ok. */
function checkAttr(t: Task, a: MqAttrIn): void {
  if (a.maxmsg <= 0 || a.msgsize <= 0) fail(EINVAL);
  const privileged = t.creds.hasCapability(CAP_SYS_RESOURCE);
  if (a.maxmsg > (privileged ? HARD_MSGMAX : DFLT_MSGMAX)) fail(EINVAL);
  if (a.msgsize > (privileged ? HARD_MSGSIZEMAX : DFLT_MSGSIZEMAX)) fail(EINVAL);
}

/** generic_permission on the queue for the open mode. */
function permits(t: Task, q: MQueue, want: number): boolean {
  if (t.creds.hasCapability(CAP_DAC_OVERRIDE)) return true;
  let m = q.mode;
  if (t.creds.fsuid === q.uid) m >>= 6;
  else if (t.creds.inGroup(q.gid)) m >>= 3;
  return (want & ~m & 0o7) === 0;
}

/** do_mq_open: the description of the queue `name`, made if O_CREAT asks. */
export function mqOpen(t: Task, name: string, oflag: number, mode: number, attr: MqAttrIn | null): MqFile {
  checkName(name);
  const fs = mqfs(t);
  let q = fs.names.get(name);
  if (q !== undefined) {
    if ((oflag & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) fail(EEXIST);
  } else {
    if ((oflag & O_CREAT) === 0) fail(ENOENT);
    const a = attr ?? { maxmsg: DFLT_MSGMAX, msgsize: DFLT_MSGSIZEMAX };
    if (attr !== null) checkAttr(t, a);
    q = new MQueue(name, t.creds, mode & ~t.fs.umask & 0o7777, a.maxmsg, a.msgsize);
    fs.names.set(name, q);
    return openQueue(t, fs, q, oflag);
  }
  const acc = oflag & O_ACCMODE;
  if (acc === (O_RDWR | O_WRONLY)) fail(EINVAL);
  const want = acc === O_RDWR ? 6 : acc === O_WRONLY ? 2 : 4;
  if (!permits(t, q, want)) fail(EACCES);
  return openQueue(t, fs, q, oflag);
}

function openQueue(t: Task, fs: MqueueFs, q: MQueue, oflag: number): MqFile {
  if ((oflag & O_ACCMODE) === (O_RDWR | O_WRONLY)) fail(EINVAL);
  const f = new MqFile((oflag & (O_ACCMODE | O_NONBLOCK)), q, fs.allocIno());
  // mqueue_flush_file: the registered process lets go of its notification by closing.
  const tgid = t.pid;
  f.onRelease(() => { if (q.notify?.tgid === tgid) q.notify = null; });
  return f;
}

/** mq_unlink: the name goes; open descriptions keep the queue. */
export function mqUnlink(t: Task, name: string): void {
  checkName(name);
  const fs = mqfs(t);
  if (!fs.names.has(name)) fail(ENOENT);
  fs.names.delete(name);
}
