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
        let (quoted, caret_column) = quote_around(line, column);
        let mut out = format!(
            "{code}: {message}\n  at row {row}, column {column}:\n    {quoted}\n    {caret:>width$}",
            code = self.code,
            message = self.message,
            caret = "^",
            width = caret_column
        );
        if !self.suggestions.is_empty() {
            out.push_str("\n  did you mean: ");
            out.push_str(&self.suggestions.join(", "));
        }
        out
    }
}

/// Characters of the offending line quoted on each side of the error: a query of thousands
/// of characters on one line must not come back whole into a model's context.
const QUOTE_CHARS: usize = 60;

/// The part of `line` around 1-based `column`, with `…` where it was cut, and the caret's
/// column within that part.
fn quote_around(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(QUOTE_CHARS);
    let end = at.saturating_add(QUOTE_CHARS).min(chars.len());
    let mut quoted = String::new();
    if start > 0 {
        quoted.push('…');
    }
    quoted.extend(&chars[start..end]);
    if end < chars.len() {
        quoted.push('…');
    }
    (quoted, at - start + 1 + usize::from(start > 0))
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
    fn a_long_line_is_quoted_around_the_error_only() {
        let fields: Vec<String> = (0..500).map(|i| format!("Field{i}__c")).collect();
        let query = format!("SELECT {}, Nme FROM Account", fields.join(", "));
        let at = query.find("Nme").unwrap_or(0);
        let error = SoqlError::new(
            ErrorCode::InvalidField,
            "No such column 'Nme' on entity 'Account'.",
            Span::new(at, at + 3),
        );
        let rendered = error.render(&query);
        assert!(rendered.len() < 400, "{} bytes: {rendered}", rendered.len());
        let lines: Vec<&str> = rendered.lines().collect();
        let quoted = lines[2].strip_prefix("    ").unwrap_or_default();
        let caret = lines[3].strip_prefix("    ").unwrap_or_default();
        assert!(quoted.starts_with('…'), "{quoted}");
        let caret_at = caret.chars().count() - 1;
        let under: String = quoted.chars().skip(caret_at).take(3).collect();
        assert_eq!(under, "Nme", "{rendered}");
        assert!(
            lines[1].contains(&format!("column {}", at + 1)),
            "{rendered}"
        );
        // A short query is quoted whole, as before.
        let short = SoqlError::new(
            ErrorCode::InvalidField,
            "No such column 'Nme' on entity 'Account'.",
            Span::new(7, 10),
        );
        let rendered = short.render("SELECT Nme FROM Account");
        assert!(
            rendered.contains("\n    SELECT Nme FROM Account\n           ^"),
            "{rendered}"
        );
    }

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
