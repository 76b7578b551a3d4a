//! For the waiter and wake-ring unit tests: a message page of the test's own and a context's
//! shared state over it, whose waker checks that every report is of a stopped (READY) run
//! and counts the reports.

use crate::msg::ST_READY;
use crate::{Msg, Shared, Watch};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[repr(align(4096))]
pub struct Page(pub [u8; 4096]);

pub fn shared(page: &mut Page, calls: Arc<AtomicUsize>) -> Arc<Shared> {
    // SAFETY: the page outlives the Shared (both live to the end of the test).
    let msg = unsafe { Msg::new(page.0.as_mut_ptr()) };
    let s = Arc::new(Shared {
        msg,
        // This very thread: alive throughout.
        tgid: std::process::id() as i32,
        // SAFETY: gettid has no preconditions.
        tid: unsafe { libc::gettid() },
        dead: AtomicBool::new(false),
        watch: Mutex::new(Watch::new()),
        waker: Mutex::new(None),
        armed_key: AtomicU64::new(0),
        _backing: None,
    });
    let m = s.msg;
    *s.waker.lock().unwrap() = Some(Box::new(move || {
        assert_eq!(m.state(), ST_READY, "a waker call must report a stopped run");
        calls.fetch_add(1, Ordering::SeqCst);
    }));
    s
}
