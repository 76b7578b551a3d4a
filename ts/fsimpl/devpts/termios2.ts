// struct termios2 (TCGETS2/TCSETS2*): struct termios followed by the input and output speeds
// in bits per second. A pty has no line speed of its own: the speeds are the ones c_cflag's
// CBAUD and CIBAUD name (tty_termios_baud_rate, tty_termios_input_baud_rate).

import { TERMIOS_SIZE } from '../../abi/linux/termios';

export const TERMIOS2_SIZE = TERMIOS_SIZE + 8;

const CBAUD = 0o10017, CBAUDEX = 0o10000, IBSHIFT = 16;
const BAUDS = [
  0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
  0, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
  2500000, 3000000, 3500000, 4000000,
];

function baud(code: number): number {
  return BAUDS[(code & 0o17) + ((code & CBAUDEX) !== 0 ? 16 : 0)];
}

/** The termios2 a TCGETS2 reports for this termios. */
export function termios2Of(termios: Uint8Array): Uint8Array {
  const out = new Uint8Array(TERMIOS2_SIZE);
  out.set(termios.subarray(0, TERMIOS_SIZE));
  const v = new DataView(out.buffer);
  const cflag = v.getUint32(8, true);
  const ospeed = baud(cflag & CBAUD);
  const icode = (cflag >>> IBSHIFT) & CBAUD;
  v.setUint32(TERMIOS_SIZE, icode === 0 ? ospeed : baud(icode), true);
  v.setUint32(TERMIOS_SIZE + 4, ospeed, true);
  return out;
}
