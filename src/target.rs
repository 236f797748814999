//! Where invocations go and what their answers mean: a gateway plus a route style becomes one
//! endpoint URL, and platform error markers turn some 2xx answers into function errors.

use http::{Method, Uri};

use crate::error::{Error, Result};

/// How a function name becomes a path on the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /run/{name}` (the built-in gateway and the platform it imitates).
    Run,
    /// `POST /function/{name}` (OpenFaaS).
    OpenFaas,
    /// `POST /2015-03-31/functions/{name}/invocations` (AWS Lambda).
    Lambda,
    /// A user path template containing `{name}`.
    Template(String),
    /// `--url`: a plain endpoint, the function name is only a label.
    Url,
}

impl Route {
    /// Parses `--route`.
    pub fn parse(text: &str) -> std::result::Result<Route, String> {
        match text {
            "run" => Ok(Route::Run),
            "openfaas" => Ok(Route::OpenFaas),
            "lambda" => Ok(Route::Lambda),
            t if t.contains("{name}") && t.starts_with('/') => Ok(Route::Template(t.to_string())),
            t if t.contains("{name}") => {
                Err(format!("template '{t}' must be a path starting with '/'"))
            }
            t => Err(format!(
                "'{t}' is not a route; use run, openfaas, lambda, or a path template \
                 containing {{name}} such as /fn/{{name}}"
            )),
        }
    }

    /// The path template of this route.
    fn template(&self) -> &str {
        match self {
            Route::Run => "/run/{name}",
            Route::OpenFaas => "/function/{name}",
            Route::Lambda => "/2015-03-31/functions/{name}/invocations",
            Route::Template(t) => t,
            Route::Url => "",
        }
    }

    /// The name shown in reports.
    pub fn label(&self) -> String {
        match self {
            Route::Run => "run".into(),
            Route::OpenFaas => "openfaas".into(),
            Route::Lambda => "lambda".into(),
            Route::Template(t) => t.clone(),
            Route::Url => "url".into(),
        }
    }
}

/// The resolved endpoint of a run.
#[derive(Clone, Debug)]
pub struct Target {
    /// Function name (a label only with `--url`).
    pub function: String,
    /// Route style.
    pub route: Route,
    /// Full endpoint URL.
    pub url: String,
    /// The same URL, parsed once so workers never parse it again.
    pub uri: Uri,
    /// HTTP method.
    pub method: Method,
    /// Host and port for the preflight connection check.
    pub host: String,
    /// Port, defaulted from the scheme.
    pub port: u16,
}

impl Target {
    /// Builds the endpoint from a gateway base URL and a route, or from a plain URL.
    pub fn new(
        function: &str,
        gateway: &str,
        route: Route,
        method: Method,
        url_flag: &str,
    ) -> Result<Target> {
        if route != Route::Url && (gateway.contains('?') || gateway.contains('#')) {
            return Err(Error::usage(format!(
                "{url_flag} '{}': a gateway is a base URL without ?query or #fragment; put \
                 those in --route or use --url",
                redact_url(gateway)
            )));
        }
        let shown = redact_url(gateway);
        let url = match route {
            Route::Url => gateway.to_string(),
            ref r => {
                let name = encode_segment(function);
                let path = r.template().replace("{name}", &name);
                format!("{}{}", gateway.trim_end_matches('/'), path)
            }
        };
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::usage(format!("{url_flag} '{shown}': not a valid URL ({e})")))?;
        let port = match uri.scheme_str() {
            Some("http") => uri.port_u16().unwrap_or(80),
            Some("https") => uri.port_u16().unwrap_or(443),
            Some(other) => {
                return Err(Error::usage(format!(
                    "{url_flag} '{shown}': scheme '{other}' is not supported; use http:// or \
                     https://"
                )))
            }
            None => {
                return Err(Error::usage(format!(
                    "{url_flag} '{shown}': missing scheme; write e.g. http://{shown}"
                )))
            }
        };
        if let Some(text) = port_text(&uri) {
            if !matches!(text.parse::<u16>(), Ok(1..)) {
                return Err(Error::usage(format!(
                    "{url_flag} '{shown}': port '{text}' is not a port; use 1 to 65535"
                )));
            }
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::usage(format!("{url_flag} '{shown}': missing host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Target {
            function: function.to_string(),
            route,
            url,
            uri,
            method,
            host,
            port,
        })
    }
}

/// The port as written in the URL, if any; the URL parser drops one that does not fit 16 bits
/// rather than failing, which would silently send to the scheme's default port.
fn port_text(uri: &Uri) -> Option<&str> {
    let hostport = uri.authority()?.as_str().rsplit('@').next()?;
    let colon = hostport.rfind(':')?;
    let bracket = hostport.rfind(']').unwrap_or(0);
    (colon > bracket)
        .then(|| &hostport[colon + 1..])
        .filter(|t| !t.is_empty())
}

/// The URL as reports and messages show it: a password in it is replaced, so that
/// `http://user:secret@host/` never reaches a terminal, log or file.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let tail = redact_query(tail);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:{}@{host}{tail}", crate::config::REDACTED)
        }
        None => format!("{scheme}://{authority}{tail}"),
    }
}

/// Replaces the values of query parameters named like credentials (`api_key`, `token`, ...)
/// in a URL's path-and-query.
fn redact_query(tail: &str) -> String {
    let Some((path, rest)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, format!("#{f}")),
        None => (rest, String::new()),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if crate::config::is_secret_header(k) => {
                format!("{k}={}", crate::config::REDACTED)
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}{fragment}", pairs.join("&"))
}

/// One function of a run's mix: its name, its endpoint and how often it is drawn.
#[derive(Clone, Debug)]
pub struct Function {
    /// Function name (a label only with `--url`).
    pub name: String,
    /// Full endpoint URL.
    pub url: String,
    /// The same URL, parsed once.
    pub uri: Uri,
    /// Relative weight, at least 1.
    pub weight: u32,
}

/// Most functions one run may spread its invocations over; the report has a table per function.
pub const MAX_FUNCTIONS: usize = 100;

/// Parses `-t/--target` text: `name`, or `a=3,b=1` (weights default to 1).
pub fn parse_functions(text: &str) -> std::result::Result<Vec<(String, u32)>, String> {
    if !text.contains(',') && !text.contains('=') {
        return Ok(vec![(text.to_string(), 1)]);
    }
    let mut out = vec![];
    for part in text.split(',').map(str::trim) {
        let (name, weight) = match part.split_once('=') {
            Some((n, w)) => {
                let w = w.trim().parse::<u32>().map_err(|_| {
                    format!("weight '{w}' of '{n}' must be a whole number from 1 to 1000000")
                })?;
                (n.trim(), w)
            }
            None => (part, 1),
        };
        out.push((name.to_string(), weight));
    }
    Ok(out)
}

/// Checks names and weights of a function mix, so that every source (text, list, weight map)
/// gets the same rules.
pub fn check_functions(pairs: &[(String, u32)]) -> std::result::Result<(), String> {
    if pairs.is_empty() {
        return Err("the mix needs at least one function".into());
    }
    if pairs.len() > MAX_FUNCTIONS {
        return Err(format!("at most {MAX_FUNCTIONS} functions per run"));
    }
    for (i, (name, weight)) in pairs.iter().enumerate() {
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(
                "the function name must be non-empty printable text; write e.g. \
                        custom-metrics=3,echo=1"
                    .into(),
            );
        }
        if !(1..=1_000_000).contains(weight) {
            return Err(format!(
                "weight {weight} of '{name}' must be from 1 to 1000000"
            ));
        }
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(format!("function '{name}' is listed twice"));
        }
    }
    Ok(())
}

/// Percent-encodes what cannot stand in one path segment, so a function name cannot change
/// the path's shape.
fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(route: &str) -> String {
        let r = Route::parse(route).unwrap();
        Target::new(
            "my-fn",
            "http://127.0.0.1:8080/",
            r,
            Method::POST,
            "--gateway",
        )
        .unwrap()
        .url
    }

    #[test]
    fn routes_build_the_platform_paths() {
        assert_eq!(url("run"), "http://127.0.0.1:8080/run/my-fn");
        assert_eq!(url("openfaas"), "http://127.0.0.1:8080/function/my-fn");
        assert_eq!(
            url("lambda"),
            "http://127.0.0.1:8080/2015-03-31/functions/my-fn/invocations"
        );
        assert_eq!(
            url("/api/{name}/call"),
            "http://127.0.0.1:8080/api/my-fn/call"
        );
    }

    #[test]
    fn bad_routes_and_urls_are_rejected() {
        assert!(Route::parse("nope").is_err());
        assert!(Route::parse("api/{name}").is_err());
        let t = Target::new("f", "ftp://x", Route::Run, Method::POST, "--gateway");
        assert!(t.unwrap_err().to_string().contains("scheme 'ftp'"));
        assert!(Target::new("f", "localhost:80", Route::Url, Method::GET, "--url").is_err());
    }

    #[test]
    fn function_mixes_parse_with_default_weights() {
        let table: [(&str, &[(&str, u32)]); 4] = [
            // one plain name
            ("echo", &[("echo", 1)]),
            // weights, spaces allowed
            (
                "custom-metrics=3, echo=1",
                &[("custom-metrics", 3), ("echo", 1)],
            ),
            // a missing weight is 1
            ("a,b=2", &[("a", 1), ("b", 2)]),
            // one weighted name
            ("a=5", &[("a", 5)]),
        ];
        for (text, want) in table {
            let got = parse_functions(text).unwrap();
            let want: Vec<(String, u32)> = want.iter().map(|(n, w)| (n.to_string(), *w)).collect();
            assert_eq!(got, want, "{text}");
            check_functions(&got).unwrap();
        }
        assert!(parse_functions("a=x").is_err());
        for bad in ["a=0", "a,a", "a,,b", "=3"] {
            let pairs = parse_functions(bad).unwrap();
            assert!(check_functions(&pairs).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        let table = [
            ("http://u:pw@h:1/x?q", "http://u:[redacted]@h:1/x?q"),
            // credential-like query parameters; others stay
            (
                "https://h/p?api_key=abc&n=1&token=t#f",
                "https://h/p?api_key=[redacted]&n=1&token=[redacted]#f",
            ),
            ("http://u@h/", "http://u:[redacted]@h/"),
            ("http://h/a@b", "http://h/a@b"), // an @ in the path is not userinfo
            ("http://h", "http://h"),
        ];
        for (url, want) in table {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn bad_ports_and_gateway_queries_are_rejected() {
        for url in [
            "http://127.0.0.1:99999",
            "http://127.0.0.1:0",
            "http://[::1]:70000/",
        ] {
            let e = Target::new("f", url, Route::Url, Method::GET, "--url").unwrap_err();
            assert!(e.to_string().contains("use 1 to 65535"), "{e}");
        }
        let e = Target::new("f", "http://h/?x=1", Route::Run, Method::GET, "--gateway");
        assert!(e.unwrap_err().to_string().contains("without ?query"));
    }

    #[test]
    fn names_are_encoded_into_one_segment() {
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
