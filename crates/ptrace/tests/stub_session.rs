//! Where a stub process stands among the host's sessions and process groups.

use tsvisor_memfile::MemoryFile;
use tsvisor_ptrace::StubProcess;

/// In the sentry's session, so in its scheduling autogroup (a hand-off between them is a
/// switch inside one group), but in a process group of its own, out of reach of a
/// terminal's job-control signals to the sentry's group.
#[test]
fn a_stub_is_in_the_sentrys_session_and_its_own_process_group() {
    let mf = MemoryFile::with_size(1 << 20).unwrap();
    let stub = StubProcess::spawn(mf.fd()).expect("ptrace must be permitted to run these tests");
    // SAFETY: plain syscalls with integer arguments.
    let (sid, own_sid, pgid, own_pgid) =
        unsafe { (libc::getsid(stub.pid), libc::getsid(0), libc::getpgid(stub.pid), libc::getpgid(0)) };
    assert_eq!(sid, own_sid, "the stub has a session of its own");
    assert_eq!(pgid, stub.pid, "the stub leads its own process group");
    assert_ne!(pgid, own_pgid);
}
