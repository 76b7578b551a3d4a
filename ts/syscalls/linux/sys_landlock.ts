// landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (Linux
// security/landlock/syscalls.c, ABI 2 as in 6.1), over kernel/landlock: argument checks in
// Linux's order and with its errnos; the domain is enforced by the VFS (open, exec, making,
// removing, linking and renaming names), by mount changes (EPERM inside a domain) and by
// ptrace access (a domain may not reach a task outside it).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EBADF, EBADFD, EFAULT, EINVAL, ENOMSG, EPERM } from '../../abi/linux/errno';
import {
  SYS_landlock_add_rule, SYS_landlock_create_ruleset, SYS_landlock_restrict_self,
} from '../../abi/linux/syscall_numbers';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { O_PATH } from '../../abi/linux/fcntl';
import {
  ACCESS_FILE, LANDLOCK_ABI_VERSION, LANDLOCK_MASK_ACCESS_FS, LANDLOCK_MAX_NUM_LAYERS, LandlockDomain,
} from '../../kernel/landlock/domain';
import { LandlockRulesetFile } from '../../kernel/landlock/ruleset_file';
import { VfsFile } from '../../vfs/vfs_file';
import type { SyscallArgs, SyscallTable } from './types';
import { nofileLimit } from './fd_util';
import { taskAttrs } from './task_attrs';
import { commitCreds } from './commit_creds';

const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_PATH_BENEATH = 1;
/** offsetofend(struct landlock_ruleset_attr, handled_access_fs): the least a caller may pass. */
const RULESET_ATTR_MIN = 8;
/** sizeof(struct landlock_ruleset_attr) in 6.1 (handled_access_fs only). */
const RULESET_ATTR_SIZE = 8;
/** sizeof(struct landlock_path_beneath_attr), packed: u64 allowed_access, s32 parent_fd. */
const PATH_BENEATH_ATTR_SIZE = 12;
const PAGE_SIZE = 4096;

function sysCreateRuleset(t: Task, a: SyscallArgs): number {
  const attr = a.ptr(0), size = a.size(1), flags = a.uint(2);
  if (flags !== 0) {
    if (flags === LANDLOCK_CREATE_RULESET_VERSION && attr === 0 && size === 0) return LANDLOCK_ABI_VERSION;
    fail(EINVAL);
  }
  // copy_min_struct_from_user.
  if (attr === 0) fail(EFAULT);
  if (size < RULESET_ATTR_MIN) fail(EINVAL);
  if (size > PAGE_SIZE) fail(E2BIG);
  const raw = t.mm.copyIn(attr, size);
  for (let i = RULESET_ATTR_SIZE; i < size; i++) if (raw[i] !== 0) fail(E2BIG);
  const handled = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true);
  if ((handled & ~BigInt(LANDLOCK_MASK_ACCESS_FS)) !== 0n) fail(EINVAL);
  if (handled === 0n) fail(ENOMSG);
  const f = new LandlockRulesetFile(t, Number(handled));
  try {
    return t.fdTable.newFD(f, { cloexec: true, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

/** get_ruleset_from_fd (fdget: an O_PATH file is no file there). */
function rulesetOf(t: Task, fd: number): LandlockRulesetFile {
  const f = t.fdTable.get(fd);
  if (!f || (f.flags & O_PATH) !== 0) fail(EBADF);
  if (!(f instanceof LandlockRulesetFile)) fail(EBADFD);
  return f;
}

function sysAddRule(t: Task, a: SyscallArgs): number {
  const fd = a.int(0), type = a.uint(1), attr = a.ptr(2), flags = a.uint(3);
  if (flags !== 0) fail(EINVAL);
  const ruleset = rulesetOf(t, fd);
  if (type !== LANDLOCK_RULE_PATH_BENEATH) fail(EINVAL);
  const raw = t.mm.copyIn(attr, PATH_BENEATH_ATTR_SIZE);
  const v = new DataView(raw.buffer, raw.byteOffset, PATH_BENEATH_ATTR_SIZE);
  const allowed = v.getBigUint64(0, true);
  const parentFd = v.getInt32(8, true);
  if (allowed === 0n) fail(ENOMSG);
  if ((allowed & ~BigInt(ruleset.handled)) !== 0n) fail(EINVAL);
  // get_path_from_fd: any open file with a place in a tree (O_PATH ones too); pipes, sockets
  // and other anonymous files are EBADFD.
  const parent = t.fdTable.get(parentFd);
  if (!parent) fail(EBADF);
  if (!(parent instanceof VfsFile)) fail(EBADFD);
  const access = Number(allowed);
  if (!parent.vd.inode.isDir && (access | ACCESS_FILE) !== ACCESS_FILE) fail(EINVAL);
  ruleset.addRule(parent.vd.inode.identity(), access);
  return 0;
}

function sysRestrictSelf(t: Task, a: SyscallArgs): number {
  const fd = a.int(0), flags = a.uint(1);
  if (flags !== 0) fail(EINVAL);
  if (!taskAttrs(t).noNewPrivs && !t.creds.nsCapable(t.creds.userNs, CAP_SYS_ADMIN)) fail(EPERM);
  const ruleset = rulesetOf(t, fd);
  const parent = t.creds.landlock;
  if (parent !== null && parent.layers.length >= LANDLOCK_MAX_NUM_LAYERS) fail(E2BIG);
  const creds = t.creds.clone();
  creds.landlock = LandlockDomain.stack(parent, ruleset.handled, ruleset.rules);
  commitCreds(t, creds);
  return 0;
}

export function registerLandlock(table: SyscallTable): void {
  table[SYS_landlock_create_ruleset] = { name: 'landlock_create_ruleset', handler: sysCreateRuleset, args: ['ptr', 'size', 'hex'] };
  table[SYS_landlock_add_rule] = { name: 'landlock_add_rule', handler: sysAddRule, args: ['fd', 'int', 'ptr', 'hex'] };
  table[SYS_landlock_restrict_self] = { name: 'landlock_restrict_self', handler: sysRestrictSelf, args: ['fd', 'hex'] };
}
