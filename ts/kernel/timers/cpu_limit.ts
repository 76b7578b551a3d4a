// RLIMIT_CPU (Linux posix-cpu-timers.c check_process_timers, its rlimit part): once the
// process's CPU time (user + system) reaches the soft limit it gets SIGXCPU, and the soft
// limit moves up a second (while below the hard one), so another SIGXCPU follows each
// second; at the hard limit, SIGKILL. A timer on the process CPU clock watches it, set again
// whenever the limit changes (setrlimit, prlimit) and for a new process, which inherits the
// limit but starts its own clock from zero.

import type { ThreadGroup } from '../thread_group';
import { CPUCLOCK_PROF } from '../../abi/linux/time';
import { SIGKILL, SIGXCPU } from '../../abi/linux/signal';
import { RLIMIT_CPU, RLIM_INFINITY } from '../rlimits';
import { sendSignalToProcess, SI_KERNEL } from '../signals';
import { sigInfo } from '../sig_pending';
import { processCpuClock } from './clock';
import { KTimer } from './ktimer';

const NS_PER_SEC = 1_000_000_000n;
const timers = new WeakMap<ThreadGroup, KTimer>();

/** When the limit next acts, in process CPU ns: the soft limit, else the hard; 0n: never. */
function nextCheck(tg: ThreadGroup): bigint {
  const { cur, max } = tg.rlimits[RLIMIT_CPU];
  const secs = cur !== RLIM_INFINITY ? cur : max;
  if (secs === RLIM_INFINITY) return 0n;
  // A limit of 0 acts as 1 s (update_rlimit_cpu).
  return (secs === 0n ? 1n : secs) * NS_PER_SEC;
}

function expired(tg: ThreadGroup, timer: KTimer): boolean {
  const rl = tg.rlimits[RLIMIT_CPU];
  const used = timer.clock.now();
  if (rl.max !== RLIM_INFINITY && used >= rl.max * NS_PER_SEC) {
    sendSignalToProcess(tg, sigInfo(SIGKILL, SI_KERNEL));
    return false;
  }
  if (rl.cur !== RLIM_INFINITY && used >= rl.cur * NS_PER_SEC) {
    if (rl.cur < rl.max) tg.rlimits[RLIMIT_CPU] = { cur: rl.cur + 1n, max: rl.max };
    sendSignalToProcess(tg, sigInfo(SIGXCPU, SI_KERNEL));
  }
  // Set again once the listener has returned (the timer holds itself meanwhile).
  queueMicrotask(() => timer.set(nextCheck(tg), 0n));
  return false;
}

/** The process's RLIMIT_CPU changed, or the process is new: watch for the next limit. */
export function updateCpuLimit(tg: ThreadGroup): void {
  const at = nextCheck(tg);
  let timer = timers.get(tg);
  if (at === 0n && timer === undefined) return;
  if (timer === undefined) {
    const created: KTimer = new KTimer(processCpuClock(tg, CPUCLOCK_PROF), () => expired(tg, created));
    timer = created;
    timers.set(tg, created);
    void tg.exited.then(() => { created.destroy(); timers.delete(tg); });
  }
  timer.set(at, 0n);
}
