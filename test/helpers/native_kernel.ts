// Differential tests against a native run made on an older or emulated kernel: the KVM step's
// QEMU guest runs Linux 6.1 on an emulated CPU, while tsvisor answers as a current Linux. Where
// a native line there cannot be the sandbox's, a test names the cause (skipBecause prints it),
// checks that the native run gave exactly the old kernel's answer, and expects the current
// answer from the sandbox — every other line still compared as it is.
import { readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { expect } from 'vitest';
import { describeResult, runNative, runSandbox, skipBecause } from './run';

const [MAJOR, MINOR] = release().split('.').map(Number);

/** Whether the kernel this test runs on is older than major.minor. */
export function hostKernelBefore(major: number, minor: number): boolean {
  return MAJOR < major || (MAJOR === major && MINOR < minor);
}

/** In the QEMU guest of `npm run test:kvm` (guest-run.sh sets this). */
export const inQemuGuest = process.env.TSVISOR_KVM_GUEST === '1';

/** Whether this machine's CPU is QEMU's TCG emulation (its `max` model names itself so), the
 *  guest's usual accelerator: a guest run with --accel kvm has the host's CPU and is not. */
export function underTcg(): boolean {
  if (!inQemuGuest) return false;
  try {
    return /^model name\s*:\s*QEMU TCG CPU/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** One native line (or run of lines) as the old kernel prints it, and what a current one does. */
export interface LineEdit {
  /** Matches the old kernel's text; must occur in the native output exactly once. */
  old: RegExp;
  /** The current kernel's text in its place. */
  now: string;
  /** A race the emulated CPU loses only most of the time: the old text may also be absent. */
  sometimes?: boolean;
  /** How many times the old text occurs (default once): a layout repeated in one output,
   *  every occurrence rewritten. */
  times?: number;
}

/** The native output rewritten to the current kernel's: each edit's old text must be found
 *  once, or `times` times (at most once if `sometimes`), so a native run that already answers
 *  as the current kernel fails the test (and the edit is then dead and to be removed). */
export function asCurrentKernel(stdout: string, edits: LineEdit[]): string {
  let out = stdout;
  for (const e of edits) {
    const every = new RegExp(e.old.source, `${e.old.flags.replace('g', '')}g`);
    const all = out.match(every) ?? [];
    const times = e.times ?? 1;
    if (e.sometimes) expect(all.length, `native output should hold ${e.old} at most once:\n${stdout}`).toBeLessThan(2);
    else expect(all.length, `native output should hold ${e.old} ${times} time(s):\n${stdout}`).toBe(times);
    out = out.replace(every, e.now);
  }
  return out;
}

/** expectSameAsNative with the native output read as the current kernel's (asCurrentKernel). */
export async function expectSameAsCurrentKernel(argv: string[], platform: string, edits: LineEdit[], timeoutMs?: number): Promise<void> {
  const native = await runNative(argv, { timeoutMs });
  const r = await runSandbox(argv, { platform, timeoutMs });
  expect(r.stdout, describeResult(r)).toBe(asCurrentKernel(native.stdout, edits));
  expect(r.code, describeResult(r)).toBe(native.code);
}

/** Whether the native kernel shows `inode64` on a tmpfs mounted without it: a kernel built with
 *  CONFIG_TMPFS_INODE64 (Debian's: the QEMU guest's) mounts every tmpfs with 64-bit inode
 *  numbers and shmem_show_options names them; without it (the default, and the sandbox's model)
 *  only a mount asked for inode64 shows it. Told from this process's tmpfs mounts: every one
 *  names its inode size there. */
export function nativeTmpfsShowsInode64(): boolean {
  let tmpfs: string[];
  try {
    tmpfs = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'tmpfs');
  } catch {
    return false;
  }
  return tmpfs.length > 0 && tmpfs.every((l) => /[ ,]inode(64|32)[ ,]/.test(l));
}

/** For a differential test that lists tmpfs mounts: where the native kernel names inode64 on
 *  every tmpfs (nativeTmpfsShowsInode64), the reason printed and `line`'s trailing ",inode64"
 *  (`times` lines: those of tmpfs mounts made without inode64) read as a current default
 *  kernel's. */
export function tmpfsInode64Edits(line: RegExp, times: number): LineEdit[] {
  return skipBecause(nativeTmpfsShowsInode64(), 'the host kernel is built with CONFIG_TMPFS_INODE64 (every tmpfs shows inode64): ' +
    'those mount lines are checked and read as a default kernel\'s, which shows it only when asked')
    ? [{ old: new RegExp(`^(${line.source}),inode64$`, 'm'), now: '$1', times }] : [];
}

/** Whether the native kernel is built with CONFIG_MEM_SOFT_DIRTY (Debian's: the QEMU guest's):
 *  it marks every new mapping soft-dirty (VmFlags "sd", pagemap bit 55); the sandbox models a
 *  kernel without it, as the default config is. Told from this process's own mappings. */
export function nativeSoftDirty(): boolean {
  try {
    return /^VmFlags:.* sd\b/m.test(readFileSync('/proc/self/smaps', 'utf8'));
  } catch {
    return false;
  }
}

/** Whether the native kernel runs a security module that labels tasks (AppArmor in Debian's,
 *  the QEMU guest's): /proc/self/attr/current then reads the label ("unconfined"), where a
 *  kernel without one (and the sandbox, which models none) answers EINVAL. */
export function nativeTaskLsm(): boolean {
  try {
    readFileSync('/proc/self/attr/current');
    return true;
  } catch {
    return false;
  }
}

/** Whether this process runs chrooted: its root is not its mount namespace's (pid 1's), as in
 *  the QEMU guest, where the tests run chrooted into the host's root (guest-run.sh). Linux then
 *  refuses the native run what only a process at the real root may do (current_chrooted():
 *  unshare(CLONE_NEWUSER) is EPERM, pivot_root EINVAL). False where pid 1's root is not ours
 *  to look at (not root): such a run cannot tell, and the tests needing root skip anyway. */
export function nativeChrooted(): boolean {
  try {
    const [own, init] = [statSync('/'), statSync('/proc/1/root/')];
    return own.dev !== init.dev || own.ino !== init.ino;
  } catch {
    return false;
  }
}

/** For a test whose native run needs `needs`, which Linux refuses a chrooted process: true,
 *  with the reason printed, where this process is chrooted (nativeChrooted). */
export function skipIfChrooted(needs: string): boolean {
  return skipBecause(nativeChrooted(), `the native run needs ${needs}, which Linux refuses a chrooted process ` +
    '(its root is not pid 1\'s: the QEMU guest of npm run test:kvm runs the tests chrooted into the host\'s root)');
}
