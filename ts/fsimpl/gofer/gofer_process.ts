// The gofer process: tsvisor-gofer (crates/gofer, its contract in crates/gofer/PROTOCOL.md),
// started once per sandbox with the host trees it serves, talking 9P2000.L over one end of a
// socketpair it inherits as fd 3. It exits by itself when the sentry's end closes (the
// sentry exited, whatever way); close() ends it sooner.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../../native/addon';
import { Client } from '../../p9/client';
import { SocketTransport } from '../../p9/transport';
import { GoferSession } from './session';

export interface GoferTree {
  /** The Tattach aname. */
  name: string;
  /** Absolute host directory. */
  hostDir: string;
  readOnly: boolean;
}

/** build/tsvisor-gofer at the package root (seen from dist/fsimpl/gofer or the bundle). */
export function goferBinary(): string | null {
  const candidates = [
    path.join(__dirname, '..', '..', '..', 'build', 'tsvisor-gofer'),
    path.join(__dirname, '..', 'build', 'tsvisor-gofer'),
  ];
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

export class GoferProcess {
  readonly session: GoferSession;
  private readonly proc: ChildProcess;

  constructor(binary: string, trees: readonly GoferTree[], debugLog?: string) {
    const [mine, theirs] = addon().p9Socketpair();
    const args = ['--sock-fd', '3'];
    for (const t of trees) args.push('--tree', `${t.name}=${t.hostDir}${t.readOnly ? ':ro' : ''}`);
    if (debugLog) args.push('--debug-log', debugLog);
    // One line per 9P request in the debug log, to see what a program costs in round trips.
    if (debugLog && process.env.TSVISOR_GOFER_VERBOSE === '1') args.push('--verbose');
    try {
      this.proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit', theirs] });
    } finally {
      addon().p9Close(theirs);
    }
    // It must not keep the sentry's event loop alive, nor outlive it (EOF ends it).
    this.proc.unref();
    this.proc.on('error', () => { /* seen as EIO on the socket */ });
    // PROTOCOL.md: the gofer answers each request in order, so requests may be pipelined.
    const client = new Client(new SocketTransport(mine), { closeFd: (fd) => fs.closeSync(fd), inOrder: true, goferExtensions: true });
    this.session = new GoferSession(client, (fd) => fs.closeSync(fd));
    client.version();
  }

  get pid(): number | undefined { return this.proc.pid; }

  close(): void {
    this.session.client.close();
    this.proc.kill('SIGKILL');
  }
}
