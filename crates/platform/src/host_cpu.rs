//! The CPU time of the host thread a task runs in, read from /proc without being that
//! thread (a thread CPU clock is readable only from its own process).
//!
//! Which of the thread's times is the task's depends on the platform: a systrap or ptrace
//! stub runs nothing but the application, so its whole scheduler runtime is (schedstat); a
//! KVM vCPU thread also does the host side of every exit (costly under nested
//! virtualization), so only the time its kernel spent in guest mode is (stat's guest_time).
//!
//! A host thread may serve several tasks one after another (KVM's pooled vCPUs, the stub
//! threads systrap keeps for its address space's next context), and its clock never goes back
//! to zero: a task is charged the thread's time since the task was given it (TaskClock).

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

/// Clocks of host threads whose task ended, for the next task on the same thread (a pooled
/// vCPU, a kept systrap stub), each with the thread's time when its task ended: one /proc
/// open, a path walk, and one read saved per thread creation. A clock kept for a thread that
/// has died reads None since the open file holds that task, not its tid: a thread given the
/// tid later is never read.
pub struct ClockCache {
    kept: Mutex<VecDeque<(i32, i32, HostCpuClock, u64)>>,
}

/// How many clocks a cache keeps (open fds): about as many as threads kept for reuse.
const CACHE_MAX: usize = 16;

impl ClockCache {
    pub const fn new() -> ClockCache {
        ClockCache { kept: Mutex::new(VecDeque::new()) }
    }

    /// The clock kept for thread (tgid, tid) of this kind, if any, with its last reading.
    pub fn take(&self, tgid: i32, tid: i32, kind: HostCpuKind) -> Option<(HostCpuClock, u64)> {
        let mut kept = self.kept.lock().unwrap();
        let i = kept.iter().position(|(g, t, c, _)| (*g, *t, c.kind) == (tgid, tid, kind))?;
        kept.remove(i).map(|(_, _, c, ns)| (c, ns))
    }

    /// Keeps the clock of thread (tgid, tid) and its reading `ns` now, the oldest kept going if
    /// there are too many.
    pub fn keep(&self, tgid: i32, tid: i32, clock: HostCpuClock, ns: u64) {
        let mut kept = self.kept.lock().unwrap();
        kept.retain(|(g, t, _, _)| (*g, *t) != (tgid, tid));
        if kept.len() >= CACHE_MAX {
            kept.pop_front();
        }
        kept.push_back((tgid, tid, clock, ns));
    }
}

/// One task's CPU time on its host thread: the thread's clock less what it read when the task
/// was given the thread, so that a vCPU back from the pool (or a reused stub) does not bring
/// the time of the tasks it ran before (cputime on kvm: a new thread's first interval was
/// charged from that total).
pub struct TaskClock {
    clock: HostCpuClock,
    base: u64,
    tgid: i32,
    tid: i32,
}

impl TaskClock {
    /// The clock of a task just given thread (tgid, tid): the one `cache` kept from the thread's
    /// last task, based at its final reading (the thread has run nothing since), or one opened
    /// now and based at its reading now. None if the thread is gone.
    pub fn start(cache: &ClockCache, tgid: i32, tid: i32, kind: HostCpuKind) -> Option<TaskClock> {
        let (clock, base) = match cache.take(tgid, tid, kind) {
            Some(kept) => kept,
            None => {
                let c = HostCpuClock::open(tgid, tid, kind)?;
                let ns = c.read_ns()?;
                (c, ns)
            }
        };
        Some(TaskClock { clock, base, tgid, tid })
    }

    /// The task's time on the thread so far, ns; None once the thread is gone.
    pub fn read_ns(&self) -> Option<u64> {
        self.clock.read_ns().map(|ns| ns.saturating_sub(self.base))
    }

    /// The task is done with the thread: its clock and its total go to `cache` for the
    /// thread's next task (unless the thread is gone).
    pub fn finish(self, cache: &ClockCache) {
        if let Some(ns) = self.clock.read_ns() {
            cache.keep(self.tgid, self.tid, self.clock, ns);
        }
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
        cache.keep(pid, tid, HostCpuClock::open(pid, tid, HostCpuKind::Runtime).unwrap(), 7);
        assert!(cache.take(pid, tid + 1, HostCpuKind::Runtime).is_none(), "another thread");
        assert!(cache.take(pid, tid, HostCpuKind::Guest).is_none(), "another kind");
        assert!(cache.take(pid, tid, HostCpuKind::Runtime).is_some_and(|(c, ns)| c.read_ns().is_some() && ns == 7));
        assert!(cache.take(pid, tid, HostCpuKind::Runtime).is_none(), "taken once");
        for t in 0..40 {
            cache.keep(pid, 1_000_000 + t, HostCpuClock::open(pid, tid, HostCpuKind::Runtime).unwrap(), 0);
        }
        assert_eq!(cache.kept.lock().unwrap().len(), CACHE_MAX, "bounded");
        assert!(cache.take(pid, 1_000_039, HostCpuKind::Runtime).is_some(), "the newest stay");
        assert!(cache.take(pid, 1_000_000, HostCpuKind::Runtime).is_none(), "the oldest went");
    }

    /// A thread that burns `ms` of CPU, then waits (alive, idle) until the sender is dropped.
    fn burnt_thread(ms: u64) -> (i32, std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            let cpu_ms = || {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: clock_gettime into a timespec we own.
                unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
                ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
            };
            // The thread's own CPU, not wall time: a loaded host would leave it little.
            let mut x = 0u64;
            while cpu_ms() < ms {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            // SAFETY: gettid has no preconditions.
            tid_tx.send(unsafe { libc::gettid() }).unwrap();
            let _ = done_rx.recv();
        });
        (tid_rx.recv().unwrap(), done_tx, h)
    }

    #[test]
    fn a_reused_threads_next_task_starts_from_zero() {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let (tid, done, h) = burnt_thread(60);
        let cache = ClockCache::new();
        let first = TaskClock::start(&cache, pid, tid, HostCpuKind::Runtime).unwrap();
        let total = first.clock.read_ns().unwrap();
        assert!(total >= 20_000_000, "the thread burnt CPU before: {total} ns");
        first.finish(&cache);
        // The thread's next task (kept clock) and one on a thread whose clock was never kept
        // (opened now) are charged nothing of what the thread ran before.
        let second = TaskClock::start(&cache, pid, tid, HostCpuKind::Runtime).unwrap();
        assert!(second.read_ns().unwrap() < 5_000_000, "kept clock: {:?} of {total} ns", second.read_ns());
        let fresh = TaskClock::start(&ClockCache::new(), pid, tid, HostCpuKind::Runtime).unwrap();
        assert!(fresh.read_ns().unwrap() < 5_000_000, "opened clock: {:?} of {total} ns", fresh.read_ns());
        drop(done);
        h.join().unwrap();
        assert_eq!(second.read_ns(), None, "gone with its thread");
        second.finish(&cache);
        assert!(cache.take(pid, tid, HostCpuKind::Runtime).is_none(), "a dead thread's clock is not kept");
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
