// The initial process stack, laid out as Linux's create_elf_tables does (top down): an 8-byte
// end marker, the argv, envp and execfn strings, the platform string, 16 random bytes; then,
// 16-byte aligned at the bottom, argc, argv[], NULL, envp[], NULL and the auxv pairs.

import { MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE } from '../abi/linux/mm';
import { E2BIG } from '../abi/linux/errno';
import { fail } from '../kernel/syscall_error';
import { MAX_ARG_STRLEN } from '../mm/copy';
import type { MemoryManager } from '../mm/memory_manager';
import { STACK_INITIAL_SIZE, alignDown, pageDown, pageUp } from '../mm/layout';
import { AT_NULL } from './auxv';
import { stringBytesZ } from '../abi/byte_string';

export interface StackStrings {
  argv: string[];
  envp: string[];
  execfn: string;
  platform: string;
  /** 16 bytes for AT_RANDOM. */
  random: Uint8Array;
}

/** Addresses on the new stack that auxv entries point at. */
export interface StackAddrs {
  random: number;
  execfn: number;
  platform: number;
}

/**
 * Map the stack (MAP_GROWSDOWN, ending at mm.stackTop, with protection prot) and write the
 * initial frame. auxv builds the auxv entries (without AT_NULL) once the addresses are known.
 * Records the argv/envp ranges and auxv in mm; returns the initial rsp.
 */
export function setupStack(mm: MemoryManager, prot: number, s: StackStrings,
  auxv: (addrs: StackAddrs) => [number, number][]): number {
  const enc = stringBytesZ;
  const args = s.argv.map(enc);
  const envs = s.envp.map(enc);
  const execfn = enc(s.execfn);
  const platform = enc(s.platform);
  let strings = 0;
  for (const b of [...args, ...envs]) {
    if (b.length > MAX_ARG_STRLEN) fail(E2BIG);
    strings += b.length;
  }
  // Linux: argument strings and their pointers may use a quarter of RLIMIT_STACK.
  if (strings + (args.length + envs.length) * 8 > mm.stackLimit / 4) fail(E2BIG);

  const top = mm.stackTop;
  let p = top - 8;
  const execfnAddr = (p -= execfn.length);
  const envAddrs = place(envs, (p -= sum(envs)));
  const argAddrs = place(args, (p -= sum(args)));
  mm.argStart = p;
  mm.argEnd = mm.envStart = p + sum(args);
  mm.envEnd = mm.envStart + sum(envs);
  const platformAddr = (p -= platform.length);
  const randomAddr = (p -= 16);

  const pairs = auxv({ random: randomAddr, execfn: execfnAddr, platform: platformAddr });
  pairs.push([AT_NULL, 0]);
  const words = 1 + args.length + 1 + envs.length + 1 + pairs.length * 2;
  const sp = alignDown(p - words * 8, 16);

  const vmaEnd = pageUp(top);
  const vmaStart = pageDown(sp) - STACK_INITIAL_SIZE;
  mm.mmap(vmaStart, vmaEnd - vmaStart, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0);

  // Build the whole frame in one buffer and copy it out at once.
  const frame = new Uint8Array(top - sp);
  const view = new DataView(frame.buffer);
  const put = (addr: number, v: number): void => view.setBigUint64(addr - sp, BigInt(v), true);
  let at = sp;
  put(at, args.length);
  for (const a of argAddrs) put((at += 8), a);
  put((at += 8), 0);
  for (const e of envAddrs) put((at += 8), e);
  put((at += 8), 0);
  mm.auxv = [];
  for (const [type, value] of pairs) {
    put((at += 8), type);
    put((at += 8), value);
    mm.auxv.push(BigInt(type), BigInt(value));
  }
  frame.set(s.random.subarray(0, 16), randomAddr - sp);
  frame.set(platform, platformAddr - sp);
  args.forEach((b, i) => frame.set(b, argAddrs[i] - sp));
  envs.forEach((b, i) => frame.set(b, envAddrs[i] - sp));
  frame.set(execfn, execfnAddr - sp);
  mm.copyOut(sp, frame);
  return sp;
}

function sum(bufs: Buffer[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

/** Addresses of bufs laid out one after another from start. */
function place(bufs: Buffer[], start: number): number[] {
  const out: number[] = [];
  let at = start;
  for (const b of bufs) {
    out.push(at);
    at += b.length;
  }
  return out;
}
