//! Raw option values and where each came from: flags, a `-d/--data` JSON event, or a
//! `--config` file. Every option has one snake_case key shared by all three sources, so that
//! layering is a map merge and validation (in `config`) can name the exact flag or key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// How an option appears on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Takes one value.
    Value,
    /// A switch without a value.
    Switch,
    /// Takes a value and may be given several times.
    Repeat,
}

/// One option of a subcommand: its JSON key and its flags.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// snake_case key, used in JSON events and config files.
    pub key: &'static str,
    /// Long flag, with the dashes.
    pub flag: &'static str,
    /// Short flag, with the dash.
    pub short: Option<&'static str>,
    /// Value, switch or repeatable.
    pub kind: ArgKind,
    /// False for options that make no sense inside a JSON event (such as `--config`).
    pub in_json: bool,
}

impl Spec {
    /// `-c/--concurrency` or `--gateway`, for messages.
    pub fn flags(&self) -> String {
        match self.short {
            Some(s) => format!("{s}/{}", self.flag),
            None => self.flag.to_string(),
        }
    }
}

/// Where a raw value came from; decides how it is parsed and how messages name it.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A command-line flag (values are strings to parse).
    Flag(&'static str),
    /// The `-d/--data` JSON event.
    Event,
    /// A `--config` file.
    File(PathBuf),
    /// An environment variable.
    Env(&'static str),
    /// A JSON event in an environment variable (`FNSTRESS_EVENT`).
    EnvEvent(&'static str),
}

/// A raw value and its origin.
#[derive(Clone, Debug)]
pub struct Setting {
    /// String (flags), any JSON value (events and files), `true` (switches) or an array of
    /// strings (repeatable flags).
    pub value: Value,
    /// Where it came from.
    pub origin: Origin,
    /// The option's key.
    pub key: &'static str,
}

impl Setting {
    /// Names the setting the way the user wrote it: `--concurrency` or
    /// `key 'concurrency' in -d/--data`.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::Flag(flag) => flag.to_string(),
            Origin::Event => format!("key '{}' in -d/--data", self.key),
            Origin::File(p) => format!("key '{}' in {}", self.key, p.display()),
            Origin::Env(var) => format!("env {var}"),
            Origin::EnvEvent(var) => format!("key '{}' in env {var}", self.key),
        }
    }

    /// True when the value is command-line text to be parsed rather than typed JSON.
    pub fn is_text(&self) -> bool {
        matches!(self.origin, Origin::Flag(_) | Origin::Env(_))
    }

    /// A usage error that names this setting.
    pub fn error(&self, what: impl std::fmt::Display) -> Error {
        Error::usage(format!("{}: {what}", self.name()))
    }
}

/// All raw settings of one invocation, later sources overriding earlier ones.
#[derive(Debug, Default)]
pub struct Layers {
    map: BTreeMap<&'static str, Setting>,
}

impl Layers {
    /// The winning setting for a key, if any source gave one.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.map.get(key)
    }

    /// Sets (or overrides) a key.
    pub fn set(&mut self, key: &'static str, value: Value, origin: Origin) {
        self.map.insert(key, Setting { value, origin, key });
    }

    /// Only the settings that came from JSON (event or file), so they can be checked on their
    /// own: a bad value in an event is an error even when a flag overrides it.
    pub fn json_only(&self) -> Layers {
        let map = self
            .map
            .iter()
            .filter(|(_, s)| matches!(s.origin, Origin::Event | Origin::File(_)))
            .map(|(k, s)| (*k, s.clone()))
            .collect();
        Layers { map }
    }

    /// Every setting, for redacted echoing of the configuration.
    pub fn iter(&self) -> impl Iterator<Item = &Setting> {
        self.map.values()
    }

    /// Merges a JSON object (event or file) into the layers, checking every key.
    pub fn merge_json(&mut self, specs: &[Spec], json: &Value, origin: Origin) -> Result<()> {
        let place = match &origin {
            Origin::File(p) => p.display().to_string(),
            Origin::Env(v) | Origin::EnvEvent(v) => format!("env {v}"),
            _ => "-d/--data".to_string(),
        };
        let Value::Object(obj) = json else {
            return Err(Error::usage(format!(
                "{place}: expected a JSON object such as {{\"concurrency\": 10}}, got {}",
                type_name(json)
            )));
        };
        for (key, value) in obj {
            let spec = lookup_key(specs, key).ok_or_else(|| {
                Error::usage(format!(
                    "{place}: unknown key '{key}'{}",
                    suggest(key, specs.iter().filter(|s| s.in_json).map(|s| s.key))
                ))
            })?;
            self.set(spec.key, value.clone(), origin.clone());
        }
        Ok(())
    }
}

/// Finds the spec of a JSON key, accepting the aliases kept for the seed tool's event.
fn lookup_key<'a>(specs: &'a [Spec], key: &str) -> Option<&'a Spec> {
    let key = match key {
        "target" => "target_function",
        "header" => "headers",
        "threshold" => "thresholds",
        other => other,
    };
    specs.iter().find(|s| s.in_json && s.key == key)
}

/// Reads a JSON event from text.
pub fn parse_event(text: &str, place: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::usage(format!("{place}: invalid JSON ({e}); expected an object")))
}

/// Reads a config file: a JSON object in the same shape as the event.
pub fn read_config_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "--config {}: cannot read the file ({e})",
            path.display()
        ))
    })?;
    parse_event(&text, &format!("--config {}", path.display()))
}

/// Pulls every flag of `specs` out of the argument list into the layers.
pub fn take_flags(
    args: &mut pico_args::Arguments,
    specs: &[Spec],
    layers: &mut Layers,
) -> Result<()> {
    for spec in specs {
        let keys = match spec.short {
            Some(short) => pico_args::Keys::from([short, spec.flag]),
            None => pico_args::Keys::from(spec.flag),
        };
        match spec.kind {
            ArgKind::Switch => {
                if args.contains(keys) {
                    layers.set(spec.key, Value::Bool(true), Origin::Flag(spec.flag));
                }
            }
            ArgKind::Value => {
                let v: Option<String> = args
                    .opt_value_from_str(keys)
                    .map_err(|e| pico_error(spec, e))?;
                if let Some(v) = v {
                    layers.set(spec.key, Value::String(v), Origin::Flag(spec.flag));
                }
            }
            ArgKind::Repeat => {
                let vs: Vec<String> = args
                    .values_from_str(keys)
                    .map_err(|e| pico_error(spec, e))?;
                if !vs.is_empty() {
                    let arr = vs.into_iter().map(Value::String).collect();
                    layers.set(spec.key, Value::Array(arr), Origin::Flag(spec.flag));
                }
            }
        }
    }
    Ok(())
}

/// Fails on anything left over after all known flags were taken.
pub fn reject_leftovers(args: pico_args::Arguments, specs: &[Spec], command: &str) -> Result<()> {
    let rest = args.finish();
    let Some(first) = rest.first() else {
        return Ok(());
    };
    let text = first.to_string_lossy();
    if text.starts_with('-') {
        let name = text.split('=').next().unwrap_or(&text).to_string();
        if matches!(name.as_str(), "-d" | "--data" | "--config") {
            return Err(Error::usage(format!(
                "'{name}' is given more than once; give one event with -d/--data and one file \
                 with --config (see fnstress {command} --help)"
            )));
        }
        // Every known flag was taken once already, so a known name left over was repeated.
        if let Some(spec) = specs
            .iter()
            .find(|s| s.flag == name || s.short == Some(name.as_str()))
        {
            return Err(Error::usage(format!(
                "'{name}' is given more than once; give {} once (see fnstress {command} --help)",
                spec.flags()
            )));
        }
        let flags = specs
            .iter()
            .map(|s| s.flag)
            .chain(["--data", "--config", "--help"]);
        return Err(Error::usage(format!(
            "unknown flag '{name}' for '{command}'{} (see fnstress {command} --help)",
            suggest(&name, flags)
        )));
    }
    Err(Error::usage(format!(
        "unexpected argument '{text}' for '{command}'; values go after their flag, \
         e.g. -t {text} (see fnstress {command} --help)"
    )))
}

fn pico_error(spec: &Spec, e: pico_args::Error) -> Error {
    match e {
        pico_args::Error::OptionWithoutAValue(_) => {
            Error::usage(format!("{}: needs a value (see --help)", spec.flags()))
        }
        pico_args::Error::NonUtf8Argument => {
            Error::usage(format!("{}: the value is not valid UTF-8", spec.flags()))
        }
        other => Error::usage(format!("{}: {other}", spec.flags())),
    }
}

/// `; did you mean 'x'?` when a candidate is close enough, else nothing.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let best = candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, c)) if score > 0.8 => format!("; did you mean '{c}'?"),
        _ => String::new(),
    }
}

/// A short name of a JSON value's type, for "expected X, got Y" messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An empty JSON object, for callers that build events.
pub fn empty_object() -> Value {
    Value::Object(Map::new())
}
