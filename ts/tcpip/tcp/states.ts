// TCP states, numbered as Linux numbers them (include/net/tcp_states.h): TCP_INFO's
// tcpi_state and /proc/net/tcp's "st" column show these numbers.

export const TCPS = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;

/** States after the handshake, where segments are checked against the window. */
export function synchronized(s: number): boolean {
  return s !== TCPS.CLOSE && s !== TCPS.LISTEN && s !== TCPS.SYN_SENT;
}
