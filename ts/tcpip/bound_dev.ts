// SO_BINDTODEVICE / SO_BINDTOIFINDEX as the stack sees them (Linux sk_bound_dev_if): an
// endpoint bound to an interface takes only packets that came in on it (the demultiplexers'
// inet_sk_bound_dev_eq), and its output must leave by it. The socket layer keeps the option
// (ts/net/sockopt.ts) and tells the stack here; endpoints of every transport are keyed by
// identity so that none of their classes needs a field, and the common case (no endpoint
// bound anywhere) costs one comparison per packet.

const bound = new WeakMap<object, number>();
let boundCount = 0;

/** Record ep's bound interface (0: none). */
export function setBoundDev(ep: object, ifindex: number): void {
  const had = (bound.get(ep) ?? 0) !== 0;
  if (ifindex === 0) {
    bound.delete(ep);
    if (had) boundCount--;
    return;
  }
  bound.set(ep, ifindex);
  if (!had) boundCount++;
}

/** ep's bound interface, 0 when none. */
export function boundDevOf(ep: object): number {
  return boundCount === 0 ? 0 : bound.get(ep) ?? 0;
}

/** Whether ep may take a packet that came in on ifindex. */
export function devMatches(ep: object, ifindex: number): boolean {
  if (boundCount === 0) return true;
  const b = bound.get(ep) ?? 0;
  return b === 0 || b === ifindex;
}
