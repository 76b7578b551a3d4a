// One run of the TCP simulation: a seed makes a scenario (link profile, buffer sizes, MSS,
// SACK, timestamps, Nagle, both applications' plans), and the run drives it in virtual time
// (vitest's fake clock: the endpoints' timers, Date.now and performance.now) until both
// applications are done and both endpoints gone, or the bound passes. The caller owns the fake
// timers (vi.useFakeTimers before, vi.useRealTimers after).
import { vi } from 'vitest';
import { Stack, type TcpEndpoint } from '../../../../ts/tcpip/stack';
import { TCPS } from '../../../../ts/tcpip/tcp/states';
import { setTcpTimestamps } from '../../../../ts/tcpip/tcp/timestamps';
import { client as connectClient, listener as listen } from '../endpoints';
import { SimApp, type AppPlan, type Ending } from './app';
import { SimLink, type LinkProfile } from './link';
import { Rng } from './rng';

export interface Scenario {
  seed: number;
  link: LinkProfile;
  mss: [number, number];
  rcvBuf: [number, number];
  sndBuf: [number, number];
  nodelay: [boolean, boolean];
  sack: boolean;
  timestamps: boolean;
  plans: [AppPlan, AppPlan];
}

export interface Outcome {
  ok: boolean;
  /** Virtual ms until both applications were done (Infinity: not within the bound). */
  doneAt: number;
  /** What went wrong, with the scenario, the endpoints' state and the last segments. */
  report: string;
}

/** The virtual time a connection gets to finish: a stall is a run that is not done by then. */
export const BOUND_MS = 900_000;
/** After both applications closed: TIME_WAIT and FIN_WAIT2's timeout are 60 s. */
const LINGER_MS = 130_000;

export const BUFS = [2048, 4096, 8192, 16_384, 65_536, 212_992, 1 << 20, 4 << 20];

function plan(rng: Rng, ending: Ending, abortable: boolean): AppPlan {
  const big = rng.chance(0.15);
  const pauseMs = rng.pick([10, 200, 2000, 8000]);
  return {
    sendBytes: rng.chance(0.1) ? 0 : rng.logInt(1, big ? 2 << 20 : 256 << 10),
    ending,
    abortAt: abortable && rng.chance(0.5) ? rng.int(1, 3000) : null,
    maxWrite: rng.pick([100, 1460, 16_384, 65_536, 1 << 20]),
    maxRead: rng.pick([7, 100, 1460, 16_384, 65_536, 1 << 20]),
    // Readers stop for a while now and then: up to about a fifth of the time.
    pauseChance: rng.pick([0, 0.1, 0.3, 0.5]) * 5 / pauseMs,
    pauseMs,
    corkFlip: rng.pick([0, 0, 0.1, 0.5]),
    resize: rng.pick([0, 0, 0.001, 0.01]),
    keepIdleMs: rng.pick([0, 0, 1000, 5000]),
    giveUpMs: null,
  };
}

export function scenario(seed: number): Scenario {
  const rng = new Rng(seed);
  const lossy = rng.chance(0.7);
  const link: LinkProfile = {
    delayMs: rng.pick([0, 0.05, 1, 10, 50]),
    jitterMs: rng.pick([0, 0.1, 2, 30]),
    loss: lossy ? rng.pick([0.001, 0.01, 0.05, 0.1]) : 0,
    dup: lossy ? rng.pick([0, 0.01, 0.05]) : 0,
    outage: 0,
    outageMs: rng.pick([100, 1000, 10_000]),
    keepRst: true,
  };
  // Outages down about a tenth of the time at most: one starts with each packet by chance, so
  // long ones must be rarer (at 1% and 10 s the link is down nearly always, and a transfer
  // through a 2 KiB buffer crawls past any bound).
  if (lossy) link.outage = rng.pick([0, 0, 1, 10]) / link.outageMs;
  // Endings: at most one side waits for EOF before its own FIN (two would wait for each other);
  // sometimes one side closes early or aborts (the other must then see the reset).
  const kind = rng.int(0, 3);
  const endings: [Ending, Ending] = kind === 0 ? ['shutdown', 'shutdown']
    : kind === 1 ? ['shutdown', 'shutdown-after-eof']
      : kind === 2 ? ['shutdown-after-eof', 'shutdown']
        : [rng.pick<Ending>(['close-early', 'shutdown']), rng.pick<Ending>(['close-early', 'shutdown-after-eof'])];
  const abortSide = rng.chance(0.15) ? rng.int(0, 1) : -1;
  const s: Scenario = {
    seed, link,
    mss: [rng.pick([536, 1460, 9000, 0]), rng.pick([536, 1460, 9000, 0])],
    rcvBuf: [rng.pick(BUFS), rng.pick(BUFS)],
    sndBuf: [rng.pick(BUFS), rng.pick(BUFS)],
    nodelay: [rng.chance(0.5), rng.chance(0.5)],
    sack: rng.chance(0.8),
    timestamps: rng.chance(0.7),
    plans: [plan(rng, endings[0], abortSide === 0), plan(rng, endings[1], abortSide === 1)],
  };
  // Only where a side aborts or closes early may the other give up waiting.
  if (!graceful(s)) for (const p of s.plans) p.giveUpMs = 120_000;
  return s;
}

/** Whether the run's outcome is a clean transfer both ways (nobody closed early or aborted). */
function graceful(s: Scenario): boolean {
  return s.plans.every((p) => p.abortAt === null && p.ending !== 'close-early');
}

export function run(s: Scenario): Outcome {
  const rng = new Rng(s.seed ^ 0x5eed);
  const stack = new Stack();
  setTcpTimestamps(stack, s.timestamps ? 1 : 0);
  const link = new SimLink(stack, rng, s.link);
  const port = 7000 + (s.seed % 1000);
  const l = listen(stack, port);
  const setup = (ep: TcpEndpoint, i: number): void => {
    ep.userMss = s.mss[i];
    ep.rcvBufSize = s.rcvBuf[i];
    ep.sndBufSize = s.sndBuf[i];
    ep.nodelay = s.nodelay[i];
    ep.sackEnabled = s.sack;
  };
  setup(l, 1);
  const a = new SimApp('A', 0, s.plans[0], stack, rng, BUFS);
  const b = new SimApp('B', 1, s.plans[1], stack, rng, BUFS);
  a.ep = connectClient(stack, port, (c) => { setup(c, 0); link.aPort = c.lport; });
  const start = Date.now();
  const now = (): number => Date.now() - start;
  let doneAt = Infinity;
  let nextApp = 0;
  const endpoints = (): TcpEndpoint[] => [...stack.tcpEndpoints()].filter((e) => e !== l);
  for (;;) {
    const t = now();
    if (t >= BOUND_MS || (doneAt !== Infinity && t >= doneAt + LINGER_MS)) break;
    if (doneAt !== Infinity && endpoints().length === 0 && link.inFlight === 0) break;
    const next = Math.min(link.nextAt() - start, nextApp, BOUND_MS);
    if (next > t) vi.advanceTimersByTime(Math.ceil(next - t));
    link.deliverDue(Date.now());
    if (now() >= nextApp) {
      if (!b.ep && l.acceptQueue.length > 0) b.ep = l.acceptQueue.shift()!;
      a.step(now());
      b.step(now());
      if (a.corrupt || b.corrupt) break;
      if (doneAt === Infinity && a.done && b.done) doneAt = now();
      // Idle applications need not be woken each millisecond.
      nextApp = now() + (doneAt !== Infinity ? 1000 : rng.int(1, 10));
    }
  }
  const left = endpoints();
  const problems: string[] = [];
  if (a.corrupt) problems.push(a.corrupt);
  if (b.corrupt) problems.push(b.corrupt);
  if (doneAt === Infinity) problems.push(`not done in ${BOUND_MS} ms (A done ${a.done}, B done ${b.done})`);
  else if (left.length > 0) problems.push(`${left.length} endpoint(s) still alive ${LINGER_MS} ms after both closed`);
  if (graceful(s)) {
    if (a.received !== s.plans[1].sendBytes || b.received !== s.plans[0].sendBytes || a.err || b.err) {
      problems.push(`graceful transfer incomplete: A got ${a.received}/${s.plans[1].sendBytes} err ${a.err}, B got ${b.received}/${s.plans[0].sendBytes} err ${b.err}`);
    }
  }
  const st = (e: TcpEndpoint | null): string => (e ? `${e.debugState()} (${Object.entries(TCPS).find(([, v]) => v === e.state)?.[0]})` : 'none');
  const report = [
    `seed ${s.seed}: ${problems.length > 0 ? problems.join('; ') : `ok, done at ${doneAt}`} at ${now()} ms`,
    `scenario ${JSON.stringify(s)}`,
    `A: wrote ${a.written} read ${a.received} eof ${a.eof} shut ${a.shut} closed ${a.closed} err ${a.err} | ${st(a.ep)}`,
    `B: wrote ${b.written} read ${b.received} eof ${b.eof} shut ${b.shut} closed ${b.closed} err ${b.err} | ${st(b.ep)}`,
    `link: ${link.sent} sent, ${link.lost} lost, ${link.inFlight} in flight; last segments:`,
    link.lastSegments(),
  ].join('\n');
  return { ok: problems.length === 0, doneAt, report };
}
