//! AWS Lambda specifics of `fnstress run`: Signature Version 4 signing of every invocation
//! (for the Invoke API and for function URLs protected by IAM), and reading cold starts from
//! the log tail Lambda returns on request. Secrets stay inside the signer: its `Debug` shows
//! the region only, and no message built here contains a key or token.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;

/// The service name Lambda's endpoints and function URLs are signed for.
pub const SERVICE: &str = "lambda";

/// Fixes the signing time, as `YYYYMMDDTHHMMSSZ`; a testing aid that makes signatures
/// comparable with other signers.
pub const TIME_ENV: &str = "FNSTRESS_SIGV4_TIME";

/// Signs invocations with credentials read from the environment.
#[derive(Clone)]
pub struct Signer {
    identity: Identity,
    region: String,
    fixed_time: Option<SystemTime>,
    has_token: bool,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, the optional `AWS_SESSION_TOKEN` and
    /// the optional fixed time. The error names what is missing, never a value.
    pub fn from_env(region: &str) -> Result<Signer, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(key_id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(
                "needs credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                        (and AWS_SESSION_TOKEN for temporary ones)"
                    .into(),
            );
        };
        let token = var("AWS_SESSION_TOKEN");
        let printable = |v: &str| v.bytes().all(|b| b.is_ascii_graphic());
        if !printable(&key_id) || !printable(&secret) || !token.as_deref().is_none_or(printable) {
            return Err(
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN must be \
                        visible ASCII without spaces (the values are not shown)"
                    .into(),
            );
        }
        let fixed_time = match var(TIME_ENV) {
            None => None,
            Some(text) => Some(parse_time(&text).map_err(|m| format!("env {TIME_ENV}: {m}"))?),
        };
        let has_token = token.is_some();
        let credentials = Credentials::new(key_id, secret, token, None, "environment");
        Ok(Signer {
            identity: credentials.into(),
            region: region.to_string(),
            fixed_time,
            has_token,
        })
    }

    /// The region signatures are made for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// True when a session token is sent (`X-Amz-Security-Token`).
    pub fn has_session_token(&self) -> bool {
        self.has_token
    }

    /// Adds `Authorization`, `X-Amz-Date` and, with a session token, `X-Amz-Security-Token`
    /// to a request whose other headers are final. Every invocation is signed anew, since the
    /// signature covers the time.
    pub fn sign(&self, request: &mut http::Request<&[u8]>) -> Result<(), String> {
        let time = self.fixed_time.unwrap_or_else(SystemTime::now);
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("sigv4: {e}"))?
            .into();
        let instructions = {
            let headers: Vec<(&str, &str)> = request
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
                .collect();
            let uri = request.uri().to_string();
            let body: &[u8] = request.body();
            let signable = SignableRequest::new(
                request.method().as_str(),
                uri,
                headers.into_iter(),
                SignableBody::Bytes(body),
            )
            .map_err(|e| format!("sigv4: {e}"))?;
            sign(signable, &params)
                .map_err(|e| format!("sigv4: {e}"))?
                .into_parts()
                .0
        };
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// Parses `20261203T000000Z`.
pub fn parse_time(text: &str) -> Result<SystemTime, String> {
    let accepted = "expected a UTC time such as 20261203T000000Z";
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        b.get(r.clone())?
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text[r].parse().ok())?
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(format!("'{text}': {accepted}"));
    }
    let parts = (
        digits(0..4),
        digits(4..6),
        digits(6..8),
        digits(9..11),
        digits(11..13),
        digits(13..15),
    );
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = parts else {
        return Err(format!("'{text}': {accepted}"));
    };
    let rfc3339 = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    humantime::parse_rfc3339(&rfc3339).map_err(|_| format!("'{text}': {accepted}"))
}

/// The init duration, in microseconds, from a base64 `X-Amz-Log-Result`: Lambda's REPORT line
/// carries `Init Duration: N ms` only on a cold start. `None` when there is none.
pub fn init_duration_us(log_result: &[u8]) -> Option<u32> {
    let log = base64::engine::general_purpose::STANDARD
        .decode(log_result)
        .ok()?;
    let log = String::from_utf8_lossy(&log);
    let report = log.lines().rev().find(|l| l.starts_with("REPORT"))?;
    let rest = report.split("Init Duration:").nth(1)?.trim_start();
    let ms: f64 = rest.split_whitespace().next()?.parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| (ms * 1000.0).round().min(u32::MAX as f64) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .encode(text)
            .into_bytes()
    }

    #[test]
    fn init_duration_is_read_from_the_report_line() {
        let table = [
            // a cold start
            (
                "START RequestId: 1\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 2.50 ms\t\
                 Billed Duration: 3 ms\tInit Duration: 152.25 ms\t\n",
                Some(152_250),
            ),
            // a warm invocation: no Init Duration
            ("REPORT RequestId: 2\tDuration: 1.00 ms\t\n", None),
            // function output that mentions it outside the REPORT line does not count
            (
                "Init Duration: 9 ms\nREPORT RequestId: 3\tDuration: 1 ms\n",
                None,
            ),
            // no REPORT line at all
            ("START RequestId: 4\n", None),
        ];
        for (log, want) in table {
            assert_eq!(init_duration_us(&encode(log)), want, "{log}");
        }
        assert_eq!(init_duration_us(b"not base64!"), None);
    }

    #[test]
    fn signing_times_parse_in_the_amz_date_form() {
        let t = parse_time("20261203T000000Z").unwrap();
        assert_eq!(
            humantime::format_rfc3339(t).to_string(),
            "2026-12-03T00:00:00Z"
        );
        for bad in [
            "2026-12-03",
            "20261303T000000Z",
            "20261203T000000",
            "x0261203T000000Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
