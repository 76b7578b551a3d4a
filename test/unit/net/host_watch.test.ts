// The host fd watcher (crates/addon/src/host_watch.rs + ts/net/host/host_watch.ts) on real
// host UDP sockets of the test's own: a datagram wakes a POLLIN waiter through the epoll
// thread; readiness present before the waiter is reported at once; a waiter for POLLOUT only
// is not called for an input edge; an undone waiter is never called; an fd that is not open
// is reported to its waiter (which re-checks) instead of hanging.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { addon } from '../../../ts/native/addon';
import { watchHostFd, watchedHostFds } from '../../../ts/net/host/host_watch';

const POLLIN = 1;
const opened: number[] = [];

function udp(): { fd: number; addr: Uint8Array } {
  const a = addon();
  const fd = a.hostSocket(2, 2, 0);
  opened.push(fd);
  const sin = new Uint8Array(16);
  sin[0] = 2; sin[4] = 127; sin[7] = 1;
  expect(a.hostBindConnect(fd, sin, false)).toBe(0);
  const name = new Uint8Array(16);
  a.hostSockName(fd, false, name);
  return { fd, addr: name };
}

function send(from: number, to: Uint8Array): void {
  expect(addon().hostSendmsg(from, new Uint8Array([1, 2, 3]), 0, to, new Uint8Array(0))).toBe(3);
}

const until = (p: Promise<void>, ms: number): Promise<string> =>
  Promise.race([p.then(() => 'woken'), new Promise<string>((r) => setTimeout(() => r('timeout'), ms))]);

afterAll(() => { for (const fd of opened) fs.closeSync(fd); });

describe('host fd watcher', () => {
  it('a datagram wakes a POLLIN waiter; an undone waiter stays quiet', async () => {
    const r = udp(), s = udp();
    let quiet = 0;
    const undoQuiet = watchHostFd(r.fd, POLLIN, () => { quiet++; });
    undoQuiet();
    const woken = new Promise<void>((res) => { const undo = watchHostFd(r.fd, POLLIN, () => { undo(); res(); }); });
    await new Promise((res) => setTimeout(res, 50));
    send(s.fd, r.addr);
    expect(await until(woken, 5000)).toBe('woken');
    expect(quiet).toBe(0);
    expect(watchedHostFds()).toBe(0);
  });

  it('readiness that came before the waiter is reported at once; a POLLPRI-only waiter ignores input', async () => {
    const r = udp(), s = udp();
    send(s.fd, r.addr);
    await new Promise((res) => setTimeout(res, 20));
    let priCalls = 0;
    const undoPri = watchHostFd(s.fd, 2, () => { priCalls++; });
    const woken = new Promise<void>((res) => { const undo = watchHostFd(r.fd, POLLIN, () => { undo(); res(); }); });
    expect(await until(woken, 5000)).toBe('woken');
    send(r.fd, s.addr);
    await new Promise((res) => setTimeout(res, 100));
    // s got a datagram (an edge of POLLIN|POLLOUT): nothing for a POLLPRI waiter.
    expect(priCalls).toBe(0);
    undoPri();
    expect(watchedHostFds()).toBe(0);
  });

  it('an fd that is not open: the waiter is called to re-check, nothing is left watched', async () => {
    const woken = new Promise<void>((res) => { watchHostFd(1 << 20, POLLIN, () => res()); });
    expect(await until(woken, 1000)).toBe('woken');
    expect(watchedHostFds()).toBe(0);
  });
});
