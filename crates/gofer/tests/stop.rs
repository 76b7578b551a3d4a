//! A gofer stopped and continued (a terminal's ^Z and fg reaching it, or an administrator's
//! kill -STOP / -CONT) goes on serving: the kernel resumes its interrupted poll with
//! restart_syscall, which its seccomp filter must allow (it killed the gofer, and every file
//! access of the sandbox was EIO from then on).

mod common;
use common::*;

#[test]
fn stopped_and_continued_gofer_keeps_serving() {
    let a = tmpdir("stop-a");
    std::fs::write(a.join("f"), b"x").unwrap();
    let mut g = Gofer::spawn(&[("a", &a, true)]);
    g.version(8192);
    g.attach(0, "a").unwrap();
    let pid = g.child.id() as i32;
    for i in 0..20u32 {
        // Let it get back into its wait for the next request, then stop and continue it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        // SAFETY: plain signals to our own child.
        unsafe {
            libc::kill(pid, libc::SIGSTOP);
            libc::kill(pid, libc::SIGCONT);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(g.walk(0, 1 + i, &[b"f"]).map(|q| q.len()), Ok(1), "round {i}: {}", std::fs::read_to_string(&g.log).unwrap_or_default());
    }
    assert!(g.child.try_wait().unwrap().is_none(), "the gofer died");
}
