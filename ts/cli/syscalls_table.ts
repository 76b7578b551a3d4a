// `tsvisor syscalls`: the support table of syscalls/linux/support.ts as text, one line per
// number, then the counts.

import { table } from '../syscalls/linux/table';
import { UserError } from '../sandbox/errors';
import { syscallSupport, type SupportState } from '../syscalls/linux/support';

const STATES: SupportState[] = ['full', 'partial', 'unsupported'];

export function formatSyscallSupport(only?: string): string {
  if (only !== undefined && !(STATES as string[]).includes(only)) {
    throw new UserError(`tsvisor: --state wants one of ${STATES.join(', ')}, got "${only}"`, 125);
  }
  const rows = syscallSupport(table);
  const lines: string[] = [];
  for (const r of rows) {
    if (only !== undefined && r.state !== only) continue;
    const note = r.note !== '' ? `  ${r.note}` : '';
    lines.push(`${String(r.nr).padStart(3)}  ${r.name.padEnd(24)} ${r.state.padEnd(11)}${note}`.trimEnd());
  }
  const count = (s: SupportState): number => rows.filter((r) => r.state === s).length;
  lines.push('');
  lines.push(`${count('full')} full, ${count('partial')} partial, ${count('unsupported')} unsupported of ${rows.length} amd64 system calls`);
  return lines.join('\n') + '\n';
}
