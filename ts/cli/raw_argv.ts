// tsvisor's own command line, environment and working directory as bytes. Node decodes them as
// UTF-8 and turns each byte that is not into U+FFFD, but a program's arguments, environment and
// directory names are bytes (`tsvisor run -- printf %s $'\xff'` must print 0xff). The kernel
// still has them in /proc/self/{cmdline,environ,cwd}: a word is taken from there when it is
// the one Node decoded, in the sentry's lossless form (ts/abi/byte_string.ts).

import * as fs from 'node:fs';
import { bytesToString } from '../abi/byte_string';

function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    let end = b.indexOf(0, at);
    if (end < 0) end = b.length;
    out.push(b.subarray(at, end));
    at = end + 1;
  }
  return out;
}

function readProc(name: string): Buffer | null {
  try { return fs.readFileSync(`/proc/self/${name}`); } catch { return null; }
}

/** argv as process.argv (node, script, words...), each word after node's own lossless. */
export function losslessArgv(argv: readonly string[]): string[] {
  const cmdline = readProc('cmdline');
  if (cmdline === null) return [...argv];
  // node's own options are in cmdline but not in process.argv: the words line up from the end.
  const raw = splitNul(cmdline);
  const off = raw.length - argv.length;
  if (off < 0) return [...argv];
  return argv.map((w, i) => (i === 0 ? w : fromRaw(raw[off + i], w)));
}

/** process.env's entries, each one lossless where the process started with it. */
export function losslessEnv(env: NodeJS.ProcessEnv): [string, string][] {
  const raw = new Map<string, Buffer>();
  const environ = readProc('environ');
  for (const kv of environ === null ? [] : splitNul(environ)) {
    const eq = kv.indexOf(0x3d);
    if (eq > 0) raw.set(kv.subarray(0, eq).toString('utf8'), kv);
  }
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const kv = raw.get(k);
    if (kv !== undefined && kv.subarray(kv.indexOf(0x3d) + 1).toString('utf8') === v) {
      const eq = kv.indexOf(0x3d);
      out.push([bytesToString(kv.subarray(0, eq)), bytesToString(kv.subarray(eq + 1))]);
    } else {
      out.push([k, v]);
    }
  }
  return out;
}

/** process.cwd(), lossless. */
export function losslessCwd(): string {
  const cwd = process.cwd();
  try {
    const raw = fs.readlinkSync('/proc/self/cwd', { encoding: 'buffer' });
    return raw.toString('utf8') === cwd ? bytesToString(raw) : cwd;
  } catch {
    return cwd;
  }
}

function fromRaw(raw: Buffer, decoded: string): string {
  return raw.toString('utf8') === decoded ? bytesToString(raw) : decoded;
}
