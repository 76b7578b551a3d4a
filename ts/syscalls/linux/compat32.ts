// The i386 syscall ABI of a 64-bit process: `int 0x80` (and, on Intel, `sysenter`) from
// 64-bit code enters Linux's compat table, with the number in eax and the arguments in ebx,
// ecx, edx, esi, edi, ebp, each a 32-bit value (pointers and sizes zero-extended, compat_long
// sign-extended), and the result in rax. The platform says a syscall came this way with
// EV_CODE = SYSCALL_ABI_I386; task_run.ts then dispatches here instead of table.ts.
//
// Supported: the i386 calls whose compat semantics are exactly those of an x86-64 handler
// fed the 32-bit arguments (same structure layouts, no compat_* conversion, no 32-bit
// address-space limit, no O_LARGEFILE difference), each run by that handler:
//   exit(1) fork(2) read(3) write(4) close(6) waitpid(7, as wait4 without rusage) link(9)
//   unlink(10) chdir(12) chmod(15) getpid(20) pause(29) access(33) sync(36) kill(37)
//   rename(38) mkdir(39) rmdir(40) dup(41) pipe(42) brk(45) setpgid(57) umask(60) dup2(63)
//   getppid(64) getpgrp(65) setsid(66) sethostname(74) symlink(83) readlink(85) munmap(91)
//   fchmod(94) fsync(118) uname(122, newuname) mprotect(125) getpgid(132) fchdir(133)
//   personality(136) flock(143) getsid(147) fdatasync(148) sched_yield(158) getcwd(183)
//   vfork(190) lchown32(198) getuid32(199) getgid32(200) geteuid32(201) getegid32(202)
//   setreuid32(203) setregid32(204) getgroups32(205) setgroups32(206) fchown32(207)
//   setresuid32(208) getresuid32(209) setresgid32(210) getresgid32(211) chown32(212)
//   setuid32(213) setgid32(214) madvise(219) getdents64(220) gettid(224) tkill(238)
//   exit_group(252) epoll_create(254) epoll_ctl(255) epoll_wait(256) set_tid_address(258)
//   tgkill(270) mkdirat(296) fchownat(298) unlinkat(301) renameat(302) linkat(303)
//   symlinkat(304) readlinkat(305) fchmodat(306) faccessat(307) getcpu(318) eventfd(323)
//   eventfd2(328) epoll_create1(329) dup3(330) pipe2(331) syncfs(344) getrandom(355)
//   close_range(436)
// Everything else (the 16-bit uid calls, open/openat, anything with a compat structure:
// stat, time, signals, mmap, ioctl, sockets, execve, clone...) fails with ENOSYS, as does
// an x86-64 handler the sentry does not have.

import { AUDIT_ARCH_I386, SECCOMP_RUN, SECCOMP_SKIP, seccompCheck } from '../../kernel/seccomp';
import { writeSync } from 'node:fs';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EIO, ENOSYS } from '../../abi/linux/errno';
import * as nr64 from '../../abi/linux/syscall_numbers';
import { REG_RBP, REG_RBX, REG_RCX, REG_RDI, REG_RDX, REG_RSI } from '../../native/addon';
import type { StraceAbi } from '../../strace/strace';
import { straceLine } from '../../strace/load';
import type { SyscallArgs, SyscallEntry, SyscallResult } from './types';
import { table } from './table';

/** ebx, ecx, edx, esi, edi, ebp: the i386 argument registers, in order. */
const I386_SLOTS = [REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP];
const IDENTITY: readonly number[] = [0, 1, 2, 3, 4, 5];

/** The x86-64 handler's argument i is i386 argument map[i]; -1 passes 0. */
class Compat32Args implements SyscallArgs {
  private regs: BigUint64Array = new BigUint64Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  private i32: Int32Array = new Int32Array(0);
  private map: readonly number[] = IDENTITY;

  reset(regs: BigUint64Array, map: readonly number[]): void {
    this.map = map;
    if (regs === this.regs) return;
    this.regs = regs;
    this.u32 = new Uint32Array(regs.buffer, regs.byteOffset, regs.length * 2);
    this.i32 = new Int32Array(regs.buffer, regs.byteOffset, regs.length * 2);
  }

  /** Index of the argument's low 32-bit word in the register file, -1 for a constant 0. */
  private word(i: number): number {
    const a = this.map[i] ?? -1;
    return a < 0 ? -1 : I386_SLOTS[a] * 2;
  }

  private lo(i: number): number { const w = this.word(i); return w < 0 ? 0 : this.u32[w]; }
  private slo(i: number): number { const w = this.word(i); return w < 0 ? 0 : this.i32[w]; }

  u64(i: number): bigint { return BigInt(this.lo(i)); }
  i64(i: number): bigint { return BigInt(this.slo(i)); }
  int(i: number): number { return this.slo(i); }
  uint(i: number): number { return this.lo(i); }
  ptr(i: number): number { return this.lo(i); }
  size(i: number): number { return this.lo(i); }
  long(i: number): number { return this.slo(i); }
}

interface CompatEntry {
  /** The i386 name, with the x86-64 handler and argument formats (cut to the i386 arity). */
  entry: SyscallEntry;
  map: readonly number[];
}

/** [i386 number, i386 name, x86-64 number, argument map if not the identity]. */
const MAPPING: readonly (readonly [number, string, number, (readonly number[])?])[] = [
  [1, 'exit', nr64.SYS_exit], [2, 'fork', nr64.SYS_fork], [3, 'read', nr64.SYS_read],
  [4, 'write', nr64.SYS_write], [6, 'close', nr64.SYS_close],
  [7, 'waitpid', nr64.SYS_wait4, [0, 1, 2, -1]], [9, 'link', nr64.SYS_link],
  [10, 'unlink', nr64.SYS_unlink], [12, 'chdir', nr64.SYS_chdir], [15, 'chmod', nr64.SYS_chmod],
  [20, 'getpid', nr64.SYS_getpid], [29, 'pause', nr64.SYS_pause], [33, 'access', nr64.SYS_access],
  [36, 'sync', nr64.SYS_sync], [37, 'kill', nr64.SYS_kill], [38, 'rename', nr64.SYS_rename],
  [39, 'mkdir', nr64.SYS_mkdir], [40, 'rmdir', nr64.SYS_rmdir], [41, 'dup', nr64.SYS_dup],
  [42, 'pipe', nr64.SYS_pipe], [45, 'brk', nr64.SYS_brk], [57, 'setpgid', nr64.SYS_setpgid],
  [60, 'umask', nr64.SYS_umask], [63, 'dup2', nr64.SYS_dup2], [64, 'getppid', nr64.SYS_getppid],
  [65, 'getpgrp', nr64.SYS_getpgrp], [66, 'setsid', nr64.SYS_setsid],
  [74, 'sethostname', nr64.SYS_sethostname], [83, 'symlink', nr64.SYS_symlink],
  [85, 'readlink', nr64.SYS_readlink], [91, 'munmap', nr64.SYS_munmap],
  [94, 'fchmod', nr64.SYS_fchmod], [118, 'fsync', nr64.SYS_fsync], [122, 'uname', nr64.SYS_uname],
  [125, 'mprotect', nr64.SYS_mprotect], [132, 'getpgid', nr64.SYS_getpgid],
  [133, 'fchdir', nr64.SYS_fchdir], [136, 'personality', nr64.SYS_personality],
  [143, 'flock', nr64.SYS_flock], [147, 'getsid', nr64.SYS_getsid],
  [148, 'fdatasync', nr64.SYS_fdatasync], [158, 'sched_yield', nr64.SYS_sched_yield],
  [183, 'getcwd', nr64.SYS_getcwd], [190, 'vfork', nr64.SYS_vfork],
  [198, 'lchown32', nr64.SYS_lchown], [199, 'getuid32', nr64.SYS_getuid],
  [200, 'getgid32', nr64.SYS_getgid], [201, 'geteuid32', nr64.SYS_geteuid],
  [202, 'getegid32', nr64.SYS_getegid], [203, 'setreuid32', nr64.SYS_setreuid],
  [204, 'setregid32', nr64.SYS_setregid], [205, 'getgroups32', nr64.SYS_getgroups],
  [206, 'setgroups32', nr64.SYS_setgroups], [207, 'fchown32', nr64.SYS_fchown],
  [208, 'setresuid32', nr64.SYS_setresuid], [209, 'getresuid32', nr64.SYS_getresuid],
  [210, 'setresgid32', nr64.SYS_setresgid], [211, 'getresgid32', nr64.SYS_getresgid],
  [212, 'chown32', nr64.SYS_chown], [213, 'setuid32', nr64.SYS_setuid],
  [214, 'setgid32', nr64.SYS_setgid], [219, 'madvise', nr64.SYS_madvise],
  [220, 'getdents64', nr64.SYS_getdents64], [224, 'gettid', nr64.SYS_gettid],
  [238, 'tkill', nr64.SYS_tkill], [252, 'exit_group', nr64.SYS_exit_group],
  [254, 'epoll_create', nr64.SYS_epoll_create], [255, 'epoll_ctl', nr64.SYS_epoll_ctl],
  [256, 'epoll_wait', nr64.SYS_epoll_wait], [258, 'set_tid_address', nr64.SYS_set_tid_address],
  [270, 'tgkill', nr64.SYS_tgkill], [296, 'mkdirat', nr64.SYS_mkdirat],
  [298, 'fchownat', nr64.SYS_fchownat], [301, 'unlinkat', nr64.SYS_unlinkat],
  [302, 'renameat', nr64.SYS_renameat], [303, 'linkat', nr64.SYS_linkat],
  [304, 'symlinkat', nr64.SYS_symlinkat], [305, 'readlinkat', nr64.SYS_readlinkat],
  [306, 'fchmodat', nr64.SYS_fchmodat], [307, 'faccessat', nr64.SYS_faccessat],
  [318, 'getcpu', nr64.SYS_getcpu], [323, 'eventfd', nr64.SYS_eventfd],
  [328, 'eventfd2', nr64.SYS_eventfd2], [329, 'epoll_create1', nr64.SYS_epoll_create1],
  [330, 'dup3', nr64.SYS_dup3], [331, 'pipe2', nr64.SYS_pipe2], [344, 'syncfs', nr64.SYS_syncfs],
  [355, 'getrandom', nr64.SYS_getrandom], [436, 'close_range', nr64.SYS_close_range],
];

/** Names of the i386 calls we know, for strace and the debug log. */
const I386_NAMES: string[] = [];
const COMPAT_TABLE: (CompatEntry | undefined)[] = [];
for (const [nr, name, nr64v, map] of MAPPING) {
  I386_NAMES[nr] = name;
  const e = table[nr64v];
  if (!e) continue; // the sentry lacks the x86-64 handler: ENOSYS, as for any unknown call
  const m = map ?? IDENTITY;
  const arity = Math.min(e.args.length, map ? map.filter((a) => a >= 0).length : 6);
  COMPAT_TABLE[nr] = { entry: { name, handler: e.handler, args: e.args.slice(0, arity) }, map: m };
}

export const I386_ABI: StraceAbi = { tag: ' [i386]', names: I386_NAMES };

const args = new Compat32Args();
const unknownLogged = new Set<number>();

function errnoOf(t: Task, name: string, e: unknown): number {
  if (e instanceof SyscallError) return e.errno;
  // As in table.ts: a handler's bug costs the application one syscall, not the sentry.
  const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`tsvisor: internal error in i386 ${name}: ${what}\n`);
  t.kernel.debug(`internal error in i386 syscall ${name}: ${what}`);
  return EIO;
}

function finish(t: Task, nr: number, c: CompatEntry | undefined, r: SyscallResult): void {
  if (t.kernel.strace) {
    args.reset(t.regs, c ? c.map : IDENTITY);
    writeSync(2, straceLine(t, nr, c?.entry, args, r, I386_ABI) + '\n');
  }
  t.setReturn(r);
}

/** Runs the i386-ABI syscall the task stopped at and stores its result in rax. */
export function dispatchCompat32(t: Task): void | Promise<void> {
  // orig_rax holds eax zero-extended; any number past the table (-1 included) is ENOSYS.
  const nr = t.syscallNumber();
  if (t.seccomp !== null) {
    const sr = seccompCheck(t, t.seccomp, nr, AUDIT_ARCH_I386);
    if (sr !== SECCOMP_RUN) {
      if (sr !== SECCOMP_SKIP) finish(t, nr, undefined, sr);
      return;
    }
  }
  const c = nr >= 0 && nr < COMPAT_TABLE.length ? COMPAT_TABLE[nr] : undefined;
  if (!c) {
    if (!unknownLogged.has(nr)) {
      unknownLogged.add(nr);
      t.kernel.debug(`[${t.tid}] unsupported i386 syscall ${nr >>> 0} (${I386_NAMES[nr] ?? '?'}): ENOSYS`);
    }
    finish(t, nr, undefined, -ENOSYS);
    return;
  }
  let r;
  try {
    args.reset(t.regs, c.map);
    r = c.entry.handler(t, args);
  } catch (e) {
    finish(t, nr, c, -errnoOf(t, c.entry.name, e));
    return;
  }
  if (typeof r === 'number' || typeof r === 'bigint') {
    finish(t, nr, c, r);
    return;
  }
  return r.then((v) => finish(t, nr, c, v), (e: unknown) => finish(t, nr, c, -errnoOf(t, c.entry.name, e)));
}
