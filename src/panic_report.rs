//! What sfmcp prints when it panics. The default hook prints the panic's message, which is
//! built from whatever the panicking code formatted: a token, a record value, a request. This
//! hook prints only where the panic happened (and, with `RUST_BACKTRACE`, the call stack,
//! which holds function names and source places, never values).

use std::panic::PanicHookInfo;

/// Replaces the default panic hook for the whole process.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", report(info));
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}

/// The line printed for a panic: the thread and the source place, never the message.
pub fn report(info: &PanicHookInfo<'_>) -> String {
    let place = info.location().map_or_else(
        || "an unknown place".to_string(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    format!(
        "sfmcp: internal error: thread '{name}' panicked at {place}. The panic message is withheld because it may hold tokens or record values; please report the place above (RUST_BACKTRACE=1 adds the call stack)."
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The binary's panic hook prints the place of a panic and never its message, so a token
    /// formatted into one cannot reach stderr.
    #[test]
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    fn a_panic_report_withholds_the_message() {
        let token = "00Dxx0000000001!AQ8AQPanickedTokenValue.abcdefghij";
        let captured: Arc<Mutex<Option<String>>> = Arc::default();
        let sink = captured.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            *sink.lock().unwrap() = Some(report(info));
        }));
        let outcome = std::panic::catch_unwind(|| panic!("refresh failed for {token}"));
        std::panic::set_hook(previous);
        assert!(outcome.is_err());
        let report = captured.lock().unwrap().clone().expect("the hook ran");
        assert!(!report.contains(token), "{report}");
        assert!(!report.contains("refresh failed"), "{report}");
        assert!(report.contains("src/panic_report.rs:"), "{report}");

        let main = include_str!("main.rs");
        assert!(
            main.contains("panic_report::install();"),
            "the binary installs the hook"
        );
    }
}
