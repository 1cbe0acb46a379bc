//! End-to-end tests of the mockd server over real TCP sockets.
//!
//! Most tests start an in-process server on port 0 through the library API and talk raw HTTP/1.1
//! to it, so every byte on the wire is under the test's control; `binary` runs the real
//! executable for flags, environment, printed output and signals.

mod support;

mod binary;
mod concurrency;
mod control;
mod delay;
mod expiry;
mod http1;
mod serving;
mod validation;
