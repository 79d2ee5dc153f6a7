//! Reading what the merchant API receives, the same way for every resource: a JSON object
//! body, and the paging of a listing.

use serde_json::{Map, Value};

use super::{Error, Result};
use crate::domain::fields::FieldError;
use crate::store::SortOrder;

/// A fault for each field of `body` that is in none of the `known` lists: it "is not a field
/// of" `resource` (`a discount coupon`).
pub fn unknown_fields(
    body: &Map<String, Value>,
    known: &[&[&str]],
    resource: &str,
) -> Vec<FieldError> {
    body.keys()
        .filter(|k| !known.iter().any(|list| list.contains(&k.as_str())))
        .map(|k| FieldError::new(k.as_str(), format!("is not a field of {resource}")))
        .collect()
}

/// A body as JSON reads it: an object, with each of its fields once, or what else it was.
enum Body {
    Object(Map<String, Value>),
    Other(&'static str),
}

impl<'de> serde::Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Body, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Body;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            /// A field given twice is refused: which of the two a reader would take is a
            /// guess (serde's last, another library's first), and a report of money must
            /// mean one thing.
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Body, A::Error> {
                let mut fields = Map::new();
                while let Some(key) = a.next_key::<String>()? {
                    if fields.contains_key(&key) {
                        return Err(de::Error::custom(format!(
                            "the field {key:?} is given twice"
                        )));
                    }
                    let value: Value = a.next_value()?;
                    fields.insert(key, value);
                }
                Ok(Body::Object(fields))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Body, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Body::Other("an array"))
            }

            fn visit_unit<E>(self) -> std::result::Result<Body, E> {
                Ok(Body::Other("null"))
            }

            fn visit_bool<E>(self, _: bool) -> std::result::Result<Body, E> {
                Ok(Body::Other("a boolean"))
            }

            fn visit_i64<E>(self, _: i64) -> std::result::Result<Body, E> {
                Ok(Body::Other("a number"))
            }

            fn visit_u64<E>(self, _: u64) -> std::result::Result<Body, E> {
                Ok(Body::Other("a number"))
            }

            fn visit_f64<E>(self, _: f64) -> std::result::Result<Body, E> {
                Ok(Body::Other("a number"))
            }

            fn visit_str<E>(self, _: &str) -> std::result::Result<Body, E> {
                Ok(Body::Other("a string"))
            }
        }
        d.deserialize_any(Read)
    }
}

/// A JSON object body, each field given once. Text holding U+0000 is refused before any rule
/// looks at it: no column should carry it, and PostgreSQL cannot.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(has_nul),
            Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body::Object(m)) => match m.iter().find(|(k, v)| k.contains('\0') || has_nul(v)) {
            Some((k, _)) => Err(Error::invalid(
                &k.replace('\0', "\\0"),
                "must not contain the NUL character",
            )),
            None => Ok(m),
        },
        Ok(Body::Other(kind)) => Err(Error::invalid(
            "body",
            format!("must be a JSON object, not {kind}"),
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

/// The read-only fields of a create's body, which a client may send only to repeat what the
/// server sets anyway (a resource echoed back): null, the key's own `organization_id` and
/// `environment`, or what `echoes` accepts for the resource's own (`status: "open"`). Another
/// organization's id is a 403; any other value an error naming its field, `message`.
pub fn read_only_echoes(
    body: &Map<String, Value>,
    read_only: &[&str],
    caller: &super::Caller,
    echoes: impl Fn(&str, &Value) -> bool,
    message: &str,
) -> Result<Vec<crate::domain::fields::FieldError>> {
    let mut errors = Vec::new();
    for (name, value) in body
        .iter()
        .filter(|(k, v)| read_only.contains(&k.as_str()) && !v.is_null())
    {
        let echoed = match name.as_str() {
            "organization_id" => {
                if value.as_str() != Some(caller.organization_id.to_string().as_str()) {
                    return Err(Error::Forbidden(
                        "organization_id is not the organization of this API key".into(),
                    ));
                }
                true
            }
            "environment" => value.as_str() == Some(caller.environment.as_str()),
            _ => echoes(name, value),
        };
        if !echoed {
            errors.push(crate::domain::fields::FieldError::new(
                name.as_str(),
                message,
            ));
        }
    }
    Ok(errors)
}

/// One page of a listing, and where it stands in the whole.
pub struct Page<T> {
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

impl<T> Page<T> {
    /// Everything in one page.
    pub fn whole(items: Vec<T>) -> Page<T> {
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        Page {
            items,
            limit: total,
            offset: 0,
            total,
        }
    }

    /// `{"data": [...], "pagination": {"limit", "offset", "total"}}`, each item as `view` shows it.
    pub fn view<'a, V>(&'a self, view: impl Fn(&'a T) -> V) -> PageView<V> {
        PageView {
            data: self.items.iter().map(view).collect(),
            pagination: Pagination {
                limit: self.limit,
                offset: self.offset,
                total: self.total,
            },
        }
    }
}

/// A page of a listing as the API shows it.
#[derive(Debug, serde::Serialize)]
pub struct PageView<V> {
    pub data: Vec<V>,
    pub pagination: Pagination,
}

/// Where a page stands in the whole listing.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Pagination {
    /// The most items a page holds.
    pub limit: i64,
    /// How many items come before this page.
    pub offset: i64,
    /// How many items the whole listing holds.
    pub total: i64,
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

/// The fields of `body` neither writable nor read-only, and the read-only ones that do not
/// repeat what the server sets: a create's faults before its fields are read.
pub fn create_faults(
    body: &Map<String, Value>,
    caller: &super::Caller,
    writable: &[&str],
    read_only: &[&str],
    resource: &str,
) -> Result<Vec<FieldError>> {
    let mut errors = unknown_fields(body, &[writable, read_only], resource);
    errors.extend(read_only_echoes(
        body,
        read_only,
        caller,
        |_, _| false,
        "is read-only: the server sets it",
    )?);
    Ok(errors)
}

/// An update's faults before its fields are read: unknown fields, and read-only ones.
pub fn update_faults(
    patch: &Map<String, Value>,
    writable: &[&str],
    read_only: &[&str],
    resource: &str,
) -> Vec<FieldError> {
    let mut errors = unknown_fields(patch, &[writable, read_only], resource);
    errors.extend(
        patch
            .keys()
            .filter(|k| read_only.contains(&k.as_str()))
            .map(|k| FieldError::new(k.as_str(), "is read-only: the server sets it")),
    );
    errors
}

/// `errors` and the faults of a parse together, or what the parse gave when there are none.
pub fn checked<T>(
    errors: Vec<FieldError>,
    parsed: std::result::Result<T, Vec<FieldError>>,
) -> Result<T> {
    match parsed {
        Ok(v) if errors.is_empty() => Ok(v),
        Ok(_) => Err(Error::Invalid(errors)),
        Err(more) => Err(Error::Invalid(errors.into_iter().chain(more).collect())),
    }
}

pub fn owned_page(
    caller: &super::Caller,
    params: &super::coupons::ListParams,
) -> Result<crate::store::OwnedPage> {
    let page = paging(
        params.limit.as_deref(),
        params.offset.as_deref(),
        params.sort.as_deref(),
    )?;
    Ok(crate::store::OwnedPage {
        organization_id: caller.organization_id,
        environment: caller.environment,
        sort: page.sort,
        limit: page.limit,
        offset: page.offset,
    })
}

pub fn page_of<T>(q: &crate::store::OwnedPage, (items, total): (Vec<T>, i64)) -> Page<T> {
    Page {
        items,
        limit: q.limit,
        offset: q.offset,
        total,
    }
}

/// `found` when the caller may see it (its organization and environment, not deleted), else
/// not found: another merchant's ids cannot even be confirmed to exist.
pub fn visible<T: crate::domain::Owned>(
    found: Option<T>,
    caller: &super::Caller,
    what: &'static str,
) -> Result<T> {
    found
        .filter(|t| {
            let (organization, environment) = t.owner();
            caller.owns(organization, environment.as_str()) && !t.is_deleted()
        })
        .ok_or(Error::NotFound(what))
}

/// `stored` (a resource's writable fields as the API shows them) with `patch` laid over it, to
/// be checked whole; unknown and read-only fields of the patch are refused first.
pub fn patched(
    mut stored: Map<String, Value>,
    patch: &Map<String, Value>,
    writable: &[&str],
    read_only: &[&str],
    resource: &str,
) -> Result<Map<String, Value>> {
    let errors = update_faults(patch, writable, read_only, resource);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    stored.extend(patch.clone());
    Ok(stored)
}

/// A `DELETE`'s answer: done, or not found when it was deleted meanwhile.
pub fn deleted(done: bool, what: &'static str) -> Result<()> {
    if done {
        Ok(())
    } else {
        Err(Error::NotFound(what))
    }
}
