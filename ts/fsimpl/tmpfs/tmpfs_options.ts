// tmpfs mount options (Linux mm/shmem.c: shmem_parse_one, shmem_show_options): what mount(2)'s
// data string may say, parsed whole before anything applies, and shown back in /proc/mounts as
// Linux shows it. The limits themselves are TmpfsFS's (tmpfs.ts).

import * as os from 'node:os';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';

const PAGE = 4096;
const U64 = (1n << 64n) - 1n;
/** shmem's per-inode charge against nr_inodes (BOGO_INODE_SIZE): used only for its bound. */
const BOGO_INODE_SIZE = 1024n;
const HUGE = new Set(['never', 'always', 'within_size', 'advise']);

/** What a tmpfs mount is set to. Limits of 0 are unlimited. */
export interface TmpfsParams {
  maxBlocks: number;
  maxInodes: number;
  mode: number;
  uid: number;
  gid: number;
  huge: string;
  mpol: string;
  inode64: boolean;
  noswap: boolean;
}

/** The options one data string gave (remount changes only those). */
export type TmpfsGiven = Partial<TmpfsParams>;

/** totalram_pages(): the machine's memory as /proc/meminfo's MemTotal shows it. */
function totalRamPages(): bigint {
  return BigInt(Math.floor(os.totalmem() / PAGE));
}

/** shmem_default_max_blocks / shmem_default_max_inodes: half of memory, in pages (and as many
 *  inodes: lowmem is all of memory on x86-64). */
export function defaultLimit(): number {
  return Number(totalRamPages() / 2n);
}

/** The defaults of a mount with no options. */
export function defaultParams(): TmpfsParams {
  const d = defaultLimit();
  return { maxBlocks: d, maxInodes: d, mode: 0o1777, uid: 0, gid: 0, huge: 'never', mpol: 'default', inode64: false, noswap: false };
}

/** simple_strtoull with base 0 (0x hex, 0 octal, else decimal), wrapping at 64 bits as the
 *  kernel's does; returns the value and what follows the digits. */
function strtoull(s: string): { v: bigint; rest: string } {
  let base = 10n, i = 0;
  if (s.startsWith('0x') || s.startsWith('0X')) {
    if (/^[0-9a-fA-F]/.test(s.slice(2))) { base = 16n; i = 2; }
  } else if (s.startsWith('0')) {
    base = 8n;
  }
  let v = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i], 16);
    if (Number.isNaN(d) || BigInt(d) >= base) break;
    v = (v * base + BigInt(d)) & U64;
  }
  return { v, rest: s.slice(i) };
}

/** memparse: a number with an optional K/M/G/T/P/E suffix (either case). */
function memparse(s: string): { v: bigint; rest: string } {
  const r = strtoull(s);
  const shift = 'kmgtpe'.indexOf(r.rest.charAt(0).toLowerCase());
  if (r.rest !== '' && shift >= 0) return { v: (r.v << BigInt(10 * (shift + 1))) & U64, rest: r.rest.slice(1) };
  return r;
}

/** kstrtouint base 0 (fsparam_u32) or base 8 (fsparam_u32oct): all of it, and within 32 bits. */
function u32(s: string, octal: boolean): number {
  if (!(octal ? /^[0-7]+$/ : /^(0[xX][0-9a-fA-F]+|[0-9]+)$/).test(s)) fail(EINVAL);
  const { v, rest } = octal ? { v: BigInt(`0o${s}`), rest: '' } : strtoull(s);
  if (rest !== '' || v > 0xffffffffn) fail(EINVAL);
  return Number(v);
}

/** mpol=MODE[:NODELIST] (mpol_parse_str) on a machine of one node, node 0: what shows. */
function parseMpol(v: string): string {
  const [mode, nodes] = v.split(':', 2) as [string, string | undefined];
  if (nodes !== undefined && nodes !== '0') fail(EINVAL); // no other node exists here
  switch (mode) {
    case 'default': case 'local':
      if (nodes !== undefined) fail(EINVAL);
      return mode;
    case 'prefer': return 'prefer:0';
    case 'bind':
      if (nodes === undefined) fail(EINVAL);
      return 'bind:0';
    case 'interleave': case 'weighted-interleave': return `${mode}:0`;
    default: return fail(EINVAL);
  }
}

/**
 * shmem_parse_one over mount(2)'s comma-separated data: EINVAL for an unknown option, a value
 * where none is taken or none where one is, or a bad number. `maps(uid, gid)` says whether
 * the caller's user namespace maps an id (make_kuid). Nothing is applied here.
 */
export function parseTmpfsOptions(data: string, initUserNs: boolean,
  mapsUid: (id: number) => boolean, mapsGid: (id: number) => boolean): TmpfsGiven {
  const o: TmpfsGiven = {};
  for (const opt of data.split(',')) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const v = eq < 0 ? undefined : opt.slice(eq + 1);
    const value = (): string => v === undefined || v === '' ? fail(EINVAL) : v;
    const flag = (): void => { if (v !== undefined) fail(EINVAL); };
    switch (key) {
      case 'size': {
        let { v: bytes, rest } = memparse(value());
        if (rest.startsWith('%')) {
          bytes = (((bytes << 12n) & U64) * totalRamPages() & U64) / 100n;
          rest = rest.slice(1);
        }
        if (rest !== '') fail(EINVAL);
        o.maxBlocks = Number((bytes + BigInt(PAGE) - 1n) / BigInt(PAGE));
        break;
      }
      case 'nr_blocks': {
        const { v: n, rest } = memparse(value());
        if (rest !== '') fail(EINVAL);
        o.maxBlocks = Number(n);
        break;
      }
      case 'nr_inodes': {
        const { v: n, rest } = memparse(value());
        if (rest !== '' || n > U64 / BOGO_INODE_SIZE) fail(EINVAL);
        o.maxInodes = Number(n);
        break;
      }
      case 'mode': o.mode = u32(value(), true) & 0o7777; break;
      case 'uid': {
        const id = u32(value(), false);
        if (id === 0xffffffff || !mapsUid(id)) fail(EINVAL);
        o.uid = id;
        break;
      }
      case 'gid': {
        const id = u32(value(), false);
        if (id === 0xffffffff || !mapsGid(id)) fail(EINVAL);
        o.gid = id;
        break;
      }
      case 'huge':
        if (!HUGE.has(value())) fail(EINVAL);
        o.huge = v;
        break;
      case 'mpol': o.mpol = parseMpol(value()); break;
      case 'inode32': flag(); o.inode64 = false; break;
      case 'inode64': flag(); o.inode64 = true; break;
      // "Turning off swap in unprivileged tmpfs mounts unsupported".
      case 'noswap': flag(); if (!initUserNs) fail(EINVAL); o.noswap = true; break;
      default: fail(EINVAL);
    }
  }
  return o;
}

/** shmem_show_options: what differs from the defaults, in Linux's order (inode32 hidden: the
 *  kernel's default, CONFIG_TMPFS_INODE64 unset as Debian builds it). */
export function showTmpfsOptions(p: TmpfsParams): string {
  const out: string[] = [];
  const d = defaultLimit();
  if (p.maxBlocks !== d) out.push(`size=${p.maxBlocks * (PAGE / 1024)}k`);
  if (p.maxInodes !== d) out.push(`nr_inodes=${p.maxInodes}`);
  if (p.mode !== 0o1777) out.push(`mode=${p.mode.toString(8).padStart(3, '0')}`);
  if (p.uid !== 0) out.push(`uid=${p.uid}`);
  if (p.gid !== 0) out.push(`gid=${p.gid}`);
  if (p.inode64) out.push('inode64');
  if (p.huge !== 'never') out.push(`huge=${p.huge}`);
  if (p.mpol !== 'default') out.push(`mpol=${p.mpol}`);
  if (p.noswap) out.push('noswap');
  return out.join(',');
}
