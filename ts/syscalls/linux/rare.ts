// The syscall areas a run rarely uses, registered together: the entry of the bundle's "rare"
// chunk (scripts/bundle.mjs), loaded by lazy_areas.ts at the first call of any of them. Only
// lazy_areas.ts may import this file, and only with require: a static import would put the
// chunk back into every start-up (the bundle build refuses one).

import type { SyscallTable } from './types';
import { registerAio } from './sys_aio';
import { registerKeyctl } from './sys_keyctl';
import { registerSem } from './sys_sem';
import { registerShm } from './sys_shm';
import { registerMsg } from './sys_msg';
import { registerMqueue } from './sys_mqueue';
import { registerMempolicy } from './sys_mempolicy';
import { registerSchedPolicy } from './sys_sched_policy';
import { registerHandle } from './sys_handle';
import { registerKcmp } from './sys_kcmp';
import { registerAcct } from './sys_acct';
import { registerAdjtimex } from './sys_adjtimex';
import { registerSyslog } from './sys_syslog';
import { registerRemapFilePages } from './sys_remap_file_pages';
import { registerPkey } from './sys_pkey';
import { registerProcessVm } from './sys_process_vm';
import { registerFutexWaitv } from './sys_futex_waitv';
import { registerSettime } from './sys_settime';
import { registerVhangup } from './sys_vhangup';
import { registerUnshare } from './sys_unshare';
import { registerSetns } from './sys_setns';
import { registerMount } from './sys_mount';
import { registerFsmount } from './sys_fsmount';
import { registerPivotRoot } from './sys_pivot_root';
import { registerProcessMm } from './sys_process_mm';
import { registerFsInfo } from './sys_fsinfo';
import { registerIoUring } from './sys_io_uring';
import { registerLandlock } from './sys_landlock';

/** `main` is the whole dispatch table (io_uring's requests run other syscalls through it). */
export function registerRare(table: SyscallTable, main: SyscallTable = table): void {
  registerIoUring(table, main);
  registerAio(table);
  registerKeyctl(table);
  registerSem(table);
  registerShm(table);
  registerMsg(table);
  registerMqueue(table);
  registerMempolicy(table);
  registerSchedPolicy(table);
  registerHandle(table);
  registerKcmp(table);
  registerAcct(table);
  registerAdjtimex(table);
  registerSyslog(table);
  registerRemapFilePages(table);
  registerPkey(table);
  registerProcessVm(table);
  registerFutexWaitv(table);
  registerSettime(table);
  registerVhangup(table);
  registerUnshare(table);
  registerSetns(table);
  registerMount(table);
  registerFsmount(table);
  registerPivotRoot(table);
  registerProcessMm(table);
  registerFsInfo(table);
  registerLandlock(table);
}
