// What a host ^Z and fg on tsvisor mean for tsvisor itself (ts/sandbox/host_signals.ts): a ^Z
// that stopped the program stops tsvisor too, so that the user's shell gets the terminal back,
// and the fg continues the program. A fg can come before the forwarded ^Z has stopped the
// program (a busy sentry, an emulated CPU): on Linux the SIGCONT undoes the stop whichever
// lands first, so then the program is continued and tsvisor does not stop — when it did, it
// stopped after the fg had been spent, with nothing left to continue it.

export type GateAction = 'none' | 'continue' | 'stop-self';

export class TstpGate {
  /** ^Zs forwarded whose settle() has not come yet. */
  private inFlight = 0;
  /** A SIGCONT came since the last ^Z. */
  private contSinceTstp = false;

  /** A ^Z was forwarded to the program; settle() follows a moment later. */
  tstp(): void {
    this.inFlight++;
    this.contSinceTstp = false;
  }

  /** A SIGCONT (fg) reached tsvisor: the program is continued if it stopped or may yet. */
  cont(programStopped: boolean): GateAction {
    this.contSinceTstp = true;
    return programStopped || this.inFlight > 0 ? 'continue' : 'none';
  }

  /** The moment after a ^Z: tsvisor stops itself if the program stopped and no fg came. */
  settle(programStopped: boolean): GateAction {
    if (this.inFlight > 0) this.inFlight--;
    if (!programStopped) return 'none';
    return this.contSinceTstp ? 'continue' : 'stop-self';
  }
}
