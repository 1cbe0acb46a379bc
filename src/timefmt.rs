//! Time formatting.
