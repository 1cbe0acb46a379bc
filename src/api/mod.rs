//! The control API: validation, rendering and JSON models.
