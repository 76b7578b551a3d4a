// /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}: the socket tables in Linux's exact layouts
// (tcp4_seq_show, tcp6_seq_show, udp4_format_sock, udp6_seq_show, raw_sock_seq_show,
// ip6_dgram_sock_seq_show, unix_seq_show), read from
// the stack's endpoints and the unix namespace. An endpoint is listed in the file of its
// socket's family, as Linux lists sk_family: an AF_INET6 socket talking IPv4 is in tcp6,
// with a v4-mapped address. Kernel pointers print as zeros (kptr_restrict).

import { AF_INET6, SOCK_DGRAM, TCP_ESTABLISHED, TCP_LISTEN } from '../../abi/linux/socket';
import { mapV4, type IPAddr } from '../../tcpip/addr';
import { stackOf, type TcpEndpoint } from '../../tcpip/stack';
import { TCPS } from '../../tcpip/tcp/states';
import { InetSocket } from '../../net/inet/inet_socket';
import { unixTableOf } from '../../net/unix/names';
import { bytesToString } from '../../abi/byte_string';
import { rawEndpoints } from '../../tcpip/raw/endpoint';
import { icmpEndpoints } from '../../tcpip/icmp/endpoint';

const NULL_PTR = '0000000000000000';
/** USER_HZ: the clock ticks the timer and RTO columns count in. */
const USER_HZ = 100;

function hex(n: number, w: number): string { return (n >>> 0).toString(16).toUpperCase().padStart(w, '0'); }

/** An address as Linux prints the __be32 words: each read in host (little-endian) order. */
function addrHex(a: IPAddr): string {
  let s = '';
  for (let i = 0; i < a.length; i += 4) s += hex(a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24), 8);
  return s;
}

function shown(a: IPAddr | null, v6file: boolean): IPAddr {
  if (a === null) return new Uint8Array(v6file ? 16 : 4);
  return v6file && a.length === 4 ? mapV4(a) : a;
}

interface SockView { family: number; ino: number; uid: number }

function ownerView(owner: unknown): SockView | null {
  return owner instanceof InetSocket ? { family: owner.family, ino: owner.ino, uid: owner.ownerUid } : null;
}

function tcpLine(i: number, ep: TcpEndpoint, s: SockView | null, v6file: boolean): string {
  const listen = ep.state === TCPS.LISTEN;
  const tx = listen ? 0 : ep.sndQueued;
  const rx = listen ? ep.acceptQueue.length : ep.rcvQueued;
  const rto = Math.round((ep.rtt.rto * USER_HZ) / 1000);
  const ssthresh = listen ? 0 : ep.cc.inSlowStartInitially ? -1 : ep.cc.ssthresh;
  const sl = String(i).padStart(4);
  return `${sl}: ${addrHex(shown(ep.local, v6file))}:${hex(ep.lport, 4)} ${addrHex(shown(ep.remote, v6file))}:${hex(ep.rport, 4)} `
    + `${hex(ep.state, 2)} ${hex(tx, 8)}:${hex(rx, 8)} 00:00000000 ${hex(ep.retransmits, 8)} ${String(s?.uid ?? 0).padStart(5)} `
    + `${String(0).padStart(8)} ${s?.ino ?? 0} 1 ${NULL_PTR} ${rto} 0 0 ${ep.cc.cwnd} ${ssthresh}`;
}

export function procNetTcp(kernel: object, v6file: boolean): string {
  const stack = stackOf(kernel);
  const lines: string[] = [];
  let i = 0;
  for (const ep of stack.tcpEndpoints()) {
    const s = ownerView(ep.owner);
    const fam6 = s ? s.family === AF_INET6 : ep.v6;
    if (fam6 !== v6file) continue;
    lines.push(tcpLine(i++, ep, s, v6file));
  }
  if (!v6file) {
    const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    return [head, ...lines].map((l) => `${l.padEnd(149)}\n`).join('');
  }
  return '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    + lines.map((l) => `${l}\n`).join('');
}

export function procNetUdp(kernel: object, v6file: boolean): string {
  const stack = stackOf(kernel);
  const lines: string[] = [];
  const seen = new Set<unknown>();
  for (const [port, ep] of stack.udpPorts.entries()) {
    if (seen.has(ep)) continue;
    seen.add(ep);
    const s = ownerView(ep.owner);
    if ((s ? s.family === AF_INET6 : false) !== v6file) continue;
    const st = ep.remote ? TCP_ESTABLISHED : 7;
    lines.push(`${String(port).padStart(5)}: ${addrHex(shown(ep.local, v6file))}:${hex(port, 4)} ${addrHex(shown(ep.remote, v6file))}:${hex(ep.rport, 4)} `
      + `${hex(st, 2)} ${hex(0, 8)}:${hex(ep.queued, 8)} 00:00000000 00000000 ${String(s?.uid ?? 0).padStart(5)} `
      + `${String(0).padStart(8)} ${s?.ino ?? 0} 2 ${NULL_PTR} ${ep.drops}`);
  }
  if (!v6file) {
    const head = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
    return [head, ...lines].map((l) => `${l.padEnd(127)}\n`).join('');
  }
  return '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    + lines.map((l) => `${l}\n`).join('');
}

/** What /proc/net/raw shows of a raw endpoint (RawEndpoint, or IcmpEndpoint when raw). */
interface RawView { protocol: number; local: IPAddr | null; remote: IPAddr | null; queued: number; drops: number; owner: unknown }

/** /proc/net/raw, raw6: raw sockets by hash bucket (the protocol; RAW_HTABLE_SIZE is 256),
 *  the newest first in a bucket as sk_add_node puts them; the local port column is the
 *  protocol, the remote one 0, the state TCP_ESTABLISHED once connected. */
export function procNetRaw(kernel: object, v6file: boolean): string {
  const stack = stackOf(kernel);
  const eps: RawView[] = [];
  for (const ep of rawEndpoints(stack)) if (ep.v6 === v6file) eps.push(ep);
  for (const ep of icmpEndpoints(stack)) if (ep.raw && ep.v6 === v6file) {
    eps.push({ protocol: v6file ? 58 : 1, local: ep.local, remote: ep.remote, queued: ep.queued, drops: ep.drops, owner: ep.owner });
  }
  const order = eps.map((ep, i) => ({ ep, i })).sort((a, b) => a.ep.protocol - b.ep.protocol || b.i - a.i);
  const lines = order.map(({ ep }) => {
    const s = ownerView(ep.owner);
    const st = ep.remote ? TCP_ESTABLISHED : 7;
    return `${String(ep.protocol & 0xff).padStart(v6file ? 5 : 4)}: ${addrHex(shown(ep.local, v6file))}:${hex(ep.protocol, 4)} `
      + `${addrHex(shown(ep.remote, v6file))}:${hex(0, 4)} ${hex(st, 2)} ${hex(0, 8)}:${hex(ep.queued, 8)} 00:00000000 00000000 `
      + `${String(s?.uid ?? 0).padStart(5)} ${String(0).padStart(8)} ${s?.ino ?? 0} 2 ${NULL_PTR} ${ep.drops}\n`;
  });
  const head = v6file
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    : '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  return head + lines.join('');
}

const SO_ACCEPTCON = 1 << 16;
const SS_UNCONNECTED = 1;
const SS_CONNECTED = 3;

export function procNetUnix(kernel: object): string {
  let out = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  for (const s of unixTableOf(kernel).live) {
    const listening = s.state === TCP_LISTEN;
    const connected = s.type === SOCK_DGRAM ? s.peer !== null : s.state === TCP_ESTABLISHED;
    out += `${NULL_PTR}: 00000002 00000000 ${hex(listening ? SO_ACCEPTCON : 0, 8)} ${hex(s.type, 4)} `
      + `${hex(connected ? SS_CONNECTED : SS_UNCONNECTED, 2)} ${String(s.ino).padStart(5)}`;
    const a = s.addr;
    if (a && a.length > 2) {
      const name = a.subarray(2);
      if (name[0] === 0) out += ` @${String.fromCharCode(...name.subarray(1)).replace(/\0/g, '@')}`;
      else {
        const end = name.indexOf(0);
        out += ` ${bytesToString(end >= 0 ? name.subarray(0, end) : name)}`;
      }
    }
    out += '\n';
  }
  return out;
}
