//! The SOQL lexer: turns query text into tokens on demand.
//!
//! It is pull-based and cheap to copy, because a few SOQL constructs are only tokenised
//! correctly once the parser knows where it is: a currency literal (`USD-500`, `usd500.01`)
//! or an Apex bind (`:new Map<Id, SObject>(x).keySet()`) spans what would otherwise be
//! several tokens. For those the parser scans the raw text itself and moves the lexer on.
//!
//! Keywords are not a token kind: SOQL lets many of them be names, so the parser decides
//! from position whether a word is a keyword.

use super::ast::Span;
use super::error::{ErrorCode, SoqlError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A name or a keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Word,
    /// An integer or decimal, possibly negative: `12`, `-1.5`, `.25`.
    Number,
    /// A single-quoted string, quotes included in the span; escapes are resolved by the
    /// parser, which knows whether the string is a LIKE pattern.
    String,
    /// `2024-01-31`.
    Date,
    /// `2024-01-31T10:00:00.000+01:00`.
    DateTime,
    Comma,
    Dot,
    LParen,
    RParen,
    Colon,
    Eq,
    /// `!=` or `<>`.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    /// Where the next token will be looked for.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Continue lexing from `pos` (a char boundary the parser reached by scanning raw text).
    pub fn seek(&mut self, pos: usize) {
        let mut pos = pos.min(self.src.len());
        while !self.src.is_char_boundary(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b) = self.byte(self.pos) {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    pub fn next_token(&mut self) -> Result<Token, SoqlError> {
        self.skip_whitespace();
        let start = self.pos;
        let Some(b) = self.byte(start) else {
            return Ok(Token {
                kind: TokenKind::Eof,
                span: Span::new(start, start),
            });
        };
        let (kind, len) = match b {
            b',' => (TokenKind::Comma, 1),
            b'(' => (TokenKind::LParen, 1),
            b')' => (TokenKind::RParen, 1),
            b':' => (TokenKind::Colon, 1),
            b'=' => (TokenKind::Eq, 1),
            b'!' if self.byte(start + 1) == Some(b'=') => (TokenKind::Ne, 2),
            b'<' => match self.byte(start + 1) {
                Some(b'=') => (TokenKind::Le, 2),
                Some(b'>') => (TokenKind::Ne, 2),
                _ => (TokenKind::Lt, 1),
            },
            b'>' => match self.byte(start + 1) {
                Some(b'=') => (TokenKind::Ge, 2),
                _ => (TokenKind::Gt, 1),
            },
            b'\'' => (TokenKind::String, self.string_len(start)?),
            b'.' if self.byte(start + 1).is_some_and(|c| c.is_ascii_digit()) => {
                (TokenKind::Number, self.number_len(start))
            }
            b'.' => (TokenKind::Dot, 1),
            b'-' if self.starts_number(start + 1) => {
                (TokenKind::Number, 1 + self.number_len(start + 1))
            }
            b'0'..=b'9' => match self.date_len(start)? {
                Some((kind, len)) => (kind, len),
                None => (TokenKind::Number, self.number_len(start)),
            },
            _ if is_word_start(b) => (TokenKind::Word, self.word_len(start)),
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                let hint = match ch {
                    '"' => " (SOQL strings take single quotes: 'text')",
                    ';' => " (SOQL has no statement terminator: remove it)",
                    '*' => " (SOQL has no SELECT *: name the fields, or use FIELDS(ALL))",
                    _ => "",
                };
                return Err(SoqlError::new(
                    ErrorCode::MalformedQuery,
                    format!("unexpected character: '{ch}'{hint}"),
                    Span::new(start, start + ch.len_utf8()),
                ));
            }
        };
        self.pos = start + len;
        Ok(Token {
            kind,
            span: Span::new(start, start + len),
        })
    }

    fn starts_number(&self, at: usize) -> bool {
        match self.byte(at) {
            Some(b) if b.is_ascii_digit() => true,
            Some(b'.') => self.byte(at + 1).is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        }
    }

    fn word_len(&self, start: usize) -> usize {
        let bytes = &self.src.as_bytes()[start..];
        bytes.iter().take_while(|b| is_word_byte(**b)).count()
    }

    fn digits_len(&self, start: usize) -> usize {
        let bytes = self.src.as_bytes().get(start..).unwrap_or_default();
        bytes.iter().take_while(|b| b.is_ascii_digit()).count()
    }

    /// `123`, `1.5`, `.5`. A trailing dot (`1.`) is not part of the number.
    fn number_len(&self, start: usize) -> usize {
        let mut len = self.digits_len(start);
        if self.byte(start + len) == Some(b'.') {
            let fraction = self.digits_len(start + len + 1);
            if fraction > 0 {
                len += 1 + fraction;
            }
        }
        len
    }

    /// A date (`YYYY-MM-DD`) or datetime (`YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm|±hhmm)`) at
    /// `start`, or `None` when the digits there are a plain number.
    fn date_len(&self, start: usize) -> Result<Option<(TokenKind, usize)>, SoqlError> {
        let bytes = self.src.as_bytes();
        let shape = |offset: usize, pattern: &[u8]| -> bool {
            pattern.iter().enumerate().all(|(i, p)| {
                bytes.get(start + offset + i).is_some_and(|b| match p {
                    b'9' => b.is_ascii_digit(),
                    other => b == other,
                })
            })
        };
        if !shape(0, b"9999-99-99") {
            return Ok(None);
        }
        let date_end = 10;
        if !(bytes.get(start + date_end) == Some(&b'T')
            || bytes.get(start + date_end) == Some(&b't'))
        {
            return Ok(Some((TokenKind::Date, date_end)));
        }
        let bad_datetime = |end: usize| {
            SoqlError::new(
                ErrorCode::MalformedQuery,
                "invalid datetime: write it as YYYY-MM-DDThh:mm:ss[.sss] followed by Z or an \
                 offset such as +01:00 or -0800",
                Span::new(start, end.min(self.src.len())),
            )
        };
        if !shape(date_end + 1, b"99:99:99") {
            return Err(bad_datetime(start + date_end + 1));
        }
        let mut len = date_end + 9;
        if bytes.get(start + len) == Some(&b'.') {
            let fraction = self.digits_len(start + len + 1);
            if fraction == 0 {
                return Err(bad_datetime(start + len + 1));
            }
            len += 1 + fraction;
        }
        match bytes.get(start + len) {
            Some(b'Z' | b'z') => len += 1,
            Some(b'+' | b'-') => {
                if shape(len + 1, b"99:99") {
                    len += 6;
                } else if shape(len + 1, b"9999") {
                    len += 5;
                } else {
                    return Err(bad_datetime(start + len + 1));
                }
            }
            _ => return Err(bad_datetime(start + len)),
        }
        if bytes.get(start + len).is_some_and(|b| is_word_byte(*b)) {
            return Err(bad_datetime(start + len + 1));
        }
        Ok(Some((TokenKind::DateTime, len)))
    }

    /// Length of the string literal at `start` (on its opening quote), quotes included.
    fn string_len(&self, start: usize) -> Result<usize, SoqlError> {
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b'\'' => return Ok(i + 1 - start),
                _ => i += 1,
            }
        }
        Err(SoqlError::new(
            ErrorCode::MalformedQuery,
            "unterminated string literal: close it with a single quote (write \\' for a quote \
             inside the string)",
            Span::new(start, start + 1),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().unwrap();
            if token.kind == TokenKind::Eof {
                return out;
            }
            out.push((token.kind, &src[token.span.start..token.span.end]));
        }
    }

    #[test]
    fn splits_punctuation_operators_and_words() {
        use TokenKind::*;
        assert_eq!(
            kinds("COUNT(Name)cnt,a.b<>'x'<=1>=2!=3<4>5=:"),
            vec![
                (Word, "COUNT"),
                (LParen, "("),
                (Word, "Name"),
                (RParen, ")"),
                (Word, "cnt"),
                (Comma, ","),
                (Word, "a"),
                (Dot, "."),
                (Word, "b"),
                (Ne, "<>"),
                (String, "'x'"),
                (Le, "<="),
                (Number, "1"),
                (Ge, ">="),
                (Number, "2"),
                (Ne, "!="),
                (Number, "3"),
                (Lt, "<"),
                (Number, "4"),
                (Gt, ">"),
                (Number, "5"),
                (Eq, "="),
                (Colon, ":"),
            ]
        );
    }

    #[test]
    fn numbers_dates_and_datetimes() {
        use TokenKind::*;
        assert_eq!(
            kinds("-122.418 .5 10 2010-09-21 2010-09-20T22:16:30.000Z 2020-04-15T02:40:03+0000"),
            vec![
                (Number, "-122.418"),
                (Number, ".5"),
                (Number, "10"),
                (Date, "2010-09-21"),
                (DateTime, "2010-09-20T22:16:30.000Z"),
                (DateTime, "2020-04-15T02:40:03+0000"),
            ]
        );
    }

    #[test]
    fn strings_skip_escaped_quotes() {
        assert_eq!(
            kinds(r"'it\'s' x"),
            vec![(TokenKind::String, r"'it\'s'"), (TokenKind::Word, "x")]
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let mut lexer = Lexer::new("a 'open");
        lexer.next_token().unwrap();
        let err = lexer.next_token().unwrap_err();
        assert_eq!((err.span.start, err.span.end), (2, 3));
        let mut lexer = Lexer::new("2020-01-01T10:00:00 x");
        let err = lexer.next_token().unwrap_err();
        assert!(err.message.contains("invalid datetime"), "{}", err.message);
        let err = Lexer::new("#").next_token().unwrap_err();
        assert_eq!(err.message, "unexpected character: '#'");
        let err = Lexer::new("\"x\"").next_token().unwrap_err();
        assert!(err.message.contains("single quotes"), "{}", err.message);
        let mut lexer = Lexer::new("a é");
        lexer.next_token().unwrap();
        let err = lexer.next_token().unwrap_err();
        assert_eq!((err.span.start, err.span.end), (2, 4));
    }
}
