// Transport: how whole 9P messages reach a server. SocketTransport is a unix stream socket
// driven through the addon (blocking with a deadline, SCM_RIGHTS fds received with replies).

import { addon } from '../native/addon';

export interface Received {
  msg: Uint8Array;
  /** Host fds that came with the message (SCM_RIGHTS); the receiver owns them. */
  fds: number[];
}

export interface Transport {
  send(msg: Uint8Array): void;
  /** The next whole message from the server (size-checked against maxSize). */
  recv(maxSize: number): Received;
  /** send then recv in one step (one crossing for the common case of one request in flight). */
  call(msg: Uint8Array, maxSize: number): Received;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class SocketTransport implements Transport {
  private readonly fdsOut = new Int32Array(5);
  private closed = false;

  constructor(readonly fd: number, private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

  send(msg: Uint8Array): void { addon().p9Send(this.fd, msg, this.timeoutMs); }

  recv(maxSize: number): Received {
    return this.take(addon().p9Recv(this.fd, this.fdsOut, maxSize, this.timeoutMs));
  }

  call(msg: Uint8Array, maxSize: number): Received {
    return this.take(addon().p9Call(this.fd, msg, this.fdsOut, maxSize, this.timeoutMs));
  }

  private take(msg: Buffer): Received {
    const n = this.fdsOut[0];
    const fds: number[] = [];
    for (let i = 0; i < n; i++) fds.push(this.fdsOut[1 + i]);
    return { msg: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), fds };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    addon().p9Close(this.fd);
  }
}
