// Signals sent to tsvisor itself go to the program, as if tsvisor were the program: a
// terminal's SIGINT, SIGQUIT and SIGWINCH reach the init process's whole process group (the
// foreground job a shell would have started), SIGTERM, SIGHUP, SIGUSR1/2 and SIGALRM reach
// the init process. They arrive as from outside the sandbox's pid namespace: SI_USER, pid 0.
// Owns only the host-side listeners; delivery is the kernel's.

import type { Kernel } from '../kernel/kernel';
import type { ThreadGroup } from '../kernel/thread_group';
import { sigInfo } from '../kernel/sig_pending';
import { SI_USER, sendSignalToProcess } from '../kernel/signals';
import { processGroupIds } from '../syscalls/linux/process_group';
import { SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH } from '../abi/linux/signal';

const TO_GROUP: Array<[NodeJS.Signals, number]> = [['SIGINT', SIGINT], ['SIGQUIT', SIGQUIT], ['SIGWINCH', SIGWINCH]];
const TO_INIT: Array<[NodeJS.Signals, number]> = [
  ['SIGTERM', SIGTERM], ['SIGHUP', SIGHUP], ['SIGUSR1', SIGUSR1], ['SIGUSR2', SIGUSR2], ['SIGALRM', SIGALRM],
];

/** Starts forwarding; returns the function that stops it. */
export function forwardHostSignals(kernel: Kernel, init: ThreadGroup): () => void {
  const listeners: Array<[NodeJS.Signals, () => void]> = [];
  const send = (tg: ThreadGroup, sig: number): void => {
    if (!tg.zombie && !tg.reaped) sendSignalToProcess(tg, sigInfo(sig, SI_USER, { pid: 0, uid: 0 }));
  };
  for (const [name, sig] of TO_GROUP) {
    listeners.push([name, () => {
      const pgid = processGroupIds(init).pgid;
      for (const tg of [...kernel.threadGroups.values()]) if (processGroupIds(tg).pgid === pgid) send(tg, sig);
    }]);
  }
  for (const [name, sig] of TO_INIT) listeners.push([name, () => send(init, sig)]);
  for (const [name, fn] of listeners) process.on(name, fn);
  return () => {
    for (const [name, fn] of listeners) process.off(name, fn);
  };
}
