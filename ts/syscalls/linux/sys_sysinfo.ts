// sysinfo (Linux kernel/sys.c): uptime is the sandbox's, memory and load the host's (kernel/host_stats.ts), processes the sandbox's tasks.

import { timeNsOf } from '../../kernel/ns/nsproxy';
import { hostFreeMem, hostLoadAvg, hostTotalMem } from '../../kernel/host_stats';
import type { Task } from '../../kernel/task';
import { NSEC_PER_SEC } from '../../abi/linux/time';
import { SYS_sysinfo } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

/** struct sysinfo on x86-64. */
const SYSINFO_SIZE = 112;
/** Load averages are fixed point with 16 fraction bits (SI_LOAD_SHIFT). */
const SI_LOAD_SCALE = 65536;

function sysSysinfo(t: Task, a: SyscallArgs): number {
  const b = new Uint8Array(SYSINFO_SIZE);
  const v = new DataView(b.buffer);
  const u64 = (off: number, x: number | bigint): void => v.setBigUint64(off, BigInt(x), true);
  u64(0, (t.kernel.uptimeNs() + timeNsOf(t).boottimeNs) / NSEC_PER_SEC);
  hostLoadAvg().forEach((l, i) => u64(8 + i * 8, Math.round(l * SI_LOAD_SCALE)));
  u64(32, hostTotalMem());
  u64(40, hostFreeMem());
  // sharedram, bufferram, totalswap, freeswap: unknown, 0.
  v.setUint16(80, Math.min(t.kernel.tasks.size, 0xffff), true);
  // totalhigh, freehigh: 0 on 64-bit.
  v.setUint32(104, 1, true); // mem_unit: sizes are in bytes
  t.mm.copyOut(a.ptr(0), b);
  return 0;
}

export function registerSysinfo(table: SyscallTable): void {
  table[SYS_sysinfo] = { name: 'sysinfo', handler: sysSysinfo, args: ['outptr'] };
}
