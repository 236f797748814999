//! Flags of `fnstress serve`, checked before anything binds, so that a typo ends in one
//! line naming the flag and what it accepts instead of a gateway that behaves oddly.

use std::ffi::OsString;
use std::net::SocketAddr;

use crate::error::{Error, Result};

/// The default `--listen`: loopback only, so that nothing is exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Above this, simulated waits would reach hours and stop being useful.
const MAX_TIME_SCALE: f64 = 1000.0;

const FLAGS: [&str; 6] = [
    "--listen",
    "--api-key",
    "--rate-limit",
    "--time-scale",
    "--require-sigv4",
    "--help",
];

/// Validated settings of one gateway.
#[derive(Debug, PartialEq)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub api_key: Option<String>,
    /// Requests per minute per client IP.
    pub rate_limit: Option<u32>,
    pub time_scale: f64,
    /// Invocations must carry a SigV4 `Authorization` header.
    pub require_sigv4: bool,
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Request {
    Help,
    Serve(ServeOptions),
}

/// Reads the flags; `env_api_key` is `API_KEY` from the environment, used when no
/// `--api-key` is given.
pub fn parse(mut args: pico_args::Arguments, env_api_key: Option<String>) -> Result<Request> {
    if args.contains(["-h", "--help"]) {
        return Ok(Request::Help);
    }
    let listen = value(&mut args, "--listen")?;
    let api_key = value(&mut args, "--api-key")?;
    let rate_limit = value(&mut args, "--rate-limit")?;
    let time_scale = value(&mut args, "--time-scale")?;
    let require_sigv4 = args.contains("--require-sigv4");
    reject_leftovers(args.finish())?;

    let listen = listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = listen.parse::<SocketAddr>().map_err(|_| {
        Error::usage(format!(
            "--listen: '{listen}' is not an address; expected IP:PORT, \
             e.g. 127.0.0.1:8080 (port 0 picks a free port)"
        ))
    })?;
    let api_key = match api_key {
        Some(key) => Some(check_key(&key, "--api-key")?),
        None => match env_api_key.filter(|k| !k.is_empty()) {
            Some(key) => Some(check_key(&key, "API_KEY (environment)")?),
            None => None,
        },
    };
    let rate_limit = rate_limit
        .map(|text| match text.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::usage(format!(
                "--rate-limit: '{text}' is not accepted; expected requests per minute per \
                 client, a whole number from 1 to {}, e.g. --rate-limit 600",
                u32::MAX
            ))),
        })
        .transpose()?;
    let time_scale = match time_scale {
        None => 1.0,
        Some(text) => match text.parse::<f64>() {
            Ok(f) if (0.0..=MAX_TIME_SCALE).contains(&f) => f,
            _ => {
                return Err(Error::usage(format!(
                    "--time-scale: '{text}' is not accepted; expected a number from 0 to \
                     {MAX_TIME_SCALE} (0 turns simulated waits off), e.g. --time-scale 0.5"
                )))
            }
        },
    };
    Ok(Request::Serve(ServeOptions {
        listen,
        api_key,
        rate_limit,
        time_scale,
        require_sigv4,
    }))
}

fn value(args: &mut pico_args::Arguments, flag: &'static str) -> Result<Option<String>> {
    args.opt_value_from_str::<_, String>(flag)
        .map_err(|e| match e {
            pico_args::Error::OptionWithoutAValue(_) => {
                Error::usage(format!("{flag} needs a value (see fnstress serve --help)"))
            }
            other => Error::usage(format!("{flag}: {other}")),
        })
}

fn reject_leftovers(rest: Vec<OsString>) -> Result<()> {
    let Some(first) = rest.first() else {
        return Ok(());
    };
    let first = first.to_string_lossy();
    if !first.starts_with('-') {
        return Err(Error::usage(format!(
            "unexpected argument '{first}' for fnstress serve; it takes flags only \
             (see fnstress serve --help)"
        )));
    }
    let name = first.split('=').next().unwrap_or(&first);
    let hint = FLAGS
        .iter()
        .map(|flag| (strsim::jaro_winkler(name, flag), flag))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, flag)| format!("; did you mean {flag}?"))
        .unwrap_or_else(|| format!("; accepted: {}", FLAGS.join(", ")));
    Err(Error::usage(format!(
        "unknown flag '{name}' for fnstress serve{hint}"
    )))
}

/// Header values are visible ASCII, so a key outside it could never be presented.
fn check_key(key: &str, source: &str) -> Result<String> {
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > 4096 || !printable {
        return Err(Error::usage(format!(
            "{source}: the API key must be 1 to 4096 visible ASCII characters without \
             spaces, e.g. --api-key s3cret"
        )));
    }
    Ok(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str], env: Option<&str>) -> Result<Request> {
        let args = args.iter().map(OsString::from).collect();
        parse(pico_args::Arguments::from_vec(args), env.map(String::from))
    }

    fn options(args: &[&str], env: Option<&str>) -> ServeOptions {
        match parse_args(args, env) {
            Ok(Request::Serve(o)) => o,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn usage_error(args: &[&str]) -> String {
        match parse_args(args, None) {
            Err(Error::Usage(msg)) => msg,
            other => panic!("expected a usage error for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_bind_loopback_without_key_or_limit() {
        let o = options(&[], None);
        assert_eq!(o.listen.to_string(), "127.0.0.1:8080");
        assert_eq!((o.api_key, o.rate_limit, o.time_scale), (None, None, 1.0));
    }

    #[test]
    fn flags_win_over_the_environment_key() {
        // flag given: it wins
        let o = options(
            &["--api-key", "a", "--rate-limit=5", "--time-scale", "0"],
            Some("b"),
        );
        assert_eq!(
            (o.api_key.as_deref(), o.rate_limit, o.time_scale),
            (Some("a"), Some(5), 0.0)
        );
        // no flag: the environment counts, an empty one does not
        assert_eq!(options(&[], Some("b")).api_key.as_deref(), Some("b"));
        assert_eq!(options(&[], Some("")).api_key, None);
    }

    #[test]
    fn bad_values_name_the_flag_and_what_is_accepted() {
        let cases: [(&[&str], &str); 9] = [
            (&["--time-scale", "-1"], "--time-scale: '-1'"),
            (&["--time-scale", "NaN"], "from 0 to 1000"),
            (&["--time-scale", "inf"], "--time-scale"),
            (&["--rate-limit", "0"], "--rate-limit: '0'"),
            (&["--rate-limit", "ten"], "whole number"),
            (&["--listen", "localhost"], "expected IP:PORT"),
            (&["--api-key", "has space"], "visible ASCII"),
            (&["--listen"], "--listen needs a value"),
            (&["--rate", "3"], "did you mean --rate-limit?"),
        ];
        for (args, expected) in cases {
            let msg = usage_error(args);
            assert!(msg.contains(expected), "{args:?}: {msg}");
            assert!(!msg.contains('\n'), "{args:?}: one line expected");
        }
        assert!(usage_error(&["--bogus"]).contains("accepted: --listen"));
        assert!(usage_error(&["extra"]).contains("unexpected argument 'extra'"));
    }

    #[test]
    fn help_is_recognised_anywhere() {
        assert_eq!(
            parse_args(&["--listen", "x", "-h"], None).unwrap(),
            Request::Help
        );
    }
}
