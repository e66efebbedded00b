//! GPU telemetry: what agents on GPU hosts report, stored raw and summed by the hour.

pub mod ingest;
#[cfg(feature = "ssr")]
pub mod store;
