//! The API key check. A gateway reachable by others needs a key; a stress test also needs
//! a target that answers 401 so that `run` can be checked against it.

/// The key clients must present, in `X-API-Key` or as an `Authorization: Bearer` token.
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key already validated by option parsing.
    pub fn new(key: String) -> Self {
        ApiKey(key)
    }

    /// True when either header carries the key.
    pub fn accepts(&self, x_api_key: Option<&str>, authorization: Option<&str>) -> bool {
        let bearer = authorization.and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        [x_api_key.map(str::trim), bearer]
            .into_iter()
            .flatten()
            .any(|given| self.matches(given))
    }

    /// Compares every byte whatever the first difference, so that answer times do not tell
    /// how much of a guessed key was right.
    fn matches(&self, given: &str) -> bool {
        let (want, given) = (self.0.as_bytes(), given.as_bytes());
        if want.len() != given.len() {
            return false;
        }
        want.iter()
            .zip(given)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn accepts_either_header_and_nothing_else() {
        let key = ApiKey::new("s3cret".into());
        // X-API-Key alone
        assert!(key.accepts(Some("s3cret"), None));
        // bearer token, scheme in any case
        assert!(key.accepts(None, Some("Bearer s3cret")));
        assert!(key.accepts(None, Some("bearer  s3cret")));
        // a wrong X-API-Key does not hide a right bearer token
        assert!(key.accepts(Some("nope"), Some("Bearer s3cret")));
        // wrong key, wrong scheme, prefix of the key, nothing
        assert!(!key.accepts(Some("s3cres"), None));
        assert!(!key.accepts(None, Some("Basic s3cret")));
        assert!(!key.accepts(Some("s3cre"), None));
        assert!(!key.accepts(None, None));
    }
}
