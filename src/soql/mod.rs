//! The SOQL language: lexer, parser, AST, printer, validation against describe metadata, and
//! an evaluator over in-memory records (used by the emulator).
//!
//! One library serves both sides: the server checks every query before it spends an API
//! call, and the emulator answers queries with Salesforce's semantics.

pub mod ast;
pub mod cli;
pub mod data;
pub mod error;
pub mod eval;
mod lexer;
mod parser;
mod printer;
pub mod schema;
pub mod validate;

pub use ast::Query;
pub use error::{ErrorCode, SoqlError};
pub use parser::{MAX_NESTING, MAX_QUERY_CHARS, ParseOptions, parse, parse_with};
