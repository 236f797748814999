//! `fnstress serve`: the built-in gateway hosting demo functions.

use crate::error::{Error, Result};

/// Help text of `fnstress serve`.
pub const HELP: &str = "fnstress serve: not built yet\n";

/// Entry point of `fnstress serve`; returns the exit code.
pub fn main(args: pico_args::Arguments) -> Result<i32> {
    let _ = args;
    Err(Error::internal("serve is not built yet"))
}
