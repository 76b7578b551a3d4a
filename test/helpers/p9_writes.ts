// Counting the writes the 9P client makes to the gofer while a piece of code runs: a round
// trip is a write, so tests of caching and pipelining assert on this count, not on time.
import { SocketTransport } from '../../ts/p9/transport';

/** fn's value and the number of writes to the gofer while it ran. */
export function writesDuring<T>(fn: () => T): { value: T; writes: number } {
  const proto = SocketTransport.prototype;
  const { send, call } = proto;
  let writes = 0;
  proto.send = function (this: SocketTransport, msg) { writes++; return send.call(this, msg); };
  proto.call = function (this: SocketTransport, msg, max) { writes++; return call.call(this, msg, max); };
  try { return { value: fn(), writes }; } finally { proto.send = send; proto.call = call; }
}
