// The line discipline alone: canonical editing, echo, signal characters, raw mode, output
// processing (n_tty's behaviour on the bytes, without a terminal around it).
import { describe, expect, it } from 'vitest';
import { LineDiscipline } from '../../../ts/fsimpl/devpts/line_discipline';
import { ICANON, ECHO, ISIG } from '../../../ts/abi/linux/termios';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function readAll(ld: LineDiscipline): string {
  const b = new Uint8Array(256);
  return dec(b.subarray(0, ld.read(b)));
}

function withLflag(ld: LineDiscipline, clear: number): void {
  const t = ld.termios.slice();
  const v = new DataView(t.buffer);
  v.setUint32(12, v.getUint32(12, true) & ~clear, true);
  ld.setTermios(t);
}

describe('LineDiscipline', () => {
  it('edits a canonical line and echoes it with output processing', () => {
    const ld = new LineDiscipline();
    const r = ld.input(enc('ab\x7fc one\x17two\r'));
    expect(ld.readable).toBe(true);
    expect(readAll(ld)).toBe('ac two\n');
    expect(dec(r.echo)).toBe('ab\b \bc one\b \b\b \b\b \btwo\r\n');
  });

  it('holds a partial line until newline; ^D ends it, or reads as EOF on an empty line', () => {
    const ld = new LineDiscipline();
    ld.input(enc('abc'));
    expect(ld.readable).toBe(false);
    ld.input(enc('\x04'));
    expect(readAll(ld)).toBe('abc');
    ld.input(enc('\x04'));
    expect(ld.readable).toBe(true);
    expect(readAll(ld)).toBe('');
  });

  it('turns ^C, ^\\ and ^Z into signals, flushing input and pending echo', () => {
    const ld = new LineDiscipline();
    const r = ld.input(enc('xy\x03\x1c\x1a'));
    expect(r.signals).toEqual([2, 3, 20]);
    expect(r.flushOutput).toBe(true);
    // Each signal character flushes what was not yet sent, earlier signals' echo included.
    expect(dec(r.echo)).toBe('^Z');
    expect(ld.readable).toBe(false);
    withLflag(ld, ISIG);
    expect(ld.input(enc('\x03')).signals).toEqual([]);
  });

  it('passes bytes through at once in raw mode, and the partial line on leaving canonical mode', () => {
    const ld = new LineDiscipline();
    ld.input(enc('par'));
    withLflag(ld, ICANON | ECHO);
    expect(readAll(ld)).toBe('par');
    const r = ld.input(enc('q\x7f'));
    expect(r.echo.length).toBe(0);
    expect(readAll(ld)).toBe('q\x7f');
  });

  it('maps NL to CR-NL on output', () => {
    expect(dec(new LineDiscipline().output(enc('a\nb')))).toBe('a\r\nb');
  });
});
