//! Giving memory back after many HTTP sessions or connections end.
//!
//! A session's memory (about 65 KB: its service task, channels, the client's info) is freed
//! when it closes or expires, but glibc keeps freed blocks in its heaps, fragmented among the
//! blocks still in use, so RSS stays at its peak: 1,000 sessions opened and closed three times
//! left a server at 132 MiB (tools/README.md, "HTTP sessions: fragmentation, not a leak").
//! `malloc_trim(0)` hands the free pages inside every arena back to the kernel (31 MiB
//! after it, on the same run). It walks every arena under its lock, so it runs only after
//! many sessions or connections have ended, at most once a second, on a blocking thread. A
//! stateless server keeps no session, but each idle keep-alive connection holds about 31 KB
//! (hyper's buffers, its task), kept the same way once they close.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

/// Sessions or connections that must have ended since the last release before another: a
/// release costs a walk of the heap; a few sessions' worth of pages is not worth one.
const ENDED_PER_RELEASE: usize = 32;

/// How often the counts are read; whatever opens raises the high-water mark itself, so
/// sessions opened and closed between two reads are still counted.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How many of something are live, and the most that were at once since memory was last
/// released. What is freed is proportional to that peak, not to churn: a thousand
/// connections one after another leave nothing to give back, a thousand at once do.
#[derive(Debug, Default)]
pub(crate) struct HighWater {
    live: AtomicUsize,
    high: AtomicUsize,
}

impl HighWater {
    /// One more is live (a connection) until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> Live {
        let live = self.live.fetch_add(1, Ordering::Relaxed) + 1;
        self.high.fetch_max(live, Ordering::Relaxed);
        Live(Arc::clone(self))
    }

    /// One more is opening while `live` others are (a session, which rmcp owns and ends).
    pub(crate) fn opening(&self, live: usize) {
        self.high.fetch_max(live + 1, Ordering::Relaxed);
    }

    fn set_live(&self, live: usize) {
        self.live.store(live, Ordering::Relaxed);
    }

    fn ended_since_release(&self) -> usize {
        let live = self.live.load(Ordering::Relaxed);
        self.high.load(Ordering::Relaxed).saturating_sub(live)
    }

    fn released(&self) {
        self.high
            .store(self.live.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Counts one live connection down when dropped.
pub(crate) struct Live(Arc<HighWater>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the HTTP server watches: its connections, and its sessions when it keeps any.
#[derive(Debug, Default, Clone)]
pub(crate) struct Watched {
    pub(crate) connections: Arc<HighWater>,
    pub(crate) sessions: Option<(Arc<LocalSessionManager>, Arc<HighWater>)>,
}

/// Times memory was given back, for `/metrics`.
pub(crate) static RELEASES: AtomicU64 = AtomicU64::new(0);

/// Watches for the life of the runtime: once [`ENDED_PER_RELEASE`] connections or sessions
/// have ended below their high-water marks, gives free heap pages back.
pub(crate) fn release_after_many_end(watched: Watched) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let mut ended = watched.connections.ended_since_release();
            if let Some((manager, sessions)) = &watched.sessions {
                sessions.set_live(manager.sessions.read().await.len());
                ended += sessions.ended_since_release();
            }
            if ended < ENDED_PER_RELEASE {
                continue;
            }
            watched.connections.released();
            if let Some((_, sessions)) = &watched.sessions {
                sessions.released();
            }
            if tokio::task::spawn_blocking(release_free_heap).await.is_ok() {
                RELEASES.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    ended,
                    "sessions or connections ended: free heap pages given back"
                );
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_heap() {
    // SAFETY: malloc_trim takes no pointer and only returns pages glibc holds free; it locks
    // each arena while it walks it, so calling it while other threads allocate is sound.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators (musl's, macOS's) return freed memory themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_heap() {}
