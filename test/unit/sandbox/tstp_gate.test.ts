// A host ^Z and fg on tsvisor (ts/sandbox/tstp_gate.ts): tsvisor stops itself only when the
// program stopped and no fg came after the ^Z; a fg that lands before the program has stopped
// still continues it (on Linux the SIGCONT undoes the stop whichever lands first). Before, that
// fg was dropped and tsvisor then stopped itself with nothing left to continue it.
import { describe, expect, it } from 'vitest';
import { TstpGate } from '../../../ts/sandbox/tstp_gate';

describe('TstpGate', () => {
  it('^Z that stops the program stops tsvisor; the fg after it continues the program', () => {
    const g = new TstpGate();
    g.tstp();
    expect(g.settle(true)).toBe('stop-self');
    expect(g.cont(true)).toBe('continue');
  });

  it('a fg before the program stopped: the program is continued and tsvisor does not stop', () => {
    const g = new TstpGate();
    g.tstp();
    expect(g.cont(false)).toBe('continue');
    expect(g.settle(true)).toBe('continue');
  });

  it('a fg after a ^Z the program had not stopped for yet at the settle still continues it', () => {
    // An emulated CPU: the stop came after the settle and after the fg.
    const g = new TstpGate();
    g.tstp();
    expect(g.settle(false)).toBe('none');
    expect(g.cont(false)).toBe('continue');
    // A second fg with no ^Z between is no one's.
    expect(g.cont(false)).toBe('none');
  });

  it('a second ^Z after a fg starts over: it stops tsvisor again', () => {
    const g = new TstpGate();
    g.tstp();
    expect(g.cont(false)).toBe('continue');
    expect(g.settle(false)).toBe('none');
    g.tstp();
    expect(g.settle(true)).toBe('stop-self');
  });
});
