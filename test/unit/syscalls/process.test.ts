import { describe, it, expect } from 'vitest';
import * as N from '../../../ts/abi/linux/syscall_numbers';
import { EACCES, EBUSY, EFAULT, EINVAL, ENODEV, EPERM, ESRCH } from '../../../ts/abi/linux/errno';
import { RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY } from '../../../ts/kernel/rlimits';
import {
  ARCH_GET_CPUID, ARCH_GET_FS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS, PR_GET_DUMPABLE, PR_GET_NAME,
  PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME, PR_SET_NO_NEW_PRIVS,
  PR_SET_PDEATHSIG, PR_SET_VMA,
} from '../../../ts/abi/linux/prctl';
import { REG_FS_BASE, REG_GS_BASE } from '../../../ts/native/addon';
import { cpuCount, cpuMaskSize, taskAttrs } from '../../../ts/syscalls/linux/task_attrs';
import { newTask, sys, sysAsync } from './fakes';

const BUF = 0x10000;

function setup(opts: Parameters<typeof newTask>[0] = {}) {
  const p = newTask(opts);
  p.mm.map(BUF, 0x2000);
  return p;
}

function putRlimit(p: ReturnType<typeof setup>, addr: number, cur: bigint, max: bigint): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, cur, true);
  v.setBigUint64(8, max, true);
  p.mm.putBytes(addr, b);
}

describe('rlimits', () => {
  it('prlimit64 reads and sets, returning the old limit', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, 0, BUF)).toBe(0);
    expect(p.mm.readU64(BUF)).toBe(1024n);
    expect(p.mm.readU64(BUF + 8)).toBe(1048576n);
    putRlimit(p, BUF + 100, 256n, 4096n);
    expect(sys(p.t, N.SYS_prlimit64, 1, RLIMIT_NOFILE, BUF + 100, BUF)).toBe(0);
    expect(p.mm.readU64(BUF)).toBe(1024n);
    expect(p.t.tg.rlimits[RLIMIT_NOFILE]).toEqual({ cur: 256n, max: 4096n });
  });

  it('EINVAL for cur > max or a bad resource; EPERM to raise max unprivileged; ESRCH', () => {
    const p = setup();
    putRlimit(p, BUF + 100, 10n, 5n);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, BUF + 100, 0)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prlimit64, 0, 16, 0, BUF)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prlimit64, 0, -1, 0, BUF)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prlimit64, 99, RLIMIT_NOFILE, 0, BUF)).toBe(-ESRCH);
    putRlimit(p, BUF + 100, 10n, RLIM_INFINITY);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_STACK, BUF + 100, 0)).toBe(0); // max already infinite
    putRlimit(p, BUF + 100, 10n, 2_000_000n);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, BUF + 100, 0)).toBe(-EPERM); // above nr_open
    putRlimit(p, BUF + 100, 10n, 20n);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, BUF + 100, 0)).toBe(0);
    putRlimit(p, BUF + 100, 10n, 30n);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, BUF + 100, 0)).toBe(-EPERM);
    expect(sys(p.t, N.SYS_prlimit64, 0, RLIMIT_NOFILE, 0x900000, 0)).toBe(-EFAULT);
  });

  it('root may raise a hard limit', () => {
    const p = setup({ uid: 0 });
    putRlimit(p, BUF, 10n, 20n);
    sys(p.t, N.SYS_setrlimit, RLIMIT_NOFILE, BUF);
    putRlimit(p, BUF, 10n, 30n);
    expect(sys(p.t, N.SYS_setrlimit, RLIMIT_NOFILE, BUF)).toBe(0);
  });

  it('getrlimit/setrlimit; RLIMIT_STACK reaches the memory manager', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_getrlimit, RLIMIT_STACK, BUF)).toBe(0);
    expect(p.mm.readU64(BUF)).toBe(8n << 20n);
    expect(sys(p.t, N.SYS_getrlimit, 99, BUF)).toBe(-EINVAL);
    putRlimit(p, BUF, 16n << 20n, RLIM_INFINITY);
    expect(sys(p.t, N.SYS_setrlimit, RLIMIT_STACK, BUF)).toBe(0);
    expect(p.mm.stackLimit).toBe(16 << 20);
    expect(sys(p.t, N.SYS_setrlimit, RLIMIT_STACK, 0x900000)).toBe(-EFAULT);
  });
});

describe('identity', () => {
  it('pids, ids, groups, uname', () => {
    const parent = setup({ pid: 1 });
    const child = newTask({ pid: 5, kernel: parent.kernel, parent: parent.t.tg });
    child.mm.map(BUF, 0x1000);
    expect(sys(child.t, N.SYS_getpid)).toBe(5);
    expect(sys(child.t, N.SYS_gettid)).toBe(5);
    expect(sys(child.t, N.SYS_getppid)).toBe(1);
    expect(sys(parent.t, N.SYS_getppid)).toBe(0);
    expect(sys(child.t, N.SYS_getuid)).toBe(1000);
    expect(sys(child.t, N.SYS_getegid)).toBe(1000);
    child.t.creds.groups = [10, 20];
    expect(sys(child.t, N.SYS_getgroups, 0, 0)).toBe(2);
    expect(sys(child.t, N.SYS_getgroups, 1, BUF)).toBe(-EINVAL);
    expect(sys(child.t, N.SYS_getgroups, -1, BUF)).toBe(-EINVAL);
    expect(sys(child.t, N.SYS_getgroups, 2, BUF)).toBe(2);
    expect([child.mm.readU32(BUF), child.mm.readU32(BUF + 4)]).toEqual([10, 20]);
    expect(sys(child.t, N.SYS_getresuid, BUF, BUF + 4, BUF + 8)).toBe(0);
    expect(sys(child.t, N.SYS_getresgid, BUF, 0x900000, BUF + 8)).toBe(-EFAULT);
  });

  it('uname fills six NUL-padded 65-byte fields', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_uname, BUF)).toBe(0);
    const field = (i: number): string => p.mm.readCString(BUF + i * 65, 65);
    expect([field(0), field(1), field(2), field(4), field(5)]).toEqual(['Linux', 'sandbox', '6.1.0', 'x86_64', '(none)']);
    expect(field(3)).toMatch(/tsvisor/);
    expect(sys(p.t, N.SYS_uname, 0)).toBe(-EFAULT);
  });

  it('process groups: the first process leads both; setsid EPERM for it, fine for a child', () => {
    const parent = setup({ pid: 1 });
    const child = newTask({ pid: 5, kernel: parent.kernel, parent: parent.t.tg });
    expect(sys(child.t, N.SYS_getpgrp)).toBe(1);
    expect(sys(child.t, N.SYS_getsid, 0)).toBe(1);
    expect(sys(child.t, N.SYS_getpgid, 42)).toBe(-ESRCH);
    expect(sys(parent.t, N.SYS_setsid)).toBe(-EPERM);
    expect(sys(child.t, N.SYS_setsid)).toBe(5);
    expect(sys(parent.t, N.SYS_getpgid, 5)).toBe(5);
    expect(sys(parent.t, N.SYS_getsid, 5)).toBe(5);
    expect(sys(child.t, N.SYS_setsid)).toBe(-EPERM);
  });

  it('setpgid moves a child into a new group of its own, until the child execs', () => {
    const parent = setup({ pid: 1 });
    const child = newTask({ pid: 5, kernel: parent.kernel, parent: parent.t.tg });
    // Made as fork makes it: not exec'd since (PF_FORKNOEXEC).
    taskAttrs(child.t).forkNoExec = true;
    expect(sys(parent.t, N.SYS_setpgid, 5, 0)).toBe(0);
    expect(sys(child.t, N.SYS_getpgrp)).toBe(5);
    expect(sys(parent.t, N.SYS_setpgid, 5, 77)).toBe(-EPERM);
    expect(sys(parent.t, N.SYS_setpgid, 6, 0)).toBe(-ESRCH);
    expect(sys(parent.t, N.SYS_setpgid, 0, -1)).toBe(-EINVAL);
    taskAttrs(child.t).forkNoExec = false;
    expect(sys(parent.t, N.SYS_setpgid, 5, 0)).toBe(-EACCES);
  });
});

describe('thread registration', () => {
  it('set_tid_address returns the tid; set_robust_list wants 24 bytes', () => {
    const p = setup({ pid: 3 });
    expect(sys(p.t, N.SYS_set_tid_address, 0x1234)).toBe(3);
    expect(p.t.clearChildTid).toBe(0x1234);
    expect(sys(p.t, N.SYS_set_robust_list, BUF, 16)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_set_robust_list, BUF, 24)).toBe(0);
    expect(sys(p.t, N.SYS_get_robust_list, 0, BUF + 100, BUF + 200)).toBe(0);
    expect(p.mm.readU64(BUF + 100)).toBe(BigInt(BUF));
    expect(p.mm.readU64(BUF + 200)).toBe(24n);
    expect(sys(p.t, N.SYS_get_robust_list, 99, BUF + 100, BUF + 200)).toBe(-ESRCH);
  });

  it('rseq: register once (fills the CPU fields), EBUSY again, unregister with the same signature', () => {
    const p = setup();
    const RSEQ = BUF + 0x100;
    p.mm.putBytes(RSEQ, new Uint8Array(32).fill(0xff));
    expect(sys(p.t, N.SYS_rseq, RSEQ + 8, 32, 0, 0x53053053)).toBe(-EINVAL); // misaligned
    expect(sys(p.t, N.SYS_rseq, RSEQ, 16, 0, 0x53053053)).toBe(-EINVAL); // too short
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 2, 0x53053053)).toBe(-EINVAL); // unknown flag
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 0, 0x53053053)).toBe(0);
    expect(p.mm.readU32(RSEQ)).toBe(0);
    expect(p.mm.readU32(RSEQ + 4)).toBe(0);
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 0, 0x53053053)).toBe(-EBUSY);
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 0, 0x1)).toBe(-EPERM);
    expect(sys(p.t, N.SYS_rseq, RSEQ + 32, 32, 0, 0x53053053)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 1, 0x2)).toBe(-EPERM);
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 1, 0x53053053)).toBe(0);
    expect(p.mm.readU32(RSEQ + 4)).toBe(0xffffffff);
    expect(sys(p.t, N.SYS_rseq, RSEQ, 32, 1, 0x53053053)).toBe(-EINVAL);
  });

  it('arch_prctl sets and reads FS/GS; EPERM past user space; EINVAL for unknown codes', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_SET_FS, 0x7000_1000)).toBe(0);
    expect(p.t.regs[REG_FS_BASE]).toBe(0x7000_1000n);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_GET_FS, BUF)).toBe(0);
    expect(p.mm.readU64(BUF)).toBe(0x7000_1000n);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_SET_GS, 0x5000)).toBe(0);
    expect(p.t.regs[REG_GS_BASE]).toBe(0x5000n);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_SET_FS, 0xffff_8000_0000_0000n)).toBe(-EPERM);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_GET_FS, 0x900000)).toBe(-EFAULT);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_GET_CPUID, 0)).toBe(1);
    expect(sys(p.t, N.SYS_arch_prctl, ARCH_SET_CPUID, 0)).toBe(-ENODEV);
    expect(sys(p.t, N.SYS_arch_prctl, 0x9999, 0)).toBe(-EINVAL);
  });
});

describe('prctl and personality', () => {
  it('PR_SET_NAME/PR_GET_NAME keep 15 bytes; the default is the executable name', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_prctl, PR_GET_NAME, BUF)).toBe(0);
    expect(p.mm.readCString(BUF, 16)).toBe('prog');
    p.mm.putString(BUF + 100, 'a-very-long-thread-name');
    expect(sys(p.t, N.SYS_prctl, PR_SET_NAME, BUF + 100)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_GET_NAME, BUF)).toBe(0);
    expect(p.mm.readCString(BUF, 16)).toBe('a-very-long-thr');
    expect(sys(p.t, N.SYS_prctl, PR_SET_NAME, 0x900000)).toBe(-EFAULT);
  });

  it('dumpable, pdeathsig, no_new_privs, unknown options', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_prctl, PR_GET_DUMPABLE)).toBe(1);
    expect(sys(p.t, N.SYS_prctl, PR_SET_DUMPABLE, 2)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prctl, PR_SET_DUMPABLE, 0)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_GET_DUMPABLE)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_SET_PDEATHSIG, 65)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prctl, PR_SET_PDEATHSIG, 9)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_GET_PDEATHSIG, BUF)).toBe(0);
    expect(p.mm.readI32(BUF)).toBe(9);
    expect(sys(p.t, N.SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)).toBe(0);
    expect(sys(p.t, N.SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)).toBe(1);
    expect(sys(p.t, N.SYS_prctl, PR_SET_VMA, 0, 0, 0, 0)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_prctl, 12345)).toBe(-EINVAL);
  });

  it('personality queries with 0xffffffff and returns the old value', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_personality, 0xffffffff)).toBe(0);
    expect(sys(p.t, N.SYS_personality, 0x0040000)).toBe(0);
    expect(sys(p.t, N.SYS_personality, 0xffffffff)).toBe(0x0040000);
  });
});

describe('scheduling, random, system information', () => {
  it('sched_getaffinity: EINVAL for a short or unaligned length; returns bytes written', () => {
    const p = setup();
    const size = cpuMaskSize();
    expect(sys(p.t, N.SYS_sched_getaffinity, 0, 4, BUF)).toBe(-EINVAL);
    expect(cpuCount()).toBeGreaterThan(0);
    expect(sys(p.t, N.SYS_sched_getaffinity, 0, 12, BUF)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_sched_getaffinity, 0, 128, BUF)).toBe(size);
    expect(p.mm.copyIn(BUF, 1)[0] & 1).toBe(1);
    expect(sys(p.t, N.SYS_sched_getaffinity, 77, 128, BUF)).toBe(-ESRCH);
  });

  it('sched_setaffinity records the mask; an empty one is EINVAL', () => {
    const p = setup();
    p.mm.putBytes(BUF + 512, new Uint8Array(8));
    expect(sys(p.t, N.SYS_sched_setaffinity, 0, 8, BUF + 512)).toBe(-EINVAL);
    p.mm.putBytes(BUF + 512, new Uint8Array([1]));
    expect(sys(p.t, N.SYS_sched_setaffinity, 0, 1, BUF + 512)).toBe(0);
    sys(p.t, N.SYS_sched_getaffinity, 0, 128, BUF);
    expect(p.mm.copyIn(BUF, 1)[0]).toBe(1);
  });

  it('sched_yield gives the event loop a turn', async () => {
    const p = setup();
    let other = false;
    setImmediate(() => { other = true; });
    expect(await sysAsync(p.t, N.SYS_sched_yield)).toBe(0);
    expect(other).toBe(true);
  });

  it('getrandom: flags, counts, faults', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_getrandom, BUF, 16, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_getrandom, BUF, 16, 6)).toBe(-EINVAL); // INSECURE|RANDOM
    expect(sys(p.t, N.SYS_getrandom, BUF, 16, 1)).toBe(16);
    expect(p.mm.copyIn(BUF, 16)).toEqual(new Uint8Array(16).fill(0xab));
    expect(sys(p.t, N.SYS_getrandom, BUF, 0, 0)).toBe(0);
    expect(sys(p.t, N.SYS_getrandom, 0x900000, 16, 0)).toBe(-EFAULT);
    // Runs off the end of the mapping: what fit is returned.
    expect(sys(p.t, N.SYS_getrandom, BUF + 0x2000 - 0x1000, 0x20000, 0)).toBe(0x1000);
  });

  it('getcpu, sysinfo, times, getrusage', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_getcpu, BUF, BUF + 4, 0)).toBe(0);
    expect(sys(p.t, N.SYS_getcpu, 0, 0, 0)).toBe(0);
    expect(sys(p.t, N.SYS_sysinfo, BUF)).toBe(0);
    const v = new DataView(p.mm.copyIn(BUF, 112).buffer);
    expect(v.getBigInt64(0, true)).toBe(2n); // uptime
    expect(v.getBigUint64(32, true)).toBeGreaterThan(0n); // totalram
    expect(v.getUint16(80, true)).toBe(1); // procs
    expect(v.getUint32(104, true)).toBe(1); // mem_unit
    expect(sys(p.t, N.SYS_times, 0)).toBe(200n);
    expect(sys(p.t, N.SYS_times, BUF)).toBe(200n);
    expect(sys(p.t, N.SYS_getrusage, 0, BUF)).toBe(0);
    expect(sys(p.t, N.SYS_getrusage, -1, BUF)).toBe(0);
    expect(sys(p.t, N.SYS_getrusage, 1, BUF)).toBe(0);
    expect(sys(p.t, N.SYS_getrusage, 2, BUF)).toBe(-EINVAL);
  });
});

describe('exit', () => {
  it('passes the low byte of the status to the kernel', () => {
    const p = setup();
    sys(p.t, N.SYS_exit_group, 0x1ff);
    expect(p.kernel.exitGroup).toHaveBeenCalledWith(p.t, 0xff);
    sys(p.t, N.SYS_exit, 3);
    expect(p.kernel.exitTask).toHaveBeenCalledWith(p.t, 3);
  });
});
