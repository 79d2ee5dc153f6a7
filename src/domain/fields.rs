//! Reading JSON request bodies field by field.
//!
//! Bodies are parsed into a `serde_json::Value` first and read here, rather than deserialized
//! straight into a struct, so that every wrong type, range or format becomes an error that names
//! its field — the merchant sees `amount: must be an integer`, never a parser position.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Number, Value};
use uuid::Uuid;

/// One rejected field: which one, and why, in words a merchant can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

pub type FieldResult<T> = Result<T, FieldError>;

/// A JSON value known to belong to a named field.
pub struct Field<'a> {
    pub name: &'a str,
    pub value: &'a Value,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, value: &'a Value) -> Self {
        Self { name, value }
    }

    pub fn error(&self, message: impl Into<String>) -> FieldError {
        FieldError::new(self.name, message)
    }

    pub fn is_null(&self) -> bool {
        self.value.is_null()
    }

    pub fn str(&self) -> FieldResult<&'a str> {
        self.value
            .as_str()
            .ok_or_else(|| self.error(format!("must be a string, not {}", kind(self.value))))
    }

    /// A string of at most `max` characters, trimmed; empty is refused.
    /// Text of 1 to `max` characters, trimmed. Control characters are refused (a NUL, an
    /// escape sequence), but for line breaks and tabs.
    pub fn text(&self, max: usize) -> FieldResult<String> {
        let s = self.str()?.trim();
        if s.is_empty() {
            return Err(self.error("must not be empty"));
        }
        if has_control(s) {
            return Err(self.error("must not hold control characters"));
        }
        if s.chars().count() > max {
            return Err(self.error(format!("must be at most {max} characters")));
        }
        Ok(s.to_string())
    }

    pub fn bool(&self) -> FieldResult<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.error(format!("must be true or false, not {}", kind(self.value))))
    }

    /// An integer; a float is accepted only when it has no fractional part (`10000.0`).
    pub fn integer(&self) -> FieldResult<i64> {
        let Value::Number(n) = self.value else {
            return Err(self.error(format!("must be an integer, not {}", kind(self.value))));
        };
        integral(n).ok_or_else(|| self.error("must be a whole number within range"))
    }

    pub fn integer_in(&self, min: i64, max: i64) -> FieldResult<i64> {
        let n = self.integer()?;
        if n < min || n > max {
            return Err(self.error(format!("must be between {min} and {max}")));
        }
        Ok(n)
    }

    pub fn uuid(&self) -> FieldResult<Uuid> {
        Uuid::parse_str(self.str()?).map_err(|_| self.error("must be a UUID"))
    }

    /// An RFC 3339 time. A time without an offset is read as UTC, as Python's `isoformat()`
    /// prints naive datetimes that way.
    pub fn datetime(&self) -> FieldResult<DateTime<Utc>> {
        let s = self.str()?;
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|t| t.and_utc())
            .map_err(|_| self.error("must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"))
    }

    pub fn object(&self) -> FieldResult<&'a serde_json::Map<String, Value>> {
        self.value
            .as_object()
            .ok_or_else(|| self.error(format!("must be a JSON object, not {}", kind(self.value))))
    }
}

fn integral(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    // Beyond 2^53 a float no longer holds every integer, so it cannot be trusted as one.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (f.fract() == 0.0 && f.abs() <= EXACT).then_some(f as i64)
}

/// Reads the fields of a body one by one, keeping every fault: each field is parsed when it is
/// present and not null, and a fault is kept once per field.
pub struct Reader<'a> {
    body: &'a serde_json::Map<String, Value>,
    pub errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    pub fn new(body: &'a serde_json::Map<String, Value>) -> Reader<'a> {
        Reader {
            body,
            errors: Vec::new(),
        }
    }

    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(Field<'a>) -> Result<T, FieldError>,
    ) -> Option<T> {
        let value = self.body.get(name).filter(|v| !v.is_null())?;
        parse(Field::new(name, value))
            .map_err(|e| self.errors.push(e))
            .ok()
    }

    pub fn require<T>(&mut self, name: &str, value: Option<T>, why: &str) -> Option<T> {
        if value.is_none() && !self.errors.iter().any(|e| e.field == name) {
            self.errors.push(FieldError::new(name, why));
        }
        value
    }

    pub fn refuse(&mut self, name: &str, why: impl Into<String>) {
        if !self.errors.iter().any(|e| e.field == name) {
            self.errors.push(FieldError::new(name, why));
        }
    }
}

/// How a JSON value is named in an error message.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `s` holds a control character other than a line break or a tab: what no text a
/// person types holds, and what PostgreSQL refuses (NUL) or a terminal obeys (escapes).
pub fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn int(v: Value) -> FieldResult<i64> {
        Field::new("amount", &v).integer()
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_not() {
        assert_eq!(int(json!(10000)), Ok(10000));
        assert_eq!(int(json!(10000.0)), Ok(10000));
        assert_eq!(int(json!(-3)), Ok(-3));
        assert!(int(json!(10.5)).is_err());
        assert!(int(json!(1e300)).is_err());
        assert!(int(json!(u64::MAX)).is_err());
        assert!(int(json!("10")).is_err());
        assert!(int(json!(null)).is_err());
    }

    #[test]
    fn errors_name_the_field() {
        let v = json!(true);
        let err = Field::new("title", &v).str().unwrap_err();
        assert_eq!(err.field, "title");
        assert_eq!(err.to_string(), "title: must be a string, not a boolean");
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        let v = json!("  Été  ");
        assert_eq!(Field::new("t", &v).text(3).unwrap(), "Été");
        let v = json!("Éléphant");
        assert!(Field::new("t", &v).text(7).is_err());
        let v = json!("   ");
        assert!(Field::new("t", &v).text(7).is_err());
    }

    #[test]
    fn datetimes_accept_offsets_and_naive_utc() {
        let z = json!("2026-01-31T12:00:00Z");
        let off = json!("2026-01-31T13:00:00+01:00");
        let naive = json!("2026-01-31T12:00:00.000001");
        let a = Field::new("t", &z).datetime().unwrap();
        assert_eq!(a, Field::new("t", &off).datetime().unwrap());
        assert_eq!(
            a.timestamp(),
            Field::new("t", &naive).datetime().unwrap().timestamp()
        );
        assert!(Field::new("t", &json!("tomorrow")).datetime().is_err());
    }
}
