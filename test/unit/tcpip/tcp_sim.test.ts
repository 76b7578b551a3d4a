// A randomized simulation of the TCP stack (packets alone: two endpoints of one Stack over a
// simulated link that loses, duplicates, reorders and delays segments; virtual time drives
// the timers): both sides write and read in random sizes with random buffer sizes, readers
// that stop for a while, half-closes at random points, early closes and aborts, TCP_NODELAY
// and TCP_CORK. Every byte must arrive once and in order, and every connection must finish
// within a bounded virtual time (sim/run.ts). A failure prints its seed, the scenario and
// the last segments; TCP_SIM_SEED=n replays one seed, TCP_SIM_SEEDS=n runs more of them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run, scenario } from './sim/run';

const SEEDS = Number(process.env.TCP_SIM_SEEDS ?? 300);
const ONE = process.env.TCP_SIM_SEED;

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

function check(seed: number): number {
  const o = run(scenario(seed));
  if (!o.ok) console.log(o.report);
  expect(o.ok, o.report.split('\n')[0]).toBe(true);
  return o.doneAt;
}

describe('TCP over a lossy, reordering link (randomized, fixed seeds)', () => {
  it.runIf(ONE !== undefined)(`seed ${ONE}`, () => { check(Number(ONE)); });

  it(`${SEEDS} seeds: every byte once and in order, every connection finished`, () => {
    let worst = 0;
    for (let seed = 1; seed <= SEEDS; seed++) worst = Math.max(worst, check(seed));
    console.log(`tcp_sim: ${SEEDS} seeds, slowest done at ${worst} virtual ms`);
  }, 600_000);
});
