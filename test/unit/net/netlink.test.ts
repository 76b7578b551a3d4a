// NETLINK_ROUTE under attack: forged and random requests sent to the kernel side of a netlink
// socket from a fixed seed (short headers, lengths past the datagram, lying attribute
// lengths, every message type, dump and ack flags) must never throw out of the socket, and
// everything it answers must be well-formed netlink (lengths inside the datagram, 4-byte
// aligned, NLMSG_ERROR quoting the request, dumps ending in NLMSG_DONE). Also the message
// helpers' parsers on garbage, and the privilege rule for changes.
import { describe, expect, it } from 'vitest';
import { newTask } from '../syscalls/fakes';
import { createNetlinkSocket, NETLINK_ROUTE, type NetlinkSocket } from '../../../ts/net/netlink/netlink_socket';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, parseAttrs, parseMessages } from '../../../ts/net/netlink/message';
import { SOCK_RAW, MSG_DONTWAIT } from '../../../ts/abi/linux/socket';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EPERM } from '../../../ts/abi/linux/errno';
import type { Task } from '../../../ts/kernel/task';
import type { RecvResult } from '../../../ts/net/socket';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  // The high bits: an LCG's low bits repeat with a short period.
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8;
}

function request(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + body.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  b.set(body, 16);
  return b;
}

function send(t: Task, s: NetlinkSocket, data: Uint8Array): void {
  s.sendmsg(t, { data, addr: null, rights: null, creds: null, flags: 0 });
}

/** Every datagram queued, checked for well-formedness; returns the messages' types and
 *  flags. */
function drainChecked(t: Task, s: NetlinkSocket): { type: number; flags: number }[] {
  const types: { type: number; flags: number }[] = [];
  for (;;) {
    let r: RecvResult;
    try {
      r = s.recvmsg(t, 1 << 16, MSG_DONTWAIT) as RecvResult;
    } catch (e) {
      if (e instanceof SyscallError) return types;
      throw e;
    }
    const d = r.data;
    expect(r.flags).toBe(0);
    let covered = 0;
    for (const m of parseMessages(d)) {
      expect(m.len).toBeGreaterThanOrEqual(16);
      expect(m.pid).toBe(s.portid);
      types.push({ type: m.type, flags: m.flags });
      if (m.type === NLMSG_ERROR) expect(m.len).toBeGreaterThanOrEqual(36);
      covered += (m.len + 3) & ~3;
    }
    expect(covered).toBe(d.length);
  }
}

describe('netlink route: hostile requests (seed 0x4e11)', () => {
  it('random and mutated requests never throw and get well-formed answers', () => {
    const { t } = newTask({ uid: 0 });
    const s = createNetlinkSocket(t, SOCK_RAW, NETLINK_ROUTE, true);
    const rnd = rng(0x4e11);
    const valid = [
      request(18, NLM_F_REQUEST | NLM_F_DUMP, 1, new Uint8Array(16)),
      request(22, NLM_F_REQUEST | NLM_F_DUMP, 2, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0)),
      request(26, NLM_F_REQUEST | NLM_F_DUMP, 3, new Uint8Array(12)),
      request(18, NLM_F_REQUEST | NLM_F_ACK, 4, Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 3, 0, 108, 111, 0, 0)),
    ];
    let answered = 0;
    for (let i = 0; i < 5000; i++) {
      let data: Uint8Array;
      const kind = rnd() % 4;
      if (kind === 0) {
        data = new Uint8Array(rnd() % 200).map(() => rnd() & 0xff);
      } else if (kind === 1) {
        data = request(rnd() % 140, rnd() & 0xffff, i, new Uint8Array(rnd() % 64).map(() => rnd() & 0xff));
      } else {
        data = valid[rnd() % valid.length].slice();
        for (let k = 1 + (rnd() % 4); k > 0; k--) data[rnd() % data.length] = rnd() & 0xff;
        if (kind === 3) data = data.subarray(0, rnd() % (data.length + 1));
      }
      expect(() => send(t, s, data)).not.toThrow();
      const types = drainChecked(t, s);
      if (types.length > 0) answered++;
      // A multipart answer (a dump) always ends with NLMSG_DONE.
      if (types.some((x) => x.flags & NLM_F_MULTI)) expect(types.at(-1)?.type).toBe(NLMSG_DONE);
    }
    expect(answered).toBeGreaterThan(1000);
  });

  it('the parsers stop at lying lengths instead of reading past the buffer', () => {
    const rnd = rng(0x11);
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(rnd() % 100).map(() => rnd() & 0xff);
      expect(() => [...parseMessages(b)]).not.toThrow();
      expect(() => parseAttrs(b)).not.toThrow();
      for (const m of parseMessages(b)) expect(m.raw.length).toBe(m.len);
    }
    // An attribute claiming more than is there ends the walk.
    expect(parseAttrs(Uint8Array.of(200, 0, 3, 0, 1, 2, 3, 4)).size).toBe(0);
  });

  it('changes need CAP_NET_ADMIN: EPERM for a user, EOPNOTSUPP for an admin (interfaces do not change)', () => {
    for (const [uid, errno] of [[1000, -EPERM], [0, -95]] as const) {
      const { t } = newTask({ uid });
      const s = createNetlinkSocket(t, SOCK_RAW, NETLINK_ROUTE, true);
      send(t, s, request(20 /* RTM_NEWADDR */, NLM_F_REQUEST | NLM_F_ACK, 9, new Uint8Array(8)));
      const r = s.recvmsg(t, 4096, MSG_DONTWAIT) as RecvResult;
      const [m] = [...parseMessages(r.data)];
      expect(m.type).toBe(NLMSG_ERROR);
      expect(new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true)).toBe(errno);
    }
  });

  it('a reader that never reads cannot grow the queue: one dump at a time (EBUSY), then ENOBUFS', () => {
    const { t } = newTask({ uid: 1000 });
    const s = createNetlinkSocket(t, SOCK_RAW, NETLINK_ROUTE, true);
    send(t, s, request(18, NLM_F_REQUEST | NLM_F_DUMP, 1, new Uint8Array(16)));
    // The second dump, while the first is unread, is refused with an error message.
    send(t, s, request(18, NLM_F_REQUEST | NLM_F_DUMP, 2, new Uint8Array(16)));
    const getlink = request(18, NLM_F_REQUEST, 3, Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    for (let i = 0; i < 20_000; i++) send(t, s, getlink);
    let bytes = 0;
    let datagrams = 0;
    const errors: number[] = [];
    for (;;) {
      let r: RecvResult;
      try {
        r = s.recvmsg(t, 1 << 16, MSG_DONTWAIT) as RecvResult;
      } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
        errors.push(e.errno);
        if (errors.length > 2) break;
        continue;
      }
      bytes += r.data.length;
      datagrams++;
      for (const m of parseMessages(r.data)) {
        if (m.type === NLMSG_ERROR && m.seq === 2) expect(new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true)).toBe(-16);
      }
    }
    // SO_RCVBUF bounds what waited (the dump rides above it, as Linux builds it on demand).
    expect(bytes).toBeLessThan(212992 + 65536);
    expect(datagrams).toBeGreaterThan(100);
    expect(errors[0]).toBe(105); // ENOBUFS, once
    expect(errors[1]).toBe(11); // then EAGAIN: empty
  });
});
