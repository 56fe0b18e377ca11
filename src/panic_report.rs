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
