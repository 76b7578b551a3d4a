// SO_RCVBUF on a listener after listen() bounds its next connections' window (it was taken
// at listen time only, so a writer could queue 4 MiB: Python's test_asyncio sendfile tests
// never saw the peer's reset): rcvbuf_listen.c compared with the native run.
import { describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms } from '../helpers/run';

describe.each(platforms)('%s', (platform) => {
  it('a listener\'s SO_RCVBUF set after listen() bounds the window, as natively', async () => {
    await expectSameAsNative([fixture('rcvbuf_listen')], platform);
  });
});
