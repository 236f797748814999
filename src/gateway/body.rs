//! The JSON object an invocation route hands to its function, so that every malformed body
//! is refused the same way on every route.

use serde_json::{Map, Value};

/// The body as a JSON object; an empty (or blank) body counts as `{}`.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(input)) => Ok(input),
        Ok(other) => Err(format!("body must be a JSON object, not {}", kind(&other))),
        Err(e) => Err(format!("body is not valid JSON: {e}")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::parse_object;

    #[test]
    fn objects_pass_and_everything_else_is_named() {
        assert!(parse_object(b"").unwrap().is_empty());
        assert!(parse_object(b" \r\n").unwrap().is_empty());
        assert_eq!(parse_object(br#"{"a":1}"#).unwrap()["a"], 1);
        assert!(parse_object(b"[1]").unwrap_err().contains("not an array"));
        assert!(parse_object(b"null").unwrap_err().contains("not null"));
        assert!(parse_object(b"{oops")
            .unwrap_err()
            .contains("not valid JSON"));
    }
}
