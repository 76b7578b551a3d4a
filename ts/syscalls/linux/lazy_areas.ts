// The rare syscall areas (rare.ts) stand in the table as entries that load them at their
// first call: a start-up does not read, compile or run what most programs never call (they
// are a chunk of the bundle of their own, scripts/bundle.mjs; issue 10). The numbers are
// listed here because the table must know them before the areas load; a unit test
// (test/unit/syscalls/lazy_areas.test.ts) keeps the list equal to what rare.ts registers.
// Not for a syscall the i386 table (compat32.ts) maps: it copies each entry's argument
// formats when it loads, and a stand-in has none.

import * as nr from '../../abi/linux/syscall_numbers';
import { ENOSYS } from '../../abi/linux/errno';
import { fail } from '../../kernel/syscall_error';
import type * as Rare from './rare';
import type { SyscallEntry, SyscallTable } from './types';

export const RARE_SYSCALLS: readonly number[] = [
  nr.SYS_io_setup, nr.SYS_io_destroy, nr.SYS_io_submit, nr.SYS_io_cancel, nr.SYS_io_getevents, nr.SYS_io_pgetevents,
  nr.SYS_add_key, nr.SYS_request_key, nr.SYS_keyctl,
  nr.SYS_semget, nr.SYS_semop, nr.SYS_semctl, nr.SYS_semtimedop,
  nr.SYS_shmget, nr.SYS_shmat, nr.SYS_shmctl, nr.SYS_shmdt,
  nr.SYS_msgget, nr.SYS_msgsnd, nr.SYS_msgrcv, nr.SYS_msgctl,
  nr.SYS_mq_open, nr.SYS_mq_unlink, nr.SYS_mq_timedsend, nr.SYS_mq_timedreceive, nr.SYS_mq_notify, nr.SYS_mq_getsetattr,
  nr.SYS_mbind, nr.SYS_set_mempolicy, nr.SYS_get_mempolicy, nr.SYS_migrate_pages, nr.SYS_move_pages,
  nr.SYS_set_mempolicy_home_node,
  nr.SYS_sched_setparam, nr.SYS_sched_getparam, nr.SYS_sched_setscheduler, nr.SYS_sched_getscheduler,
  nr.SYS_sched_get_priority_max, nr.SYS_sched_get_priority_min, nr.SYS_sched_rr_get_interval, nr.SYS_sched_setattr,
  nr.SYS_sched_getattr,
  nr.SYS_name_to_handle_at, nr.SYS_open_by_handle_at, nr.SYS_kcmp, nr.SYS_acct, nr.SYS_adjtimex, nr.SYS_clock_adjtime,
  nr.SYS_syslog, nr.SYS_remap_file_pages, nr.SYS_pkey_alloc, nr.SYS_pkey_free, nr.SYS_pkey_mprotect,
  nr.SYS_process_vm_readv, nr.SYS_process_vm_writev, nr.SYS_futex_waitv, nr.SYS_clock_settime, nr.SYS_settimeofday,
  nr.SYS_vhangup, nr.SYS_unshare, nr.SYS_setns, nr.SYS_process_madvise, nr.SYS_process_mrelease, nr.SYS_sysfs, nr.SYS_ustat,
  nr.SYS_mount, nr.SYS_umount2, nr.SYS_pivot_root,
  nr.SYS_fsopen, nr.SYS_fsconfig, nr.SYS_fsmount, nr.SYS_move_mount, nr.SYS_open_tree, nr.SYS_fspick, nr.SYS_mount_setattr,
  nr.SYS_io_uring_setup, nr.SYS_io_uring_enter, nr.SYS_io_uring_register,
  nr.SYS_landlock_create_ruleset, nr.SYS_landlock_add_rule, nr.SYS_landlock_restrict_self,
];

let loadRare = (): typeof Rare => require('./rare') as typeof Rare;

/** Unit tests run the TypeScript modules under vitest, whose require cannot load a .ts file:
 *  they hand the module in (test/unit/syscalls/fakes.ts). */
export function provideRareAreas(mod: typeof Rare): void {
  loadRare = () => mod;
}

/** Fills the rare numbers with stand-ins; the first call of any loads them all into table. */
export function registerRareLazily(table: SyscallTable): void {
  let loaded = false;
  const load = (): void => {
    if (loaded) return;
    loaded = true;
    const real: SyscallTable = [];
    loadRare().registerRare(real, table);
    real.forEach((e, n) => { if (e) table[n] = e; });
    // A listed number the areas do not register is ENOSYS, as if never listed.
    for (const n of RARE_SYSCALLS) if (!real[n]) table[n] = undefined;
  };
  for (const n of RARE_SYSCALLS) {
    const stand: SyscallEntry = {
      name: nr.SYSCALL_NAMES[n] ?? String(n),
      args: [],
      handler: (t, a) => {
        load();
        const e = table[n];
        if (!e || e === stand) fail(ENOSYS);
        return e.handler(t, a);
      },
    };
    table[n] = stand;
  }
}
