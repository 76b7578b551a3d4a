// The gofer process: tsvisor-gofer (crates/gofer, its contract in crates/gofer/PROTOCOL.md),
// started once per sandbox with the host trees it serves, talking 9P2000.L over one end of a
// socketpair it inherits as fd 3. It exits by itself when the sentry's end closes (the
// sentry exited, whatever way); close() ends it sooner.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, type NativeHelperProcess } from '../../native/addon';
import { Client } from '../../p9/client';
import { SocketTransport } from '../../p9/transport';
import { GoferSession } from './session';
import { SIGKILL } from '../../abi/linux/signal';
import { O_PATH } from '../../abi/linux/fcntl';
import { enableHostWait } from '../../vfs/host_wait';

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
  /** null if it could not be started: the socket then reads EOF, and requests fail EIO. */
  private readonly proc: NativeHelperProcess | null;

  private connected = false;

  /** connect: false leaves Tversion to connect(), so that the gofer's own start-up (exec,
   *  confinement) overlaps with what the sentry does meanwhile. */
  constructor(binary: string, trees: readonly GoferTree[], debugLog?: string, opts: { connect?: boolean } = {}) {
    const [mine, theirs] = addon().p9Socketpair();
    const args = ['--sock-fd', '3'];
    for (const t of trees) args.push('--tree', `${t.name}=${t.hostDir}${t.readOnly ? ':ro' : ''}`);
    if (debugLog) args.push('--debug-log', debugLog);
    // One line per 9P request in the debug log, to see what a program costs in round trips.
    if (debugLog && process.env.TSVISOR_GOFER_VERBOSE === '1') args.push('--verbose');
    // posix_spawn in the addon, not node:child_process: no fork of the whole sentry, and no
    // child_process/net/stream modules to load before the first instruction. Nothing of it
    // keeps the event loop alive, and EOF on its socket ends it when the sentry goes.
    let proc: NativeHelperProcess | null = null;
    try {
      proc = addon().HelperProcess.spawn(binary, args, theirs);
    } catch {
      /* seen as EIO on the socket */
    } finally {
      addon().p9Close(theirs);
    }
    this.proc = proc;
    // PROTOCOL.md: the gofer answers each request in order, so requests may be pipelined.
    const client = new Client(new SocketTransport(mine), { closeFd: (fd) => fs.closeSync(fd), inOrder: true, goferExtensions: true });
    // A lookup a stalling host file system holds waits without blocking the sentry
    // (vfs/host_wait.ts); only where a tree may block (local disks never need it), or where
    // TSVISOR_HOST_WAIT_MS asks for it.
    if (process.env.TSVISOR_HOST_WAIT_MS !== undefined || trees.some((t) => treeMayBlock(t.hostDir))) client.gate = enableHostWait();
    this.session = new GoferSession(client, (fd) => fs.closeSync(fd));
    if (opts.connect !== false) this.connect();
  }

  /** Tversion, once: waits until the gofer serves. Before any other request. */
  connect(): void {
    if (this.connected) return;
    this.connected = true;
    this.session.client.version();
  }

  get pid(): number | undefined { return this.proc?.pid; }

  close(): void {
    this.session.client.close();
    this.proc?.kill(SIGKILL);
  }
}

/** Is the host directory on a file system that may block (addon hostFdMayBlock), or is one
 *  mounted below it (a FUSE mount inside the root tree: hostTreeMayBlock)? Asked at start-up,
 *  through an O_PATH fd (no open of the directory itself reaches its server). */
function treeMayBlock(hostDir: string): boolean {
  let fd = -1;
  try {
    fd = fs.openSync(hostDir, O_PATH | fs.constants.O_DIRECTORY);
    return addon().hostFdMayBlock(fd) || addon().hostTreeMayBlock(hostDir);
  } catch {
    return false; // the gofer refuses it and says so
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
