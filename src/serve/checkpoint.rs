//! WAL checkpoints off the writer's thread. By default SQLite checkpoints in
//! the connection whose commit pushed the WAL past 1,000 pages, and with
//! `synchronous=NORMAL` a checkpoint is where the fsyncs happen: on a busy
//! disk that stalls the writer, and every command queued behind it, for as
//! long as the disk takes. Here the writer never checkpoints; this thread does,
//! passively (it neither waits for readers nor blocks the writer), once a
//! second, on its own connection.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use crate::store::Store;

pub struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Ends the thread and waits until its connection is closed, so the
    /// last connection to close (the writer's) can fold the WAL away.
    pub fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

pub fn start(db: PathBuf) -> std::io::Result<Checkpointer> {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("steward-checkpoint".into())
        .spawn(move || {
            let store = match Store::open(&db) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "checkpointer: cannot open the database; the writer's WAL grows until the server stops");
                    return;
                }
            };
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_secs(1))
            {
                if let Err(e) = store.checkpoint() {
                    tracing::warn!(error = %e, "checkpoint failed; retried in a second");
                }
            }
        })?;
    Ok(Checkpointer { stop, thread })
}
