//! A client that is not ours: diod's own tools (diodcat, diodls, from Debian's diod package)
//! talk to tsvisor-gofer over a loopback TCP connection handed to it as its socket. They
//! attach (after a Tauth the gofer refuses as diod does), walk, open, read and list.

mod common;
use common::*;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Run `tool` against a gofer serving `dir` as "t" on a fresh loopback connection.
fn with_gofer(dir: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let dir = dir.to_path_buf();
    let server = std::thread::spawn(move || {
        let (c, _) = l.accept().unwrap();
        let fd = c.as_raw_fd();
        let mut cmd = Command::new(bin());
        cmd.args(["--sock-fd", "3", "--tree"]).arg(format!("t={}:ro", dir.display()));
        // SAFETY: between fork and exec only async-signal-safe dup2.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        drop(c);
        child.wait().unwrap()
    });
    let out = Command::new(tool)
        .args(["-s", &format!("127.0.0.1:{port}"), "-a", "t", "-t", "20"])
        .args(args)
        .output()
        .unwrap();
    let status = server.join().unwrap();
    assert_eq!(status.code(), Some(0), "the gofer exits 0 when the client hangs up");
    out
}

#[test]
fn diodcat_and_diodls() {
    let tools = ["/usr/sbin/diodcat", "/usr/sbin/diodls"];
    if tools.iter().any(|t| !Path::new(t).exists()) {
        eprintln!("skipped: diod's client tools not installed (apt-get install diod)");
        return;
    }
    let d = tmpdir("diodclient");
    std::fs::create_dir(d.join("sub")).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(d.join("big"), &big).unwrap();
    std::fs::write(d.join("sub/small"), b"small\n").unwrap();

    let out = with_gofer(&d, tools[0], &["big", "sub/small"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut want = big.clone();
    want.extend_from_slice(b"small\n");
    assert!(out.stdout == want, "diodcat read {} bytes, want {}", out.stdout.len(), want.len());

    let out = with_gofer(&d, tools[1], &["/"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().split_whitespace().collect();
    names.sort();
    assert_eq!(names, vec!["big", "sub"]);
    // -l stats every entry, `.` and `..` included (walked as 9P says).
    let out = with_gofer(&d, tools[1], &["-l", "/"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);
    let out = with_gofer(&d, tools[1], &["-l", "/sub"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("small") && text.contains(" 6 "), "{text}");
}
