// /proc/locks (Linux fs/locks.c lock_get_status): one line per lock held, newest first: its
// kind, type, holder (the reader's pid namespace's number;
// -1 for an OFD lock, 0 for a holder gone or not visible), the file as major:minor:inode and
// the range ("EOF" for to the end).

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { devMajor, devMinor } from '../../abi/linux/stat';
import { INIT_PID_NS, tgidIn } from '../../kernel/ns/pid_ns';
import { Inode } from '../../vfs/inode';
import { F_WRLCK, heldPosixLocks, shownInode } from '../../vfs/locks/posix_locks';
import { LOCK_EX, heldFlocks } from '../../vfs/locks/flock';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** "MAJ:MIN:INO" of the locked file, "<none>:0" when the lock is on no inode. */
function fileOf(key: object): string {
  const inode = shownInode(key) ?? (key instanceof Inode ? key : undefined);
  if (inode === undefined) return '<none>:0';
  const s = inode.stat();
  return `${hex2(devMajor(s.dev))}:${hex2(devMinor(s.dev))}:${s.ino}`;
}

export function procLocks(kernel: Kernel, reader: Task | null): string {
  const ns = reader?.threadPid.ns ?? INIT_PID_NS;
  const pidOf = (tgid: number): number => {
    const tg = kernel.threadGroups.get(tgid);
    return tg !== undefined ? tgidIn(ns, tg) : 0;
  };
  const lines: { seq: number; text: string }[] = [];
  for (const { key, lock, seq } of heldPosixLocks()) {
    const kind = lock.ofd ? 'OFDLCK' : 'POSIX ';
    const range = lock.end === Infinity ? `${lock.start} EOF` : `${lock.start} ${lock.end}`;
    lines.push({ seq, text: `${kind} ADVISORY  ${lock.type === F_WRLCK ? 'WRITE' : 'READ'} ${lock.ofd ? -1 : pidOf(lock.pid)} ${fileOf(key)} ${range}` });
  }
  for (const { key, op, tgid, seq } of heldFlocks()) {
    lines.push({ seq, text: `FLOCK  ADVISORY  ${op === LOCK_EX ? 'WRITE' : 'READ'} ${pidOf(tgid)} ${fileOf(key)} 0 EOF` });
  }
  lines.sort((a, b) => b.seq - a.seq);
  return lines.map((l, i) => `${i + 1}: ${l.text}\n`).join('');
}
