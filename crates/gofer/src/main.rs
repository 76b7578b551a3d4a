//! tsvisor-gofer: serves host directory trees to one sandbox's sentry over 9P2000.L on an
//! inherited socket, donating opened fds (PROTOCOL.md). It confines itself before reading the
//! first message and owns every host file access of the sandbox; it knows nothing of Node.

mod args;
mod confine;
mod deferred;
mod host;
mod local_fs;
mod lock;
mod ops_read;
mod ops_write;
mod seccomp;
mod server;
mod transport;
mod wire;
mod workers;
mod xattr;

use server::{Reply, Served, Server, Tree};
use std::io::Write;
use transport::{Conn, In};

/// Replies kept back to go out together at most (a bigger one goes alone).
const BATCH_MAX: usize = 64 * 1024;

/// Sends the replies kept back; false if the connection is gone.
fn flush(conn: &Conn, out: &mut Vec<u8>) -> bool {
    if out.is_empty() {
        return true;
    }
    let ok = conn.send(out, None).is_ok();
    out.clear();
    ok
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let a = match args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tsvisor-gofer: {e}");
            std::process::exit(2);
        }
    };
    let mut log = a.debug_log.as_ref().map(|p| {
        std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap_or_else(|e| {
            eprintln!("tsvisor-gofer: --debug-log {p}: {e}");
            std::process::exit(2)
        })
    });
    let trees = match confine::confine(&a, log.as_mut()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tsvisor-gofer: confinement failed: {e}");
            if let Some(l) = log.as_mut() {
                let _ = writeln!(l, "fatal: {e}");
            }
            std::process::exit(1);
        }
    };
    let trees = trees.into_iter().map(|(t, fd)| Tree { name: t.name.into_bytes(), root: std::sync::Arc::new(fd), ro: t.ro });
    let mut srv = Server::new(trees.collect(), log, a.verbose);
    let mut conn = Conn::new(a.sock_fd);
    // A whole 1 MiB Rread in one sendmsg where the host allows it (before seccomp: setsockopt).
    conn.grow_send_buffer(2 * server::MAX_MSIZE as i32);
    // The threads for requests that may block on the host, made before seccomp (which then
    // covers them too).
    match workers::Pool::start() {
        Ok(p) => srv.pool = Some(p),
        Err(e) => srv.log(&format!("no worker threads ({e}): every request is served in the loop, an open the host makes wait answers EWOULDBLOCK")),
    }
    if let Err(e) = seccomp::install() {
        srv.log(&format!("fatal: {e}"));
        eprintln!("tsvisor-gofer: {e}");
        std::process::exit(1);
    }
    srv.log(&format!("seccomp: allowlist of {} syscalls, kill on anything else", seccomp::ALLOWED.len() + 1));
    srv.log("serving");
    // Replies to requests that came in one write go back in one write (the client pipelines
    // walk chains, walk+open+list): replies wait in `out` while the next request is already
    // read. A donating reply is always a sendmsg of its own (the fd rides on its first byte),
    // and nothing waits while the gofer would block reading.
    let mut out: Vec<u8> = Vec::new();
    loop {
        if !conn.has_buffered() {
            if !flush(&conn, &mut out) {
                break;
            }
            // Wait for the next request or a worker's finished job.
            let (readable, done) = wait(&conn, &mut srv);
            if done {
                deferred::finished(&mut srv);
            }
            if !send_outbox(&conn, &mut srv, &mut out) || !flush(&conn, &mut out) {
                break;
            }
            if !readable {
                continue;
            }
        }
        let done = match conn.recv(srv.msize) {
            In::Msg(m) => match srv.handle(m) {
                Served::Now(r) => !send(&conn, &mut srv, &mut out, r),
                Served::Later => false,
                Served::Close => {
                    srv.log("malformed message: closing");
                    true
                }
            },
            In::Eof => true,
            In::Bad => {
                srv.log("message size out of range: closing");
                true
            }
        };
        let done = done || !send_outbox(&conn, &mut srv, &mut out);
        if (done || out.len() >= BATCH_MAX) && !flush(&conn, &mut out) {
            break;
        }
        if done {
            break;
        }
    }
    srv.log("exit");
}

/// Queues r in `out`, or sends it alone (a donating or large reply) after what is queued.
/// False if the connection is gone.
fn send(conn: &Conn, srv: &mut Server, out: &mut Vec<u8>, r: Reply) -> bool {
    let alone = r.donate.is_some() || r.bytes.len() > BATCH_MAX;
    let ok = if alone {
        flush(conn, out) && conn.send(&r.bytes, r.donate).is_ok()
    } else {
        out.extend_from_slice(&r.bytes);
        true
    };
    srv.recycle(r.bytes);
    ok
}

/// Sends the replies made apart from the request just served (deferred.rs); false if the
/// connection is gone or is to be closed.
fn send_outbox(conn: &Conn, srv: &mut Server, out: &mut Vec<u8>) -> bool {
    for (r, hold) in std::mem::take(&mut srv.outbox) {
        if !send(conn, srv, out, r) {
            return false;
        }
        // The donated fd's copy goes once the reply carrying it is out.
        if hold.is_some() && !flush(conn, out) {
            return false;
        }
    }
    if srv.closing {
        srv.log("malformed message: closing");
    }
    !srv.closing
}

/// Blocks until the socket is readable or a worker finished: (socket readable, worker done).
/// While a cancelled job is still running, wakes every 10 ms to signal its thread again or
/// give it up (deferred::tick).
fn wait(conn: &Conn, srv: &mut Server) -> (bool, bool) {
    let Some(pool) = &srv.pool else { return (true, false) };
    let mut fds = [
        libc::pollfd { fd: conn.fd(), events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: pool.wake_fd(), events: libc::POLLIN, revents: 0 },
    ];
    loop {
        let timeout = if deferred::tick(srv) { 10 } else { -1 };
        if !srv.outbox.is_empty() {
            return (false, false); // flushes answered for jobs given up
        }
        // SAFETY: fds is a valid array of two pollfds for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
        if n > 0 {
            // POLLHUP/POLLERR on the socket: recv sees the end.
            return (fds[0].revents != 0, fds[1].revents != 0);
        }
    }
}
