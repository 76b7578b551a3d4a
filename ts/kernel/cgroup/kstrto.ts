// The kernel's number parsing for cgroup files (lib/kstrtox.c, strstrip), so that each
// file refuses what Linux refuses with the same errno.

import { fail } from '../syscall_error';
import { EINVAL, ERANGE } from '../../abi/linux/errno';

/** kstrtoll/kstrtoint with base 0 (0x.., 0.., decimal, an optional sign, one trailing
 *  newline): the value, or the errno (EINVAL, ERANGE past [min, max]). */
export function kstrtoint(s: string, min: number, max: number): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(s);
  if (!m) fail(EINVAL);
  if (m[1] === '-' && min >= 0) fail(EINVAL);
  const body = m[2];
  const v = BigInt(body.length > 1 && body[0] === '0' && body[1] !== 'x' && body[1] !== 'X' ? `0o${body.slice(1)}` : body);
  const signed = m[1] === '-' ? -v : v;
  if (signed < BigInt(min) || signed > BigInt(max)) fail(ERANGE);
  return Number(signed);
}

/** Linux's strstrip: leading and trailing white space off. */
export function strstrip(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

