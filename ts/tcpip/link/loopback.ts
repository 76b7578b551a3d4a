// The loopback link (Linux drivers/net/loopback.c, gVisor link/loopback): a packet sent on
// it is queued and handed back to the stack's input, as loopback_xmit → netif_rx does (the
// queue and its draining rules are queue.ts).

import { PacketQueue } from './queue';

export const LOOPBACK_MTU = 65536;

export class LoopbackLink extends PacketQueue {}
