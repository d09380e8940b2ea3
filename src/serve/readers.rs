//! Read-only connections for GET requests and token checks, handed out one
//! per blocking task: WAL lets them read while the writer commits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::service::{AppError, Service};

use super::problem::Problem;

#[derive(Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Service>>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Readers {
        Readers {
            path: Arc::new(path),
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `f` on an idle read-only service (opening one if none is idle)
    /// on tokio's blocking pool.
    pub async fn with<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&Service) -> Result<T, Problem> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let svc = match me.idle.lock().ok().and_then(|mut v| v.pop()) {
                Some(s) => s,
                None => {
                    Service::open_read_only(&me.path).map_err(|e: AppError| Problem::from(e))?
                }
            };
            let out = f(&svc);
            if let Ok(mut v) = me.idle.lock()
                && v.len() < 32
            {
                v.push(svc);
            }
            out
        })
        .await
        .unwrap_or_else(|e| Err(Problem::internal(format!("a read failed: {e}"))))
    }
}
