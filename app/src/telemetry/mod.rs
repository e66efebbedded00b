//! GPU telemetry: what agents on GPU hosts report, stored raw and summed by the hour.

pub mod cost;
pub mod ingest;
#[cfg(feature = "ssr")]
pub mod store;
