// Capabilities (include/uapi/linux/capability.h, securebits.h): the numbers, the sets as
// 64-bit masks, and the securebits. The sandbox has one user namespace, so "capable" means
// the bit is in the effective set.

export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_FSETID = 4;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_LINUX_IMMUTABLE = 9;
export const CAP_NET_BIND_SERVICE = 10;
export const CAP_NET_RAW = 13;
export const CAP_IPC_LOCK = 14;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_CHROOT = 18;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_NICE = 23;
export const CAP_SYS_RESOURCE = 24;
export const CAP_SYS_TIME = 25;
export const CAP_MKNOD = 27;
export const CAP_SETFCAP = 31;
export const CAP_MAC_OVERRIDE = 32;
export const CAP_SYSLOG = 34;
export const CAP_WAKE_ALARM = 35;
export const CAP_CHECKPOINT_RESTORE = 40;
/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
export const CAP_LAST_CAP = 40;

/** Every valid capability (CAP_VALID_MASK). */
export const CAP_FULL_SET = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;
export const CAP_EMPTY_SET = 0n;

/** The capabilities an fsuid change to or from 0 drops or raises (CAP_FS_MASK). */
export const CAP_FS_SET = [CAP_CHOWN, CAP_MKNOD, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_LINUX_IMMUTABLE,
  CAP_FSETID, CAP_MAC_OVERRIDE].reduce((m, c) => m | capMask(c), 0n);

export function capValid(cap: number | bigint): boolean {
  return cap >= 0 && cap <= CAP_LAST_CAP;
}

export function capMask(cap: number): bigint {
  return 1n << BigInt(cap);
}

export function capRaised(set: bigint, cap: number): boolean {
  return (set & capMask(cap)) !== 0n;
}

export function capIsSubset(a: bigint, b: bigint): boolean {
  return (a & ~b) === 0n;
}

// Securebits (include/uapi/linux/securebits.h): each bit has a lock bit just above it.
export const SECURE_NOROOT = 0;
export const SECURE_NO_SETUID_FIXUP = 2;
export const SECURE_KEEP_CAPS = 4;
export const SECURE_KEEP_CAPS_LOCKED = 5;
export const SECURE_NO_CAP_AMBIENT_RAISE = 6;
export const SECURE_EXEC_RESTRICT_FILE = 8;
export const SECURE_EXEC_DENY_INTERACTIVE = 10;

export const SECURE_ALL_BITS = [SECURE_NOROOT, SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS,
  SECURE_NO_CAP_AMBIENT_RAISE, SECURE_EXEC_RESTRICT_FILE, SECURE_EXEC_DENY_INTERACTIVE]
  .reduce((m, b) => m | (1 << b), 0);
export const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1;

export function issecure(securebits: number, bit: number): boolean {
  return (securebits & (1 << bit)) !== 0;
}
