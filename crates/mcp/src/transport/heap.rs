//! Giving memory back after many HTTP sessions end.
//!
//! A session's memory (about 65 KB: its service task, channels, the client's info) is freed
//! when it closes or expires, but glibc keeps freed blocks in its heaps, fragmented among the
//! blocks still in use, so RSS stays at its peak: 1,000 sessions opened and closed three times
//! left a server at 132 MiB (tools/README.md, "HTTP sessions: fragmentation, not a leak").
//! `malloc_trim(0)` hands the free pages inside every arena back to the kernel (31 MiB
//! after it, on the same run). It walks every arena under its lock, so it runs only after
//! many sessions have ended, at most once a second, on a blocking thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

/// Sessions that must have ended since the last release before another: a release costs a
/// walk of the heap; a few sessions' worth of pages is not worth one.
const SESSIONS_ENDED_PER_RELEASE: usize = 32;

/// How often the live count is read; opening sessions raise the high-water mark themselves,
/// so sessions opened and closed between two reads are still counted.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The most sessions live at once since memory was last released.
#[derive(Debug, Default)]
pub(crate) struct SessionHighWater(AtomicUsize);

impl SessionHighWater {
    /// A session is opening while `live` others are.
    pub(crate) fn opening(&self, live: usize) {
        self.0.fetch_max(live + 1, Ordering::Relaxed);
    }
}

/// Times memory was given back, for `/metrics`.
pub(crate) static RELEASES: AtomicU64 = AtomicU64::new(0);

/// Watches the live sessions for the life of the runtime: once the count has fallen
/// [`SESSIONS_ENDED_PER_RELEASE`] below its high-water mark, gives free heap pages back.
pub(crate) fn release_after_sessions_end(
    sessions: Arc<LocalSessionManager>,
    high_water: Arc<SessionHighWater>,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let live = sessions.sessions.read().await.len();
            let peak = high_water.0.load(Ordering::Relaxed).max(live);
            if peak - live >= SESSIONS_ENDED_PER_RELEASE {
                high_water.0.store(live, Ordering::Relaxed);
                if tokio::task::spawn_blocking(release_free_heap).await.is_ok() {
                    RELEASES.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        ended = peak - live,
                        live,
                        "sessions ended: free heap pages given back"
                    );
                }
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
