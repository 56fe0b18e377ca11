//! The SOQL language: lexer, parser, AST, printer, validation against describe metadata, and
//! an evaluator over in-memory records (used by the emulator).
//!
//! One library serves both sides: the server checks every query before it spends an API
//! call, and the emulator answers queries with Salesforce's semantics.
//!
//! [`parse`] reads a query under the REST API's rules (Apex binds rejected); [`parse_with`]
//! takes [`ParseOptions`]. Errors are [`SoqlError`]s with Salesforce's `errorCode` and
//! wording; `Display` on a [`Query`] prints canonical SOQL that parses back to the same tree.
//!
//! ```
//! let query = sfmcp::soql::parse("select Name from account where name like 'a%' limit 5")?;
//! assert_eq!(query.to_string(), "SELECT Name FROM account WHERE name LIKE 'a%' LIMIT 5");
//!
//! let error = sfmcp::soql::parse("SELECT Id, FROM Account").unwrap_err();
//! assert_eq!(error.message, "unexpected token: 'FROM'");
//! # Ok::<(), sfmcp::soql::SoqlError>(())
//! ```

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
