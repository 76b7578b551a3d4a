// diod (Debian's 9P2000.L server) for the interoperability tests: served on one end of a
// socketpair (diod -r/-w), the other end driven by ts/p9's client through the addon's
// transport, so the client meets a server that is not ours and donates no fds.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { addon } from '../../ts/native/addon';
import { Client } from '../../ts/p9/client';
import { SocketTransport } from '../../ts/p9/transport';

export const DIOD = '/usr/sbin/diod';
export const haveDiod = existsSync(DIOD);

export interface Diod {
  client: Client;
  proc: ChildProcess;
  stop(): void;
}

/** diod exporting dir (the attach name is dir itself), the client version-negotiated. */
export function startDiod(dir: string): Diod {
  const [mine, theirs] = addon().p9Socketpair();
  const proc = spawn(DIOD, ['-f', '-n', '-N', '-r', '3', '-w', '3', '-e', dir, '-L', 'stderr', '-c', '/dev/null'],
    { stdio: ['ignore', 'ignore', 'pipe', theirs] });
  addon().p9Close(theirs);
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  const client = new Client(new SocketTransport(mine, 10_000), { closeFd: (fd) => closeSync(fd) });
  try { client.version(); } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`diod did not answer Tversion: ${String(e)}\n${log}`);
  }
  return { client, proc, stop: () => { client.close(); proc.kill('SIGKILL'); } };
}
