//! Reading what the merchant API receives, the same way for every resource: a JSON object
//! body, and the paging of a listing.

use serde_json::{Map, Value};

use super::{Error, Result};
use crate::domain::fields::kind;
use crate::store::SortOrder;

/// A JSON object body. Text holding U+0000 is refused before any rule looks at it: no column
/// should carry it, and PostgreSQL cannot.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(has_nul),
            Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => match m.iter().find(|(k, v)| k.contains('\0') || has_nul(v)) {
            Some((k, _)) => Err(Error::invalid(
                &k.replace('\0', "\\0"),
                "must not contain the NUL character",
            )),
            None => Ok(m),
        },
        Ok(other) => Err(Error::invalid(
            "body",
            format!("must be a JSON object, not {}", kind(&other)),
        )),
        Err(e) => Err(Error::MalformedJson(e.to_string())),
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
    pub sort: SortOrder,
}

/// One page of a listing, and where it stands in the whole.
pub struct Page<T> {
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

impl<T> Page<T> {
    /// `{"data": [...], "pagination": {"limit", "offset", "total"}}`, each item as `view` shows it.
    pub fn to_json(&self, view: impl Fn(&T) -> serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "data": self.items.iter().map(view).collect::<Vec<_>>(),
            "pagination": {"limit": self.limit, "offset": self.offset, "total": self.total},
        })
    }
}

/// `limit` 1..=100 (default 20), `offset` ≥ 0, `sort` `created_at:desc` (default) or
/// `created_at:asc`, as they arrive in a query string.
pub fn paging(limit: Option<&str>, offset: Option<&str>, sort: Option<&str>) -> Result<Paging> {
    let number = |name: &str, v: Option<&str>, default: i64, min: i64, max: i64| -> Result<i64> {
        match v {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    Error::invalid(name, format!("must be an integer from {min} to {max}"))
                }),
        }
    };
    let sort = match sort.map(str::trim) {
        None | Some("created_at:desc" | "-created_at") => SortOrder::CreatedDesc,
        Some("created_at:asc" | "created_at") => SortOrder::CreatedAsc,
        Some(_) => {
            return Err(Error::invalid(
                "sort",
                "must be created_at:desc or created_at:asc",
            ));
        }
    };
    Ok(Paging {
        limit: number("limit", limit, 20, 1, 100)?,
        offset: number("offset", offset, 0, 0, i64::from(i32::MAX))?,
        sort,
    })
}
