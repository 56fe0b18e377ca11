//! The tools, one file per family. Each family is an `impl SfServer` block with its own
//! `#[tool_router]`; [`crate::server::SfServer::router`] merges them, so adding a family is a
//! new file here and one line there.

pub(crate) mod audit;
pub(crate) mod batch;
pub(crate) mod files;
pub(crate) mod history;
pub mod identity;
pub(crate) mod limits;
pub(crate) mod listviews;
pub(crate) mod objects;
pub(crate) mod query;
pub(crate) mod records;
pub(crate) mod reports;
pub(crate) mod tooling;
