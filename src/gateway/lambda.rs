//! What the gateway's Lambda-style route adds to an invocation, as the real Invoke API does:
//! the invocation type (`Event` answers 202, `DryRun` 204 without running), the log tail
//! (`X-Amz-Log-Type: Tail` gets a base64 `X-Amz-Log-Result` whose REPORT line carries
//! `Init Duration` on a cold start), and, when asked, a check that a SigV4 `Authorization`
//! header is present. Signatures are not validated: the gateway holds no secret keys.

use std::time::Duration;

use base64::Engine as _;

use super::http::Request;
use super::reply::Reply;

/// Simulated init time of a cold start before the time scale, in milliseconds.
pub const INIT_MS: (f64, f64) = (50.0, 150.0);

/// How the client asked the function to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationType {
    /// Run and answer with the result (the default).
    RequestResponse,
    /// Run, then answer 202 without the result.
    Event,
    /// Check the request only: 204, nothing runs.
    DryRun,
}

/// Reads `X-Amz-Invocation-Type`; an unknown value gets the 400 to send.
pub fn invocation_type(request: &Request) -> Result<InvocationType, Reply> {
    match request.header("X-Amz-Invocation-Type") {
        None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
        Some("Event") => Ok(InvocationType::Event),
        Some("DryRun") => Ok(InvocationType::DryRun),
        Some(other) => Err(Reply::error(
            400,
            format!(
                "X-Amz-Invocation-Type '{other}' is not known; use RequestResponse, Event or DryRun"
            ),
        )),
    }
}

/// True when the request asks for the log tail.
pub fn wants_log_tail(request: &Request) -> bool {
    request
        .header("X-Amz-Log-Type")
        .is_some_and(|v| v.eq_ignore_ascii_case("Tail"))
}

/// `None` when a SigV4 `Authorization` header is present, else the 403 to send.
pub fn check_signature_present(request: &Request) -> Option<Reply> {
    let signed = request
        .header("Authorization")
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential="));
    let dated = request.header("X-Amz-Date").is_some();
    if signed && dated {
        return None;
    }
    Some(Reply::error(
        403,
        "missing AWS Signature Version 4: send Authorization: AWS4-HMAC-SHA256 ... and X-Amz-Date",
    ))
}

/// The base64 log tail of one invocation: START, END and a REPORT line that carries the init
/// duration only when the invocation was a cold start.
pub fn log_result(request_id: &str, duration: Duration, init: Option<Duration>) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    let mut report = format!(
        "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\t\
         Memory Size: 128 MB\tMax Memory Used: 32 MB\t",
        ms.ceil().max(1.0) as u64
    );
    if let Some(init) = init {
        report.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    let log = format!(
        "START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n{report}\n"
    );
    base64::engine::general_purpose::STANDARD.encode(log)
}

/// A request id in the form Lambda uses.
pub fn request_id() -> String {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_line_has_init_duration_only_when_cold() {
        let decode = |b64: String| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        };
        let cold = decode(log_result(
            "id",
            Duration::from_millis(3),
            Some(Duration::from_micros(120_500)),
        ));
        assert!(cold.ends_with("Init Duration: 120.50 ms\t\n"), "{cold}");
        assert!(cold.starts_with("START RequestId: id Version: $LATEST\n"));
        let warm = decode(log_result("id", Duration::from_millis(3), None));
        assert!(!warm.contains("Init Duration"), "{warm}");
        assert!(warm.contains("\tDuration: 3.00 ms\tBilled Duration: 3 ms\t"));
    }

    #[test]
    fn request_ids_look_like_lambdas() {
        let id = request_id();
        let lengths: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }
}
