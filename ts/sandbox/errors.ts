// Start-up failures the user caused (bad option, missing program), with their exit status.

/** A failure the user caused, with the exit status a container runtime would give it. */
export class UserError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}
