// capget, capset (Linux kernel/capability.c, security/commoncap.c cap_capset). The header
// names a version: v1 moves one 32-bit word of each set, v2 and v3 two; an unknown version
// is EINVAL with the kernel's preferred version written back (how libcap probes).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM, ESRCH } from '../../abi/linux/errno';
import { CAP_FULL_SET, CAP_SETPCAP, capIsSubset } from '../../kernel/capabilities';
import { SYS_capget, SYS_capset } from '../../abi/linux/syscall_numbers';
import { commitCreds } from './commit_creds';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask } from '../../kernel/ns/pid_ns';

const LINUX_CAPABILITY_VERSION_1 = 0x19980330;
const LINUX_CAPABILITY_VERSION_2 = 0x20071026;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
/** Bytes of one __user_cap_data_struct: effective, permitted, inheritable. */
const CAP_DATA_SIZE = 12;

/** cap_validate_magic: the number of data words the version moves, or 0 for an unknown
 *  version (written back as the kernel's). */
function validateMagic(t: Task, header: number): number {
  const version = t.mm.readU32(header);
  switch (version) {
    case LINUX_CAPABILITY_VERSION_1: return 1;
    case LINUX_CAPABILITY_VERSION_2:
    case LINUX_CAPABILITY_VERSION_3: return 2;
    default:
      t.mm.writeU32(header, LINUX_CAPABILITY_VERSION_3);
      return 0;
  }
}

function sysCapget(t: Task, a: SyscallArgs): number {
  const header = a.ptr(0);
  const data = a.ptr(1);
  const words = validateMagic(t, header);
  // A NULL data pointer is the version probe: success even for an unknown version.
  if (data === 0) return 0;
  if (words === 0) fail(EINVAL);
  const pid = t.mm.readI32(header + 4);
  if (pid < 0) fail(EINVAL);
  const target = pid === 0 ? t : findTask(t, pid);
  if (!target || target.exited) fail(ESRCH);
  const c = target.creds;
  const out = new Uint8Array(words * CAP_DATA_SIZE);
  const v = new DataView(out.buffer);
  for (let i = 0; i < words; i++) {
    const shift = BigInt(32 * i);
    v.setUint32(i * CAP_DATA_SIZE, Number((c.capEffective >> shift) & 0xffffffffn), true);
    v.setUint32(i * CAP_DATA_SIZE + 4, Number((c.capPermitted >> shift) & 0xffffffffn), true);
    v.setUint32(i * CAP_DATA_SIZE + 8, Number((c.capInheritable >> shift) & 0xffffffffn), true);
  }
  t.mm.copyOut(data, out);
  return 0;
}

function sysCapset(t: Task, a: SyscallArgs): number {
  const header = a.ptr(0);
  const words = validateMagic(t, header);
  if (words === 0) fail(EINVAL);
  const pid = t.mm.readI32(header + 4);
  if (pid !== 0 && pid !== t.tid) fail(EPERM);
  const b = t.mm.copyIn(a.ptr(1), words * CAP_DATA_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let effective = 0n, permitted = 0n, inheritable = 0n;
  for (let i = 0; i < words; i++) {
    const shift = BigInt(32 * i);
    effective |= BigInt(v.getUint32(i * CAP_DATA_SIZE, true)) << shift;
    permitted |= BigInt(v.getUint32(i * CAP_DATA_SIZE + 4, true)) << shift;
    inheritable |= BigInt(v.getUint32(i * CAP_DATA_SIZE + 8, true)) << shift;
  }
  effective &= CAP_FULL_SET;
  permitted &= CAP_FULL_SET;
  inheritable &= CAP_FULL_SET;
  const old = t.creds;
  // Without CAP_SETPCAP, the inheritable set may only take from the permitted one; it never
  // takes from outside the bounding set.
  if (!old.nsCapable(old.userNs, CAP_SETPCAP) && !capIsSubset(inheritable, old.capInheritable | old.capPermitted)) fail(EPERM);
  if (!capIsSubset(inheritable, old.capInheritable | old.capBounding)) fail(EPERM);
  if (!capIsSubset(permitted, old.capPermitted)) fail(EPERM);
  if (!capIsSubset(effective, permitted)) fail(EPERM);
  const next = old.clone();
  next.capEffective = effective;
  next.capPermitted = permitted;
  next.capInheritable = inheritable;
  next.capAmbient &= permitted & inheritable;
  commitCreds(t, next);
  return 0;
}

export function registerCapability(table: SyscallTable): void {
  table[SYS_capget] = { name: 'capget', handler: sysCapget, args: ['ptr', 'ptr'] };
  table[SYS_capset] = { name: 'capset', handler: sysCapset, args: ['ptr', 'ptr'] };
}
