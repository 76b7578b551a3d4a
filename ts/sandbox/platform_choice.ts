// Choosing the platform named by --platform: the names tsvisor knows, the order `auto` tries
// them in, and the one line that says why a platform cannot run here. It owns the choice and
// the debug-log lines about it; the platforms themselves are the addon's (../native/addon.ts).

import * as fs from 'node:fs';
import { addon, errnoOfNative, type NativeMemoryFile, type NativePlatform } from '../native/addon';
import { UserError } from './errors';

/** Every platform --platform accepts. */
export const PLATFORMS = ['systrap', 'ptrace', 'kvm'];

/** What `auto` tries, in order. kvm joins once the whole sandbox suite passes on it (issue 11). */
export const AUTO_PLATFORMS = ['systrap', 'ptrace'];

export const KVM_DEVICE = '/dev/kvm';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENODEV: 'No such device',
  ENXIO: 'No such device or address',
  EBUSY: 'Device or resource busy',
  EROFS: 'Read-only file system',
};

/** Why the KVM device cannot be used by this process, or null where it opens read-write.
 *  Only the open is checked here; whether a vCPU really runs is the platform's to find out. */
export function kvmDeviceProblem(device = KVM_DEVICE): string | null {
  let fd: number;
  try {
    fd = fs.openSync(device, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return `${device}: ${STRERROR[code] ?? code}`;
  }
  try {
    if (!fs.fstatSync(fd).isCharacterDevice()) return `${device}: not a character device`;
  } finally {
    fs.closeSync(fd);
  }
  return null;
}

/** The addon's refusal as one short clause: "ENOSYS: Function not implemented (os error 38)". */
function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The addon's own check of the host's KVM, where the addon has one (crates/kvm). */
function addonKvmReason(): string | null {
  const a = addon() as { kvmUnavailableReason?: () => string | null };
  return typeof a.kvmUnavailableReason === 'function' ? a.kvmUnavailableReason() : null;
}

function kvmPlatform(mf: NativeMemoryFile): NativePlatform {
  const problem = kvmDeviceProblem() ?? addonKvmReason();
  if (problem !== null) throw new UserError(`tsvisor: platform kvm: ${problem}`, 125);
  try {
    return new (addon().Platform)(mf, 'kvm');
  } catch (e) {
    // Its page tables and stub pages come from the memory file: a --memory too small for them
    // is the program's out-of-memory (runSandbox says so), not a host that cannot run KVM.
    if (errnoOfNative(e) === 'ENOMEM') throw e;
    // The addon answers ENOENT for a name it was built without; else "EXXX: why".
    const why = errnoOfNative(e) === 'ENOENT'
      ? 'this build of the addon has no kvm platform (crates/kvm is not linked into it)'
      : reason(e).replace(/^E[A-Z0-9]+: /, '');
    throw new UserError(`tsvisor: platform kvm: ${why}`, 125);
  }
}

/** The platform --platform=NAME asks for; `log` gets the lines --debug-log should show, or is
 *  null when nobody reads them (then /dev/kvm is not probed only to say why auto skips it). */
export function choosePlatform(mf: NativeMemoryFile, name: string, logTo: ((msg: string) => void) | null): NativePlatform {
  const log = logTo ?? ((): void => {});
  if (name !== 'auto') {
    if (!PLATFORMS.includes(name)) {
      throw new UserError(`tsvisor: unknown platform "${name}" (available: ${PLATFORMS.join(', ')}, auto)`, 125);
    }
    const p = name === 'kvm' ? kvmPlatform(mf) : explicitPlatform(mf, name);
    log(`platform: ${name}, as --platform asked${p.detail ? `; ${p.detail}` : ''}`);
    return p;
  }
  if (!AUTO_PLATFORMS.includes('kvm') && logTo !== null) {
    const dev = kvmDeviceProblem();
    log(`platform auto: kvm is not in auto's list until the sandbox suite passes on it (${dev ?? `${KVM_DEVICE} opens`}; --platform=kvm asks for it)`);
  }
  const failed: string[] = [];
  for (const p of AUTO_PLATFORMS) {
    try {
      const platform = p === 'kvm' ? kvmPlatform(mf) : new (addon().Platform)(mf, p);
      log(`platform auto: ${p} works here: chosen${failed.length > 0 ? ` (after ${failed.join(', ')})` : ` (the first of ${AUTO_PLATFORMS.join(', ')})`}${platform.detail ? `; ${platform.detail}` : ''}`);
      return platform;
    } catch (e) {
      const why = e instanceof UserError ? e.message.replace(/^tsvisor: platform \w+: /, '') : reason(e);
      log(`platform auto: ${p} cannot run here: ${why}`);
      failed.push(p);
    }
  }
  throw new UserError(`tsvisor: no platform can run here (tried ${AUTO_PLATFORMS.join(', ')}; --debug-log says why)`, 125);
}

function explicitPlatform(mf: NativeMemoryFile, name: string): NativePlatform {
  try {
    return new (addon().Platform)(mf, name);
  } catch (e) {
    throw new UserError(`tsvisor: platform ${name} cannot run here (${reason(e)})`, 125);
  }
}
