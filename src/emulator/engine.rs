//! SOQL through `crate::soql`: parse, validate against the user's schema, evaluate over the
//! user's view, and render Salesforce's record JSON.

use super::errors::ApiError;
use super::query::Evaluated;
use super::state::{AppState, Ctx};

/// Runs one SOQL query for the caller. The parser, validation and evaluator land on their
/// own branches; until they are merged this answers that the engine is unavailable.
pub fn run(
    _state: &AppState,
    _ctx: &Ctx,
    _soql: &str,
    _all_rows: bool,
    _batch: usize,
) -> Result<Evaluated, Vec<ApiError>> {
    Err(vec![ApiError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "QUERY_ENGINE_UNAVAILABLE",
        "the SOQL engine is not wired into this build of the emulator yet",
    )])
}
