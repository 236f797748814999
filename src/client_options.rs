//! How each worker's HTTP client treats what comes back: how much of a body it reads, whether
//! it follows redirects, whether it checks TLS certificates. Kept apart from `config` because
//! these settings only shape the client, not the load.

use serde_json::{json, Value};

use crate::config::get_bool;
use crate::error::Result;
use crate::options::{type_name, Layers};

/// Default `--max-body`: enough for any ordinary function answer.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;

/// Upper bound of `--max-body`; a larger limit would only mean "read everything".
const MAX_MAX_BODY: u64 = 1 << 40;

/// Upper bound of `--follow-redirects`; a longer chain is a loop.
const MAX_REDIRECTS: u64 = 100;

/// The validated client settings of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Body bytes read per answer; past it the connection is closed instead of drained.
    pub max_body: u64,
    /// Redirects followed per invocation; 0 counts each 3xx by its status.
    pub follow_redirects: u32,
    /// Accept any TLS certificate.
    pub insecure: bool,
}

impl ClientOptions {
    /// Validates the client settings of the layered options.
    pub fn from_layers(layers: &Layers) -> Result<ClientOptions> {
        let max_body = match layers.get("max_body") {
            None => DEFAULT_MAX_BODY,
            Some(s) => {
                let text = match &s.value {
                    Value::String(t) => t.clone(),
                    Value::Number(n) if !s.is_text() => n.to_string(),
                    v => return Err(s.error(format!("expected a size, got {}", type_name(v)))),
                };
                parse_size(&text).map_err(|m| s.error(m))?
            }
        };
        let follow_redirects =
            crate::config::get_u64(layers, "follow_redirects", 0, MAX_REDIRECTS)?.unwrap_or(0);
        Ok(ClientOptions {
            max_body,
            follow_redirects: follow_redirects as u32,
            insecure: get_bool(layers, "insecure")?.unwrap_or(false),
        })
    }

    /// The settings as the report's configuration shows them.
    pub fn json(&self) -> Value {
        json!({
            "max_body": self.max_body,
            "follow_redirects": self.follow_redirects,
            "insecure": self.insecure,
        })
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            max_body: DEFAULT_MAX_BODY,
            follow_redirects: 0,
            insecure: false,
        }
    }
}

/// Parses a byte size: `65536`, `64KiB`, `1MiB`, `10MB` (MB is 10^6, MiB is 2^20).
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let n = parse_size::parse_size(text.trim())
        .map_err(|_| format!("'{text}' is not a size; write bytes or e.g. 64KiB, 1MiB, 10MB"))?;
    if n > MAX_MAX_BODY {
        return Err(format!("'{text}' is above the limit of 1TiB"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        // Plain bytes.
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("65536"), Ok(65536));
        // Binary and decimal prefixes differ.
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("64 KiB"), Ok(64 << 10));
        // Garbage, negatives and absurd limits are refused.
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("2TiB").is_err());
    }
}
