// /proc/sysvipc/{shm,sem,msg} (Linux ipc/util.c sysvipc_proc_show and each kind's show): one
// line per System V IPC object of the reader's IPC namespace, in index order, with its ids
// as the reader's user namespace names them and its pids as its pid namespace numbers them.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { IpcPerm } from '../../kernel/ipc/perm';
import { ipcNamespace } from '../../kernel/ipc/ipc';
import { ipcOf } from '../../kernel/ns/nsproxy';
import { INIT_PID_NS, tgidIn } from '../../kernel/ns/pid_ns';
import { INIT_USER_NS, fromKgid, fromKuid } from '../../kernel/ns/user_namespace';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';

const PAGE = 4096;
const SHM_HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid' +
  '      atime      dtime      ctime                   rss                  swap\n';
const SEM_HEADER = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
const MSG_HEADER = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid' +
  '      stime      rtime      ctime\n';

const r = (v: number | bigint | string, w: number): string => String(v).padStart(w);

function view(kernel: Kernel, reader: Task | null): {
  ipc: ReturnType<typeof ipcNamespace>; pid: (nr: number) => number; ids: (p: IpcPerm) => string;
} {
  const ipc = reader ? ipcOf(reader) : ipcNamespace(kernel);
  const pidNs = reader?.threadPid.ns ?? INIT_PID_NS;
  const userNs = reader?.creds.userNs ?? INIT_USER_NS;
  // A pid the reader's namespace does not number reads 0 (pid_nr_ns).
  const pid = (nr: number): number => {
    const tg = nr > 0 ? kernel.threadGroups.get(nr) : undefined;
    return tg === undefined ? (pidNs.level === 0 ? nr : 0) : tgidIn(pidNs, tg);
  };
  const ids = (p: IpcPerm): string => `${r(fromKuid(userNs, p.uid), 5)} ${r(fromKgid(userNs, p.gid), 5)} ` +
    `${r(fromKuid(userNs, p.cuid), 5)} ${r(fromKgid(userNs, p.cgid), 5)}`;
  return { ipc, pid, ids };
}

/** "%10d %10d  %4o": the key (signed), the id and the mode in octal. */
const head = (p: IpcPerm): string => `${r(p.key | 0, 10)} ${r(p.id, 10)}  ${r(p.mode.toString(8), 4)}`;

export function sysvipcDir(fs: KernFS, kernel: Kernel): KDir {
  const file = (name: string, gen: (t: Task | null) => string): KFile => new KFile(fs, `sysvipc/${name}`, gen);
  const children = (): Record<string, Inode> => ({
    shm: file('shm', (t) => {
      const { ipc, pid, ids } = view(kernel, t);
      return SHM_HEADER + [...ipc.shm.objects()].map((s) =>
        `${head(s.perm)} ${r(s.size, 21)} ${r(pid(s.cpid), 5)} ${r(pid(s.lpid), 5)}  ${r(s.nattch, 5)} ${ids(s.perm)} ` +
        `${r(s.atime, 10)} ${r(s.dtime, 10)} ${r(s.ctime, 10)} ${r(s.pageCount * PAGE, 21)} ${r(0, 21)}\n`).join('');
    }),
    sem: file('sem', (t) => {
      const { ipc, ids } = view(kernel, t);
      return SEM_HEADER + [...ipc.sem.objects()].map((s) =>
        `${head(s.perm)} ${r(s.nsems, 10)} ${ids(s.perm)} ${r(s.otime, 10)} ${r(s.ctime, 10)}\n`).join('');
    }),
    msg: file('msg', (t) => {
      const { ipc, pid, ids } = view(kernel, t);
      return MSG_HEADER + [...ipc.msg.objects()].map((q) =>
        `${head(q.perm)}  ${r(q.cbytes, 10)} ${r(q.messages.length, 10)} ${r(pid(q.lspid), 5)} ${r(pid(q.lrpid), 5)} ` +
        `${ids(q.perm)} ${r(q.stime, 10)} ${r(q.rtime, 10)} ${r(q.ctime, 10)}\n`).join('');
    }),
  });
  return new KDir(fs, 'sysvipc', staticChildren(children));
}
