// A ring's restrictions (IORING_REGISTER_RESTRICTIONS, Linux struct io_restriction): what a
// ring set up with IORING_SETUP_R_DISABLED may do once enabled, registered once before
// IORING_REGISTER_ENABLE_RINGS (a sandbox handing a ring to less trusted code). Refused
// requests and register calls are EACCES.

import { EFAULT, EINVAL } from '../../abi/linux/errno';
import { fail } from '../syscall_error';

const IORING_RESTRICTION_REGISTER_OP = 0, IORING_RESTRICTION_SQE_OP = 1,
  IORING_RESTRICTION_SQE_FLAGS_ALLOWED = 2, IORING_RESTRICTION_SQE_FLAGS_REQUIRED = 3, IORING_RESTRICTION_LAST = 4;
const ENTRY = 16;

export class Restrictions {
  private readonly registerOps = new Set<number>();
  private readonly sqeOps = new Set<number>();
  private flagsAllowed = 0;
  private flagsRequired = 0;

  /** io_register_restrictions' parse of nr struct io_uring_restriction (EINVAL for an unknown
   *  kind or an op past the last). */
  constructor(raw: Uint8Array, nr: number, registerLast: number, opLast: number) {
    if (raw.length < nr * ENTRY) fail(EFAULT);
    for (let i = 0; i < nr; i++) {
      const kind = raw[i * ENTRY] | (raw[i * ENTRY + 1] << 8), v = raw[i * ENTRY + 2];
      switch (kind) {
        case IORING_RESTRICTION_REGISTER_OP:
          if (v >= registerLast) fail(EINVAL);
          this.registerOps.add(v);
          break;
        case IORING_RESTRICTION_SQE_OP:
          if (v >= opLast) fail(EINVAL);
          this.sqeOps.add(v);
          break;
        case IORING_RESTRICTION_SQE_FLAGS_ALLOWED: this.flagsAllowed = v; break;
        case IORING_RESTRICTION_SQE_FLAGS_REQUIRED: this.flagsRequired = v; break;
        default: fail(EINVAL);
      }
    }
  }

  static maxEntries(registerLast: number): number { return IORING_RESTRICTION_LAST + registerLast; }

  registerAllowed(op: number): boolean { return this.registerOps.has(op); }

  /** io_check_restriction. */
  sqeAllowed(opcode: number, sqeFlags: number): boolean {
    if (!this.sqeOps.has(opcode)) return false;
    if ((sqeFlags & this.flagsRequired) !== this.flagsRequired) return false;
    return (sqeFlags & ~(this.flagsAllowed | this.flagsRequired)) === 0;
  }
}
