//! The server's integration tests, one binary: the real router on a fresh Postgres database per
//! test, driven as a browser or an agent would call it. One binary links the server once instead of
//! once per file, which keeps a clean build's time and disk down.

mod common;

mod advice;
mod alerts;
mod api_prices;
mod audit;
mod bills;
mod cards;
mod catalog;
mod cost;
mod drift;
mod experiments;
mod fleet;
mod genai;
mod guardrails;
mod openapi;
mod pipelines;
mod prices;
mod reports;
mod reviews;
mod router;
mod teams;
mod telemetry;
