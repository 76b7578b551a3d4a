// Fills the syscall table: every sys_*.ts area registers its own entries. table.ts (the
// dispatcher) calls this once; the order does not matter, no two areas share a number.

import type { SyscallTable } from './types';
import { registerMM } from './sys_mm';
import { registerReadWrite } from './sys_read_write';
import { registerFD } from './sys_fd';
import { registerFcntl } from './sys_fcntl';
import { registerIoctl } from './sys_ioctl';
import { registerStat } from './sys_stat';
import { registerFSContext } from './sys_fs_context';
import { registerReadlink } from './sys_readlink';
import { registerExit } from './sys_exit';
import { registerThread } from './sys_thread';
import { registerRseq } from './sys_rseq';
import { registerArchPrctl } from './sys_arch_prctl';
import { registerIdentity } from './sys_identity';
import { registerProcessGroup } from './sys_process_group';
import { registerRlimit } from './sys_rlimit';
import { registerUname } from './sys_uname';
import { registerTime } from './sys_time';
import { registerSleep } from './sys_sleep';
import { registerRandom } from './sys_random';
import { registerSched } from './sys_sched';
import { registerSysinfo } from './sys_sysinfo';
import { registerRusage } from './sys_rusage';
import { registerPersonality } from './sys_personality';
import { registerPrctl } from './sys_prctl';
import { registerSignal } from './sys_signal';
import { registerKill } from './sys_kill';

export function registerAll(table: SyscallTable): void {
  registerMM(table);
  registerReadWrite(table);
  registerFD(table);
  registerFcntl(table);
  registerIoctl(table);
  registerStat(table);
  registerFSContext(table);
  registerReadlink(table);
  registerExit(table);
  registerThread(table);
  registerRseq(table);
  registerArchPrctl(table);
  registerIdentity(table);
  registerProcessGroup(table);
  registerRlimit(table);
  registerUname(table);
  registerTime(table);
  registerSleep(table);
  registerRandom(table);
  registerSched(table);
  registerSysinfo(table);
  registerRusage(table);
  registerPersonality(table);
  registerPrctl(table);
  registerSignal(table);
  registerKill(table);
}
