// TSVISOR_SYSCALL_PROF=1: at exit, stderr gets each syscall's count and the sentry's time in
// its handler (wall time from dispatch until the handler returned; for a handler that blocks,
// until it returned its promise), most expensive first: where the sentry's time goes per
// syscall kind, beside TSVISOR_P9_STATS (the gofer's share) and node --cpu-prof (by
// function). Faults the sentry handles are counted as one more row: each is a run of the
// task like a syscall's. The last column counts the calls that came through the platform's
// trap (systrap's SIGSYS) rather than a patched site's fast entry (platform/syscall_patch.ts):
// a trapped call costs the stub a signal delivery and a sigreturn more. Off, dispatch pays
// one null check.

import { SYSCALL_NAMES } from '../../abi/linux/syscall_numbers';

/** The row of faults (no syscall has this number). */
export const PROF_FAULT = 1022;

export class SyscallProf {
  private readonly count = new Float64Array(1024);
  private readonly ms = new Float64Array(1024);
  private readonly trapped = new Float64Array(1024);

  constructor() {
    process.on('exit', () => process.stderr.write(this.report()));
  }

  add(nr: number, ms: number, trapped = false): void {
    const i = nr >= 0 && nr < 1024 ? nr : 1023;
    this.count[i]++;
    this.ms[i] += ms;
    if (trapped) this.trapped[i]++;
  }

  report(): string {
    const rows: number[] = [];
    let total = 0, calls = 0, trapped = 0;
    for (let i = 0; i < 1024; i++) {
      if (this.count[i] === 0) continue;
      rows.push(i);
      total += this.ms[i];
      calls += this.count[i];
      trapped += this.trapped[i];
    }
    rows.sort((a, b) => this.ms[b] - this.ms[a]);
    const lines = [`tsvisor-syscalls: ${calls} calls (${trapped} trapped), ${total.toFixed(1)} ms in handlers`];
    for (const i of rows) {
      const name = i === 1023 ? 'other' : i === PROF_FAULT ? '(fault)' : SYSCALL_NAMES[i] ?? String(i);
      lines.push(`tsvisor-syscalls: ${name.padEnd(18)} ${String(this.count[i]).padStart(8)} ${this.ms[i].toFixed(1).padStart(9)} ms ${(this.ms[i] * 1000 / this.count[i]).toFixed(1).padStart(8)} us ${String(this.trapped[i]).padStart(8)} trapped`);
    }
    return lines.join('\n') + '\n';
  }
}

export const syscallProf: SyscallProf | null = process.env.TSVISOR_SYSCALL_PROF === '1' ? new SyscallProf() : null;
