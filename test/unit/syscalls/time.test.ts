import { describe, it, expect } from 'vitest';
import {
  SYS_clock_getres, SYS_clock_gettime, SYS_clock_nanosleep, SYS_gettimeofday, SYS_nanosleep, SYS_time,
} from '../../../ts/abi/linux/syscall_numbers';
import { EFAULT, EINTR, EINVAL, ENOTSUP, EPERM } from '../../../ts/abi/linux/errno';
import {
  CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID,
  CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
} from '../../../ts/abi/linux/time';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { newTask, sys, sysAsync } from './fakes';

const TS = 0x10000;
const REM = 0x10100;

function setup() {
  const p = newTask();
  p.mm.map(TS, 0x1000);
  return p;
}

function readTs(p: ReturnType<typeof setup>, addr = TS): [bigint, bigint] {
  const v = new DataView(p.mm.copyIn(addr, 16).buffer);
  return [v.getBigInt64(0, true), v.getBigInt64(8, true)];
}

function putTs(p: ReturnType<typeof setup>, sec: bigint, nsec: bigint, addr = TS): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, sec, true);
  v.setBigInt64(8, nsec, true);
  p.mm.putBytes(addr, b);
}

describe('clock_gettime, clock_getres', () => {
  it('reads each clock from the kernel', () => {
    const p = setup();
    expect(sys(p.t, SYS_clock_gettime, CLOCK_REALTIME, TS)).toBe(0);
    expect(readTs(p)).toEqual([1_700_000_000n, 123_456_789n]);
    expect(sys(p.t, SYS_clock_gettime, CLOCK_MONOTONIC, TS)).toBe(0);
    expect(readTs(p)).toEqual([5n, 0n]);
    expect(sys(p.t, SYS_clock_gettime, CLOCK_BOOTTIME, TS)).toBe(0);
    expect(readTs(p)).toEqual([2n, 0n]);
    for (const c of [CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_TAI, 5, 6, 8, 9]) {
      expect(sys(p.t, SYS_clock_gettime, c, TS), `clock ${c}`).toBe(0);
    }
  });

  it('EINVAL for unknown ids; CPU-clock ids for live tasks are fine', () => {
    const p = setup();
    for (const c of [10, 12, 100, -1 /* CLOCKFD */]) expect(sys(p.t, SYS_clock_gettime, c, TS), `clock ${c}`).toBe(-EINVAL);
    const processClock = (pid: number, thread: boolean): number => (~pid << 3) | (thread ? 4 : 0) | 2;
    expect(sys(p.t, SYS_clock_gettime, processClock(0, false), TS)).toBe(0);
    expect(sys(p.t, SYS_clock_gettime, processClock(1, false), TS)).toBe(0);
    expect(sys(p.t, SYS_clock_gettime, processClock(1, true), TS)).toBe(0);
    expect(sys(p.t, SYS_clock_gettime, processClock(55, false), TS)).toBe(-EINVAL);
    expect(sys(p.t, SYS_clock_gettime, CLOCK_MONOTONIC, 0x900000)).toBe(-EFAULT);
  });

  it('clock_getres: 1 ns, a jiffy for coarse clocks, NULL allowed', () => {
    const p = setup();
    expect(sys(p.t, SYS_clock_getres, CLOCK_MONOTONIC, TS)).toBe(0);
    expect(readTs(p)).toEqual([0n, 1n]);
    expect(sys(p.t, SYS_clock_getres, CLOCK_MONOTONIC_COARSE, TS)).toBe(0);
    expect(readTs(p)).toEqual([0n, 4_000_000n]);
    expect(sys(p.t, SYS_clock_getres, CLOCK_REALTIME, 0)).toBe(0);
    expect(sys(p.t, SYS_clock_getres, 42, 0)).toBe(-EINVAL);
  });

  it('gettimeofday and time accept NULL', () => {
    const p = setup();
    expect(sys(p.t, SYS_gettimeofday, TS, TS + 16)).toBe(0);
    expect(readTs(p)).toEqual([1_700_000_000n, 123_456n]);
    expect(p.mm.copyIn(TS + 16, 8)).toEqual(new Uint8Array(8));
    expect(sys(p.t, SYS_gettimeofday, 0, 0)).toBe(0);
    expect(sys(p.t, SYS_time, 0)).toBe(1_700_000_000n);
    expect(sys(p.t, SYS_time, TS)).toBe(1_700_000_000n);
    expect(p.mm.readU64(TS)).toBe(1_700_000_000n);
    expect(sys(p.t, SYS_time, 0x900000)).toBe(-EFAULT);
  });
});

describe('nanosleep, clock_nanosleep', () => {
  it('validates the timespec', async () => {
    const p = setup();
    putTs(p, 0n, 1_000_000_000n);
    expect(sys(p.t, SYS_nanosleep, TS, 0)).toBe(-EINVAL);
    putTs(p, 0n, -1n);
    expect(sys(p.t, SYS_nanosleep, TS, 0)).toBe(-EINVAL);
    putTs(p, -1n, 0n);
    expect(sys(p.t, SYS_nanosleep, TS, 0)).toBe(-EINVAL);
    expect(sys(p.t, SYS_nanosleep, 0x900000, 0)).toBe(-EFAULT);
    expect(p.kernel.sleep).not.toHaveBeenCalled();
  });

  it('sleeps through the kernel without blocking', async () => {
    const p = setup();
    putTs(p, 1n, 500n);
    expect(await sysAsync(p.t, SYS_nanosleep, TS, REM)).toBe(0);
    expect(p.kernel.sleep).toHaveBeenCalledWith(p.t, 1_000_000_500n);
    putTs(p, 0n, 0n);
    expect(await sysAsync(p.t, SYS_nanosleep, TS, 0)).toBe(0);
  });

  it('writes the time left to rem when the sleep is cut short', async () => {
    const p = setup();
    p.kernel.sleep.mockImplementationOnce(async () => {
      p.kernel.state.mono += 300_000_000n;
      throw new SyscallError(EINTR);
    });
    putTs(p, 1n, 0n);
    expect(await sysAsync(p.t, SYS_nanosleep, TS, REM)).toBe(-EINTR);
    expect(readTs(p, REM)).toEqual([0n, 700_000_000n]);
  });

  it('clock_nanosleep: clock checks, TIMER_ABSTIME', async () => {
    const p = setup();
    putTs(p, 0n, 1000n);
    expect(sys(p.t, SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, TS, 0)).toBe(-ENOTSUP);
    expect(sys(p.t, SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, TS, 0)).toBe(-ENOTSUP);
    expect(sys(p.t, SYS_clock_nanosleep, 99, 0, TS, 0)).toBe(-EINVAL);
    expect(sys(p.t, SYS_clock_nanosleep, CLOCK_REALTIME_ALARM, 0, TS, 0)).toBe(-EPERM);
    putTs(p, 0n, 2_000_000_000n);
    expect(sys(p.t, SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, TS, 0)).toBe(-EINVAL);
    // An absolute time already past returns at once.
    putTs(p, 1n, 0n);
    expect(sys(p.t, SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, TS, 0)).toBe(0);
    putTs(p, 6n, 0n);
    expect(await sysAsync(p.t, SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, TS, REM)).toBe(0);
    expect(p.kernel.sleep).toHaveBeenCalledWith(p.t, 1_000_000_000n);
  });
});
