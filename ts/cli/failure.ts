// How a failed `tsvisor` command ends: a UserError's message and status, anything else (our
// bug) with its stack and 125.

import { UserError } from '../sandbox/errors';

export function reportFailure(e: unknown): number {
  if (e instanceof UserError) {
    process.stderr.write(e.message + '\n');
    return e.status;
  }
  process.stderr.write(`tsvisor: ${e instanceof Error ? e.stack : String(e)}\n`);
  return 125;
}
