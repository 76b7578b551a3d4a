#!/usr/bin/env node
// node benches/tcp_stack.mjs — the sentry's TCP stack alone, in this process (no sandbox, no
// platform, no syscalls): one connection over the stack's loopback, the writer's bytes
// copied into its send queue as a write(2) does, the reader's copied out as a read(2) does.
// It prints where a write's CPU goes (issue 8's per-write breakdown): the copy in, building
// and sending its segments, delivering them to the receiver with the ACK round that follows
// (Stack.flush: what the sentry does before the write returns), the copy out, and the ACK or
// window update the read makes. The totals are CPU (process.cpuUsage) and wall per write of
// plain runs; the parts come from one more run that reads the process's CPU clock around
// each step (on a loaded host, wall time is mostly other processes' turns: CPU is what counts),
// which itself costs a little: the parts sum to a little more than the plain total.
// Options: --write BYTES (65536) --read BYTES (65536) --mib N (1024) --runs N (5: the
// median run is shown) --dist DIR (another checkout's dist/, e.g. ../main/dist, to compare).
// --rr N instead: N request/response exchanges (an HTTP keep-alive loop: --write bytes of
// request, --read bytes of response, each read whole before the answer), CPU and segments
// per exchange.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt; };
const W = Number(opt('--write', 65536)), R = Number(opt('--read', 65536));
const MIB = Number(opt('--mib', 1024)), RUNS = Number(opt('--runs', 5));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(opt('--dist', path.join(root, 'dist')));
const require = createRequire(import.meta.url);
const { Stack, TcpEndpoint } = require(path.join(dist, 'tcpip/stack.js'));
const { TCPS } = require(path.join(dist, 'tcpip/tcp/states.js'));
const { V4_LOOPBACK } = require(path.join(dist, 'tcpip/addr.js'));

function connection(stack, port) {
  const l = new TcpEndpoint(stack, false);
  const lb = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => l.state === TCPS.LISTEN };
  l.lport = stack.tcpPorts.reserve(port, lb, l);
  l.binding = lb;
  l.listen(8);
  const c = new TcpEndpoint(stack, false);
  const cb = { v4: true, v6: false, addr: V4_LOOPBACK, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
  c.lport = stack.tcpPorts.reserve(0, cb, c);
  c.binding = cb;
  c.local = V4_LOOPBACK;
  c.remote = V4_LOOPBACK;
  c.rport = port;
  stack.registerConn(c);
  c.connect();
  stack.flush();
  return { c, s: l.acceptQueue.shift() };
}

/** CPU time of the process, ms (all its threads: the garbage collector's helpers too). */
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function once(port, instrument) {
  const stack = new Stack();
  const { c, s } = connection(stack, port);
  const src = new Uint8Array(W).fill(0x74);
  const dst = new Uint8Array(R);
  const total = MIB * 1048576;
  const part = { copyIn: 0, output: 0, flush: 0, copyOut: 0, readAck: 0 };
  const now = instrument ? cpuNow : () => 0;
  let sent = 0, got = 0, writes = 0, reads = 0;
  const segs0 = c.segsOut, acks0 = s.segsOut;
  const t0 = performance.now(), c0 = process.cpuUsage();
  while (got < total) {
    if (sent < total && c.sndSpace >= W) {
      let at = 0;
      const a = now();
      c.enqueueFrom(W, (d) => { d.set(src.subarray(at, at + d.length)); at += d.length; return d.length; });
      const b = now();
      c.output();
      const e = now();
      stack.flush();
      part.copyIn += b - a; part.output += e - b; part.flush += now() - e;
      sent += W;
      writes++;
    }
    // The reader takes what a read of R bytes would once a write's worth is there (as the
    // sandbox's reader, woken by each write) or the writer is out of room.
    if (s.rcvQueued >= Math.min(R, W) || (s.rcvQueued > 0 && (c.sndSpace < W || sent >= total))) {
      const a = now();
      const n = s.readInto(dst, false);
      const b = now();
      stack.flush();
      part.copyOut += b - a; part.readAck += now() - b;
      got += n;
      reads++;
    }
  }
  const wall = performance.now() - t0, cpu = process.cpuUsage(c0);
  return {
    wall, cpu: (cpu.user + cpu.system) / 1000, writes, reads, part,
    segs: c.segsOut - segs0, acks: s.segsOut - acks0,
  };
}

/** The keep-alive loop: request, the server reads it and answers, the client reads that. */
function exchanges(port, n, req, resp) {
  const stack = new Stack();
  const { c, s } = connection(stack, port);
  const q = new Uint8Array(req).fill(0x71), a = new Uint8Array(resp).fill(0x61), dst = new Uint8Array(Math.max(req, resp));
  const send = (ep, src) => {
    let at = 0;
    ep.enqueueFrom(src.length, (d) => { d.set(src.subarray(at, at + d.length)); at += d.length; return d.length; });
    ep.output();
    stack.flush();
  };
  const recv = (ep, len) => {
    for (let got = 0; got < len;) { const k = ep.readInto(dst, false); if (k === 0) throw new Error('short exchange'); got += k; stack.flush(); }
  };
  const segs0 = c.segsOut + s.segsOut;
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) { send(c, q); recv(s, req); send(s, a); recv(c, resp); }
  const wall = performance.now() - t0, cpu = process.cpuUsage(c0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, segs: c.segsOut + s.segsOut - segs0 };
}

const RR = Number(opt('--rr', 0));
if (RR > 0) {
  const req = Number(opt('--write', 80)), resp = Number(opt('--read', 170));
  const rs = [];
  for (let i = 0; i < RUNS; i++) rs.push(exchanges(7400 + i, RR, req, resp));
  rs.sort((x, y) => x.cpu - y.cpu);
  const m = rs[Math.floor(rs.length / 2)];
  console.log(`tcp stack in-process, ${path.relative(process.cwd(), dist) || dist}: ${RR} exchanges of ${req}-byte requests and ${resp}-byte responses, median of ${RUNS} runs by CPU`);
  console.log(`  per exchange: ${(m.cpu * 1000 / RR).toFixed(2)} us CPU, ${(m.wall * 1000 / RR).toFixed(2)} us wall, ${(m.segs / RR).toFixed(2)} segments (both ways)`);
  console.log(`  CPU per run (ms, sorted): ${rs.map((x) => x.cpu.toFixed(0)).join(' ')}`);
  process.exit(0);
}

const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(once(7300 + i, false));
runs.sort((a, b) => a.cpu - b.cpu);
const r = runs[Math.floor(runs.length / 2)];
const parts = once(7299, true);
const us = (ms) => (ms * 1000 / r.writes).toFixed(2).padStart(7);
const pus = (ms) => (ms * 1000 / parts.writes).toFixed(2).padStart(7);
console.log(`tcp stack in-process, ${path.relative(process.cwd(), dist) || dist}: ${W}-byte writes, ${R}-byte reads, ${MIB} MiB, median of ${RUNS} runs by CPU`);
console.log(`  ${(MIB / (r.wall / 1000)).toFixed(0)} MiB/s wall; per write: ${us(r.cpu)} us CPU, ${us(r.wall)} us wall (the least disturbed run: ${(runs[0].cpu * 1000 / runs[0].writes).toFixed(2)} us CPU)`);
console.log(`  copy in (application -> send chunk)         ${pus(parts.part.copyIn)} us CPU`);
console.log(`  output (segments: headers, IP, loopback queue) ${pus(parts.part.output)} us CPU`);
console.log(`  flush (deliver to receiver, ACK round)     ${pus(parts.part.flush)} us CPU`);
console.log(`  read (receive queue -> application)        ${pus(parts.part.copyOut)} us CPU`);
console.log(`  after the read (window update, if any)     ${pus(parts.part.readAck)} us CPU`);
console.log(`  segments per write ${(r.segs / r.writes).toFixed(2)}, ACKs per write ${(r.acks / r.writes).toFixed(2)}, reads per write ${(r.reads / r.writes).toFixed(2)}`);
console.log(`  CPU per run (ms, sorted): ${runs.map((x) => x.cpu.toFixed(0)).join(' ')}`);
