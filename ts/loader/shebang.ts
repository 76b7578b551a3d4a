// Interpreter scripts (Linux fs/binfmt_script.c): "#!interp [arg]" names the program that
// runs the file, to depth MAX_INTERP_DEPTH; argv becomes interp, its one optional argument,
// the script's name, then the original arguments after argv[0]. Used by execve and by the
// sandbox's first program alike.

import { ELOOP, ENOEXEC } from '../abi/linux/errno';
import { fail } from '../kernel/syscall_error';
import type { LoadableFile } from './loadable_file';
import { bytesToString } from '../abi/byte_string';

/** binfmt_script reads this much of the file for the #! line. */
export const BINPRM_BUF_SIZE = 256;
/** Scripts whose interpreter is a script, and so on: how deep Linux's exec_binprm lets it
 *  go before ELOOP (a fifth script level fails; test/fixtures/execve.c checks it). */
const MAX_INTERP_DEPTH = 4;

/** "#!interp [arg]": the interpreter and its one optional argument, or null if no #!. */
export function parseShebang(head: Uint8Array): { interp: string; arg: string | null } | null {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return null;
  let end = head.indexOf(0x0a);
  if (end < 0) end = head.length;
  // Only space and tab separate (a CR stays in the name, as Linux's "bad interpreter"), and
  // a NUL ends the line as it ends a C string.
  const nul = head.subarray(0, end).indexOf(0);
  if (nul >= 0) end = nul;
  const line = bytesToString(head.subarray(2, end)).replace(/[ \t]+$/, '').replace(/^[ \t]+/, '');
  if (line === '') fail(ENOEXEC);
  const m = /^([^ \t]+)(?:[ \t]+([^]*))?$/.exec(line);
  if (!m) fail(ENOEXEC);
  return { interp: m[1], arg: m[2] !== undefined && m[2] !== '' ? m[2] : null };
}

/** Follow #! lines from filename to the ELF file that will run, rewriting argv. */
export function resolveInterpreters(open: (path: string) => LoadableFile, filename: string,
  argv: string[]): { file: LoadableFile; argv: string[] } {
  let file = open(filename);
  let args = argv;
  let name = filename;
  for (let depth = 0; ; depth++) {
    const sb = parseShebang(file.read(0, BINPRM_BUF_SIZE));
    if (!sb) return { file, argv: args };
    if (depth >= MAX_INTERP_DEPTH) fail(ELOOP);
    args = [sb.interp, ...(sb.arg !== null ? [sb.arg] : []), name, ...args.slice(1)];
    name = sb.interp;
    file = open(sb.interp);
  }
}
