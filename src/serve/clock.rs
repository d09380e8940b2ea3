//! The server's clock. The engine is handed `now` and never reads a clock; the
//! server reads this one, so tests drive time by hand and an operator can run a
//! server whose day starts at a given moment (`steward --now ... serve`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::Notify;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + 'static {
    /// The current time, to the second (the log's resolution).
    fn now(&self) -> DateTime<Utc>;
    /// Resolves no later than when `now()` reaches `at` (or soon after the
    /// clock is moved); callers read `now()` again, so waking early is allowed.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep;
}

/// The system clock, optionally shifted so that it read `start` when the
/// server started and runs on at the real rate from there.
pub struct SystemClock {
    offset: chrono::Duration,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            offset: chrono::Duration::zero(),
        }
    }

    pub fn starting_at(start: DateTime<Utc>) -> SystemClock {
        SystemClock {
            offset: start - Utc::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        (Utc::now() + self.offset).trunc_subsecs(0)
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let wait = (at - (Utc::now() + self.offset))
            .to_std()
            .unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told: for tests of the scheduler.
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    now: Mutex<DateTime<Utc>>,
    moved: Notify,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                now: Mutex::new(start.trunc_subsecs(0)),
                moved: Notify::new(),
            }),
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.inner.now.lock() {
            *now = at.trunc_subsecs(0);
        }
        self.inner.moved.notify_waiters();
    }

    pub fn advance(&self, by: chrono::Duration) {
        let next = self.now() + by;
        self.set(next);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner
            .now
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|e| *e.into_inner())
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let me = self.clone();
        Box::pin(async move {
            loop {
                let moved = me.inner.moved.notified();
                if me.now() >= at {
                    return;
                }
                moved.await;
            }
        })
    }
}
