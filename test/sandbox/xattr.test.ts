// Extended attributes (sys_xattr.ts, vfs/xattr.ts, vfs/posix_acl.ts, tmpfs, overlay, gofer):
// the fixture's targeted checks and a fixed-seed fuzz on a tmpfs directory compared with the
// native run (/dev/shm natively; the path is the same inside), real programs (python3,
// cp -a, tar --xattrs), the overlay's lower layer (user.* of the host's files, kept on
// copy-up) and --volume files (set on the host through the gofer, which refuses every
// namespace but user.*: checked on the host side). Before, no file had any attribute and
// every set was EOPNOTSUPP.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { release, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostKernelBefore } from '../helpers/native_kernel';
import { describeResult, expectSameAsNative, fixture, platforms, runSandbox, skipBecause, TIME_SCALE } from '../helpers/run';

const python = '/usr/bin/python3';
const notRoot = skipBecause(process.getuid?.() !== 0, 'the fixture sets trusted.* and changes uid: it needs root');
const noShm = skipBecause(!fs.existsSync('/dev/shm'), 'no /dev/shm to run the native side on a tmpfs');
/** tmpfs keeps user.* only since Linux 6.6 (the KVM step's guest runs 6.1): before, every
 *  user.* call there is EOPNOTSUPP natively, nothing to compare the sandbox's tmpfs with. */
const noTmpfsUserXattrs = skipBecause(hostKernelBefore(6, 6),
  `host kernel ${release()} predates 6.6: its tmpfs has no user.* xattrs, the native side of the tmpfs comparisons cannot run`);
const noPython = skipBecause(!fs.existsSync(python), 'no /usr/bin/python3');
const [major, minor] = release().split('.').map(Number);
const noXattrat = skipBecause(major < 6 || (major === 6 && minor < 13), `host kernel ${release()} has no *xattrat (6.13)`);

/** Host-side xattr calls (Node has none). */
function hostPy(code: string): string {
  return execFileSync(python, ['-c', `import os, sys\n${code}`], { encoding: 'utf8' });
}

const base = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-xattr-'));
afterAll(() => { fs.rmSync(base, { recursive: true, force: true }); });

/** Can the host side set user.* in the temp dir? */
function hostKeepsXattrs(): boolean {
  if (noPython) return false;
  fs.writeFileSync(path.join(base, 'probe'), '');
  try {
    hostPy(`os.setxattr(${JSON.stringify(path.join(base, 'probe'))}, 'user.p', b'1')`);
    return true;
  } catch {
    return false;
  }
}
const noHost = skipBecause(!hostKeepsXattrs(), 'no python3 or no user xattrs on the temp dir');

describe.each(platforms)('%s', (platform) => {
  it.skipIf(notRoot || noShm || noTmpfsUserXattrs)('targeted checks as natively on tmpfs (fixture xattr)', async () => {
    await expectSameAsNative([fixture('xattr'), `/dev/shm/tsvisor-xattr-${process.pid}-${platform}`], platform, 60_000);
  }, 120_000 * TIME_SCALE);

  it.skipIf(notRoot || noShm || noTmpfsUserXattrs)('a fixed-seed fuzz of names, sizes, flags and buffers as natively', async () => {
    await expectSameAsNative([fixture('xattr'), `/dev/shm/tsvisor-xfuzz-${process.pid}-${platform}`, 'fuzz', '0x5eed', '4000'],
      platform, 90_000);
  }, 150_000 * TIME_SCALE);

  it.skipIf(notRoot || noShm || noXattrat)('setxattrat/getxattrat/listxattrat/removexattrat as natively', async () => {
    await expectSameAsNative([fixture('xattr'), `/dev/shm/tsvisor-xat-${process.pid}-${platform}`, 'at'], platform, 60_000);
  }, 120_000 * TIME_SCALE);

  it.skipIf(noPython)('python3 round trip, cp -a and tar --xattrs keep them; an ACL the mode cannot say is EOPNOTSUPP', async () => {
    const script = [
      'cd /tmp && echo hi > a',
      `${python} -c "import os; os.setxattr('a', 'user.color', b'blue\\x00\\xff'); os.setxattr('a', 'trusted.t', b'tt')"`,
      'cp -a a b && tar --xattrs --xattrs-include="*" -cf t.tar a && mkdir x && cd x && tar --xattrs --xattrs-include="*" -xf ../t.tar && cd ..',
      `${python} -c "
import os
print(os.getxattr('a', 'user.color'), sorted(os.listxattr('b')), os.getxattr('b', 'user.color'), sorted(os.listxattr('x/a')))
os.removexattr('b', 'user.color'); print(os.listxattr('b'))
acl = bytes([2,0,0,0, 1,0,7,0,255,255,255,255, 4,0,5,0,255,255,255,255, 16,0,5,0,255,255,255,255, 32,0,1,0,255,255,255,255])
try: os.setxattr('a', 'system.posix_acl_access', acl)
except OSError as e: print('mask ACL', e.errno)
"`,
    ].join(' && ');
    const r = await runSandbox(['/bin/sh', '-c', script], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe(
      "b'blue\\x00\\xff' ['trusted.t', 'user.color'] b'blue\\x00\\xff' ['trusted.t', 'user.color']\n['trusted.t']\nmask ACL 95\n");
    expect(r.code).toBe(0);
  }, 90_000 * TIME_SCALE);

  it.skipIf(noHost)('the overlay shows the host files\' user.* and keeps them on copy-up; the host file is unchanged', async () => {
    const d = fs.mkdtempSync(path.join(base, 'low-'));
    const f = path.join(d, 'f');
    fs.writeFileSync(f, 'data');
    hostPy(`os.setxattr(${JSON.stringify(f)}, 'user.origin', b'host')`);
    const r = await runSandbox([python, '-c', `
import os
p = ${JSON.stringify(f)}
print(os.listxattr(p), os.getxattr(p, 'user.origin'))
os.chmod(p, 0o600)
print(os.listxattr(p), os.getxattr(p, 'user.origin'))
os.setxattr(p, 'user.new', b'n'); os.removexattr(p, 'user.origin')
print(os.listxattr(p))
`], { platform, timeoutMs: 60_000 });
    expect(r.stdout, describeResult(r)).toBe("['user.origin'] b'host'\n['user.origin'] b'host'\n['user.new']\n");
    expect(hostPy(`print(os.listxattr(${JSON.stringify(f)}))`)).toBe("['user.origin']\n");
  }, 90_000 * TIME_SCALE);

  it.skipIf(noHost)('--volume: user.* reaches the host file; trusted.*, security.* and a read-only volume are refused (host side checked)', async () => {
    const d = fs.mkdtempSync(path.join(base, 'vol-'));
    const ro = fs.mkdtempSync(path.join(base, 'ro-'));
    fs.writeFileSync(path.join(d, 'f'), 'v');
    fs.writeFileSync(path.join(ro, 'f'), 'v');
    hostPy(`os.setxattr(${JSON.stringify(path.join(d, 'f'))}, 'user.origin', b'vol')`);
    const r = await runSandbox([python, '-c', `
import os
v = '/vol/f'
print(os.listxattr(v), os.getxattr(v, 'user.origin'))
os.setxattr(v, 'user.added', b'123'); os.setxattr(v, 'user.empty', b''); os.removexattr(v, 'user.origin')
os.setxattr('/vol', 'user.dir', b'd')
for n, val in [('trusted.x', b'1'), ('security.x', b'1'), ('security.capability', bytes([0,0,0,2]) + bytes(16))]:
    try: os.setxattr(v, n, val); print(n, 'set')
    except OSError as e: print(n, e.errno)
for call in [lambda: os.setxattr('/ro/f', 'user.x', b'1'), lambda: os.removexattr('/ro/f', 'user.x')]:
    try: call()
    except OSError as e: print('ro', e.errno)
try: os.setxattr(v, 'user.added', b'z', os.XATTR_CREATE)
except OSError as e: print('create', e.errno)
print(sorted(os.listxattr(v)), os.getxattr(v, 'user.empty'))
`], { platform, timeoutMs: 60_000, extraArgs: ['--volume', `${d}:/vol`, '--volume', `${ro}:/ro:ro`] });
    expect(r.stdout, describeResult(r)).toBe([
      "['user.origin'] b'vol'", 'trusted.x 95', 'security.x 95', 'security.capability 95', 'ro 30', 'ro 30', 'create 17',
      "['user.added', 'user.empty'] b''", '',
    ].join('\n'));
    const host = hostPy(`
for p in [${JSON.stringify(path.join(d, 'f'))}, ${JSON.stringify(d)}, ${JSON.stringify(path.join(ro, 'f'))}]:
    print(sorted(os.listxattr(p)))
print(os.getxattr(${JSON.stringify(path.join(d, 'f'))}, 'user.added'))
`);
    expect(host).toBe("['user.added', 'user.empty']\n['user.dir']\n[]\nb'123'\n");
  }, 90_000 * TIME_SCALE);

  it.skipIf(noHost)('hostile: a --volume symlink to a host file outside leads into the sandbox\'s own view; no host file gains an attribute', async () => {
    const d = fs.mkdtempSync(path.join(base, 'link-'));
    const outside = fs.mkdtempSync(path.join(base, 'outside-'));
    const target = path.join(outside, 'secret');
    fs.writeFileSync(target, 's');
    fs.symlinkSync(target, path.join(d, 'out'));
    const r = await runSandbox([python, '-c', `
import os
os.setxattr('/vol/out', 'user.x', b'1'); print(os.getxattr(${JSON.stringify(target)}, 'user.x'))
try: os.setxattr('/vol/out', 'user.y', b'1', follow_symlinks=False)
except OSError as e: print('link itself', e.errno)
try: os.setxattr('/vol/out', 'trusted.y', b'1', follow_symlinks=False)
except OSError as e: print('trusted on the link', e.errno)
`], { platform, timeoutMs: 60_000, extraArgs: ['--volume', `${d}:/vol`] });
    expect(r.stdout, describeResult(r)).toBe("b'1'\nlink itself 1\ntrusted on the link 95\n");
    expect(hostPy(`print(os.listxattr(${JSON.stringify(target)}), os.listxattr(${JSON.stringify(path.join(d, 'out'))}, follow_symlinks=False))`))
      .toBe('[] []\n');
  }, 90_000 * TIME_SCALE);
});
