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

/** When the hang report is written again after a stop asked of tsvisor. */
const REPORT_AGAIN_MS = 3000;
/** How long after a ^Z tsvisor waits for the job to stop, and how often it looks. */
const STOP_WATCH_MS = 10_000, STOP_POLL_MS = 10;

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
  const foreground = (): number => consoleTty()?.pgrp || processGroupIds(init).pgid;
  const groupMembers = (pgid: number): ThreadGroup[] =>
    [...kernel.threadGroups.values()].filter((tg) => !tg.zombie && !tg.reaped && processGroupIds(tg).pgid === pgid);
  // ^Z that stops the first process's job stops tsvisor too, so that the user's shell gets the
  // terminal back (as it would from the job itself); fg's SIGCONT then continues the job.
  // The job may stop late (a program that catches SIGTSTP tidies up, then stops itself, as
  // vim and less do), or after the SIGCONT came: watch it for a while rather than once.
  let watch: NodeJS.Timeout | null = null;
  const stopWhenStopped = (pgid: number): void => {
    if (watch !== null) clearInterval(watch);
    const until = Date.now() + STOP_WATCH_MS;
    watch = setInterval(() => {
      const job = groupMembers(pgid);
      const done = job.length === 0 || Date.now() > until;
      if (!done && !job.every(groupStopped)) return;
      if (watch !== null) clearInterval(watch);
      watch = null;
      if (done) return;
      // Not at once: a fg that reached tsvisor already but whose listener has not run would
      // be spent, and tsvisor stopped with nothing to continue it. Timers run before the
      // loop reads the signals that came; immediates after.
      contSeen = false;
      setImmediate(() => {
        if (contSeen || !groupMembers(pgid).every(groupStopped)) return;
        stoppedJob = pgid;
        process.kill(process.pid, 'SIGSTOP');
      });
    }, STOP_POLL_MS);
    watch.unref();
  };
  // The job tsvisor stopped for, which fg continues; whether a fg came since the job stopped.
  let stoppedJob = 0;
  let contSeen = false;
  for (const [name, sig] of TO_GROUP) {
    listeners.push([name, () => {
      const pgid = foreground();
      for (const tg of groupMembers(pgid)) send(tg, sig);
      // A job of a shell inside the sandbox is that shell's to manage, not the user's.
      if (sig === SIGTSTP && pgid === processGroupIds(init).pgid) stopWhenStopped(pgid);
    }]);
  }
  // Always passed on, as the job itself would get it: a SIGCONT that comes before the job
  // has finished stopping must still cancel the stop (it clears the pending stop signal).
  listeners.push(['SIGCONT', () => {
    const pgid = stoppedJob || processGroupIds(init).pgid;
    stoppedJob = 0;
    contSeen = true;
    for (const tg of groupMembers(pgid)) send(tg, SIGCONT);
  }]);
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
    if (watch !== null) clearInterval(watch);
    for (const [name, fn] of listeners) process.off(name, fn);
  };
}
