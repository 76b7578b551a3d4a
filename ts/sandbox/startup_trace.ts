// TSVISOR_TRACE_STARTUP=1: stderr gets one line per start-up step at the end of the run, with
// the time since the node process began (process.uptime) when the step ended and how long it
// took — what runs before the program's first instruction, and for how long. Off, a mark is
// one boolean test. TSVISOR_TRACE_STARTUP=2: each line as the step ends instead (to see it
// among other traces written as they happen, e.g. TSVISOR_P9_STATS=2's gofer round trips).

const enabled = process.env.TSVISOR_TRACE_STARTUP === '1' || process.env.TSVISOR_TRACE_STARTUP === '2';
const live = process.env.TSVISOR_TRACE_STARTUP === '2';
const marks: Array<[string, number]> = [];

/** Records that `step` has just ended (or ended at atMs, in process.uptime() ms). */
export function startupMark(step: string, atMs?: number): void {
  if (!enabled) return;
  marks.push([step, atMs ?? process.uptime() * 1000]);
  if (live) process.stderr.write(lineOf(marks.length - 1));
}

function lineOf(i: number): string {
  const [step, at] = marks[i];
  const prev = i > 0 ? marks[i - 1][1] : 0;
  return `tsvisor-startup: ${at.toFixed(1).padStart(7)} ms  +${(at - prev).toFixed(1).padStart(6)} ms  ${step}\n`;
}

/** Adds the sentry's memory at this point to the trace (process.memoryUsage, in MiB). */
export function startupMemory(step: string): void {
  if (!enabled) return;
  const m = process.memoryUsage();
  const mib = (n: number): string => (n / 1048576).toFixed(1);
  marks.push([`${step}: rss ${mib(m.rss)} heap ${mib(m.heapUsed)}/${mib(m.heapTotal)} external ${mib(m.external)} (array buffers ${mib(m.arrayBuffers)}) MiB`, process.uptime() * 1000]);
  if (live) process.stderr.write(lineOf(marks.length - 1));
}

/** The trace as text ('' when tracing is off). */
export function formatStartupTrace(): string {
  if (!enabled) return '';
  return marks.map((_, i) => lineOf(i)).join('');
}

export function printStartupTrace(): void {
  if (enabled && !live) process.stderr.write(formatStartupTrace());
}
