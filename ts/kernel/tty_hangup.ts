// tty hang-up as vhangup does it (Linux drivers/tty/tty_io.c __tty_hangup with exit_session
// 0, tty_signal_session_leader): every process of the session loses the terminal, the
// session leader gets SIGHUP and SIGCONT (its foreground job nothing), the terminal has no
// session or foreground group left, and every file open on it now is hung up (each
// terminal's files compare their open-time count with `hangups`). Owns only this sequence;
// the files' hung-up behaviour is their own (devpts pty_files.ts).

import { SIGCONT, SIGHUP } from '../abi/linux/signal';
import { processGroupIds } from '../syscalls/linux/process_group';
import type { JobControlTty } from './job_control_tty';
import type { Kernel } from './kernel';
import { sigInfo } from './sig_pending';
import { SI_KERNEL, sendSignalToProcess } from './signals';

export function ttyVhangup(k: Kernel, tty: JobControlTty): void {
  const sid = tty.sid;
  tty.hangups++;
  if (sid !== 0) {
    for (const tg of [...k.threadGroups.values()]) {
      const ids = processGroupIds(tg);
      if (ids.sid !== sid) continue;
      if (ids.tty === tty) ids.tty = null;
      if (tg.tgid === sid && !tg.zombie) {
        sendSignalToProcess(tg, sigInfo(SIGHUP, SI_KERNEL));
        sendSignalToProcess(tg, sigInfo(SIGCONT, SI_KERNEL));
      }
    }
  }
  tty.sid = 0;
  tty.pgrp = 0;
  tty.onHangup?.();
}
