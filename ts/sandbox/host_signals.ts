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
import {
  SIGALRM, SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGUSR1, SIGUSR2, SIGWINCH,
} from '../abi/linux/signal';
import { consoleTty } from '../vfs/host_tty';
import { groupStopped } from '../kernel/job_control';
import { reportTasks } from '../kernel/hang_report';
import { TstpGate, type GateAction } from './tstp_gate';

/** When the hang report is written again after a stop asked of tsvisor. */
const REPORT_AGAIN_MS = 3000;

const TO_GROUP: Array<[NodeJS.Signals, number]> = [
  ['SIGINT', SIGINT], ['SIGQUIT', SIGQUIT], ['SIGWINCH', SIGWINCH], ['SIGTSTP', SIGTSTP],
];
const TO_INIT: Array<[NodeJS.Signals, number]> = [
  ['SIGTERM', SIGTERM], ['SIGHUP', SIGHUP], ['SIGUSR1', SIGUSR1], ['SIGUSR2', SIGUSR2], ['SIGALRM', SIGALRM],
];

/** Starts forwarding; returns the function that stops it. */
export function forwardHostSignals(kernel: Kernel, init: ThreadGroup): () => void {
  const listeners: Array<[NodeJS.Signals, () => void]> = [];
  const send = (tg: ThreadGroup, sig: number): void => {
    if (!tg.zombie && !tg.reaped) sendSignalToProcess(tg, sigInfo(sig, SI_USER, { pid: 0, uid: 0 }));
  };
  // The terminal's foreground job: the console's foreground group when the program does
  // job control on tsvisor's terminal (a shell), else the first process's group.
  const toGroup = (sig: number): void => {
    const pgid = consoleTty()?.pgrp || processGroupIds(init).pgid;
    for (const tg of [...kernel.threadGroups.values()]) if (processGroupIds(tg).pgid === pgid) send(tg, sig);
  };
  // ^Z that stopped the program stops tsvisor too; fg continues the program (tstp_gate.ts).
  const gate = new TstpGate();
  const act = (a: GateAction): void => {
    if (a === 'stop-self') process.kill(process.pid, 'SIGSTOP');
    if (a !== 'continue') return;
    const pgid = processGroupIds(init).pgid;
    for (const tg of [...kernel.threadGroups.values()]) if (processGroupIds(tg).pgid === pgid) send(tg, SIGCONT);
  };
  for (const [name, sig] of TO_GROUP) {
    listeners.push([name, () => {
      toGroup(sig);
      if (sig !== SIGTSTP) return;
      gate.tstp();
      setTimeout(() => act(gate.settle(groupStopped(init))), 20);
    }]);
  }
  listeners.push(['SIGCONT', () => act(gate.cont(groupStopped(init)))]);
  for (const [name, sig] of TO_INIT) listeners.push([name, () => send(init, sig)]);
  // A stop asked of tsvisor: say in the debug log what every task waits on, now and once
  // more if the sandbox is still there a while later (then it did not end when told to).
  let again: NodeJS.Timeout | null = null;
  for (const name of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as NodeJS.Signals[]) {
    listeners.push([name, () => {
      reportTasks(kernel, `host ${name}`);
      if (again === null && kernel.debugging()) {
        again = setTimeout(() => reportTasks(kernel, `still running ${REPORT_AGAIN_MS} ms after host ${name}`), REPORT_AGAIN_MS);
        again.unref();
      }
    }]);
  }
  for (const [name, fn] of listeners) process.on(name, fn);
  return () => {
    if (again !== null) clearTimeout(again);
    for (const [name, fn] of listeners) process.off(name, fn);
  };
}
