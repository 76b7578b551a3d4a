// TCP reads and writes straight between application memory and the stack (issue 8) against
// Linux: fixture tcp_copy.c — an 8 MiB stream through every send and receive call with odd
// sizes and iovec shapes, then faults (EFAULT moves nothing and leaves the data queued, a
// copy crossing into an unmapped page fails whole as Linux's segment copy does) and
// MSG_TRUNC discarding stream data.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('an 8 MiB stream through write/writev/sendmsg/sendto and read/readv/recvmsg/recv; faults; MSG_TRUNC',
    () => expectSameAsNative([fixture('tcp_copy')], platform, 120_000), 180_000);
  it('reads whose buffers fault part-way leave the rest queued: the stream arrives whole (tcp_fault_keep; --network=host in net_host)',
    () => expectSameAsNative([fixture('tcp_fault_keep')], platform, 60_000), 120_000);
});
