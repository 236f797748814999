//! Everything fnstress says on stderr goes through here, so that every line carries the
//! `fnstress:` prefix and quiet mode is honoured in one place.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences notices and warnings (errors are always printed).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// True when `-q/--quiet` is in force.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints an error line; never silenced.
pub fn error(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "fnstress: {msg}");
}

/// Prints a warning unless quiet.
pub fn warn(msg: &str) {
    if !is_quiet() {
        let _ = writeln!(std::io::stderr().lock(), "fnstress: warning: {msg}");
    }
}

/// Prints a warning even in quiet mode: a weakened safety setting must never go unnoticed.
pub fn warn_always(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "fnstress: warning: {msg}");
}

/// Prints an informational line unless quiet.
pub fn info(msg: &str) {
    if !is_quiet() {
        let _ = writeln!(std::io::stderr().lock(), "fnstress: {msg}");
    }
}
