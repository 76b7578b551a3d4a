// What a host ^Z and fg on tsvisor mean for tsvisor itself (ts/sandbox/host_signals.ts): a ^Z
// that stopped the program stops tsvisor too, so that the user's shell gets the terminal back,
// and the fg continues the program. A fg can come before the forwarded ^Z has stopped the
// program (a busy sentry; an emulated CPU, where the stop took more than the 500 ms a test
// waited): on Linux the SIGCONT undoes the stop whichever lands first, so a fg after a ^Z
// always continues the program, and tsvisor stops itself only if none came since. When the
// fg was dropped, tsvisor stopped itself once the program stopped, with nothing left to
// continue either.

export type GateAction = 'none' | 'continue' | 'stop-self';

export class TstpGate {
  /** A ^Z was forwarded and no SIGCONT came since. */
  private tstpSinceCont = false;

  /** A ^Z was forwarded to the program; settle() follows a moment later. */
  tstp(): void {
    this.tstpSinceCont = true;
  }

  /** A SIGCONT (fg) reached tsvisor: the program is continued if it stopped or may yet. */
  cont(programStopped: boolean): GateAction {
    const after = this.tstpSinceCont;
    this.tstpSinceCont = false;
    return programStopped || after ? 'continue' : 'none';
  }

  /** The moment after a ^Z: tsvisor stops itself if the program stopped and no fg came. */
  settle(programStopped: boolean): GateAction {
    if (!programStopped) return 'none';
    return this.tstpSinceCont ? 'stop-self' : 'continue';
  }
}
