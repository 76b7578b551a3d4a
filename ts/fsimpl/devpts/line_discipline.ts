// The line discipline (Linux drivers/tty/n_tty.c, in outline): what the terminal does with
// bytes typed at it (input processing, canonical line editing, echo, the signal characters)
// and with bytes the program writes (output processing). It holds the termios and the input
// queues; the Terminal around it moves bytes and wakes readers.

import * as T from '../../abi/linux/termios';
import { SIGINT, SIGQUIT, SIGTSTP } from '../../abi/linux/signal';

const INLCR = 0o100, IGNCR = 0o200, ISTRIP = 0o40;
const ECHONL = 0o100, NOFLSH = 0o200, TOSTOP = 0o400;
const OLCUC = 0o2, OCRNL = 0o10, ONOCR = 0o20, ONLRET = 0o40, TABDLY = 0o14000, XTABS = 0o14000;
const MAX_CANON = 4095;

/** What a new pty replica starts with: tty_std_termios with pty.c's c_cflag (no HUPCL). */
export function stdTermios(): Uint8Array {
  const b = new Uint8Array(T.TERMIOS_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, T.ICRNL | T.IXON, true);
  v.setUint32(4, T.OPOST | T.ONLCR, true);
  v.setUint32(8, T.B38400 | T.CS8 | T.CREAD, true);
  v.setUint32(12, T.ISIG | T.ICANON | T.ECHO | T.ECHOE | T.ECHOK | T.ECHOCTL | T.ECHOKE | T.IEXTEN, true);
  // INIT_C_CC: ^C ^\ DEL ^U ^D 0 1 0 ^Q ^S ^Z 0 ^R ^O ^W ^V 0.
  b.set([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0], 17);
  return b;
}

/** Completed input: a canonical line, or raw bytes. A line ended by VEOF keeps n_tty's mark
 *  for it, a 0 byte at its end (__DISABLED_CHAR): a canonical read drops it (a line of the
 *  mark alone is EOF), but once the program leaves canonical mode it is an ordinary byte. */
interface Chunk { bytes: Uint8Array; eof: boolean }

/** A chunk's bytes a canonical read may return. */
function canonicalPart(c: Chunk): Uint8Array { return c.eof ? c.bytes.subarray(0, c.bytes.length - 1) : c.bytes; }

export class LineDiscipline {
  termios = stdTermios();
  /** Completed input the program may read: canonical lines or, in raw mode, bytes. */
  private readonly ready: Chunk[] = [];
  /** Bytes in ready's chunks. */
  private readyBytes = 0;
  /** The line being edited (canonical mode). */
  private line: number[] = [];
  /** Where output has left the cursor (ldata->column). */
  private column = 0;

  private word(off: number): number { return new DataView(this.termios.buffer).getUint32(off, true); }
  get iflag(): number { return this.word(0); }
  get oflag(): number { return this.word(4); }
  get lflag(): number { return this.word(12); }
  cc(i: number): number { return this.termios[17 + i]; }
  get canonical(): boolean { return (this.lflag & T.ICANON) !== 0; }
  get tostop(): boolean { return (this.lflag & TOSTOP) !== 0; }

  /** New termios (TCSETS*): leaving canonical mode makes the partial line readable. */
  setTermios(b: Uint8Array): void {
    this.termios = b.slice(0, T.TERMIOS_SIZE);
    if (!this.canonical && this.line.length > 0) {
      this.pushReady(Uint8Array.from(this.line), false);
      this.line = [];
    }
  }

  /** Bytes readable now (FIONREAD: inq_canon skips EOF marks). */
  get available(): number {
    let n = 0;
    for (const c of this.ready) n += this.canonical ? canonicalPart(c).length : c.bytes.length;
    return n;
  }

  get readable(): boolean { return this.ready.length > 0; }

  /** Input held for the program, read or not yet a line: what bounds the master's writes. */
  get queued(): number { return this.readyBytes + this.line.length; }

  private pushReady(bytes: Uint8Array, eof: boolean): void {
    this.ready.push({ bytes, eof });
    this.readyBytes += bytes.length;
  }

  flushInput(): void {
    this.ready.length = 0;
    this.readyBytes = 0;
    this.line = [];
  }

  /** Read into dst: at most one line in canonical mode (0 for a line that is only an EOF
   *  mark, which goes with the line's last bytes); raw mode reads the marks as bytes. */
  read(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.ready.length > 0) {
      const c = this.ready[0];
      const src = this.canonical ? canonicalPart(c) : c.bytes;
      const take = Math.min(src.length, dst.length - n);
      dst.set(src.subarray(0, take), n);
      n += take;
      if (take === src.length) {
        this.ready.shift();
        this.readyBytes -= c.bytes.length;
      } else {
        this.ready[0] = { bytes: c.bytes.subarray(take), eof: c.eof };
        this.readyBytes -= take;
      }
      if (this.canonical) break;
    }
    return n;
  }

  /** Output processing (OPOST): NL to CR-NL and the like. Always a new array: src may be
   *  the write path's scratch buffer, reused by the next syscall while the bytes still
   *  wait for the master (raw-mode output arrived there with its head overwritten). */
  output(src: Uint8Array): Uint8Array {
    const o = this.oflag;
    if ((o & T.OPOST) === 0) return src.slice();
    const out: number[] = [];
    for (const c of src) this.outputChar(c, o, out);
    return Uint8Array.from(out);
  }

  /** n_tty's do_output_char: one byte, with the column the terminal's cursor is at (ONOCR
   *  drops a CR at column 0; tabs, backspaces and printing bytes move it). */
  private outputChar(c: number, o: number, out: number[]): void {
    switch (c) {
      case 0x0a:
        if ((o & ONLRET) !== 0) this.column = 0;
        if ((o & T.ONLCR) !== 0) {
          this.column = 0;
          out.push(0x0d, 0x0a);
          return;
        }
        break;
      case 0x0d:
        if ((o & ONOCR) !== 0 && this.column === 0) return;
        if ((o & OCRNL) !== 0) {
          if ((o & ONLRET) !== 0) this.column = 0;
          out.push(0x0a);
          return;
        }
        this.column = 0;
        break;
      case 0x09: {
        const spaces = 8 - (this.column & 7);
        this.column += spaces;
        if ((o & TABDLY) === XTABS) {
          for (let i = 0; i < spaces; i++) out.push(0x20);
          return;
        }
        break;
      }
      case 0x08:
        if (this.column > 0) this.column--;
        break;
      default:
        // Printing: not iscntrl (in the kernel's ctype, bytes past 0x7f are not control bytes).
        if (c >= 0x20 && c !== 0x7f) {
          if ((o & OLCUC) !== 0 && c >= 0x61 && c <= 0x7a) c -= 0x20;
          // A UTF-8 continuation byte does not move the cursor.
          if ((this.iflag & T.IUTF8) === 0 || (c & 0xc0) !== 0x80) this.column++;
        }
    }
    out.push(c);
  }

  /** Input processing of typed bytes: returns what to echo (already output-processed) and
   *  the signals to send to the foreground process group, in order. */
  input(src: Uint8Array): { echo: Uint8Array; signals: number[]; flushOutput: boolean } {
    let flushOutput = false;
    const echo: number[] = [];
    const signals: number[] = [];
    const i = this.iflag, l = this.lflag;
    const doEcho = (l & T.ECHO) !== 0;
    const echoChar = (c: number): void => {
      if (!doEcho) return;
      // ECHOCTL: control characters other than TAB, NL, START and STOP as ^X.
      if ((l & T.ECHOCTL) !== 0 && (c < 0x20 || c === 0x7f) && c !== 0x09 && c !== 0x0a &&
        c !== this.cc(T.VSTART) && c !== this.cc(T.VSTOP)) echo.push(0x5e, c ^ 0x40);
      else echo.push(c);
    };
    const utf8 = (i & T.IUTF8) !== 0;
    const continuation = (b: number): boolean => utf8 && (b & 0xc0) === 0x80;
    const erase = (): boolean => {
      // n_tty's eraser: under IUTF8 a whole character goes (its lead byte decides the echo),
      // and never part of one: continuation bytes with no lead byte before them stay.
      let at = this.line.length - 1;
      while (at > 0 && continuation(this.line[at])) at--;
      if (at < 0 || continuation(this.line[at])) return false;
      const c = this.line[at];
      this.line.length = at;
      if (doEcho && (l & T.ECHOE) !== 0) {
        const w = (l & T.ECHOCTL) !== 0 && (c < 0x20 || c === 0x7f) && c !== 0x09 ? 2 : 1;
        for (let k = 0; k < w; k++) echo.push(0x08, 0x20, 0x08);
      }
      return true;
    };
    for (let c of src) {
      if ((i & ISTRIP) !== 0) c &= 0x7f;
      if (c === 0x0d) {
        if ((i & IGNCR) !== 0) continue;
        if ((i & T.ICRNL) !== 0) c = 0x0a;
      } else if (c === 0x0a && (i & INLCR) !== 0) c = 0x0d;
      if ((l & T.ISIG) !== 0) {
        const sig = c === this.cc(T.VINTR) ? SIGINT : c === this.cc(T.VQUIT) ? SIGQUIT :
          c === this.cc(T.VSUSP) ? SIGTSTP : 0;
        if (sig !== 0 && c !== 0) {
          if ((l & NOFLSH) === 0) {
            // isig: the input, the pending echo and the output not yet sent all go.
            this.flushInput();
            echo.length = 0;
            flushOutput = true;
          }
          echoChar(c);
          signals.push(sig);
          continue;
        }
      }
      if (!this.canonical) {
        this.pushReady(Uint8Array.of(c), false);
        echoChar(c);
        continue;
      }
      if (c === this.cc(T.VERASE) && c !== 0) {
        erase();
        continue;
      }
      if (c === this.cc(T.VKILL) && c !== 0) {
        while (erase()) { /* the whole line */ }
        continue;
      }
      if (c === this.cc(T.VWERASE) && c !== 0 && (l & T.IEXTEN) !== 0) {
        while (this.line.length > 0 && this.line[this.line.length - 1] === 0x20) erase();
        while (this.line.length > 0 && this.line[this.line.length - 1] !== 0x20) erase();
        continue;
      }
      if (c === this.cc(T.VEOF) && c !== 0) {
        this.line.push(0);
        this.pushReady(Uint8Array.from(this.line), true);
        this.line = [];
        continue;
      }
      if (c === 0x0a || (c !== 0 && (c === this.cc(T.VEOL) || c === this.cc(T.VEOL2)))) {
        this.line.push(c);
        this.pushReady(Uint8Array.from(this.line), false);
        this.line = [];
        if (doEcho || (c === 0x0a && (l & ECHONL) !== 0)) echo.push(c);
        continue;
      }
      if (this.line.length >= MAX_CANON) continue;
      this.line.push(c);
      echoChar(c);
    }
    return { echo: this.output(Uint8Array.from(echo)), signals, flushOutput };
  }
}
