//! The SOQL parser: query text to [`Query`], with Salesforce's errors.
//!
//! A hand-written recursive-descent parser over the pull lexer in `lexer.rs`. It follows the
//! SELECT grammar of the SOQL and SOSL Reference; where that reference is silent, the
//! soql-parser-js corpus (../shared/fixtures/soql-parser-js) decides. Errors carry
//! `MALFORMED_QUERY` and Salesforce's wording (`unexpected token: 'FROM'`) with the span of
//! the offending token. Recursion is bounded so that no input can overflow the stack.

use chrono::{FixedOffset, NaiveDate, NaiveTime};

use super::ast::*;
use super::error::{ErrorCode, SoqlError};
use super::lexer::{Lexer, Token, TokenKind};

/// Salesforce rejects SOQL statements longer than this many characters.
pub const MAX_QUERY_CHARS: usize = 100_000;

/// How deep parentheses, NOTs, function calls and subqueries may nest. Far beyond any real
/// query, and small enough that the recursion stays well inside a thread's stack.
pub const MAX_NESTING: usize = 64;

/// How to parse. The default follows the REST API's rules.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Accept Apex bind variables (`WHERE Id IN :ids`) into [`Value::Bind`] and
    /// [`InValues::Bind`]. They are only meaningful in Apex; the REST API rejects them.
    pub allow_apex_binds: bool,
    /// Drop a clause after FROM that fails to parse instead of failing the whole query, and
    /// go on with the next clause keyword. This is how soql-parser-js's `ignoreParseErrors`
    /// behaves on its corpus (case 113 loses its broken WHERE clause). Meant for tooling that
    /// wants the best-effort shape of a broken query; never for checking a query.
    pub ignore_parse_errors: bool,
}

/// Parse one SOQL SELECT statement under the REST API's rules (Apex binds rejected).
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    parse_with(text, &ParseOptions::default())
}

impl std::str::FromStr for Query {
    type Err = SoqlError;

    /// Same as [`parse`]: REST API rules.
    fn from_str(text: &str) -> Result<Query, SoqlError> {
        parse(text)
    }
}

/// Parse one SOQL SELECT statement with explicit options.
pub fn parse_with(text: &str, options: &ParseOptions) -> Result<Query, SoqlError> {
    if text.len() > MAX_QUERY_CHARS && text.chars().count() > MAX_QUERY_CHARS {
        return Err(SoqlError::new(
            ErrorCode::MalformedQuery,
            format!(
                "the query is {} characters long; SOQL statements are limited to {MAX_QUERY_CHARS} \
                 characters. Split it, or move long IN lists into several queries",
                text.chars().count()
            ),
            Span::new(0, 0),
        ));
    }
    let mut parser = Parser {
        src: text,
        lexer: Lexer::new(text),
        peeked: None,
        last_end: 0,
        depth: 0,
        options,
    };
    let parsed = parser.query().and_then(|query| {
        let next = parser.peek()?;
        if next.kind == TokenKind::Eof {
            Ok(query)
        } else {
            Err(parser.unexpected(next))
        }
    });
    parsed.map_err(|error| {
        let suggestions = keyword_suggestions(text, &error);
        error.with_suggestions(suggestions)
    })
}

/// Keywords worth suggesting when a misspelt or glued one breaks a query.
const SUGGESTED_KEYWORDS: [&str; 24] = [
    "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "USING", "SCOPE",
    "WITH", "LIKE", "NULLS", "FIRST", "LAST", "TYPEOF", "WHEN", "THEN", "ELSE", "INCLUDES",
    "EXCLUDES", "ROLLUP", "CUBE", "FIELDS",
];

/// "Did you mean" for a parse error: the blamed word, or the word before it (which the parser
/// may have taken for an alias, as in `SELECT Id FORM Account`), may be a misspelt keyword
/// (`FORM`, `LIMT`) or a keyword glued to what follows (`FROMAccount`, `OFFSET100`).
fn keyword_suggestions(src: &str, error: &SoqlError) -> Vec<String> {
    let word_at = |start: usize| {
        let rest = src.get(start..).unwrap_or_default();
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        &rest[..len]
    };
    let blamed = word_at(error.span.start);
    let before = src.get(..error.span.start).unwrap_or_default().trim_end();
    let previous_start = before
        .bytes()
        .rposition(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map_or(0, |i| i + 1);
    let previous = &before[previous_start..];
    let mut suggestions: Vec<String> = Vec::new();
    for word in [blamed, previous] {
        if word.is_empty()
            || SUGGESTED_KEYWORDS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(word))
        {
            continue;
        }
        let upper = word.to_ascii_uppercase();
        for keyword in SUGGESTED_KEYWORDS {
            let suggestion = if upper.len() > keyword.len() && upper.starts_with(keyword) {
                format!("{keyword} {}", &word[keyword.len()..])
            } else if keyword.len() >= 4 && strsim::osa_distance(&upper, keyword) == 1 {
                keyword.to_string()
            } else {
                continue;
            };
            if !suggestions.contains(&suggestion) {
                suggestions.push(suggestion);
            }
        }
    }
    suggestions.truncate(3);
    suggestions
}

/// What Salesforce answers (MALFORMED_QUERY) when a query sent over the API has a bind, or a
/// name where a value belongs. Binds are an Apex feature ("Using Apex Variables in SOQL and
/// SOSL Queries", Apex Developer Guide, langCon_apex_SOQL_variables.htm); the wording is the
/// one integrations report back from the REST API.
const BINDS_APEX_ONLY: &str = "Bind variables only allowed in Apex code";

/// Words Salesforce reserves: they are never names or aliases. From "Alias Notation" in the
/// SOQL and SOSL Reference (sforce_api_calls_soql_alias.htm), which lists the keywords that
/// cannot be aliases.
const RESERVED: [&str; 21] = [
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "USING", "WHERE", "WITH",
];

pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// The clauses after FROM, in the order SOQL requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Clause {
    UsingScope,
    Where,
    With,
    GroupBy,
    Having,
    OrderBy,
    Limit,
    Offset,
    For,
    Update,
}

struct Parser<'a, 'o> {
    src: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// End of the last consumed token: the end of whatever was just parsed.
    last_end: usize,
    depth: usize,
    options: &'o ParseOptions,
}

impl<'a> Parser<'a, '_> {
    // ---- token plumbing -------------------------------------------------------------------

    fn peek(&mut self) -> Result<Token, SoqlError> {
        match self.peeked {
            Some(token) => Ok(token),
            None => {
                let token = self.lexer.next_token()?;
                self.peeked = Some(token);
                Ok(token)
            }
        }
    }

    /// The token after the next one.
    fn peek2(&mut self) -> Result<Token, SoqlError> {
        self.peek()?;
        let mut ahead = self.lexer;
        ahead.next_token()
    }

    fn bump(&mut self) -> Result<Token, SoqlError> {
        let token = self.peek()?;
        self.peeked = None;
        self.last_end = token.span.end;
        Ok(token)
    }

    /// Continue after text the parser scanned itself (currency, date-literal `:n`, binds).
    fn seek(&mut self, pos: usize) {
        self.peeked = None;
        self.lexer.seek(pos);
        self.last_end = pos;
    }

    fn text(&self, token: Token) -> &'a str {
        &self.src[token.span.start..token.span.end]
    }

    fn is_word(&self, token: Token, keyword: &str) -> bool {
        token.kind == TokenKind::Word && self.text(token).eq_ignore_ascii_case(keyword)
    }

    fn peek_is(&mut self, keyword: &str) -> Result<bool, SoqlError> {
        let token = self.peek()?;
        Ok(self.is_word(token, keyword))
    }

    fn eat(&mut self, keyword: &str) -> Result<bool, SoqlError> {
        if self.peek_is(keyword)? {
            self.bump()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect_word(&mut self, keyword: &str) -> Result<Token, SoqlError> {
        let token = self.peek()?;
        if self.is_word(token, keyword) {
            self.bump()
        } else {
            Err(self.unexpected(token))
        }
    }

    fn expect(&mut self, kind: TokenKind) -> Result<Token, SoqlError> {
        let token = self.peek()?;
        if token.kind == kind {
            self.bump()
        } else {
            Err(self.unexpected(token))
        }
    }

    fn eat_kind(&mut self, kind: TokenKind) -> Result<bool, SoqlError> {
        if self.peek()?.kind == kind {
            self.bump()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Salesforce's wording for a token that cannot stand where it is.
    fn unexpected(&self, token: Token) -> SoqlError {
        let shown = if token.kind == TokenKind::Eof {
            "<EOF>"
        } else {
            self.text(token)
        };
        SoqlError::new(
            ErrorCode::MalformedQuery,
            format!("unexpected token: '{shown}'"),
            token.span,
        )
    }

    fn error(&self, message: impl Into<String>, span: Span) -> SoqlError {
        SoqlError::new(ErrorCode::MalformedQuery, message, span)
    }

    /// A name: any word Salesforce does not reserve.
    fn name(&mut self) -> Result<Ident, SoqlError> {
        let token = self.peek()?;
        if token.kind == TokenKind::Word && !is_reserved(self.text(token)) {
            self.bump()?;
            Ok(Ident::new(self.text(token), token.span))
        } else {
            Err(self.unexpected(token))
        }
    }

    /// An sObject name. `Group` is a reserved word and also a standard object, so it is
    /// accepted here (FROM checks for `GROUP BY` itself).
    fn object_name(&mut self) -> Result<Ident, SoqlError> {
        let token = self.peek()?;
        if self.is_word(token, "GROUP") {
            self.bump()?;
            return Ok(Ident::new(self.text(token), token.span));
        }
        self.name()
    }

    fn optional_alias(&mut self) -> Result<Option<Ident>, SoqlError> {
        let token = self.peek()?;
        if token.kind == TokenKind::Word && !is_reserved(self.text(token)) {
            self.bump()?;
            Ok(Some(Ident::new(self.text(token), token.span)))
        } else {
            Ok(None)
        }
    }

    /// Run `f` one nesting level deeper, refusing to go past [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        at: Span,
        f: impl FnOnce(&mut Self) -> Result<T, SoqlError>,
    ) -> Result<T, SoqlError> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(
                format!(
                    "the query nests parentheses, NOTs, functions or subqueries more than \
                     {MAX_NESTING} levels deep; simplify it"
                ),
                at,
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ---- the statement --------------------------------------------------------------------

    fn query(&mut self) -> Result<Query, SoqlError> {
        let start = self.expect_word("SELECT")?.span.start;
        let mut select = vec![self.select_item()?];
        while self.eat_kind(TokenKind::Comma)? {
            select.push(self.select_item()?);
        }
        self.expect_word("FROM")?;
        let from = self.parse_from()?;
        let mut query = Query {
            select,
            from,
            using_scope: None,
            where_clause: None,
            with: Vec::new(),
            group_by: None,
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            for_clause: None,
            update_clause: None,
            span: Span::default(),
        };
        let mut last: Option<Clause> = None;
        while let Some(clause) = self.clause_ahead()? {
            let in_order = match last {
                None => clause != Clause::Having,
                Some(previous) => {
                    (clause > previous && (clause != Clause::Having || previous == Clause::GroupBy))
                        || (clause == Clause::With && previous == Clause::With)
                }
            };
            if !in_order {
                let token = self.peek()?;
                return Err(self.unexpected(token));
            }
            last = Some(clause);
            if !self.options.ignore_parse_errors {
                self.clause(clause, &mut query)?;
                continue;
            }
            // Lenient: a clause that fails, or is followed by junk, is dropped whole.
            let clause_start = self.peek()?.span;
            let before = query.clone();
            let parsed = self.clause(clause, &mut query).and_then(|()| {
                let next = self.peek()?;
                let ends_well = matches!(next.kind, TokenKind::Eof | TokenKind::RParen)
                    || self.clause_ahead()?.is_some();
                Ok(ends_well)
            });
            if !matches!(parsed, Ok(true)) {
                query = before;
                self.skip_to_next_clause(clause_start.end, clause)?;
            }
        }
        query.span = Span::new(start, self.last_end);
        Ok(query)
    }

    /// Which clause the next token starts, if any.
    fn clause_ahead(&mut self) -> Result<Option<Clause>, SoqlError> {
        const CLAUSES: [(&str, Clause); 10] = [
            ("USING", Clause::UsingScope),
            ("WHERE", Clause::Where),
            ("WITH", Clause::With),
            ("GROUP", Clause::GroupBy),
            ("HAVING", Clause::Having),
            ("ORDER", Clause::OrderBy),
            ("LIMIT", Clause::Limit),
            ("OFFSET", Clause::Offset),
            ("FOR", Clause::For),
            ("UPDATE", Clause::Update),
        ];
        let token = self.peek()?;
        if token.kind != TokenKind::Word {
            return Ok(None);
        }
        let word = self.text(token);
        Ok(CLAUSES
            .iter()
            .find(|(keyword, _)| keyword.eq_ignore_ascii_case(word))
            .map(|(_, clause)| *clause))
    }

    /// For `ignore_parse_errors`: skip the broken clause's tokens up to the next clause that
    /// may follow it, the `)` closing this subquery, or the end.
    fn skip_to_next_clause(&mut self, from: usize, broken: Clause) -> Result<(), SoqlError> {
        self.seek(from);
        let mut depth = 0usize;
        loop {
            let token = match self.peek() {
                Ok(token) => token,
                Err(error) => {
                    // Unlexable text inside a clause being dropped: step over it.
                    self.seek(error.span.end.max(self.lexer.position() + 1));
                    continue;
                }
            };
            match token.kind {
                TokenKind::Eof => return Ok(()),
                TokenKind::LParen => depth += 1,
                TokenKind::RParen if depth == 0 => return Ok(()),
                TokenKind::RParen => depth -= 1,
                TokenKind::Word if depth == 0 => {
                    if let Some(next) = self.clause_ahead()?
                        && next > broken
                    {
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.bump()?;
        }
    }

    fn clause(&mut self, clause: Clause, query: &mut Query) -> Result<(), SoqlError> {
        match clause {
            Clause::UsingScope => {
                self.bump()?;
                self.expect_word("SCOPE")?;
                query.using_scope = Some(self.name()?);
            }
            Clause::Where => {
                self.bump()?;
                query.where_clause = Some(self.condition()?);
            }
            Clause::With => {
                self.bump()?;
                query.with.push(self.with_clause()?);
            }
            Clause::GroupBy => {
                self.bump()?;
                self.expect_word("BY")?;
                query.group_by = Some(self.group_by()?);
            }
            Clause::Having => {
                self.bump()?;
                query.having = Some(self.condition()?);
            }
            Clause::OrderBy => {
                self.bump()?;
                self.expect_word("BY")?;
                query.order_by.push(self.order_item()?);
                while self.eat_kind(TokenKind::Comma)? {
                    query.order_by.push(self.order_item()?);
                }
            }
            Clause::Limit => {
                self.bump()?;
                query.limit = Some(self.unsigned()?);
            }
            Clause::Offset => {
                self.bump()?;
                query.offset = Some(self.unsigned()?);
            }
            Clause::For => {
                self.bump()?;
                let token = self.bump()?;
                query.for_clause = Some(if self.is_word(token, "VIEW") {
                    ForClause::View
                } else if self.is_word(token, "REFERENCE") {
                    ForClause::Reference
                } else if self.is_word(token, "UPDATE") {
                    ForClause::Update
                } else {
                    return Err(self.unexpected(token));
                });
            }
            Clause::Update => {
                self.bump()?;
                let token = self.bump()?;
                query.update_clause = Some(if self.is_word(token, "TRACKING") {
                    UpdateClause::Tracking
                } else if self.is_word(token, "VIEWSTAT") {
                    UpdateClause::Viewstat
                } else {
                    return Err(self.unexpected(token));
                });
            }
        }
        Ok(())
    }

    fn unsigned(&mut self) -> Result<u64, SoqlError> {
        let token = self.peek()?;
        if token.kind == TokenKind::Number
            && let Ok(n) = self.text(token).parse::<u64>()
        {
            self.bump()?;
            return Ok(n);
        }
        Err(self.unexpected(token))
    }

    // ---- SELECT list ----------------------------------------------------------------------

    fn select_item(&mut self) -> Result<SelectItem, SoqlError> {
        let token = self.peek()?;
        if token.kind == TokenKind::LParen {
            self.bump()?;
            let query = self.nested(token.span, |p| p.query())?;
            self.expect(TokenKind::RParen)?;
            return Ok(SelectItem::Subquery(Box::new(query)));
        }
        if self.is_word(token, "TYPEOF") {
            let next = self.peek2()?;
            if next.kind == TokenKind::Word && !is_reserved(self.text(next)) {
                return Ok(SelectItem::TypeOf(self.type_of()?));
            }
        }
        if self.is_word(token, "FIELDS") && self.peek2()?.kind == TokenKind::LParen {
            self.bump()?;
            self.bump()?;
            let group_token = self.bump()?;
            let group = if self.is_word(group_token, "ALL") {
                FieldsGroup::All
            } else if self.is_word(group_token, "STANDARD") {
                FieldsGroup::Standard
            } else if self.is_word(group_token, "CUSTOM") {
                FieldsGroup::Custom
            } else {
                return Err(self.unexpected(group_token));
            };
            let close = self.expect(TokenKind::RParen)?;
            return Ok(SelectItem::Fields {
                group,
                span: token.span.to(close.span),
            });
        }
        let expr = self.expr(false)?;
        let alias = self.optional_alias()?;
        Ok(SelectItem::Expr { expr, alias })
    }

    fn type_of(&mut self) -> Result<TypeOf, SoqlError> {
        let start = self.bump()?.span;
        let relationship = self.name()?;
        let mut whens = Vec::new();
        while self.eat("WHEN")? {
            let object = self.object_name()?;
            self.expect_word("THEN")?;
            let fields = self.field_list()?;
            whens.push(TypeOfWhen { object, fields });
        }
        if whens.is_empty() {
            let token = self.peek()?;
            return Err(self.unexpected(token));
        }
        let else_fields = if self.eat("ELSE")? {
            Some(self.field_list()?)
        } else {
            None
        };
        let end = self.expect_word("END")?.span;
        Ok(TypeOf {
            relationship,
            whens,
            else_fields,
            span: start.to(end),
        })
    }

    fn field_list(&mut self) -> Result<Vec<FieldPath>, SoqlError> {
        let mut fields = vec![self.field_path()?];
        while self.eat_kind(TokenKind::Comma)? {
            fields.push(self.field_path()?);
        }
        Ok(fields)
    }

    fn field_path(&mut self) -> Result<FieldPath, SoqlError> {
        let mut segments = vec![self.name()?];
        while self.eat_kind(TokenKind::Dot)? {
            segments.push(self.name()?);
        }
        Ok(FieldPath { segments })
    }

    // ---- FROM -----------------------------------------------------------------------------

    fn parse_from(&mut self) -> Result<FromClause, SoqlError> {
        // `Group` is a reserved word and also a standard object: accept it as an object name
        // unless it begins `GROUP BY`.
        let token = self.peek()?;
        let group_object = self.is_word(token, "GROUP") && {
            let next = self.peek2()?;
            !self.is_word(next, "BY")
        };
        let object = if group_object {
            let mut segments = vec![self.object_name()?];
            while self.eat_kind(TokenKind::Dot)? {
                segments.push(self.name()?);
            }
            FieldPath { segments }
        } else {
            self.field_path()?
        };
        let token = self.peek()?;
        let starts_clause = match self.clause_ahead()? {
            // soql-parser-js (is-valid case 39) reads `FROM Account OFFSET` as an alias: OFFSET
            // is not reserved, so it only starts a clause when a number follows.
            Some(Clause::Offset) => self.peek2()?.kind == TokenKind::Number,
            Some(_) => true,
            None => false,
        };
        let alias = if starts_clause || token.kind != TokenKind::Word {
            None
        } else {
            self.optional_alias()?
        };
        Ok(FromClause { object, alias })
    }

    // ---- expressions ----------------------------------------------------------------------

    /// A field path or a function call. `GEOLOCATION(..)` only stands as DISTANCE's second
    /// argument (`in_distance`).
    fn expr(&mut self, in_distance: bool) -> Result<Expr, SoqlError> {
        let token = self.peek()?;
        if token.kind != TokenKind::Word || is_reserved(self.text(token)) {
            return Err(self.unexpected(token));
        }
        if self.peek2()?.kind != TokenKind::LParen {
            return Ok(Expr::Field(self.field_path()?));
        }
        let name = self.text(token);
        let Some(function) = Function::from_name(name) else {
            return Err(self.error(
                format!("unknown function '{name}': SOQL has no function of that name"),
                token.span,
            ));
        };
        if function == Function::Geolocation && !in_distance {
            return Err(self.error(
                "GEOLOCATION(latitude, longitude) can only be the second argument of \
                 DISTANCE(field, GEOLOCATION(..), 'mi' or 'km')",
                token.span,
            ));
        }
        self.bump()?;
        let open = self.bump()?;
        let args = self.nested(open.span, |p| p.call_args(function))?;
        let close = self.expect(TokenKind::RParen)?;
        let call = Call {
            function,
            args,
            span: token.span.to(close.span),
        };
        self.check_call(&call)?;
        Ok(Expr::Call(call))
    }

    fn call_args(&mut self, function: Function) -> Result<Vec<Expr>, SoqlError> {
        let mut args = Vec::new();
        if self.peek()?.kind == TokenKind::RParen {
            return Ok(args);
        }
        loop {
            let in_distance = function == Function::Distance && args.len() == 1;
            let token = self.peek()?;
            let arg = match token.kind {
                TokenKind::Number => {
                    self.bump()?;
                    Expr::Literal(self.number(token)?, token.span)
                }
                TokenKind::String => {
                    self.bump()?;
                    Expr::Literal(Literal::String(self.string(token, false)?), token.span)
                }
                _ => self.expr(in_distance)?,
            };
            args.push(arg);
            if !self.eat_kind(TokenKind::Comma)? {
                return Ok(args);
            }
        }
    }

    /// The argument shapes SOQL accepts for each function.
    fn check_call(&self, call: &Call) -> Result<(), SoqlError> {
        let bad = |message: &str| Err(self.error(message.to_string(), call.span));
        let is_literal = |e: &Expr| matches!(e, Expr::Literal(..));
        match call.function {
            Function::Distance => {
                let unit_ok = |e: &Expr| {
                    matches!(e, Expr::Literal(Literal::String(s), _)
                        if s.eq_ignore_ascii_case("mi") || s.eq_ignore_ascii_case("km"))
                };
                let location_ok = |e: &Expr| {
                    matches!(e, Expr::Field(_))
                        || matches!(e, Expr::Call(c) if c.function == Function::Geolocation)
                };
                match call.args.as_slice() {
                    [Expr::Field(_), second, unit] if location_ok(second) && unit_ok(unit) => {
                        Ok(())
                    }
                    _ => bad(
                        "DISTANCE takes a location field, then GEOLOCATION(latitude, longitude) \
                         or another location field, then the unit 'mi' or 'km'",
                    ),
                }
            }
            Function::Geolocation => match call.args.as_slice() {
                [
                    Expr::Literal(Literal::Integer(_) | Literal::Decimal(_), _),
                    Expr::Literal(Literal::Integer(_) | Literal::Decimal(_), _),
                ] => Ok(()),
                _ => bad("GEOLOCATION takes two numbers: GEOLOCATION(latitude, longitude)"),
            },
            Function::Count if call.args.iter().all(|a| !is_literal(a)) => Ok(()),
            Function::Grouping if !call.args.is_empty() && !call.args.iter().any(is_literal) => {
                Ok(())
            }
            Function::Count | Function::Grouping => bad(&format!(
                "{}() takes field names as arguments",
                call.function.name()
            )),
            other => match call.args.as_slice() {
                [arg] if !is_literal(arg) => Ok(()),
                _ => bad(&format!(
                    "{}() takes exactly one field or function as its argument",
                    other.name()
                )),
            },
        }
    }

    // ---- conditions -----------------------------------------------------------------------

    /// A WHERE or HAVING condition. SOQL gives AND and OR no precedence: "Parentheses are
    /// required whenever you mix the operators" (SOQL and SOSL Reference, Logical Operators,
    /// https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-logicaloperators.html).
    /// So a chain is all ANDs or all ORs, and the first operator of the other kind is an
    /// unexpected token, as Salesforce reports it.
    fn condition(&mut self) -> Result<Condition, SoqlError> {
        let first = self.unary()?;
        let token = self.peek()?;
        let (joiner, other) = if self.is_word(token, "AND") {
            ("AND", "OR")
        } else if self.is_word(token, "OR") {
            ("OR", "AND")
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat(joiner)? {
            parts.push(self.unary()?);
        }
        let token = self.peek()?;
        if self.is_word(token, other) {
            return Err(self.error(
                format!(
                    "unexpected token: '{}' (SOQL needs parentheses to mix AND and OR, \
                     e.g. a AND (b OR c))",
                    self.text(token)
                ),
                token.span,
            ));
        }
        Ok(if joiner == "AND" {
            Condition::And(parts)
        } else {
            Condition::Or(parts)
        })
    }

    fn unary(&mut self) -> Result<Condition, SoqlError> {
        let token = self.peek()?;
        if self.is_word(token, "NOT") {
            self.bump()?;
            let inner = self.nested(token.span, |p| p.unary())?;
            return Ok(Condition::Not(Box::new(inner)));
        }
        if token.kind == TokenKind::LParen {
            self.bump()?;
            let inner = self.nested(token.span, |p| p.condition())?;
            self.expect(TokenKind::RParen)?;
            return Ok(inner);
        }
        self.simple_condition()
    }

    fn simple_condition(&mut self) -> Result<Condition, SoqlError> {
        let left = self.expr(false)?;
        let token = self.peek()?;
        let op = match token.kind {
            TokenKind::Eq => Some(CompareOp::Eq),
            TokenKind::Ne => Some(CompareOp::Ne),
            TokenKind::Lt => Some(CompareOp::Lt),
            TokenKind::Le => Some(CompareOp::Le),
            TokenKind::Gt => Some(CompareOp::Gt),
            TokenKind::Ge => Some(CompareOp::Ge),
            _ if self.is_word(token, "LIKE") => Some(CompareOp::Like),
            _ => None,
        };
        if let Some(op) = op {
            self.bump()?;
            let value = self.value(op == CompareOp::Like)?;
            return Ok(Condition::Compare { left, op, value });
        }
        if self.is_word(token, "IN") {
            self.bump()?;
            let values = self.in_values()?;
            return Ok(Condition::In {
                left,
                negated: false,
                values,
            });
        }
        if self.is_word(token, "NOT") {
            self.bump()?;
            self.expect_word("IN")?;
            let values = self.in_values()?;
            return Ok(Condition::In {
                left,
                negated: true,
                values,
            });
        }
        let excludes = self.is_word(token, "EXCLUDES");
        if excludes || self.is_word(token, "INCLUDES") {
            self.bump()?;
            self.expect(TokenKind::LParen)?;
            let values = self.value_list()?;
            // "Bind expressions can't be used with other clauses, such as INCLUDES" (Apex
            // Developer Guide, Using Apex Variables in SOQL and SOSL Queries).
            if let Some(Value::Bind(bind)) = values.iter().find(|v| matches!(v, Value::Bind(_))) {
                return Err(self.error(
                    format!(
                        "Apex bind ':{}' cannot be used with INCLUDES or EXCLUDES; list the \
                         values as strings",
                        bind.text
                    ),
                    bind.span,
                ));
            }
            return Ok(Condition::Includes {
                left,
                excludes,
                values,
            });
        }
        Err(self.unexpected(token))
    }

    fn in_values(&mut self) -> Result<InValues, SoqlError> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Colon => Ok(InValues::Bind(self.bind()?)),
            TokenKind::LParen => {
                self.bump()?;
                if self.peek_is("SELECT")? {
                    let query = self.nested(token.span, |p| p.query())?;
                    self.expect(TokenKind::RParen)?;
                    Ok(InValues::Subquery(Box::new(query)))
                } else {
                    Ok(InValues::List(self.value_list()?))
                }
            }
            _ => Err(self.unexpected(token)),
        }
    }

    /// `v, v, ...)` after an opening parenthesis, closing parenthesis included.
    fn value_list(&mut self) -> Result<Vec<Value>, SoqlError> {
        let mut values = vec![self.value(false)?];
        while self.eat_kind(TokenKind::Comma)? {
            values.push(self.value(false)?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(values)
    }

    // ---- values and literals --------------------------------------------------------------

    fn value(&mut self, like: bool) -> Result<Value, SoqlError> {
        let token = self.peek()?;
        let literal = match token.kind {
            TokenKind::Colon => return Ok(Value::Bind(self.bind()?)),
            TokenKind::String => Literal::String(self.string(token, like)?),
            TokenKind::Number => self.number(token)?,
            TokenKind::Date => self.date(token)?,
            TokenKind::DateTime => self.datetime(token)?,
            TokenKind::Word => {
                let word = self.text(token);
                if word.eq_ignore_ascii_case("NULL") {
                    Literal::Null
                } else if word.eq_ignore_ascii_case("TRUE") {
                    Literal::Boolean(true)
                } else if word.eq_ignore_ascii_case("FALSE") {
                    Literal::Boolean(false)
                } else if let Some(kind) = DateLiteralKind::from_keyword(word) {
                    return self.date_literal(token, kind);
                } else if let Some((literal, end)) = self.currency(token) {
                    self.seek(end);
                    return Ok(Value::Literal(literal, Span::new(token.span.start, end)));
                } else if is_reserved(word) {
                    return Err(self.unexpected(token));
                } else {
                    // Salesforce reads a name on the value side as a bind and says so; what
                    // was meant is nearly always a field-to-field comparison.
                    let path_end = self.field_path()?.span().end;
                    let span = Span::new(token.span.start, path_end);
                    return Err(self.error(
                        format!(
                            "{BINDS_APEX_ONLY}: '{}' is a name, and SOQL compares a field only                              with a literal value, never with another field. Write a literal                              ('text', 42, TRUE, 2024-01-31, LAST_N_DAYS:30), or compare the                              fields in a formula field and filter on that",
                            &self.src[span.start..span.end]
                        ),
                        span,
                    ));
                }
            }
            _ => return Err(self.unexpected(token)),
        };
        self.bump()?;
        Ok(Value::Literal(literal, token.span))
    }

    fn number(&self, token: Token) -> Result<Literal, SoqlError> {
        let text = self.text(token);
        if text.contains('.') {
            match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Literal::Decimal(n)),
                _ => Err(self.error(format!("number out of range: {text}"), token.span)),
            }
        } else {
            text.parse::<i64>().map(Literal::Integer).map_err(|_| {
                self.error(
                    format!("number out of range: {text} (integers must fit in 64 bits)"),
                    token.span,
                )
            })
        }
    }

    fn date(&self, token: Token) -> Result<Literal, SoqlError> {
        let text = self.text(token);
        parse_ymd(text)
            .map(Literal::Date)
            .ok_or_else(|| self.error(format!("invalid date: '{text}'"), token.span))
    }

    fn datetime(&self, token: Token) -> Result<Literal, SoqlError> {
        let text = self.text(token);
        parse_datetime(text).map(Literal::DateTime).ok_or_else(|| {
            self.error(
                format!("invalid datetime: '{text}' is not a real date and time"),
                token.span,
            )
        })
    }

    /// `TODAY`, or `LAST_N_DAYS:30` with the `:n` written right after the keyword.
    fn date_literal(&mut self, token: Token, kind: DateLiteralKind) -> Result<Value, SoqlError> {
        let bytes = self.src.as_bytes();
        let end = token.span.end;
        let keyword = kind.keyword();
        if !kind.takes_n() {
            if bytes.get(end) == Some(&b':') {
                return Err(self.error(
                    format!("{keyword} takes no ':n'; remove it (only the _N_ date literals do)"),
                    Span::new(token.span.start, end + 1),
                ));
            }
            self.bump()?;
            return Ok(Value::Literal(
                Literal::DateLiteral(DateLiteral { kind, n: None }),
                token.span,
            ));
        }
        let has_colon = bytes.get(end) == Some(&b':');
        let digits = if has_colon {
            bytes[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        } else {
            0
        };
        let number_end = if has_colon { end + 1 + digits } else { end };
        let n = if digits == 0 {
            None
        } else {
            self.src[end + 1..number_end].parse::<u32>().ok()
        };
        let followed_by_word = bytes
            .get(number_end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.');
        match n {
            Some(n) if !followed_by_word => {
                self.seek(number_end);
                Ok(Value::Literal(
                    Literal::DateLiteral(DateLiteral { kind, n: Some(n) }),
                    Span::new(token.span.start, number_end),
                ))
            }
            _ => Err(self.error(
                format!("{keyword} needs a whole number right after a colon, e.g. {keyword}:30"),
                Span::new(token.span.start, number_end),
            )),
        }
    }

    /// A currency literal starting at `token`: an ISO code glued to an amount, `USD5000`,
    /// `usd500.01`, `USD-500`. Returns the literal and where it ends.
    fn currency(&self, token: Token) -> Option<(Literal, usize)> {
        let bytes = self.src.as_bytes();
        let start = token.span.start;
        let code = self.src.get(start..start + 3)?;
        if !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let mut i = start + 3;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |from: usize| {
            bytes
                .get(from..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let whole = digits(i);
        if whole == 0 {
            return None;
        }
        i += whole;
        if bytes.get(i) == Some(&b'.') && digits(i + 1) > 0 {
            i += 1 + digits(i + 1);
        }
        if bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        {
            return None;
        }
        let amount = self.src[start + 3..i].parse::<f64>().ok()?;
        Some((
            Literal::Currency {
                code: code.to_string(),
                amount,
            },
            i,
        ))
    }

    /// An Apex bind: the colon and the Apex expression after it, which may be as involved as
    /// `:new Map<Id, SObject>(someVar).keySet()`. It ends at the first `)` or `,` outside
    /// brackets, or at whitespace that is not followed by a continuation (`.`, `(`, `[`, `<`,
    /// or the type after `new`).
    fn bind(&mut self) -> Result<ApexBind, SoqlError> {
        let colon = self.peek()?;
        let start = colon.span.end;
        let end = scan_apex_expression(self.src, start);
        let span = Span::new(colon.span.start, end);
        let text = &self.src[start..end];
        if text.is_empty() {
            return Err(self.error(
                "a bind variable needs a name after ':'; over the REST API write a literal \
                 value instead",
                colon.span,
            ));
        }
        if !self.options.allow_apex_binds {
            return Err(self.error(
                format!(
                    "{BINDS_APEX_ONLY}: ':{text}' is an Apex bind variable, and a query sent \
                     over the REST API cannot use one. Put the value itself in the query as a \
                     literal, e.g. Id = '001...' or Id IN ('001...', '001...')"
                ),
                span,
            ));
        }
        self.seek(end);
        Ok(ApexBind {
            text: text.to_string(),
            span,
        })
    }

    /// A quoted string with SOQL's escapes resolved (see [`Literal::String`]).
    fn string(&self, token: Token, like: bool) -> Result<String, SoqlError> {
        let inner_start = token.span.start + 1;
        let raw = &self.src[inner_start..token.span.end - 1];
        if !raw.contains('\\') {
            return Ok(raw.to_string());
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let escape_span = |len: usize| Span::new(inner_start + i, inner_start + i + len);
            let Some((_, e)) = chars.next() else {
                return Err(self.error("a string ends with a lone backslash", escape_span(1)));
            };
            match e {
                'n' | 'N' => out.push('\n'),
                'r' | 'R' => out.push('\r'),
                't' | 'T' => out.push('\t'),
                'b' | 'B' => out.push('\u{8}'),
                'f' | 'F' => out.push('\u{c}'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                // In a LIKE pattern the backslash stays, so `\\%` (a backslash, then the
                // wildcard) and `\%` (a literal percent sign) remain distinguishable.
                '\\' if like => out.push_str("\\\\"),
                '\\' => out.push('\\'),
                '%' | '_' if like => {
                    out.push('\\');
                    out.push(e);
                }
                'u' => {
                    let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                    let decoded = (hex.len() == 4)
                        .then(|| u32::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .and_then(char::from_u32);
                    match decoded {
                        Some(ch) => out.push(ch),
                        None => {
                            return Err(self.error(
                                format!(
                                    "invalid unicode escape '\\u{hex}': write \\u and four hex \
                                     digits naming a character"
                                ),
                                escape_span(2 + hex.len()),
                            ));
                        }
                    }
                }
                other => {
                    let hint = if matches!(other, '%' | '_') {
                        "\\% and \\_ are only valid in a LIKE pattern"
                    } else {
                        "write \\\\ for a backslash"
                    };
                    return Err(self.error(
                        format!(
                            "illegal character sequence '\\{other}' in string literal ({hint})"
                        ),
                        escape_span(1 + other.len_utf8()),
                    ));
                }
            }
        }
        Ok(out)
    }

    // ---- WITH, GROUP BY, ORDER BY ---------------------------------------------------------

    fn with_clause(&mut self) -> Result<WithClause, SoqlError> {
        let token = self.bump()?;
        if self.is_word(token, "SECURITY_ENFORCED") {
            return Ok(WithClause::SecurityEnforced);
        }
        if self.is_word(token, "USER_MODE") {
            return Ok(WithClause::UserMode);
        }
        if self.is_word(token, "SYSTEM_MODE") {
            return Ok(WithClause::SystemMode);
        }
        if !self.is_word(token, "DATA") {
            return Err(self.unexpected(token));
        }
        self.expect_word("CATEGORY")?;
        let mut filters = vec![self.data_category_filter()?];
        while self.eat("AND")? {
            filters.push(self.data_category_filter()?);
        }
        Ok(WithClause::DataCategory(filters))
    }

    fn data_category_filter(&mut self) -> Result<DataCategoryFilter, SoqlError> {
        let group = self.name()?;
        let token = self.bump()?;
        let selector = if self.is_word(token, "AT") {
            DataCategorySelector::At
        } else if self.is_word(token, "ABOVE") {
            DataCategorySelector::Above
        } else if self.is_word(token, "BELOW") {
            DataCategorySelector::Below
        } else if self.is_word(token, "ABOVE_OR_BELOW") {
            DataCategorySelector::AboveOrBelow
        } else {
            return Err(self.unexpected(token));
        };
        let categories = if self.eat_kind(TokenKind::LParen)? {
            let mut categories = vec![self.name()?];
            while self.eat_kind(TokenKind::Comma)? {
                categories.push(self.name()?);
            }
            self.expect(TokenKind::RParen)?;
            categories
        } else {
            vec![self.name()?]
        };
        Ok(DataCategoryFilter {
            group,
            selector,
            categories,
        })
    }

    fn group_by(&mut self) -> Result<GroupBy, SoqlError> {
        let token = self.peek()?;
        let rollup = self.is_word(token, "ROLLUP");
        if (rollup || self.is_word(token, "CUBE")) && self.peek2()?.kind == TokenKind::LParen {
            self.bump()?;
            self.bump()?;
            let exprs = self.nested(token.span, |p| p.expr_list())?;
            self.expect(TokenKind::RParen)?;
            return Ok(if rollup {
                GroupBy::Rollup(exprs)
            } else {
                GroupBy::Cube(exprs)
            });
        }
        Ok(GroupBy::Plain(self.expr_list()?))
    }

    fn expr_list(&mut self) -> Result<Vec<Expr>, SoqlError> {
        let mut exprs = vec![self.expr(false)?];
        while self.eat_kind(TokenKind::Comma)? {
            exprs.push(self.expr(false)?);
        }
        Ok(exprs)
    }

    fn order_item(&mut self) -> Result<OrderItem, SoqlError> {
        let expr = self.expr(false)?;
        let direction = if self.eat("ASC")? {
            Some(SortDirection::Asc)
        } else if self.eat("DESC")? {
            Some(SortDirection::Desc)
        } else {
            None
        };
        let nulls = if self.eat("NULLS")? {
            let token = self.bump()?;
            if self.is_word(token, "FIRST") {
                Some(NullsOrder::First)
            } else if self.is_word(token, "LAST") {
                Some(NullsOrder::Last)
            } else {
                return Err(self.unexpected(token));
            }
        } else {
            None
        };
        Ok(OrderItem {
            expr,
            direction,
            nulls,
        })
    }
}

/// Where the Apex expression starting at `start` ends (see [`Parser::bind`]).
fn scan_apex_expression(src: &str, start: usize) -> usize {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'(' | b'[' | b'<' | b'{' => depth += 1,
            b')' | b']' | b'>' | b'}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            b',' if depth == 0 => break,
            b'\'' => {
                // Step over an Apex string, escapes included.
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
            }
            _ if b.is_ascii_whitespace() && depth == 0 => {
                let mut next = i;
                while bytes.get(next).is_some_and(|c| c.is_ascii_whitespace()) {
                    next += 1;
                }
                let continues = matches!(bytes.get(next), Some(b'.' | b'(' | b'[' | b'<'));
                let after_new = src[start..i]
                    .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .is_some_and(|word| word.eq_ignore_ascii_case("new"));
                if !(continues || after_new) || next >= bytes.len() {
                    break;
                }
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // A string cut short by the end of the text may leave `i` past the end.
    let mut end = i.min(bytes.len());
    while end > start && !src.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn parse_ymd(text: &str) -> Option<NaiveDate> {
    let year = text.get(0..4)?.parse().ok()?;
    let month = text.get(5..7)?.parse().ok()?;
    let day = text.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm|±hhmm)`, already shaped by the lexer. Digits
/// past nanoseconds are dropped.
fn parse_datetime(text: &str) -> Option<chrono::DateTime<FixedOffset>> {
    let date = parse_ymd(text)?;
    let hour = text.get(11..13)?.parse().ok()?;
    let minute = text.get(14..16)?.parse().ok()?;
    let second = text.get(17..19)?.parse().ok()?;
    let mut rest = text.get(19..)?;
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(|b| b.is_ascii_digit()).count();
        let kept = &fraction[..digits.min(9)];
        nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest.as_bytes().first()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let digits: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let hours: i32 = digits.get(0..2)?.parse().ok()?;
            let minutes: i32 = digits.get(2..4)?.parse().ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_seconds)?;
    date.and_time(time).and_local_timezone(offset).single()
}
