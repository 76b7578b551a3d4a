// pidfd_send_signal with an fd of a /proc/<pid> directory (Python's test_signal uses it): the
// process is signalled; a thread's or another directory's fd is EBADF; a reaped one ESRCH.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('a /proc/<pid> fd is a pidfd for pidfd_send_signal, as natively', async () => {
    await expectSameAsNative([fixture('proc_pidfd')], platform);
  });
});
