//! Subcommand dispatch and the mapping of errors to exit codes.

use fnstress::error::{exit, Error};
use fnstress::{gateway, messages, report_cmd, run};

/// The subcommands, for messages.
const COMMANDS: &str = "run, serve, report";

const HELP: &str = "\
fnstress: stress-test serverless functions and HTTP endpoints

Usage: fnstress <COMMAND> [OPTIONS]

Commands:
  run      invoke a function from many concurrent workers and report every outcome
  serve    start the built-in gateway with demo functions (the default target)
  report   print a saved JSON report, or merge the reports of several shards into one

Run `fnstress <COMMAND> --help` (or `fnstress help <COMMAND>`) for the options of a command;
`fnstress --version` prints the version.
";

fn main() {
    let code = match dispatch(std::env::args_os().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            messages::error(&e.to_string());
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// Picks the subcommand; `help CMD` is `CMD --help`.
fn dispatch(mut argv: Vec<std::ffi::OsString>) -> Result<i32, Error> {
    let first = argv.first().and_then(|a| a.to_str()).map(str::to_string);
    match first.as_deref() {
        Some("-V") | Some("--version") => {
            println!("fnstress {}", env!("CARGO_PKG_VERSION"));
            return Ok(exit::OK);
        }
        Some("-h") | Some("--help") => {
            print!("{HELP}");
            return Ok(exit::OK);
        }
        Some("help") if argv.len() > 1 => {
            argv.remove(0);
            argv.insert(1, "--help".into());
        }
        Some("help") => {
            print!("{HELP}");
            return Ok(exit::OK);
        }
        None => {
            eprint!("{HELP}");
            return Err(Error::usage("a command is needed: run, serve or report"));
        }
        _ => {}
    }
    let command = argv.remove(0).to_string_lossy().into_owned();
    let args = pico_args::Arguments::from_vec(argv);
    match command.as_str() {
        "run" => run::main(args),
        "serve" => gateway::main(args),
        "report" => report_cmd::main(args),
        other => Err(Error::usage(format!(
            "unknown command '{other}'; expected one of: {COMMANDS} (see fnstress --help)"
        ))),
    }
}
