//! The control API's pure (no I/O) code path.
//!
//! - [`fields`]: the single table of create fields, shared by the validator and the OpenAPI docs.
//! - [`validate`]: parses and validates `POST /v1/mocks` bodies into a trusted [`MockSpec`].
//! - [`render`]: renders a [`MockSpec`] into the exact response bytes a mock serves, once, at
//!   create time.
//! - [`model`]: the mock metadata JSON and other success bodies.
//! - [`error`]: [`ApiError`] and its `{"detail": ...}` wire form.
//!
//! Invariant across the module: anything that reaches [`render`] has passed [`validate`], so
//! rendered responses cannot carry injected header lines, framing headers or headers the server
//! owns.

pub mod error;
pub mod fields;
pub mod model;
pub mod openapi;
pub mod render;
pub mod validate;

pub use error::ApiError;
pub use fields::{CREATE_FIELDS, FieldDef, FieldKind};
pub use model::{MockView, deleted_json, mock_envelope, mock_json};
pub use render::{Rendered, reason_phrase, render_response};
pub use validate::{CreateLimits, MockSpec, parse_create};
