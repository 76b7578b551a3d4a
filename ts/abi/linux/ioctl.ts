// ioctl request numbers (include/uapi/asm-generic/ioctls.h): terminal and generic file ones.

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCSCTTY = 0x540e;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCOUTQ = 0x5411;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
export const TIOCNOTTY = 0x5422;
export const FIONBIO = 0x5421;
export const TIOCGSID = 0x5429;
export const TCGETS2 = 0x802c542a;
export const TCSETS2 = 0x402c542b;
export const TCSETSW2 = 0x402c542c;
export const TCSETSF2 = 0x402c542d;
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
export const TCSBRK = 0x5409;
export const TCXONC = 0x540a;
export const TCFLSH = 0x540b;
export const TIOCINQ = FIONREAD;
export const TIOCGPTLCK = 0x80045439;
export const TIOCGPTPEER = 0x5441;
export const TIOCSIG = 0x40045436;
/** Packet mode of a pty master (TIOCPKT sets it from an int, TIOCGPKT reads it). */
export const TIOCPKT = 0x5420;
export const TIOCGPKT = 0x80045438;
