//! `fnstress run`, stage by stage: read the options, validate them, check the target answers,
//! run the load, then write the reports.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{env_layer, OutputFormat, RunConfig, RUN_SPECS};
use crate::engine::{self, signals, RunResult};
use crate::error::{exit, Error, Result};
use crate::live::Board;
use crate::options::{self, Layers, Origin};
use crate::{messages, report};

/// Help text of `fnstress run`.
pub const HELP: &str = include_str!("run_help.txt");

/// Entry point of `fnstress run`; returns the exit code.
pub fn main(mut args: pico_args::Arguments) -> Result<i32> {
    if args.contains(["-h", "--help"]) {
        print!("{HELP}");
        return Ok(exit::OK);
    }
    let cfg = RunConfig::from_layers(&read_layers(&mut args)?)?;
    messages::set_quiet(cfg.quiet);
    if cfg.client.insecure {
        messages::warn_always(
            "--insecure: TLS certificates are not verified; anyone on the path can read and \
             change the traffic",
        );
    }
    raise_fd_limit(cfg.concurrency)?;
    crate::engine::check_address_space(cfg.concurrency)?;
    if let Some(path) = &cfg.json_path {
        check_report_path(path, "--json")?;
    }
    if let Some(path) = &cfg.csv_path {
        check_report_path(path, "--csv")?;
    }
    if let Some(path) = &cfg.html_path {
        check_report_path(path, "--html")?;
    }
    let board = match &cfg.dashboard {
        Some(d) => Some(Board::start(&cfg, d.addr, &d.option)?),
        None => None,
    };
    if cfg.preflight {
        preflight(&cfg)?;
    }
    signals::install()?;
    if let Some(board) = &board {
        // Printed even with -q: with port 0 this line is the only way to find the dashboard.
        messages::error(&format!(
            "live dashboard on http://{0}/ (JSON at /api/stats, Prometheus at /metrics)",
            board.addr()
        ));
    }
    let target = match cfg.functions.as_slice() {
        [_] => crate::target::redact_url(&cfg.target.url),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|f| format!("{}={}", f.name, f.weight))
                .collect();
            format!(
                "the functions {} (route {})",
                names.join(","),
                cfg.target.route.label()
            )
        }
    };
    messages::info(&format!(
        "invoking {target} with {} workers{}",
        cfg.concurrency,
        match (cfg.duration, cfg.requests) {
            (Some(d), Some(n)) => format!(" for {} or {n} invocations", crate::duration::format(d)),
            (Some(d), None) => format!(" for {}", crate::duration::format(d)),
            (None, Some(n)) => format!(" for {n} invocations"),
            (None, None) => String::new(),
        }
    ));
    engine::run(&cfg, board.as_deref(), |result| {
        let code = write_reports(&cfg, &result)?;
        if let (Some(board), Some(d)) = (&board, &cfg.dashboard) {
            if !d.linger.is_zero() {
                messages::info(&format!(
                    "the dashboard stays up at http://{} for {} (Ctrl-C ends it)",
                    board.addr(),
                    crate::duration::format(d.linger)
                ));
                board.linger(d.linger);
            }
        }
        Ok(code)
    })
}

/// The environment variable holding a JSON event, for containers and Kubernetes pods where
/// an environment is easier to set than arguments.
pub const EVENT_ENV: &str = "FNSTRESS_EVENT";

/// Layers flags over `-d/--data` over env `FNSTRESS_EVENT` over the config file.
fn read_layers(args: &mut pico_args::Arguments) -> Result<Layers> {
    let data: Option<String> = args.opt_value_from_str(["-d", "--data"]).map_err(|_| {
        Error::usage("-d/--data: needs a JSON object, e.g. -d '{\"concurrency\": 10}'")
    })?;
    let file: Option<PathBuf> = args
        .opt_value_from_str("--config")
        .map_err(|_| Error::usage("--config: needs a file path"))?;
    let mut layers = Layers::default();
    let (file_given, data_given) = (file.is_some(), data.is_some());
    if let Some(path) = file {
        let json = options::read_config_file(&path)?;
        layers.merge_json(RUN_SPECS, &json, Origin::File(path))?;
    }
    match std::env::var(EVENT_ENV) {
        Ok(text) if !text.trim().is_empty() => {
            let place = format!("env {EVENT_ENV}");
            let json = options::parse_event(&text, &place)?;
            layers.merge_json(RUN_SPECS, &json, Origin::EnvEvent(EVENT_ENV))?;
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::usage(format!("env {EVENT_ENV}: not valid UTF-8")));
        }
        _ => {}
    }
    if let Some(text) = data {
        let json = options::parse_event(&text, "-d/--data")?;
        layers.merge_json(RUN_SPECS, &json, Origin::Event)?;
    }
    if file_given || data_given {
        // Checked before flags override anything, so a bad value in the event is never hidden.
        RunConfig::from_layers(&layers.json_only())?;
    }
    options::take_flags(args, RUN_SPECS, &mut layers)?;
    options::reject_leftovers(
        std::mem::replace(args, pico_args::Arguments::from_vec(vec![])),
        RUN_SPECS,
        "run",
    )?;
    env_layer(&mut layers);
    Ok(layers)
}

/// Fails early, with exit code 3, when nothing accepts TCP connections at the target.
fn preflight(cfg: &RunConfig) -> Result<()> {
    let t = &cfg.target;
    let unreachable = |why: String| {
        Error::Unreachable(format!(
            "cannot connect to {}:{} ({why}); start a gateway with `fnstress serve`, check \
             --gateway/--url, or skip this check with --no-preflight",
            t.host, t.port
        ))
    };
    let addrs: Vec<_> = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve: {e}")))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, cfg.connect_timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(last))
}

/// Each worker holds one connection; a few more descriptors cover the collector, stdio and
/// report files.
fn raise_fd_limit(concurrency: usize) -> Result<()> {
    let needed = concurrency as u64 + 64;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= needed {
            return Ok(());
        }
        if lim.rlim_max >= needed {
            lim.rlim_cur = needed;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                return Ok(());
            }
        }
    }
    Err(Error::usage(format!(
        "--concurrency {concurrency}: needs about {needed} open files but the hard limit is {} \
         (ulimit -Hn); lower --concurrency or raise the limit",
        lim.rlim_max
    )))
}

/// Writes the files first (so they exist even if stdout is gone), then stdout. A failed
/// file write still prints the report, so the run's results are not lost.
fn write_reports(cfg: &RunConfig, result: &RunResult) -> Result<i32> {
    let mut doc = report::build(cfg, result);
    let passed = report::judge(&mut doc, &cfg.thresholds)?;
    if let Some(short) = doc["rate"]["shortfall"].as_f64().filter(|s| *s > 0.01) {
        messages::warn(&format!(
            "achieved rate is {:.1}% below the requested rate: every worker was busy; raise \
             --concurrency or lower --rate",
            short * 100.0
        ));
    }
    let mut written = match &cfg.json_path {
        Some(path) => report::json::write_atomic(path, &doc).map(|()| {
            messages::info(&format!("wrote the JSON report to {}", path.display()));
        }),
        None => Ok(()),
    };
    if let Some(path) = &cfg.html_path {
        match report::html::write(path, &doc, "--html") {
            Ok(()) => messages::info(&format!("wrote the HTML report to {}", path.display())),
            // The first failure is returned; a second one must still be seen.
            Err(e) if written.is_err() => messages::error(&e.to_string()),
            Err(e) => written = Err(e),
        }
    }
    if let Some(path) = &cfg.csv_path {
        match report::csv::write_atomic(path, &doc) {
            Ok(()) => messages::info(&format!("wrote the CSV timeline to {}", path.display())),
            Err(e) if written.is_err() => messages::error(&e.to_string()),
            Err(e) => written = Err(e),
        }
    }
    print_stdout(&doc, cfg.output);
    written?;
    if !passed {
        messages::error(&threshold_failure(&doc));
        return Ok(exit::THRESHOLD);
    }
    Ok(exit::OK)
}

/// Fails before the start when a report file (`flag`: `--json`, `--html`, `--csv`) cannot be
/// created, rather than after a long run whose report would then have nowhere to go.
/// Refuses, before any work, a report path that cannot be written.
pub fn check_report_path(path: &Path, flag: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let unusable = |why: String| {
        Error::usage(format!(
            "{flag} {}: cannot write the report there ({why})",
            path.display()
        ))
    };
    if path.is_dir() {
        return Err(unusable("it is a directory".into()));
    }
    let probe = dir.join(format!(".fnstress-probe-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| unusable(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// One stderr line naming the failed thresholds, for logs that do not keep stdout.
pub fn threshold_failure(doc: &Value) -> String {
    let failed: Vec<&str> = doc["thresholds"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|t| t["pass"] != true)
                .filter_map(|t| t["threshold"].as_str())
                .collect()
        })
        .unwrap_or_default();
    match (failed.is_empty(), doc["abort"]["threshold"].as_str()) {
        (true, Some(a)) => format!("stopped early because threshold '{a}' failed (exit 99)"),
        _ => format!("threshold failed: {} (exit 99)", failed.join(", ")),
    }
}

/// Prints a report on stdout; a closed pipe (e.g. `| head`) is not an error.
pub fn print_stdout(doc: &Value, format: OutputFormat) {
    let text = match format {
        OutputFormat::Text => report::text::render(doc),
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(doc).expect("a JSON value serializes");
            s.push('\n');
            s
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
