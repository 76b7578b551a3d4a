//! The event loop's side of a platform's wake source (`Platform::wake_source`): a uv_poll on
//! its fd; when it is readable, the platform's dispatch runs here, on the JS thread, and the
//! contexts it reports stopped get their JS callbacks, called in one callback scope (promise
//! reactions run when it closes, as after any libuv callback). So a parked run's stop reaches
//! JS with no thread and no threadsafe-function queue between the stub and the event loop.
//!
//! The poll keeps the loop alive while any context is live (not released), as the
//! threadsafe function of each context did before it: the sentry relies on it while every
//! task waits (a pause() for an alarm whose timer does not hold the loop). Everything here
//! runs on the JS thread; the wakers the platform calls only push ids into `due`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::{c_int, c_void};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use napi::sys;
use napi::{Env, Result};

use tsvisor_platform::WakeSource;
use crate::js_wake::{alloc_handle, call_callbacks, delete_ref, loop_and_async_context, sym, Callbacks};

const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;

type PollCb = extern "C" fn(*mut c_void, c_int, c_int);
type CloseCb = extern "C" fn(*mut c_void);

/// libuv, as the node binary exports it (looked up at run time: the addon links no libuv).
struct Uv {
    handle_size: extern "C" fn(c_int) -> usize,
    poll_init: extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    poll_start: extern "C" fn(*mut c_void, c_int, PollCb) -> c_int,
    poll_stop: extern "C" fn(*mut c_void) -> c_int,
    close: extern "C" fn(*mut c_void, CloseCb),
    refh: extern "C" fn(*mut c_void),
    unref: extern "C" fn(*mut c_void),
}

fn uv() -> Option<&'static Uv> {
    static UV: std::sync::OnceLock<Option<Uv>> = std::sync::OnceLock::new();
    UV.get_or_init(|| {
        // SAFETY: each symbol is libuv's function of that name, with the C signature given
        // in Uv (libuv 1.x, stable ABI).
        unsafe {
            Some(Uv {
                handle_size: std::mem::transmute::<*mut c_void, extern "C" fn(c_int) -> usize>(sym(c"uv_handle_size")?),
                poll_init: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int>(sym(c"uv_poll_init")?),
                poll_start: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, c_int, PollCb) -> c_int>(sym(c"uv_poll_start")?),
                poll_stop: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void) -> c_int>(sym(c"uv_poll_stop")?),
                close: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void, CloseCb)>(sym(c"uv_close")?),
                refh: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void)>(sym(c"uv_ref")?),
                unref: std::mem::transmute::<*mut c_void, extern "C" fn(*mut c_void)>(sym(c"uv_unref")?),
            })
        }
    })
    .as_ref()
}

pub(crate) struct WakeLoop {
    env: sys::napi_env,
    /// The uv_poll_t (malloc'd, freed by the close callback); its data field points at us.
    handle: *mut c_void,
    async_ctx: sys::napi_async_context,
    dispatch: Arc<dyn Fn() + Send + Sync>,
    due: Arc<Mutex<Vec<u32>>>,
    inner: RefCell<Inner>,
}

struct Inner {
    /// Live contexts' callbacks: the loop stays alive while there is one.
    callbacks: Callbacks,
    /// Contexts whose run is parked: their callback is due once the platform says so.
    pending: HashSet<u32>,
    referenced: bool,
}

impl WakeLoop {
    /// Watches `src.fd` on the loop of `env`; None where libuv cannot be reached.
    pub(crate) fn new(env: &Env, src: WakeSource) -> Result<Option<Rc<WakeLoop>>> {
        let Some(uv) = uv() else { return Ok(None) };
        let env = env.raw();
        let (lp, async_ctx) = loop_and_async_context(env, c"tsvisor:wake")?;
        let handle = alloc_handle((uv.handle_size)(UV_POLL), "uv_poll_t")?;
        if (uv.poll_init)(lp, handle, src.fd) != 0 {
            // SAFETY: never handed to libuv successfully.
            unsafe { libc::free(handle) };
            return Ok(None);
        }
        let wl = Rc::new(WakeLoop {
            env,
            handle,
            async_ctx,
            dispatch: src.dispatch,
            due: Arc::default(),
            inner: RefCell::new(Inner { callbacks: Callbacks::new(), pending: HashSet::new(), referenced: true }),
        });
        // SAFETY: uv_handle_t starts with `void *data`; it holds one strong count, given
        // back by the close callback.
        unsafe { *(handle as *mut *const WakeLoop) = Rc::into_raw(wl.clone()) };
        (uv.poll_start)(handle, UV_READABLE, on_readable);
        wl.set_referenced(false);
        Ok(Some(wl))
    }

    fn set_referenced(&self, on: bool) {
        let mut i = self.inner.borrow_mut();
        if i.referenced != on {
            i.referenced = on;
            let uv = uv().expect("libuv was found when the poll was made");
            if on {
                (uv.refh)(self.handle)
            } else {
                (uv.unref)(self.handle)
            }
        }
    }

    /// A new context's id and waker: `on_wake` is called (on the JS thread) when a run of it
    /// that park() left pending has stopped.
    pub(crate) fn add(&self, on_wake: sys::napi_value) -> Result<(u32, Box<dyn Fn() + Send + Sync>)> {
        let id = self.inner.borrow_mut().callbacks.add(self.env, on_wake)?;
        self.set_referenced(true);
        let due = self.due.clone();
        Ok((id, Box::new(move || due.lock().unwrap().push(id))))
    }

    /// The run of `id` was parked: its callback is due once the platform says it stopped.
    pub(crate) fn parked(&self, id: u32) {
        self.inner.borrow_mut().pending.insert(id);
    }

    /// `id` is released: its callback is dropped, called no more.
    pub(crate) fn remove(&self, id: u32) {
        let (r, more) = {
            let mut i = self.inner.borrow_mut();
            i.pending.remove(&id);
            let r = i.callbacks.take(id);
            (r, !i.callbacks.is_empty())
        };
        if let Some(r) = r {
            delete_ref(self.env, r);
        }
        self.set_referenced(more);
    }

    fn fire(&self) {
        (self.dispatch)();
        let ids = std::mem::take(&mut *self.due.lock().unwrap());
        if ids.is_empty() {
            return;
        }
        let refs: Vec<sys::napi_ref> = {
            let mut i = self.inner.borrow_mut();
            // An id no longer pending was released meanwhile, or woke no parked run.
            let mut refs = Vec::with_capacity(ids.len());
            for id in ids {
                if i.pending.remove(&id) {
                    refs.extend(i.callbacks.get(id));
                }
            }
            refs
        };
        // SAFETY: a libuv callback on the JS thread; the references and the async context are
        // ours and live while this WakeLoop is.
        unsafe { call_callbacks(self.env, self.async_ctx, &refs) };
    }

    /// Stops watching (the platform is going away); the handle is freed once libuv is done.
    pub(crate) fn close(&self) {
        let uv = uv().expect("libuv was found when the poll was made");
        (uv.poll_stop)(self.handle);
        (uv.close)(self.handle, on_closed);
    }
}

extern "C" fn on_readable(handle: *mut c_void, _status: c_int, _events: c_int) {
    // SAFETY: data was set to a live WakeLoop (one strong count) before the poll started.
    let wl = unsafe { &**(handle as *const *const WakeLoop) };
    wl.fire();
}

extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: the strong count taken in new(), given back once; then the handle is freed.
    unsafe {
        drop(Rc::from_raw(*(handle as *const *const WakeLoop)));
        libc::free(handle);
    }
}
