//! The CPU time of the host thread a task runs in, read from /proc without being that
//! thread (a thread CPU clock is readable only from its own process).
//!
//! Which of the thread's times is the task's depends on the platform: a systrap or ptrace
//! stub runs nothing but the application, so its whole scheduler runtime is (schedstat); a
//! KVM vCPU thread also does the host side of every exit (costly under nested
//! virtualization), so only the time its kernel spent in guest mode is (stat's guest_time).

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// Which time of the host thread the task is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostCpuKind {
    /// sum_exec_runtime: user + system, ns (/proc/<tgid>/task/<tid>/schedstat field 1).
    Runtime,
    /// Time in guest mode, clock ticks (/proc/<tgid>/task/<tid>/stat field 43, guest_time).
    Guest,
}

/// An open /proc file of one host thread, re-read with pread (the kernel regenerates it).
pub struct HostCpuClock {
    file: File,
    kind: HostCpuKind,
    ns_per_tick: u64,
}

impl HostCpuClock {
    pub fn open(tgid: i32, tid: i32, kind: HostCpuKind) -> Option<HostCpuClock> {
        let name = match kind {
            HostCpuKind::Runtime => "schedstat",
            HostCpuKind::Guest => "stat",
        };
        let file = File::open(format!("/proc/{tgid}/task/{tid}/{name}")).ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ns_per_tick = if hz > 0 { 1_000_000_000 / hz as u64 } else { 10_000_000 };
        Some(HostCpuClock { file, kind, ns_per_tick })
    }

    /// The time in ns; None once the thread is gone or the file makes no sense.
    pub fn read_ns(&self) -> Option<u64> {
        let mut buf = [0u8; 1024];
        let n = self.file.read_at(&mut buf, 0).ok()?;
        match self.kind {
            HostCpuKind::Runtime => parse_schedstat_ns(&buf[..n]),
            HostCpuKind::Guest => parse_stat_guest_ticks(&buf[..n])?.checked_mul(self.ns_per_tick),
        }
    }
}

/// Clocks of host threads whose task ended, for the next task on the same thread (systrap
/// keeps a stopped thread for the next context of its address space): one /proc open, a path
/// walk, saved per thread creation. A clock kept for a thread that has died reads None since
/// the open file holds that task, not its tid: a thread given the tid later is never read.
pub struct ClockCache {
    kept: Mutex<VecDeque<(i32, i32, HostCpuClock)>>,
}

/// How many clocks a cache keeps (open fds): about as many as threads kept for reuse.
const CACHE_MAX: usize = 16;

impl ClockCache {
    pub const fn new() -> ClockCache {
        ClockCache { kept: Mutex::new(VecDeque::new()) }
    }

    /// The clock kept for thread (tgid, tid) of this kind, if any.
    pub fn take(&self, tgid: i32, tid: i32, kind: HostCpuKind) -> Option<HostCpuClock> {
        let mut kept = self.kept.lock().unwrap();
        let i = kept.iter().position(|(g, t, c)| (*g, *t, c.kind) == (tgid, tid, kind))?;
        kept.remove(i).map(|(_, _, c)| c)
    }

    /// Keeps the clock of thread (tgid, tid), the oldest kept going if there are too many.
    pub fn keep(&self, tgid: i32, tid: i32, clock: HostCpuClock) {
        let mut kept = self.kept.lock().unwrap();
        kept.retain(|(g, t, _)| (*g, *t) != (tgid, tid));
        if kept.len() >= CACHE_MAX {
            kept.pop_front();
        }
        kept.push_back((tgid, tid, clock));
    }
}

/// The first field of a schedstat line (runtime in ns).
pub fn parse_schedstat_ns(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.split_ascii_whitespace().next()?.parse().ok()
}

/// Field 43 (guest_time) of a /proc stat line. The command name (field 2) is in parentheses
/// and may itself hold spaces and parentheses, so fields are counted after the last ')'.
pub fn parse_stat_guest_ticks(b: &[u8]) -> Option<u64> {
    let close = b.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(&b[close + 1..]).ok()?;
    // After the name comes field 3 (state); field 43 is the 41st from there.
    rest.split_ascii_whitespace().nth(43 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_line(comm: &str, guest: &str) -> String {
        let mut f: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        f[0] = "R".into();
        f[43 - 3] = guest.into();
        format!("1234 ({comm}) {}\n", f.join(" "))
    }

    #[test]
    fn guest_time_is_field_43() {
        assert_eq!(parse_stat_guest_ticks(stat_line("vcpu", "77").as_bytes()), Some(77));
    }

    #[test]
    fn a_hostile_command_name_does_not_shift_the_fields() {
        for comm in ["a b c", ") 1 2 3 (", "x) 9 9", "))", "(", ""] {
            assert_eq!(parse_stat_guest_ticks(stat_line(comm, "5").as_bytes()), Some(5), "{comm:?}");
        }
    }

    #[test]
    fn a_short_or_forged_line_is_none() {
        assert_eq!(parse_stat_guest_ticks(b""), None);
        assert_eq!(parse_stat_guest_ticks(b"1 (x) R 1 2 3"), None);
        assert_eq!(parse_stat_guest_ticks(b"1 x R"), None);
        assert_eq!(parse_stat_guest_ticks(stat_line("x", "-1").as_bytes()), None);
        assert_eq!(parse_stat_guest_ticks(stat_line("x", "1e3").as_bytes()), None);
        assert_eq!(parse_stat_guest_ticks(stat_line("x", "99999999999999999999999").as_bytes()), None);
        assert_eq!(parse_schedstat_ns(b"\xff\xfe 1 2"), None);
        assert_eq!(parse_schedstat_ns(b"123 4 5\n"), Some(123));
    }

    #[test]
    fn fuzzed_lines_never_panic() {
        // xorshift from a fixed seed: random bytes, and real lines with bytes flipped.
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let base = stat_line("vcpu (x)", "42").into_bytes();
        for _ in 0..20_000 {
            let mut b = if next() % 2 == 0 {
                base.clone()
            } else {
                (0..(next() % 400)).map(|_| b" ()0123456789-x\n\xff"[(next() % 17) as usize]).collect()
            };
            for _ in 0..(next() % 4) {
                if !b.is_empty() {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
            }
            let _ = parse_stat_guest_ticks(&b);
            let _ = parse_schedstat_ns(&b);
        }
    }

    #[test]
    fn a_kept_clock_is_given_back_only_for_its_own_thread_and_kind() {
        // SAFETY: getpid and gettid have no preconditions.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let cache = ClockCache::new();
        cache.keep(pid, tid, HostCpuClock::open(pid, tid, HostCpuKind::Runtime).unwrap());
        assert!(cache.take(pid, tid + 1, HostCpuKind::Runtime).is_none(), "another thread");
        assert!(cache.take(pid, tid, HostCpuKind::Guest).is_none(), "another kind");
        assert!(cache.take(pid, tid, HostCpuKind::Runtime).is_some_and(|c| c.read_ns().is_some()));
        assert!(cache.take(pid, tid, HostCpuKind::Runtime).is_none(), "taken once");
        for t in 0..40 {
            cache.keep(pid, 1_000_000 + t, HostCpuClock::open(pid, tid, HostCpuKind::Runtime).unwrap());
        }
        assert_eq!(cache.kept.lock().unwrap().len(), CACHE_MAX, "bounded");
        assert!(cache.take(pid, 1_000_039, HostCpuKind::Runtime).is_some(), "the newest stay");
        assert!(cache.take(pid, 1_000_000, HostCpuKind::Runtime).is_none(), "the oldest went");
    }

    #[test]
    fn a_dead_threads_clock_reads_none() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
        });
        let tid = rx.recv().unwrap();
        // SAFETY: getpid has no preconditions.
        let clock = HostCpuClock::open(unsafe { libc::getpid() }, tid, HostCpuKind::Runtime);
        h.join().unwrap();
        // Opened before the thread ended (or not at all if it was quicker): it reads nothing now.
        if let Some(c) = clock {
            assert_eq!(c.read_ns(), None);
        }
    }

    #[test]
    fn reads_this_thread() {
        // SAFETY: getpid and gettid have no preconditions.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let rt = HostCpuClock::open(pid, tid, HostCpuKind::Runtime).unwrap();
        assert!(rt.read_ns().is_some(), "a schedstat line (its runtime may read 0 on some hosts)");
        // Not a vCPU: no guest time, but a readable field.
        let g = HostCpuClock::open(pid, tid, HostCpuKind::Guest).unwrap();
        assert_eq!(g.read_ns(), Some(0));
    }
}
