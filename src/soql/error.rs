//! SOQL errors in Salesforce's own terms: an `errorCode`, a message, and where in the query
//! it happened. The emulator sends these as Salesforce would; the server shows them to the
//! model with a caret under the offending token.

use std::fmt;

use super::ast::Span;

/// The `errorCode` Salesforce answers with for a rejected query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The text does not parse.
    MalformedQuery,
    /// The FROM object does not exist or is not visible to the user.
    InvalidType,
    /// A field or relationship does not exist on the object, or is not visible.
    InvalidField,
    /// An operator that the field's type does not allow.
    InvalidQueryFilterOperator,
    /// A number out of range, such as `OFFSET 2001`.
    NumberOutsideValidRange,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedQuery => "MALFORMED_QUERY",
            ErrorCode::InvalidType => "INVALID_TYPE",
            ErrorCode::InvalidField => "INVALID_FIELD",
            ErrorCode::InvalidQueryFilterOperator => "INVALID_QUERY_FILTER_OPERATOR",
            ErrorCode::NumberOutsideValidRange => "NUMBER_OUTSIDE_VALID_RANGE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected query: what Salesforce would say, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SoqlError {
    pub code: ErrorCode,
    /// Salesforce's wording, without the caret diagram (see [`SoqlError::salesforce_message`]).
    pub message: String,
    pub span: Span,
    /// "Did you mean" candidates, best first. Not part of Salesforce's message.
    pub suggestions: Vec<String>,
}

impl SoqlError {
    pub fn new(code: ErrorCode, message: impl Into<String>, span: Span) -> Self {
        Self {
            code,
            message: message.into(),
            span,
            suggestions: Vec::new(),
        }
    }

    pub fn with_suggestions(mut self, suggestions: Vec<String>) -> Self {
        self.suggestions = suggestions;
        self
    }

    /// 1-based row and column of the error's start in `query`, counted in characters.
    pub fn position(&self, query: &str) -> (usize, usize) {
        let start = floor_char_boundary(query, self.span.start);
        let before = &query[..start];
        let row = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (row, column)
    }

    /// The message exactly as Salesforce puts it in its error body: the offending line, a
    /// caret under the error, `ERROR at Row:r:Column:c`, then the text.
    pub fn salesforce_message(&self, query: &str) -> String {
        let (row, column) = self.position(query);
        let line = query.lines().nth(row - 1).unwrap_or("");
        format!(
            "\n{line}\n{caret:>width$}\nERROR at Row:{row}:Column:{column}\n{message}",
            caret = "^",
            width = column,
            message = self.message
        )
    }

    /// A rendering for people and models: the code and message, the offending line with a
    /// caret, and any suggestions.
    pub fn render(&self, query: &str) -> String {
        let (row, column) = self.position(query);
        let line = query.lines().nth(row - 1).unwrap_or("");
        let mut out = format!(
            "{code}: {message}\n  at row {row}, column {column}:\n    {line}\n    {caret:>width$}",
            code = self.code,
            message = self.message,
            caret = "^",
            width = column
        );
        if !self.suggestions.is_empty() {
            out.push_str("\n  did you mean: ");
            out.push_str(&self.suggestions.join(", "));
        }
        out
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut i = index.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_message_matches_the_recorded_shape() {
        let query = "select count() from XYZZY";
        let error = SoqlError::new(
            ErrorCode::InvalidType,
            "sObject type 'XYZZY' is not supported.",
            Span::new(20, 25),
        );
        assert_eq!(
            error.salesforce_message(query),
            "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported."
        );
    }

    #[test]
    fn position_counts_rows_and_characters() {
        let query = "SELECT Id,\n  Naéme FROM Account";
        let error = SoqlError::new(ErrorCode::InvalidField, "x", Span::new(20, 24));
        assert_eq!(error.position(query), (2, 9));
    }
}
