// A Landlock ruleset under construction (Linux security/landlock/syscalls.c ruleset_fops): the
// fd landlock_create_ruleset returns. Rules are added to it until a restrict_self takes a copy
// into the caller's domain; later rules do not change a domain made from it. Reading or
// writing it is EINVAL.

import type { Task } from '../task';
import { FileDescription, type Stat } from '../../vfs/file_description';
import { EINVAL } from '../../abi/linux/errno';
import { O_RDWR } from '../../abi/linux/fcntl';
import { fail } from '../syscall_error';
import { anonInodeStat, anonOwner, type AnonOwner } from '../anon_inode';
import { ACCESS_INITIALLY_DENIED, LANDLOCK_MASK_ACCESS_FS } from './domain';

export class LandlockRulesetFile extends FileDescription {
  /** Per file identity, the rights granted beneath it (absolute: unhandled rights added). */
  readonly rules = new Map<object, number>();
  private readonly owner: AnonOwner;

  constructor(t: Task, readonly handled: number) {
    super(O_RDWR);
    this.owner = anonOwner(t);
  }

  /** landlock_append_fs_rule: rules on one file add up; what the ruleset does not handle is
   *  granted, but for REFER, which only a rule of a ruleset handling it grants. */
  addRule(identity: object, allowed: number): void {
    const absolute = allowed | (LANDLOCK_MASK_ACCESS_FS & ~(this.handled | ACCESS_INITIALLY_DENIED));
    this.rules.set(identity, (this.rules.get(identity) ?? 0) | absolute);
  }

  override read(): number { fail(EINVAL); }
  override write(): number { fail(EINVAL); }
  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[landlock-ruleset]'; }
}
