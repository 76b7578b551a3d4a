// The vDSO's data page (ts/kernel/vvar_page.ts) in the layout ts/loader/vdso_text.S reads:
// mode 1 with the host's function where the platform keeps the host's vDSO, mode 0 (every
// call a syscall) where it does not (kvm) or TSVISOR_VDSO=syscall says so; the offsets that
// make each clock the sentry's (kernel.ts, clocks.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { vvarContents, inHostVdso } from '../../../ts/kernel/vvar_page';
import type { Kernel } from '../../../ts/kernel/kernel';
import { TimeNamespace } from '../../../ts/kernel/ns/time_ns';
import { INIT_USER_NS } from '../../../ts/kernel/ns/user_namespace';

function kernel(hostVdsoClock: number[]): Kernel {
  return { platform: { hostVdsoClock }, realtimeOffset: 1_700_000_000_000_000_000n, bootMonotonic: 5_000_000_000n } as unknown as Kernel;
}

const u64 = (b: Uint8Array, at: number): bigint => new DataView(b.buffer).getBigInt64(at, true);

describe('vvar page', () => {
  afterEach(() => { delete process.env.TSVISOR_VDSO; });

  it('gives the host function and each clock\'s offset', () => {
    const ns = new TimeNamespace(INIT_USER_NS);
    ns.monotonicNs = -3_000_000_000n;
    ns.boottimeNs = 7_000_000_000n;
    const b = vvarContents(kernel([0x7fff_f000_6a40, 0x7fff_f000_0000, 0x7fff_f000_8000]), ns);
    expect([0, 8, 16, 24, 32].map((at) => u64(b, at))).toEqual([
      1n, 0x7fff_f000_6a40n, 1_700_000_000_000_000_000n, -3_000_000_000n, 7_000_000_000n - 5_000_000_000n,
    ]);
  });

  it('is mode 0 without a host vDSO (kvm) or with TSVISOR_VDSO=syscall', () => {
    const ns = new TimeNamespace(INIT_USER_NS);
    expect(u64(vvarContents(kernel([]), ns), 0)).toBe(0n);
    expect(u64(vvarContents(kernel([]), ns), 8)).toBe(0n);
    process.env.TSVISOR_VDSO = 'syscall';
    expect(u64(vvarContents(kernel([0x7fff_f000_6a40, 0x7fff_f000_0000, 0x7fff_f000_8000]), ns), 0)).toBe(0n);
  });

  it('knows the host vDSO\'s range', () => {
    const k = kernel([0x7fff_f000_6a40, 0x7fff_f000_0000, 0x7fff_f000_8000]);
    expect([0x7fff_efff_ffff, 0x7fff_f000_0000, 0x7fff_f000_7fff, 0x7fff_f000_8000].map((ip) => inHostVdso(k, ip)))
      .toEqual([false, true, true, false]);
    expect(inHostVdso(kernel([]), 0x7fff_f000_0000)).toBe(false);
  });
});
