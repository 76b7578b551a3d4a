// The per-stack network sysctls that have no better home (Linux's per-namespace net.ipv4.* and
// net.ipv6.* values): tcp_sack (honoured: a connection opened or a listener started while it
// is 0 offers and accepts no SACK), and values a program may set and read back whose effect
// the stack does not model (tcp_recovery's RACK bits, ip_forward on a host that forwards
// nothing, ipv6 auto_flowlabels and ip_nonlocal_bind). Each sandbox's stack has its own; the
// host's are never touched.

import { perStack } from './per_stack';

export class NetSysctls {
  tcpSack = 1;
  tcpRecovery = 1;
  ipForward = 0;
  autoFlowlabels6 = 1;
  ipNonlocalBind6 = 0;
}

export const netSysctlsOf = perStack(() => new NetSysctls());
