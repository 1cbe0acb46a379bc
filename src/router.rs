//! Method + path bytes → [`Route`]. No allocation, no locks: routing decides what a request *is*;
//! handlers decide what it gets.
//!
//! Paths are matched byte for byte after the query string is cut off. The published Python SDK
//! sends the literal path template (`/v1/mocks/{mock_id}`, percent-encoded by its HTTP client as
//! `%7Bmock_id%7D`) with the real id in the `mock_id` query parameter; a segment that is exactly
//! the template takes its id from there, so SDK users need no changes.

use crate::mock::id::MockId;

/// The request methods mockd distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Method {
    /// Classifies a method token (case-sensitive, RFC 9110 §9.1).
    #[inline]
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"PATCH" => Method::Patch,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

/// The id a request names: parsed, or something that is not an id (answered with 404).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Id(MockId),
    Invalid,
}

/// What a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `ANY /v1/mock/{id}`; `head_only` for HEAD.
    Serve { target: Target, head_only: bool },
    /// `POST /v1/mocks`
    Create,
    /// `GET /v1/mocks/{id}`
    Get(Target),
    /// `GET /v1/mocks?offset=&limit=`: the key's own mocks, newest first. `None` when the query
    /// is out of range (answered with 422).
    List(Option<ListQuery>),
    /// `GET /v1/mocks/{id}/stats`
    Stats(Target),
    /// `DELETE /v1/mocks/{id}`
    Delete(Target),
    /// `GET /v1/status`
    Status,
    /// `GET /v1` and `GET /v1/`
    Root,
    /// `GET /v1/openapi.json`
    OpenApi,
    /// `GET /metrics` (Prometheus text format)
    Metrics,
    /// `GET /ui`: the dashboard page
    Ui,
    /// No such path.
    NotFound,
    /// The path exists, the method does not; the value is the `Allow` header's value.
    MethodNotAllowed(&'static str),
}

/// Pagination of `GET /v1/mocks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub offset: u32,
    pub limit: u32,
}

/// Default and largest page of `GET /v1/mocks`.
pub const LIST_DEFAULT_LIMIT: u32 = 50;
pub const LIST_MAX_LIMIT: u32 = 1000;

fn list_query(query: &[u8]) -> Option<ListQuery> {
    fn number(v: Option<&[u8]>, default: u32, max: u32) -> Option<u32> {
        match v {
            None => Some(default),
            Some(v) => std::str::from_utf8(v)
                .ok()?
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= max),
        }
    }
    let offset = number(query_param(query, b"offset"), 0, u32::MAX)?;
    let limit = number(
        query_param(query, b"limit"),
        LIST_DEFAULT_LIMIT,
        LIST_MAX_LIMIT,
    )?;
    (limit > 0).then_some(ListQuery { offset, limit })
}

/// `Allow` for the serving path.
pub const SERVE_ALLOW: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

const SERVE_PREFIX: &[u8] = b"/v1/mock/";
const MOCKS_PREFIX: &[u8] = b"/v1/mocks/";

/// Routes a request. `path` is the origin-form path without the query; `query` is what followed `?`.
#[inline]
pub fn route(method: Method, path: &[u8], query: &[u8]) -> Route {
    if let Some(rest) = path.strip_prefix(SERVE_PREFIX) {
        return match method {
            Method::Other => Route::MethodNotAllowed(SERVE_ALLOW),
            _ => Route::Serve {
                target: target(rest, query),
                head_only: method == Method::Head,
            },
        };
    }
    route_slow(method, path, query)
}

#[cold]
fn route_slow(method: Method, path: &[u8], query: &[u8]) -> Route {
    if let Some(rest) = path.strip_prefix(MOCKS_PREFIX) {
        if let Some(id) = rest.strip_suffix(b"/stats") {
            return match method {
                Method::Get | Method::Head => Route::Stats(target(id, query)),
                _ => Route::MethodNotAllowed("GET, HEAD"),
            };
        }
        return match method {
            Method::Get => Route::Get(target(rest, query)),
            Method::Delete => Route::Delete(target(rest, query)),
            _ => Route::MethodNotAllowed("GET, DELETE"),
        };
    }
    match path {
        b"/v1/mocks" => match method {
            Method::Post => Route::Create,
            Method::Get | Method::Head => Route::List(list_query(query)),
            _ => Route::MethodNotAllowed("GET, HEAD, POST"),
        },
        b"/v1/status" => get_only(method, Route::Status),
        b"/metrics" => get_only(method, Route::Metrics),
        b"/ui" | b"/ui/" => get_only(method, Route::Ui),
        b"/v1" | b"/v1/" => get_only(method, Route::Root),
        b"/v1/openapi.json" => get_only(method, Route::OpenApi),
        _ => Route::NotFound,
    }
}

fn get_only(method: Method, route: Route) -> Route {
    match method {
        Method::Get | Method::Head => route,
        _ => Route::MethodNotAllowed("GET, HEAD"),
    }
}

/// The id in a path segment, or in the `mock_id` query parameter when the segment is the SDK's
/// unexpanded template.
#[inline]
fn target(segment: &[u8], query: &[u8]) -> Target {
    if let Some(id) = MockId::parse(segment) {
        return Target::Id(id);
    }
    if is_template(segment) {
        if let Some(value) = query_param(query, b"mock_id") {
            if let Some(id) = MockId::parse(value) {
                return Target::Id(id);
            }
        }
    }
    Target::Invalid
}

fn is_template(segment: &[u8]) -> bool {
    segment == b"{mock_id}"
        || (segment.len() == 13
            && segment[..3].eq_ignore_ascii_case(b"%7B")
            && &segment[3..10] == b"mock_id"
            && segment[10..].eq_ignore_ascii_case(b"%7D"))
}

/// The raw value of the first `name=value` pair in a query string. Ids need no percent-decoding:
/// their alphabet is unreserved (RFC 3986 §2.3).
pub fn query_param<'a>(query: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    query.split(|&b| b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |&b| b == b'=');
        let key = kv.next()?;
        (key == name).then(|| kv.next().unwrap_or(b""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> (MockId, String) {
        let id = MockId::from_u128(0xdead_beef_0123_4567_89ab_cdef_0011_2233);
        (id, id.to_text())
    }

    #[test]
    fn serving_accepts_every_listed_method() {
        let (id, text) = id();
        let path = format!("/v1/mock/{text}");
        for (m, head_only) in [
            (Method::Get, false),
            (Method::Head, true),
            (Method::Post, false),
            (Method::Put, false),
            (Method::Patch, false),
            (Method::Delete, false),
            (Method::Options, false),
        ] {
            assert_eq!(
                route(m, path.as_bytes(), b""),
                Route::Serve {
                    target: Target::Id(id),
                    head_only
                }
            );
        }
        assert_eq!(
            route(Method::Other, path.as_bytes(), b""),
            Route::MethodNotAllowed(SERVE_ALLOW)
        );
    }

    #[test]
    fn control_routes() {
        let (id, text) = id();
        let path = format!("/v1/mocks/{text}");
        assert_eq!(route(Method::Post, b"/v1/mocks", b""), Route::Create);
        assert_eq!(
            route(Method::Get, b"/v1/mocks", b""),
            Route::List(Some(ListQuery {
                offset: 0,
                limit: LIST_DEFAULT_LIMIT
            }))
        );
        assert_eq!(
            route(Method::Get, b"/v1/mocks", b"limit=1000&offset=7"),
            Route::List(Some(ListQuery {
                offset: 7,
                limit: 1000
            }))
        );
        for bad in [&b"limit=0"[..], b"limit=1001", b"limit=x", b"offset=-1"] {
            assert_eq!(route(Method::Get, b"/v1/mocks", bad), Route::List(None));
        }
        assert_eq!(
            route(Method::Put, b"/v1/mocks", b""),
            Route::MethodNotAllowed("GET, HEAD, POST")
        );
        let stats = format!("/v1/mocks/{text}/stats");
        assert_eq!(
            route(Method::Get, stats.as_bytes(), b""),
            Route::Stats(Target::Id(id))
        );
        assert_eq!(
            route(Method::Post, stats.as_bytes(), b""),
            Route::MethodNotAllowed("GET, HEAD")
        );
        assert_eq!(
            route(Method::Get, path.as_bytes(), b""),
            Route::Get(Target::Id(id))
        );
        assert_eq!(
            route(Method::Delete, path.as_bytes(), b""),
            Route::Delete(Target::Id(id))
        );
        assert_eq!(
            route(Method::Put, path.as_bytes(), b""),
            Route::MethodNotAllowed("GET, DELETE")
        );
        assert_eq!(route(Method::Get, b"/v1/status", b""), Route::Status);
        assert_eq!(route(Method::Get, b"/v1/", b""), Route::Root);
        assert_eq!(route(Method::Get, b"/v1/openapi.json", b""), Route::OpenApi);
        assert_eq!(route(Method::Get, b"/metrics", b""), Route::Metrics);
        assert_eq!(
            route(Method::Post, b"/metrics", b""),
            Route::MethodNotAllowed("GET, HEAD")
        );
        assert_eq!(route(Method::Get, b"/", b""), Route::NotFound);
        assert_eq!(route(Method::Get, b"/v1/mocksx", b""), Route::NotFound);
    }

    #[test]
    fn sdk_template_takes_the_id_from_the_query() {
        let (id, text) = id();
        let query = format!("mock_id={text}");
        for seg in ["{mock_id}", "%7Bmock_id%7D", "%7bmock_id%7d"] {
            let serve = format!("/v1/mock/{seg}");
            let meta = format!("/v1/mocks/{seg}");
            assert_eq!(
                route(Method::Get, serve.as_bytes(), query.as_bytes()),
                Route::Serve {
                    target: Target::Id(id),
                    head_only: false
                }
            );
            assert_eq!(
                route(Method::Delete, meta.as_bytes(), query.as_bytes()),
                Route::Delete(Target::Id(id))
            );
            assert_eq!(
                route(Method::Get, meta.as_bytes(), b"x=1"),
                Route::Get(Target::Invalid)
            );
        }
        // A real id in the path wins over the query.
        let path = format!("/v1/mock/{text}");
        assert_eq!(
            route(Method::Get, path.as_bytes(), b"mock_id=zzz"),
            Route::Serve {
                target: Target::Id(id),
                head_only: false
            }
        );
    }

    #[test]
    fn bad_ids_are_invalid_targets() {
        for p in [
            "/v1/mock/",
            "/v1/mock/abc",
            "/v1/mock/AAAAAAAAAAAAAAAAAAAAAA/x",
        ] {
            assert_eq!(
                route(Method::Get, p.as_bytes(), b""),
                Route::Serve {
                    target: Target::Invalid,
                    head_only: false
                },
                "{p}"
            );
        }
    }

    #[test]
    fn query_param_finds_first_exact_key() {
        assert_eq!(
            query_param(b"a=1&mock_id=x&mock_id=y", b"mock_id"),
            Some(&b"x"[..])
        );
        assert_eq!(query_param(b"xmock_id=1", b"mock_id"), None);
        assert_eq!(query_param(b"mock_id", b"mock_id"), Some(&b""[..]));
        assert_eq!(query_param(b"", b"mock_id"), None);
    }
}
