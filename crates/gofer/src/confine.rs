//! Confinement before serving: opens each tree's root, then closes every other fd but the
//! socket and the debug log.

use crate::args::{Args, TreeArg};
use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};

fn note(log: &mut Option<&mut File>, line: &str) {
    if let Some(l) = log.as_mut() {
        let _ = writeln!(l, "confine: {line}");
    }
}

fn open_dir(path: &str) -> Result<OwnedFd, String> {
    let c = CString::new(path).map_err(|_| format!("{path}: NUL in path"))?;
    crate::host::openat(libc::AT_FDCWD, &c, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| format!("{path}: {}", std::io::Error::from_raw_os_error(e)))
}

/// Close every fd above 2 except `keep` (close_range around them).
pub fn close_other_fds(keep: &[i32]) {
    let mut keep: Vec<u32> = keep.iter().map(|&k| k as u32).collect();
    keep.sort_unstable();
    let mut lo = 3u32;
    for k in keep.into_iter().filter(|&k| k >= 3) {
        if k > lo {
            // SAFETY: closes fds this process does not use (all it uses are in `keep`).
            unsafe { libc::syscall(libc::SYS_close_range, lo, k - 1, 0) };
        }
        lo = k + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, lo, u32::MAX, 0) };
}

pub fn confine(a: &Args, mut log: Option<&mut File>) -> Result<Vec<(TreeArg, OwnedFd)>, String> {
    // SAFETY: umask has no preconditions; modes from the wire are applied exactly.
    unsafe { libc::umask(0) };
    let mut out = Vec::new();
    for t in &a.trees {
        out.push((TreeArg { name: t.name.clone(), dir: t.dir.clone(), ro: t.ro }, open_dir(&t.dir)?));
    }
    let mut keep: Vec<i32> = out.iter().map(|(_, fd)| fd.as_raw_fd()).collect();
    keep.push(a.sock_fd);
    if let Some(l) = log.as_ref() {
        keep.push(l.as_raw_fd());
    }
    close_other_fds(&keep);
    note(&mut log, "fds closed (namespaces and seccomp not applied yet)");
    Ok(out)
}
