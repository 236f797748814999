//! Subcommand dispatch and the mapping of errors to exit codes.

use fnstress::error::exit;
use fnstress::{gateway, messages, run};

const HELP: &str = "\
fnstress: stress-test serverless functions and HTTP endpoints

Usage: fnstress <COMMAND> [OPTIONS]

Commands:
  run      invoke a function from many concurrent workers and report every outcome
  serve    start the built-in gateway with demo functions (the default target)
  report   print or merge saved JSON reports

Run `fnstress <COMMAND> --help` for the options of a command.
";

fn main() {
    let mut args = pico_args::Arguments::from_env();
    let command = args.subcommand().unwrap_or(None);
    let result = match command.as_deref() {
        Some("run") => run::main(args),
        Some("serve") => gateway::main(args),
        Some("-h") | Some("--help") | Some("help") | None => {
            print!("{HELP}");
            Ok(exit::OK)
        }
        Some("-V") | Some("--version") => {
            println!("fnstress {}", env!("CARGO_PKG_VERSION"));
            Ok(exit::OK)
        }
        Some(other) => Err(fnstress::error::Error::usage(format!(
            "unknown command '{other}'; expected one of: run, serve, report (see fnstress --help)"
        ))),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            messages::error(&e.to_string());
            e.exit_code()
        }
    };
    std::process::exit(code);
}
