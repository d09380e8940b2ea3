//! Waiting for the PostgreSQL client from synchronous code on any thread.
//!
//! The store is synchronous; the client (`tokio-postgres`) is async. Its
//! connections are driven by one private runtime thread per process, and the
//! caller waits for each request with [`wait`], which parks the calling thread
//! instead of entering a runtime. So the store works the same from a plain
//! thread, tokio's blocking pool or code that is itself inside a runtime
//! (tests, a server starting up), where the `postgres` crate's own
//! `block_on` would refuse to run.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use tokio::runtime::Runtime;

use crate::store::StoreError;

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `f` to completion on the calling thread.
pub(super) fn wait<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// The runtime that owns every PostgreSQL socket of this process.
pub(super) fn runtime() -> Result<&'static Runtime, StoreError> {
    static RT: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("steward-postgres")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    rt.as_ref().map_err(|e| {
        StoreError::Invalid(format!("cannot start the PostgreSQL client's runtime: {e}"))
    })
}
