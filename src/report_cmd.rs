//! `fnstress report FILE...`: prints a saved JSON report, or merges the reports of several
//! shards into one, and judges thresholds on the result, so that a pipeline can gate on a
//! load spread over many processes or pods.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use crate::config::OutputFormat;
use crate::error::{exit, Error, Result};
use crate::messages;
use crate::options::suggest;
use crate::report::merge::{self, Input};
use crate::report::{self, json};
use crate::run::{print_stdout, threshold_failure};
use crate::threshold::{eval, Threshold};

/// Help text of `fnstress report`.
pub const HELP: &str = include_str!("report_help.txt");

/// The flags `report` takes, for suggestions on a typo.
const FLAGS: [&str; 6] = [
    "--json",
    "--html",
    "--output",
    "--threshold",
    "--quiet",
    "--help",
];

/// What `fnstress report` was asked to do.
struct Args {
    files: Vec<String>,
    output: OutputFormat,
    json: Option<PathBuf>,
    html: Option<PathBuf>,
    thresholds: Vec<Threshold>,
}

/// Entry point of `fnstress report`; returns the exit code.
pub fn main(mut args: pico_args::Arguments) -> Result<i32> {
    if args.contains(["-h", "--help"]) {
        print!("{HELP}");
        return Ok(exit::OK);
    }
    let a = parse(args)?;
    if let Some(path) = &a.json {
        crate::run::check_report_path(path, "--json")?;
    }
    if let Some(path) = &a.html {
        crate::run::check_report_path(path, "--html")?;
    }
    let inputs = a
        .files
        .iter()
        .map(|f| read(f))
        .collect::<Result<Vec<Input>>>()?;
    refuse_repeats(&inputs)?;
    let mut doc = if inputs.len() == 1 {
        merge::check_one(&inputs[0]).map_err(Error::usage)?;
        inputs[0].doc.clone()
    } else {
        let merged = merge::merge(&inputs).map_err(Error::usage)?;
        warn_about_shards(&inputs);
        merged
    };
    let passed = if a.thresholds.is_empty() {
        // A saved report keeps the verdicts of its own run; a merge has none of its own.
        eval::all_pass(&doc["thresholds"]) && doc["stop_reason"] != "threshold"
    } else {
        report::judge(&mut doc, &a.thresholds)
            .map_err(|e| Error::usage(format!("--threshold {e}")))?
    };
    if let Some(path) = &a.json {
        json::write_atomic(path, &doc)?;
        messages::info(&format!("wrote the JSON report to {}", path.display()));
    }
    if let Some(path) = &a.html {
        report::html::write(path, &doc, "--html")?;
        messages::info(&format!("wrote the HTML report to {}", path.display()));
    }
    print_stdout(&doc, a.output);
    if !passed {
        messages::error(&threshold_failure(&doc));
        return Ok(exit::THRESHOLD);
    }
    Ok(exit::OK)
}

fn parse(mut args: pico_args::Arguments) -> Result<Args> {
    let output = match args
        .opt_value_from_str::<_, String>(["-o", "--output"])
        .map_err(|_| Error::usage("-o/--output: needs text or json"))?
        .as_deref()
    {
        None | Some("text") => OutputFormat::Text,
        Some("json") => OutputFormat::Json,
        Some(other) => {
            return Err(Error::usage(format!(
                "-o/--output: '{other}' is not a format; use text or json"
            )))
        }
    };
    let json = args
        .opt_value_from_str("--json")
        .map_err(|_| Error::usage("--json: needs a file path"))?;
    let html = args
        .opt_value_from_str("--html")
        .map_err(|_| Error::usage("--html: needs a file path"))?;
    let texts: Vec<String> = args
        .values_from_str("--threshold")
        .map_err(|_| Error::usage("--threshold: needs an expression such as p99<250ms"))?;
    let thresholds = texts
        .iter()
        .map(|t| Threshold::parse(t).map_err(|m| Error::usage(format!("--threshold: {m}"))))
        .collect::<Result<Vec<_>>>()?;
    messages::set_quiet(args.contains(["-q", "--quiet"]));
    let mut files = vec![];
    for arg in args.finish() {
        let text = arg.to_string_lossy().into_owned();
        if text.starts_with('-') && text != "-" {
            let name = text.split('=').next().unwrap_or(&text).to_string();
            return Err(Error::usage(format!(
                "unknown flag '{name}' for 'report'{} (see fnstress report --help)",
                suggest(&name, FLAGS.into_iter())
            )));
        }
        files.push(text);
    }
    if files.is_empty() {
        return Err(Error::usage(
            "report: needs at least one JSON report file, e.g. fnstress report shard-*.json",
        ));
    }
    Ok(Args {
        files,
        output,
        json,
        html,
        thresholds,
    })
}

/// Reads one report; `-` reads standard input.
fn read(path: &str) -> Result<Input> {
    let mut text = String::new();
    let got = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    got.map_err(|e| Error::usage(format!("report: cannot read '{path}' ({e})")))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| Error::usage(format!("report: '{path}' is not JSON ({e})")))?;
    if !doc.is_object() {
        return Err(Error::usage(format!(
            "report: '{path}' is not a fnstress report (not a JSON object)"
        )));
    }
    Ok(Input {
        source: path.to_string(),
        doc,
    })
}

/// The same report twice would count each of its invocations twice.
fn refuse_repeats(inputs: &[Input]) -> Result<()> {
    for (i, a) in inputs.iter().enumerate() {
        if let Some(b) = inputs[..i].iter().find(|b| b.doc == a.doc) {
            return Err(Error::usage(format!(
                "report: '{}' and '{}' hold the same report; merging it twice would count \
                 every invocation twice",
                b.source, a.source
            )));
        }
    }
    Ok(())
}

/// Merging works on any reports of one load, but a shard given twice or missing is most
/// likely a mistake in a pipeline, so it is pointed out.
fn warn_about_shards(inputs: &[Input]) {
    let mut seen = BTreeSet::new();
    let mut count = None;
    for i in inputs {
        let s = &i.doc["shard"];
        let (Some(index), Some(n)) = (s["index"].as_u64(), s["count"].as_u64()) else {
            continue;
        };
        if !seen.insert(index) {
            messages::warn(&format!("shard {index}/{n} is given more than once"));
        }
        count = Some(n);
    }
    if let Some(n) = count {
        let missing: Vec<String> = (0..n)
            .filter(|i| !seen.contains(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            messages::warn(&format!(
                "merging {} of {n} shards; missing: {}",
                seen.len(),
                missing.join(", ")
            ));
        }
    }
}
