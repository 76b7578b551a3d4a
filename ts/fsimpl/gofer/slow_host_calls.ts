// Reads and writes of donated fds on file systems that may block (host_fd.ts) run on libuv's
// thread pool, which the rest of the sentry shares (stdio waits, other async host calls). A
// call a signal ended cannot be called back: its thread stays with it until the host answers,
// which on a file system that ignores interrupts (a hung FUSE daemon, a hard NFS mount) may
// be never. So at most MAX_SLOW_CALLS such calls are on the pool at once (bin/tsvisor.js
// makes it POOL_THREADS strong), and the rest of the pool stays free: a call beyond waits,
// interruptibly, for a slot; when every slot is held by a call whose task gave up on it, the
// host is not answering, and a new call fails at once with EIO (said once on stderr).

import { block } from '../../kernel/blocking';
import type { Task } from '../../kernel/task';
import { SyscallError } from '../../kernel/syscall_error';
import { EIO } from '../../abi/linux/errno';
import { throwHostError } from '../../vfs/host_errno';
import { addon } from '../../native/addon';

/** libuv's pool as bin/tsvisor.js sizes it (UV_THREADPOOL_SIZE), and the share slow calls get. */
export const POOL_THREADS = 8;
export const MAX_SLOW_CALLS = 4;

let running = 0;
/** Calls still on the pool whose task stopped waiting for them. */
let abandoned = 0;
const waiting: (() => void)[] = [];
let told = false;

let exitHooked = false;
/** Node's exit joins libuv's pool, and a call the host holds there would keep the sandbox
 *  from ending after its last task did: then the process leaves without it (stdout and
 *  stderr, pipes or files, are written synchronously on Linux). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', (code) => { if (running > 0) addon().exitNow(code); });
}

/** A host call on libuv's thread pool, awaited interruptibly by t; its error as the host's. */
export async function slowHostCall(t: Task, call: (done: (err: NodeJS.ErrnoException | null, n: number) => void) => void): Promise<number> {
  hookExit();
  while (running >= MAX_SLOW_CALLS) {
    if (abandoned >= MAX_SLOW_CALLS) {
      if (!told) {
        told = true;
        process.stderr.write(`tsvisor: ${abandoned} host reads or writes given up by their tasks are still waiting on the host: until one ends, reads and writes of files on file systems that may block fail with EIO\n`);
      }
      t.kernel.debug(`slow host call refused: ${abandoned} abandoned calls hold the pool`);
      throw new SyscallError(EIO);
    }
    await block<void>(t, (wake) => {
      waiting.push(wake);
      return () => { const i = waiting.indexOf(wake); if (i >= 0) waiting.splice(i, 1); };
    });
  }
  running++;
  let settled = false, gaveUp = false;
  const result = new Promise<number>((resolve, reject) => call((err, n) => {
    settled = true;
    running--;
    if (gaveUp) abandoned--;
    if (abandoned < MAX_SLOW_CALLS) told = false;
    waiting.shift()?.();
    if (err) reject(err); else resolve(n);
  }));
  let r: number | Error;
  try {
    r = await block<number | Error>(t, (wake) => {
      result.then(wake, (e: unknown) => wake(e instanceof Error ? e : new Error(String(e))));
      return () => {};
    });
  } catch (e) {
    if (!settled) { gaveUp = true; abandoned++; }
    result.catch(() => { /* nobody waits for it now */ });
    throw e;
  }
  if (r instanceof Error) throwHostError(r);
  return r;
}

