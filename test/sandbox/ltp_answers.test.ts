// Answers that differed from Linux's in a run of the Linux Test Project's syscall tests: each
// subcommand of ltp_answers.c must give the same output and status in the sandbox as natively.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  const same = (cmd: string): Promise<void> => expectSameAsNative([fixture('ltp_answers'), cmd], platform, 20_000);

  it('O_NOATIME only for the owner, after the access checks', () => same('noatime'));
  it('madvise: locked memory, MADV_REMOVE of files and its errnos, no KSM', () => same('madvise'));
  it('mmap: empty length before the access mode; read-only /dev/zero stays read-only', () => same('mmap'));
  it('statx: the mount id and STATX_ATTR_MOUNT_ROOT', () => same('statx'));
  it('memory calls with start addresses past 2^53: alignment asked of the register', () => same('hiaddr'));
  it('exec with RLIMIT_STACK unlimited', () => same('stack-unlimited'));
  it('clone with CLONE_PIDFD and a bad pidfd address: EFAULT, no child', () => same('pidfd-fault'));
  it('ETXTBSY: a running program is not opened for writing, a file open for writing not run', () => same('txtbsy'));
  it('close_range CLOSE_RANGE_UNSHARE in a CLONE_FILES child', () => same('closerange'));
  it('setpgid of a child: EACCES once it has exec\'d, EPERM in another session', () => same('setpgid'));
  it('leases: truncate breaks them; no downgrade while a writer waits', () => same('lease'));
  it('vmsplice into a pipe returns what fits', () => same('vmsplice'));
}, 60_000);
