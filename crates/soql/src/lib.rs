//! The SOQL language: lexer, parser, AST, printer, validation against describe metadata, and
//! an evaluator over in-memory records (feature `eval`, used by the emulator).
//!
//! One library serves both sides: the server checks every query before it spends an API
//! call, and the emulator answers queries with Salesforce's semantics.
//!
//! [`parse`] reads a query under the REST API's rules (Apex binds rejected); [`parse_with`]
//! takes [`ParseOptions`]. Errors are [`SoqlError`]s with Salesforce's `errorCode` and
//! wording; `Display` on a [`Query`] prints canonical SOQL that parses back to the same tree.
//! After [`validate::validate`], [`access::footprint`] lists every object and field a query
//! reads, and [`access::AccessPolicy`] holds the operator's allow-list and deny-list to it.
//!
//! ```
//! let query = sfmcp_soql::parse("select Name from account where name like 'a%' limit 5")?;
//! assert_eq!(query.to_string(), "SELECT Name FROM account WHERE name LIKE 'a%' LIMIT 5");
//!
//! let error = sfmcp_soql::parse("SELECT Id, FROM Account").unwrap_err();
//! assert_eq!(error.message, "unexpected token: 'FROM'");
//! # Ok::<(), sfmcp_soql::SoqlError>(())
//! ```

pub mod access;
pub mod ast;
#[cfg(feature = "eval")]
pub mod data;
pub mod error;
#[cfg(feature = "eval")]
pub mod eval;
mod lexer;
mod parser;
mod printer;
pub mod schema;
#[cfg(all(feature = "eval", any(test, feature = "test-support")))]
pub mod test_support;
pub mod validate;

pub use ast::Query;

pub use error::{ErrorCode, SoqlError};
pub use parser::{MAX_NESTING, MAX_QUERY_CHARS, ParseOptions, parse, parse_with};

/// `text` made safe inside a SOQL `LIKE '%...%'` literal: quotes and backslashes escaped,
/// `%` and `_` matched literally, line breaks flattened. What a user typed can then never
/// leave its literal.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A file under the shared fixtures (`shared/fixtures/...`), which sit beside the checkout:
/// three levels above this crate in the main checkout, four in a worktree under `wt/`. The
/// nearest ancestor that has it wins.
#[cfg(test)]
pub(crate) fn shared_fixture(relative: &str) -> String {
    let relative = format!("shared/fixtures/{relative}");
    let found = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(&relative))
        .find(|path| path.exists());
    let Some(path) = found else {
        panic!("{relative} not found above {}", env!("CARGO_MANIFEST_DIR"));
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_text_cannot_break_out_of_its_literal() {
        assert_eq!(like_literal("O'Brien 100%_"), "O\\'Brien 100\\%\\_");
        assert_eq!(like_literal("a\\' OR Name != '"), "a\\\\\\' OR Name != \\'");
        let query = format!(
            "SELECT Id FROM Account WHERE Name LIKE '%{}%'",
            like_literal("x' OR Id != '")
        );
        assert!(parse(&query).is_ok(), "{query}");
    }
}
