//! The control API's handlers: create, read, delete, status, and the server's own error responses.
//!
//! Control path: JSON and allocation are fine here. Every error is `{"detail": "..."}`.

use crate::api::error::ApiError;
use crate::api::model::{deleted_json, mock_envelope, mock_json};
use crate::api::render::reason_phrase;
use crate::api::validate::{CreateLimits, parse_create};
use crate::http::encode::{Connection, Simple, write_simple};
use crate::metrics::ControlRoute;
use crate::mock::Mock;
use crate::mock::Owner;
use crate::mock::store::CreateError;
use crate::mock::table::Full;
use crate::router::{LIST_MAX_LIMIT, Route, Target};
use crate::server::{Shared, Worker};
use crate::timefmt::iso8601_utc;
use std::sync::Arc;

/// What the request presented as a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No credential header.
    Missing,
    /// A credential that matches no key (or a malformed/duplicated one).
    Invalid,
    /// A valid key's owner.
    Owner(Owner),
}

/// Where a response goes and how.
pub struct Reply<'a> {
    pub out: &'a mut Vec<u8>,
    pub date_line: &'a [u8],
    pub conn: Connection,
    pub head_only: bool,
    /// The status written (set by the writers below; for metrics).
    pub status: u16,
}

impl<'a> Reply<'a> {
    /// A reply into `out`; `status` is filled in when the response is written.
    pub fn new(
        out: &'a mut Vec<u8>,
        date_line: &'a [u8],
        conn: Connection,
        head_only: bool,
    ) -> Self {
        Reply {
            out,
            date_line,
            conn,
            head_only,
            status: 0,
        }
    }
}

const JSON: &str = "application/json";

/// The dashboard: one self-contained page (inline CSS and JS, no external fetches).
const UI_PAGE: &str = include_str!("ui/index.html");

/// Writes a `{"detail": ...}` error response.
pub fn error(reply: &mut Reply<'_>, status: u16, detail: &str, headers: &[(&str, &str)]) {
    let body = ApiError::new(status, detail).to_json();
    write_json(reply, status, &body, headers);
}

fn write_json(reply: &mut Reply<'_>, status: u16, body: &[u8], headers: &[(&str, &str)]) {
    write_body(reply, status, JSON, body, headers);
}

fn write_body(
    reply: &mut Reply<'_>,
    status: u16,
    content_type: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) {
    reply.status = status;
    let simple = Simple {
        status,
        reason: reason_phrase(status),
        content_type,
        body,
        headers,
    };
    write_simple(
        reply.out,
        &simple,
        reply.date_line,
        reply.conn,
        reply.head_only,
    );
}

fn unauthorized(reply: &mut Reply<'_>, auth: Auth) {
    let detail = match auth {
        Auth::Missing => "missing API key: send X-API-Key or Authorization: Bearer",
        _ => "invalid API key",
    };
    error(reply, 401, detail, &[("WWW-Authenticate", "Bearer")]);
}

/// The metrics label of a control route.
pub fn metrics_route(route: Route) -> ControlRoute {
    match route {
        Route::Create => ControlRoute::Create,
        Route::Get(_) => ControlRoute::Get,
        Route::Delete(_) => ControlRoute::Delete,
        Route::Status => ControlRoute::Status,
        Route::Root => ControlRoute::Root,
        Route::OpenApi => ControlRoute::OpenApi,
        Route::Metrics => ControlRoute::Metrics,
        Route::Ui => ControlRoute::Ui,
        Route::List(_) => ControlRoute::List,
        Route::Stats(_) => ControlRoute::Stats,
        Route::Serve { .. } | Route::NotFound | Route::MethodNotAllowed(_) => ControlRoute::Other,
    }
}

/// The live mock `target` names, if `owner` owns it.
fn owned(shared: &Shared, target: Target, owner: Owner) -> Option<Arc<Mock>> {
    match target {
        Target::Id(id) => shared.store.get_owned(id, owner),
        Target::Invalid => None,
    }
}

/// Answers a control-API route.
pub fn respond(worker: &Worker, route: Route, auth: Auth, body: &[u8], reply: &mut Reply<'_>) {
    let shared = &worker.shared;
    let owner = match auth {
        Auth::Owner(o) => Some(o),
        _ => None,
    };
    match route {
        Route::Create | Route::Get(_) | Route::Delete(_) | Route::List(_) | Route::Stats(_) => {
            match owner {
                Some(owner) => respond_owned(shared, route, owner, body, reply),
                None => unauthorized(reply, auth),
            }
        }
        Route::Ui => write_body(
            reply,
            200,
            "text/html; charset=utf-8",
            UI_PAGE.as_bytes(),
            &[
                // Everything the page needs is inline; it may talk only to this server.
                (
                    "Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
            ],
        ),
        Route::Metrics if shared.metrics_require_key && owner.is_none() => {
            unauthorized(reply, auth)
        }
        Route::Metrics => write_body(
            reply,
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            crate::metrics::render(shared).as_bytes(),
            &[],
        ),
        Route::Status => {
            let totals = shared.store.totals();
            let body = serde_json::json!({
                "status": "ok",
                "service": "mockd",
                "version": env!("CARGO_PKG_VERSION"),
                "uptime_seconds": shared.started.elapsed().as_secs(),
                "live_mocks": totals.live,
                "workers": shared.workers,
            });
            write_json(reply, 200, body.to_string().as_bytes(), &[]);
        }
        Route::Root => {
            let body = serde_json::json!({
                "service": "mockd",
                "version": env!("CARGO_PKG_VERSION"),
                "openapi": "/v1/openapi.json",
            });
            write_json(reply, 200, body.to_string().as_bytes(), &[]);
        }
        Route::OpenApi => write_json(
            reply,
            200,
            crate::api::openapi::openapi_json().as_bytes(),
            &[],
        ),
        Route::NotFound | Route::Serve { .. } => error(reply, 404, "not found", &[]),
        Route::MethodNotAllowed(allow) => {
            error(reply, 405, "method not allowed", &[("Allow", allow)])
        }
    }
}

/// Answers a route that needs a key, for the key's `owner`.
fn respond_owned(shared: &Shared, route: Route, owner: Owner, body: &[u8], reply: &mut Reply<'_>) {
    match route {
        Route::Create => {
            let limits = CreateLimits {
                max_body_bytes: shared.limits.max_mock_body_bytes,
                max_headers: shared.limits.max_mock_headers,
                max_header_bytes: shared.limits.max_mock_header_bytes,
            };
            // An empty body means "all defaults": the published SDK sends one for `create_mock()`.
            let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
                b"{}"
            } else {
                body
            };
            let spec = match parse_create(body, &limits) {
                Ok(spec) => spec,
                Err(e) => return error(reply, e.status, &e.detail, &[]),
            };
            match shared.store.create(owner, spec) {
                Ok(mock) => {
                    let id = mock.id.to_text();
                    let location = format!("/v1/mocks/{id}");
                    write_json(
                        reply,
                        201,
                        &mock_envelope(&mock.view(&id)),
                        &[("Location", &location)],
                    );
                }
                Err(CreateError::Full(Full::Count(n))) => error(
                    reply,
                    507,
                    &format!("mock storage full: {n} live mocks is the limit (--max-mocks)"),
                    &[],
                ),
                Err(CreateError::Full(Full::Bytes(n))) => error(
                    reply,
                    507,
                    &format!("mock storage full: {n} bytes is the limit (--max-store-bytes)"),
                    &[],
                ),
                Err(CreateError::Random) => error(
                    reply,
                    503,
                    "random source unavailable; retry",
                    &[("Retry-After", "1")],
                ),
            }
        }
        Route::Get(target) => match owned(shared, target, owner) {
            Some(mock) => {
                let id = mock.id.to_text();
                write_json(reply, 200, &mock_envelope(&mock.view(&id)), &[]);
            }
            None => error(reply, 404, "mock not found", &[]),
        },
        Route::Delete(target) => {
            let deleted = match target {
                Target::Id(id) => shared.store.delete_owned(id, owner),
                Target::Invalid => None,
            };
            match deleted {
                Some(mock) => write_json(reply, 200, &deleted_json(&mock.id.to_text()), &[]),
                None => error(reply, 404, "mock not found", &[]),
            }
        }
        Route::List(None) => error(
            reply,
            422,
            &format!(
                "limit: must be an integer from 1 to {LIST_MAX_LIMIT}; offset: a non-negative integer"
            ),
            &[],
        ),
        Route::List(Some(q)) => {
            let page = shared
                .store
                .list_owned(owner, q.offset as usize, q.limit as usize);
            let mocks: Vec<serde_json::Value> = page
                .mocks
                .iter()
                .map(|m| {
                    let id = m.id.to_text();
                    mock_json(&m.view(&id))
                })
                .collect();
            let body = serde_json::json!({
                "mocks": mocks,
                "total": page.total,
                "offset": q.offset,
                "limit": q.limit,
            });
            write_json(reply, 200, body.to_string().as_bytes(), &[]);
        }
        Route::Stats(target) => {
            match owned(shared, target, owner) {
                Some(mock) => {
                    let now_ms = shared.store.clock().now_ms();
                    // The current second is still being counted: the history ends at the last
                    // complete one.
                    let (per_second, first, last) = mock.rates(now_ms / 1000 - 1);
                    let iso = |ms: Option<u64>| ms.map(iso8601_utc);
                    let body = serde_json::json!({
                        "mock_id": mock.id.to_text(),
                        "hit_count": mock.hit_count(),
                        "window_seconds": per_second.len(),
                        "hits_per_second": per_second,
                        "first_hit_at": iso(first),
                        "last_hit_at": iso(last),
                        "as_of": iso8601_utc(now_ms - now_ms % 1000),
                    });
                    write_json(reply, 200, body.to_string().as_bytes(), &[]);
                }
                None => error(reply, 404, "mock not found", &[]),
            }
        }
        // `respond` sends only the routes above here.
        _ => error(reply, 404, "not found", &[]),
    }
}
