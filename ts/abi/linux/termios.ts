// Terminal ABI (include/uapi/asm-generic/termbits.h): the kernel's struct termios as TCGETS
// copies it (36 bytes: four u32 flag words, c_line, c_cc[NCCS]) and struct winsize.

export const NCCS = 19;
export const TERMIOS_SIZE = 36;
export const WINSIZE_SIZE = 8;

// c_iflag
export const BRKINT = 0o2;
export const ICRNL = 0o400;
export const IXON = 0o2000;
export const IMAXBEL = 0o20000;
export const IUTF8 = 0o40000;
// c_oflag
export const OPOST = 0o1;
export const ONLCR = 0o4;
// c_cflag
export const B38400 = 0o17;
export const CS8 = 0o60;
export const CREAD = 0o200;
// c_lflag
export const ISIG = 0o1;
export const ICANON = 0o2;
export const ECHO = 0o10;
export const ECHOE = 0o20;
export const ECHOK = 0o40;
export const ECHOCTL = 0o1000;
export const ECHOKE = 0o4000;
export const IEXTEN = 0o100000;
// c_cc indexes
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6,
  VSWTC = 7, VSTART = 8, VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VDISCARD = 13,
  VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
