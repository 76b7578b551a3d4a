// DNS for the sandbox: its /etc/resolv.conf names 10.0.2.3, which the NAT answers on port 53
// by forwarding to the host's resolver: the first nameserver of the host's /etc/resolv.conf
// (a 127.0.0.53-style stub is just a host address), or TSVISOR_DNS_SERVER=ADDR:PORT, which
// the tests set to a resolver of their own on the host's loopback.

import * as fs from 'node:fs';
import { hostNet } from './host_modules';
import type { HostTarget } from './policy';

export const SANDBOX_RESOLV_CONF = 'nameserver 10.0.2.3\n';

function parseHostPort(s: string): HostTarget | null {
  const m = /^\[?([0-9a-fA-F:.]+?)\]?(?::(\d{1,5}))?$/.exec(s.trim());
  if (!m) return null;
  const family = hostNet().isIP(m[1]);
  const port = m[2] ? Number(m[2]) : 53;
  if (family === 0 || port < 1 || port > 65535) return null;
  return { host: m[1], port, family: family as 4 | 6 };
}

/** The first nameserver line of a resolv.conf text. */
export function firstNameserver(text: string): HostTarget | null {
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      const addr = m[1].replace(/%.*$/, '');
      const family = hostNet().isIP(addr);
      if (family !== 0) return { host: addr, port: 53, family: family as 4 | 6 };
    }
  }
  return null;
}

export function hostResolver(): HostTarget | null {
  const env = process.env.TSVISOR_DNS_SERVER;
  if (env) return parseHostPort(env);
  try {
    return firstNameserver(fs.readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    return null;
  }
}
