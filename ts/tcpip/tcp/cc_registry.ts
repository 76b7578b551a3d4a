// The congestion control algorithms a stack offers (Linux tcp_cong.c's list): by name, the
// stack's default for new sockets (net.ipv4.tcp_congestion_control, per network namespace:
// a write changes this stack only), and the ones an unprivileged socket may choose
// (net.ipv4.tcp_allowed_congestion_control).

import { EINVAL, ENOENT } from '../../abi/linux/errno';
import { fail } from '../../kernel/syscall_error';
import type { Stack } from '../stack';
import type { CongestionOps } from './congestion';
import { Cubic } from './cc_cubic';
import { Reno } from './cc_reno';
import { perStack } from '../per_stack';

/** TCP_CA_NAME_MAX: a name and its NUL. */
export const TCP_CA_NAME_MAX = 16;
/** TCP_CA_BUF_MAX: the longest list of names a sysctl takes. */
export const TCP_CA_BUF_MAX = 2048;

/** In registration order, as tcp_available_congestion_control lists them. */
const ALGORITHMS: Record<string, () => CongestionOps> = {
  reno: () => new Reno(),
  cubic: () => new Cubic(),
};

export const CC_AVAILABLE: readonly string[] = Object.keys(ALGORITHMS);

interface CcSettings { dflt: string; allowed: Set<string> }

const settingsOf = perStack((): CcSettings => ({ dflt: 'cubic', allowed: new Set(CC_AVAILABLE) }));

export function ccKnown(name: string): boolean { return Object.hasOwn(ALGORITHMS, name); }

/** A fresh instance of the named algorithm (which must be known). */
export function newCongestionOps(name: string): CongestionOps { return ALGORITHMS[name](); }

export function defaultCcOf(stack: Stack): string { return settingsOf(stack).dflt; }

export function ccAllowed(stack: Stack, name: string): boolean { return settingsOf(stack).allowed.has(name); }

/** The allowed list as the sysctl shows it (in the available order). */
export function allowedCcOf(stack: Stack): string[] { return CC_AVAILABLE.filter((n) => ccAllowed(stack, n)); }

/** tcp_set_default_congestion_control: ENOENT for an unknown name; the default is allowed. */
export function setDefaultCc(stack: Stack, name: string): void {
  if (!ccKnown(name)) fail(ENOENT);
  const s = settingsOf(stack);
  s.dflt = name;
  s.allowed.add(name);
}

/** tcp_set_allowed_congestion_control: names separated by single blanks, each known (else
 *  ENOENT and nothing changes); the list ends at an empty name. Only those listed stay
 *  allowed, the default too (a socket still gets it, only choosing it needs privilege). */
export function setAllowedCc(stack: Stack, text: string): void {
  const names: string[] = [];
  for (const n of text.split(' ')) {
    if (n === '') break;
    names.push(n);
  }
  for (const n of names) if (!ccKnown(n)) fail(ENOENT);
  settingsOf(stack).allowed = new Set(names);
}

/** proc_dostring's view of a write: up to the first newline or NUL, at most maxlen - 1
 *  bytes. */
export function sysctlString(text: string, maxlen: number): string {
  const m = /^[^\n\0]*/.exec(text);
  return (m ? m[0] : '').slice(0, maxlen - 1);
}

/** TCP_CONGESTION's name (do_tcp_setsockopt): the first TCP_CA_NAME_MAX - 1 bytes at most, up
 *  to a NUL; an empty option is EINVAL, a name no algorithm has ENOENT. */
export function ccNameOf(val: Uint8Array): string {
  if (val.length < 1) fail(EINVAL);
  const raw = val.subarray(0, Math.min(val.length, TCP_CA_NAME_MAX - 1));
  const end = raw.indexOf(0);
  const name = Buffer.from(end < 0 ? raw : raw.subarray(0, end)).toString('latin1');
  if (!ccKnown(name)) fail(ENOENT);
  return name;
}
