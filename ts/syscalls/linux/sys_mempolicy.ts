// NUMA memory policies (Linux mm/mempolicy.c, mm/migrate.c) on the sandbox's one node, node
// 0: policies are checked and remembered as Linux does — per task (set_mempolicy) and per
// address range (mbind) — and reported back; where a page lives is always node 0, so moving
// pages moves nothing.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL, ENODEV, ENOENT, EPERM, ESRCH } from '../../abi/linux/errno';
import { CAP_SYS_NICE } from '../../kernel/capabilities';
import {
  SYS_get_mempolicy, SYS_mbind, SYS_migrate_pages, SYS_move_pages, SYS_set_mempolicy, SYS_set_mempolicy_home_node,
} from '../../abi/linux/syscall_numbers';
import { PAGE_SIZE, isPageAligned, pageUp } from '../../mm/layout';
import { ptraceMayAccess } from '../../kernel/ptrace_access';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask } from '../../kernel/ns/pid_ns';

const MPOL_DEFAULT = 0, MPOL_PREFERRED = 1, MPOL_BIND = 2, MPOL_INTERLEAVE = 3, MPOL_LOCAL = 4,
  MPOL_PREFERRED_MANY = 5, MPOL_WEIGHTED_INTERLEAVE = 6, MPOL_MAX = 7;
const MPOL_F_STATIC_NODES = 1 << 15, MPOL_F_RELATIVE_NODES = 1 << 14, MPOL_F_NUMA_BALANCING = 1 << 13;
const MPOL_F_NODE = 1, MPOL_F_ADDR = 2, MPOL_F_MEMS_ALLOWED = 4;
const MPOL_MF_STRICT = 1, MPOL_MF_MOVE = 2, MPOL_MF_MOVE_ALL = 4;
/** The nodes there are: one. */
const MAX_NUMNODES = 1024;

/** A policy: its mode, the mode flags it was set with (get_mempolicy reports them), nodes. */
interface Policy { mode: number; flags: number; nodes: bigint }
const DEFAULT: Policy = { mode: MPOL_DEFAULT, flags: 0, nodes: 0n };
const taskPolicy = new WeakMap<Task, Policy>();

/** get_nodes: maxnode - 1 bits of a user nodemask (the historical off-by-one; a maxnode of 0
 *  wraps to the largest count, EINVAL with a mask given); a node past our one is EINVAL later. */
function readNodes(t: Task, addr: number, maxnode: number): bigint {
  if (addr === 0 || maxnode === 1) return 0n;
  if (maxnode === 0 || maxnode - 1 > PAGE_SIZE * 8) fail(EINVAL);
  const bits = maxnode - 1;
  const bytes = Math.ceil(bits / 64) * 8;
  const raw = t.mm.copyIn(addr, bytes);
  let mask = 0n;
  for (let i = raw.length - 1; i >= 0; i--) mask = (mask << 8n) | BigInt(raw[i]);
  if (bits < 64 * (bytes / 8)) mask &= (1n << BigInt(bits)) - 1n;
  return mask;
}

/** mpol_new's checks for our one node; the policy as Linux stores it. */
function checkPolicy(modeArg: number, nodes: bigint): Policy {
  const flags = modeArg & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING);
  const mode = modeArg & ~flags;
  if (mode < 0 || mode >= MPOL_MAX) fail(EINVAL);
  if ((flags & MPOL_F_STATIC_NODES) !== 0 && (flags & MPOL_F_RELATIVE_NODES) !== 0) fail(EINVAL);
  if ((nodes & ~1n) !== 0n && (flags & MPOL_F_RELATIVE_NODES) === 0) fail(EINVAL);
  const nodeFlags = flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
  // sanitize_mpol_flags: NUMA balancing only for the binding modes.
  if ((flags & MPOL_F_NUMA_BALANCING) !== 0 && mode !== MPOL_BIND && mode !== MPOL_PREFERRED_MANY) fail(EINVAL);
  switch (mode) {
    case MPOL_DEFAULT:
      // No policy at all: the flags go too.
      if (nodes !== 0n) fail(EINVAL);
      return DEFAULT;
    case MPOL_LOCAL:
      if (nodes !== 0n || nodeFlags !== 0) fail(EINVAL);
      return { mode, flags, nodes: 0n };
    case MPOL_PREFERRED:
      // An empty preferred set means "local" (which takes no node flags).
      if (nodes === 0n && nodeFlags !== 0) fail(EINVAL);
      return nodes === 0n ? { mode: MPOL_LOCAL, flags, nodes: 0n } : { mode, flags, nodes: 1n };
    default:
      if (nodes === 0n) fail(EINVAL);
      return { mode, flags, nodes: 1n };
  }
}

/** copy_nodes_to_user: a mask of maxnode - 1 bits, at most a page of them, at least ours. */
function writeNodes(t: Task, addr: number, maxnode: number, nodes: bigint): void {
  if (addr === 0) return;
  if (maxnode - 1 < 1) fail(EINVAL);
  const bytes = Math.ceil((maxnode - 1) / 64) * 8;
  if (bytes > PAGE_SIZE) fail(EINVAL);
  const out = new Uint8Array(bytes);
  out[0] = Number(nodes & 0xffn);
  t.mm.copyOut(addr, out);
}

function sysSetMempolicy(t: Task, a: SyscallArgs): number {
  taskPolicy.set(t, checkPolicy(a.int(0), readNodes(t, a.ptr(1), a.size(2))));
  return 0;
}

function sysGetMempolicy(t: Task, a: SyscallArgs): number {
  const modeAddr = a.ptr(0), maskAddr = a.ptr(1), maxnode = a.size(2), addr = a.ptr(3), flags = a.uint(4);
  if ((flags & ~(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) !== 0) fail(EINVAL);
  if ((flags & MPOL_F_MEMS_ALLOWED) !== 0) {
    if ((flags & (MPOL_F_NODE | MPOL_F_ADDR)) !== 0) fail(EINVAL);
    if (modeAddr !== 0) t.mm.writeI32(modeAddr, 0);
    writeNodes(t, maskAddr, maxnode, 1n);
    return 0;
  }
  let p: Policy = taskPolicy.get(t) ?? DEFAULT;
  let mode: number;
  if ((flags & MPOL_F_ADDR) !== 0) {
    if (!t.mm.vmas.find(addr)) fail(EFAULT);
    p = t.mm.vmas.find(addr)?.policy ?? DEFAULT;
    // MPOL_F_NODE with an address: the node of that page (faulting it in, as Linux does).
    mode = (flags & MPOL_F_NODE) !== 0 ? 0 : p.mode | p.flags;
    if ((flags & MPOL_F_NODE) !== 0) t.mm.copyIn(addr, 1);
  } else if (addr !== 0) {
    fail(EINVAL);
  } else if ((flags & MPOL_F_NODE) !== 0) {
    // MPOL_F_NODE alone: the next node of an interleaving task policy; nothing else has one.
    if (p.mode !== MPOL_INTERLEAVE && p.mode !== MPOL_WEIGHTED_INTERLEAVE) fail(EINVAL);
    mode = 0;
  } else {
    mode = p.mode | p.flags;
  }
  if (modeAddr !== 0) t.mm.writeI32(modeAddr, mode);
  writeNodes(t, maskAddr, maxnode, p.nodes);
  return 0;
}

function sysMbind(t: Task, a: SyscallArgs): number {
  const start = a.ptr(0), len = a.size(1), modeArg = a.int(2), flags = a.uint(5);
  if ((flags & ~(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) !== 0) fail(EINVAL);
  if ((flags & MPOL_MF_MOVE_ALL) !== 0 && !t.creds.hasCapability(CAP_SYS_NICE)) fail(EPERM);
  if (!isPageAligned(start)) fail(EINVAL);
  const p = checkPolicy(modeArg, readNodes(t, a.ptr(3), a.size(4)));
  const end = start + pageUp(len);
  if (end === start) return 0;
  if (!t.mm.isMapped(start, end - start)) fail(EFAULT);
  // The default policy is none at all (mpol_new gives NULL), so such a range merges back.
  t.mm.setPolicy(start, end, p.mode === MPOL_DEFAULT ? null : p);
  return 0;
}

function targetOf(t: Task, pid: number): Task {
  if (pid === 0) return t;
  const o = findTask(t, pid);
  if (o === undefined) fail(ESRCH);
  if (!ptraceMayAccess(t, o.tg)) fail(EPERM);
  return o;
}

function sysMovePages(t: Task, a: SyscallArgs): number {
  const target = targetOf(t, a.int(0));
  const count = a.size(1), pagesAddr = a.ptr(2), nodesAddr = a.ptr(3), statusAddr = a.ptr(4), flags = a.uint(5);
  if ((flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) !== 0) fail(EINVAL);
  for (let i = 0; i < count; i++) {
    const page = Number(t.mm.readU64(pagesAddr + i * 8));
    if (nodesAddr !== 0 && t.mm.readI32(nodesAddr + i * 4) !== 0) fail(badNodeErrno(t.mm.readI32(nodesAddr + i * 4)));
    const vma = target.mm.vmas.find(page);
    const present = vma !== undefined && target.mm.pmas.lookup(page - (page % PAGE_SIZE)) >= 0;
    t.mm.writeI32(statusAddr + i * 4, vma === undefined ? -EFAULT : present ? 0 : -ENOENT);
  }
  return 0;
}

/** A node beyond ours: ENODEV if it could exist, EINVAL past MAX_NUMNODES (do_pages_move). */
function badNodeErrno(node: number): number {
  return node < 0 || node >= MAX_NUMNODES ? EINVAL : ENODEV;
}

function sysMigratePages(t: Task, a: SyscallArgs): number {
  targetOf(t, a.int(0));
  readNodes(t, a.ptr(2), a.size(1));
  readNodes(t, a.ptr(3), a.size(1));
  return 0; // nothing is anywhere else
}

function sysSetMempolicyHomeNode(t: Task, a: SyscallArgs): number {
  const start = a.ptr(0), len = a.size(1), node = a.size(2);
  if (a.uint(3) !== 0 || !isPageAligned(start)) fail(EINVAL);
  if (node !== 0) fail(EINVAL);
  if (!t.mm.isMapped(start, pageUp(len))) fail(EFAULT);
  return 0;
}

export function registerMempolicy(table: SyscallTable): void {
  table[SYS_set_mempolicy] = { name: 'set_mempolicy', handler: sysSetMempolicy, args: ['int', 'ptr', 'size'] };
  table[SYS_get_mempolicy] = { name: 'get_mempolicy', handler: sysGetMempolicy, args: ['outptr', 'outptr', 'size', 'ptr', 'hex'] };
  table[SYS_mbind] = { name: 'mbind', handler: sysMbind, args: ['ptr', 'size', 'int', 'ptr', 'size', 'hex'] };
  table[SYS_move_pages] = { name: 'move_pages', handler: sysMovePages, args: ['int', 'size', 'ptr', 'ptr', 'ptr', 'hex'] };
  table[SYS_migrate_pages] = { name: 'migrate_pages', handler: sysMigratePages, args: ['int', 'size', 'ptr', 'ptr'] };
  table[SYS_set_mempolicy_home_node] = {
    name: 'set_mempolicy_home_node', handler: sysSetMempolicyHomeNode, args: ['ptr', 'size', 'size', 'hex'],
  };
}
