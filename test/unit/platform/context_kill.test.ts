// PlatformContext.interruptToKill against a scripted native context whose stop report never
// comes (a lost wake): once the grace is over and the platform has killed the run, the run
// ends with EVENT_DEAD at once; it does not wait for a report that will never be delivered
// (a dying task used to stay 'awaiting run' for ever, and the sandbox with it). A run that
// stops within the grace is neither killed nor touched.
import { describe, expect, it } from 'vitest';
import { EVENT_DEAD, EVENT_PENDING, EVENT_SYSCALL, type NativeAddressSpace, type NativeContext, type NativePlatform } from '../../../ts/native/addon';
import { PlatformContext } from '../../../ts/platform/context';

/** A native context whose runs park; `stopped` and `killed` script what take() finds. */
function scripted(): { platform: NativePlatform; state: { stopped: boolean; killed: number; wake: () => void } } {
  const state = { stopped: false, killed: 0, wake: (): void => {} };
  const native = {
    initialRegs: () => {},
    run: () => EVENT_PENDING,
    take: () => (state.killed > 0 ? EVENT_DEAD : state.stopped ? EVENT_SYSCALL : EVENT_PENDING),
    interrupt: () => {},
    blocking: () => {},
    kill: () => { state.killed++; },
    cpuTimeNs: () => -1,
    describe: () => '',
    release: () => {},
  } as unknown as NativeContext;
  const platform = {
    newContext: (_as: NativeAddressSpace, onWake: () => void) => { state.wake = onWake; return native; },
  } as unknown as NativePlatform;
  return { platform, state };
}

describe('PlatformContext.interruptToKill', () => {
  it('ends a run whose stop is never reported with EVENT_DEAD once the platform killed it', async () => {
    const { platform, state } = scripted();
    const ctx = new PlatformContext(platform, {} as NativeAddressSpace);
    const run = ctx.run();
    expect(typeof run).not.toBe('number');
    ctx.interruptToKill(10);
    const ev = await Promise.race([run, new Promise((r) => setTimeout(() => r('still pending'), 2000))]);
    expect(state.killed).toBe(1);
    expect(ev).toBe(EVENT_DEAD);
  });

  it('leaves a run that stopped within the grace alone', async () => {
    const { platform, state } = scripted();
    const ctx = new PlatformContext(platform, {} as NativeAddressSpace);
    const run = ctx.run();
    ctx.interruptToKill(50);
    state.stopped = true;
    state.wake();
    expect(await run).toBe(EVENT_SYSCALL);
    await new Promise((r) => setTimeout(r, 100));
    expect(state.killed).toBe(0);
  });
});
