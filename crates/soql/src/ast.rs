//! The typed SOQL syntax tree.
//!
//! One tree serves the parser, the printer, validation against describe metadata and the
//! evaluator. It records what the query says, not how it was spelled: keyword case, spacing
//! and redundant parentheses are gone, so printing a tree and parsing the text again gives an
//! equal tree. Names keep the user's spelling (Salesforce matches them case-insensitively).

use chrono::{DateTime, FixedOffset, NaiveDate};

/// A byte range in the query text. Spans locate errors; they never take part in equality,
/// so two trees are equal when they say the same thing, wherever their text came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A name as written: an object, field, relationship, alias or scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Self {
            name: name.into(),
            span,
        }
    }

    /// Salesforce compares names without regard to case.
    pub fn is(&self, other: &str) -> bool {
        self.name.eq_ignore_ascii_case(other)
    }
}

/// A dotted path such as `Account.Owner.Manager.Name`: relationship names then a field.
/// The first segment may also be the FROM alias (`c.Account.Name` in `FROM Contact c`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub segments: Vec<Ident>,
}

impl FieldPath {
    pub fn span(&self) -> Span {
        match (self.segments.first(), self.segments.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => Span::default(),
        }
    }

    /// The path as written, segments joined with dots.
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// A whole SELECT statement, or a child subquery / semi-join subquery inside one.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: FromClause,
    pub using_scope: Option<Ident>,
    pub where_clause: Option<Condition>,
    /// `WITH SECURITY_ENFORCED`, `WITH DATA CATEGORY ...`: SOQL allows more than one.
    pub with: Vec<WithClause>,
    pub group_by: Option<GroupBy>,
    pub having: Option<Condition>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub for_clause: Option<ForClause>,
    pub update_clause: Option<UpdateClause>,
    pub span: Span,
}

/// `FROM Account a`. In a child subquery the object is a relationship name (`Contacts`), and
/// may be a dotted path (`Account.Contacts`).
#[derive(Debug, Clone, PartialEq)]
pub struct FromClause {
    pub object: FieldPath,
    pub alias: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field, a function call or (in aggregate queries) an aliased expression.
    Expr {
        expr: Expr,
        alias: Option<Ident>,
    },
    /// A parent-to-child subquery: `(SELECT LastName FROM Contacts)`.
    Subquery(Box<Query>),
    TypeOf(TypeOf),
    Fields {
        group: FieldsGroup,
        span: Span,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsGroup {
    All,
    Standard,
    Custom,
}

impl FieldsGroup {
    pub fn keyword(self) -> &'static str {
        match self {
            FieldsGroup::All => "ALL",
            FieldsGroup::Standard => "STANDARD",
            FieldsGroup::Custom => "CUSTOM",
        }
    }
}

/// `TYPEOF What WHEN Account THEN Phone WHEN Opportunity THEN Amount ELSE Name END`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeOf {
    /// The polymorphic relationship (`What`, `Who`, `Owner`).
    pub relationship: Ident,
    pub whens: Vec<TypeOfWhen>,
    pub else_fields: Option<Vec<FieldPath>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeOfWhen {
    pub object: Ident,
    pub fields: Vec<FieldPath>,
}

/// A value-producing expression: in the SELECT list, GROUP BY, ORDER BY, and on the left of a
/// condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Field(FieldPath),
    Call(Call),
    /// Only inside function arguments: `GEOLOCATION(37.7, -122.4)`, `DISTANCE(.., 'mi')`.
    Literal(Literal, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Field(path) => path.span(),
            Expr::Call(call) => call.span,
            Expr::Literal(_, span) => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: Function,
    /// Empty for `COUNT()`. Usually one argument; `GROUPING(a, b)`, `COUNT(Id, Name)` and
    /// `DISTANCE(field, GEOLOCATION(..), 'mi')` take several.
    pub args: Vec<Expr>,
    pub span: Span,
}

/// Every function SOQL knows. Function names are case-insensitive; [`Function::name`] is the
/// spelling the printer uses (the one in Salesforce's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    // Aggregates.
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    // Date functions.
    CalendarMonth,
    CalendarQuarter,
    CalendarYear,
    DayInMonth,
    DayInWeek,
    DayInYear,
    DayOnly,
    FiscalMonth,
    FiscalQuarter,
    FiscalYear,
    HourInDay,
    WeekInMonth,
    WeekInYear,
    // Other functions.
    ConvertCurrency,
    ConvertTimezone,
    Format,
    Grouping,
    ToLabel,
    Distance,
    Geolocation,
}

impl Function {
    pub const ALL: [Function; 26] = [
        Function::Count,
        Function::CountDistinct,
        Function::Sum,
        Function::Avg,
        Function::Min,
        Function::Max,
        Function::CalendarMonth,
        Function::CalendarQuarter,
        Function::CalendarYear,
        Function::DayInMonth,
        Function::DayInWeek,
        Function::DayInYear,
        Function::DayOnly,
        Function::FiscalMonth,
        Function::FiscalQuarter,
        Function::FiscalYear,
        Function::HourInDay,
        Function::WeekInMonth,
        Function::WeekInYear,
        Function::ConvertCurrency,
        Function::ConvertTimezone,
        Function::Format,
        Function::Grouping,
        Function::ToLabel,
        Function::Distance,
        Function::Geolocation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Count => "COUNT",
            Function::CountDistinct => "COUNT_DISTINCT",
            Function::Sum => "SUM",
            Function::Avg => "AVG",
            Function::Min => "MIN",
            Function::Max => "MAX",
            Function::CalendarMonth => "CALENDAR_MONTH",
            Function::CalendarQuarter => "CALENDAR_QUARTER",
            Function::CalendarYear => "CALENDAR_YEAR",
            Function::DayInMonth => "DAY_IN_MONTH",
            Function::DayInWeek => "DAY_IN_WEEK",
            Function::DayInYear => "DAY_IN_YEAR",
            Function::DayOnly => "DAY_ONLY",
            Function::FiscalMonth => "FISCAL_MONTH",
            Function::FiscalQuarter => "FISCAL_QUARTER",
            Function::FiscalYear => "FISCAL_YEAR",
            Function::HourInDay => "HOUR_IN_DAY",
            Function::WeekInMonth => "WEEK_IN_MONTH",
            Function::WeekInYear => "WEEK_IN_YEAR",
            Function::ConvertCurrency => "convertCurrency",
            Function::ConvertTimezone => "convertTimezone",
            Function::Format => "FORMAT",
            Function::Grouping => "GROUPING",
            Function::ToLabel => "toLabel",
            Function::Distance => "DISTANCE",
            Function::Geolocation => "GEOLOCATION",
        }
    }

    /// Case-insensitive lookup of a function name.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    pub fn is_aggregate(self) -> bool {
        matches!(
            self,
            Function::Count
                | Function::CountDistinct
                | Function::Sum
                | Function::Avg
                | Function::Min
                | Function::Max
        )
    }

    pub fn is_date_function(self) -> bool {
        matches!(
            self,
            Function::CalendarMonth
                | Function::CalendarQuarter
                | Function::CalendarYear
                | Function::DayInMonth
                | Function::DayInWeek
                | Function::DayInYear
                | Function::DayOnly
                | Function::FiscalMonth
                | Function::FiscalQuarter
                | Function::FiscalYear
                | Function::HourInDay
                | Function::WeekInMonth
                | Function::WeekInYear
        )
    }
}

/// A WHERE or HAVING condition. SOQL gives AND and OR no precedence over each other: mixing
/// them needs parentheses, so a chain is one n-ary node and parentheses make nesting explicit.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Two or more conditions joined by AND.
    And(Vec<Condition>),
    /// Two or more conditions joined by OR.
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `left op value`: `=, !=, <, <=, >, >=, LIKE`.
    Compare {
        left: Expr,
        op: CompareOp,
        value: Value,
    },
    /// `left [NOT] IN (values)` or a semi-/anti-join `left [NOT] IN (SELECT ...)`.
    In {
        left: Expr,
        negated: bool,
        values: InValues,
    },
    /// `left INCLUDES ('a;b', 'c')` or `EXCLUDES`: multi-select picklists. Each string is a
    /// `;`-separated set that must all be present; the list is an OR of those sets.
    Includes {
        left: Expr,
        excludes: bool,
        values: Vec<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    /// Written `!=` or `<>`; printed `!=`.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Like => "LIKE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum InValues {
    List(Vec<Value>),
    Subquery(Box<Query>),
    /// `IN :ids`: an Apex bind, accepted only when the parser is asked to.
    Bind(ApexBind),
}

/// The right-hand side of a comparison: a literal, or an Apex bind where the parser allows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Literal(Literal, Span),
    Bind(ApexBind),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Literal(_, span) => *span,
            Value::Bind(bind) => bind.span,
        }
    }
}

/// Apex bind text after the colon, kept verbatim (`accountMap.keySet()`). Apex binds are not
/// valid over the REST API; the parser rejects them unless [`ParseOptions`] allow them.
///
/// [`ParseOptions`]: super::ParseOptions
#[derive(Debug, Clone, PartialEq)]
pub struct ApexBind {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Boolean(bool),
    /// The text between the quotes with SOQL's escapes resolved. In a LIKE pattern, `\%`,
    /// `\_` and `\\` stay escaped (as `\%`, `\_`, `\\`) because they differ from the
    /// wildcards: in a pattern, a backslash always escapes the character after it, so `\\%`
    /// (a backslash, then any text) and `\%` (a percent sign) stay distinct.
    String(String),
    Integer(i64),
    Decimal(f64),
    /// `USD5000`, `EUR-12.5`: ISO code (as written) and amount.
    Currency {
        code: String,
        amount: f64,
    },
    Date(NaiveDate),
    /// Always carries a zone in SOQL; sub-nanosecond digits are dropped.
    DateTime(DateTime<FixedOffset>),
    DateLiteral(DateLiteral),
}

/// A relative date literal such as `TODAY`, `LAST_N_DAYS:30` or `THIS_FISCAL_QUARTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateLiteral {
    pub kind: DateLiteralKind,
    /// The `:n` of the parameterised forms; `None` for the others.
    pub n: Option<u32>,
}

/// Every date literal. The fixed ones stand alone; the `N` ones take `:n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateLiteralKind {
    Yesterday,
    Today,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    Last90Days,
    Next90Days,
    ThisQuarter,
    LastQuarter,
    NextQuarter,
    ThisYear,
    LastYear,
    NextYear,
    ThisFiscalQuarter,
    LastFiscalQuarter,
    NextFiscalQuarter,
    ThisFiscalYear,
    LastFiscalYear,
    NextFiscalYear,
    LastNDays,
    NextNDays,
    NDaysAgo,
    LastNWeeks,
    NextNWeeks,
    NWeeksAgo,
    LastNMonths,
    NextNMonths,
    NMonthsAgo,
    LastNQuarters,
    NextNQuarters,
    NQuartersAgo,
    LastNYears,
    NextNYears,
    NYearsAgo,
    LastNFiscalQuarters,
    NextNFiscalQuarters,
    NFiscalQuartersAgo,
    LastNFiscalYears,
    NextNFiscalYears,
    NFiscalYearsAgo,
}

impl DateLiteralKind {
    pub const ALL: [DateLiteralKind; 44] = [
        DateLiteralKind::Yesterday,
        DateLiteralKind::Today,
        DateLiteralKind::Tomorrow,
        DateLiteralKind::LastWeek,
        DateLiteralKind::ThisWeek,
        DateLiteralKind::NextWeek,
        DateLiteralKind::LastMonth,
        DateLiteralKind::ThisMonth,
        DateLiteralKind::NextMonth,
        DateLiteralKind::Last90Days,
        DateLiteralKind::Next90Days,
        DateLiteralKind::ThisQuarter,
        DateLiteralKind::LastQuarter,
        DateLiteralKind::NextQuarter,
        DateLiteralKind::ThisYear,
        DateLiteralKind::LastYear,
        DateLiteralKind::NextYear,
        DateLiteralKind::ThisFiscalQuarter,
        DateLiteralKind::LastFiscalQuarter,
        DateLiteralKind::NextFiscalQuarter,
        DateLiteralKind::ThisFiscalYear,
        DateLiteralKind::LastFiscalYear,
        DateLiteralKind::NextFiscalYear,
        DateLiteralKind::LastNDays,
        DateLiteralKind::NextNDays,
        DateLiteralKind::NDaysAgo,
        DateLiteralKind::LastNWeeks,
        DateLiteralKind::NextNWeeks,
        DateLiteralKind::NWeeksAgo,
        DateLiteralKind::LastNMonths,
        DateLiteralKind::NextNMonths,
        DateLiteralKind::NMonthsAgo,
        DateLiteralKind::LastNQuarters,
        DateLiteralKind::NextNQuarters,
        DateLiteralKind::NQuartersAgo,
        DateLiteralKind::LastNYears,
        DateLiteralKind::NextNYears,
        DateLiteralKind::NYearsAgo,
        DateLiteralKind::LastNFiscalQuarters,
        DateLiteralKind::NextNFiscalQuarters,
        DateLiteralKind::NFiscalQuartersAgo,
        DateLiteralKind::LastNFiscalYears,
        DateLiteralKind::NextNFiscalYears,
        DateLiteralKind::NFiscalYearsAgo,
    ];

    pub fn keyword(self) -> &'static str {
        use DateLiteralKind::*;
        match self {
            Yesterday => "YESTERDAY",
            Today => "TODAY",
            Tomorrow => "TOMORROW",
            LastWeek => "LAST_WEEK",
            ThisWeek => "THIS_WEEK",
            NextWeek => "NEXT_WEEK",
            LastMonth => "LAST_MONTH",
            ThisMonth => "THIS_MONTH",
            NextMonth => "NEXT_MONTH",
            Last90Days => "LAST_90_DAYS",
            Next90Days => "NEXT_90_DAYS",
            ThisQuarter => "THIS_QUARTER",
            LastQuarter => "LAST_QUARTER",
            NextQuarter => "NEXT_QUARTER",
            ThisYear => "THIS_YEAR",
            LastYear => "LAST_YEAR",
            NextYear => "NEXT_YEAR",
            ThisFiscalQuarter => "THIS_FISCAL_QUARTER",
            LastFiscalQuarter => "LAST_FISCAL_QUARTER",
            NextFiscalQuarter => "NEXT_FISCAL_QUARTER",
            ThisFiscalYear => "THIS_FISCAL_YEAR",
            LastFiscalYear => "LAST_FISCAL_YEAR",
            NextFiscalYear => "NEXT_FISCAL_YEAR",
            LastNDays => "LAST_N_DAYS",
            NextNDays => "NEXT_N_DAYS",
            NDaysAgo => "N_DAYS_AGO",
            LastNWeeks => "LAST_N_WEEKS",
            NextNWeeks => "NEXT_N_WEEKS",
            NWeeksAgo => "N_WEEKS_AGO",
            LastNMonths => "LAST_N_MONTHS",
            NextNMonths => "NEXT_N_MONTHS",
            NMonthsAgo => "N_MONTHS_AGO",
            LastNQuarters => "LAST_N_QUARTERS",
            NextNQuarters => "NEXT_N_QUARTERS",
            NQuartersAgo => "N_QUARTERS_AGO",
            LastNYears => "LAST_N_YEARS",
            NextNYears => "NEXT_N_YEARS",
            NYearsAgo => "N_YEARS_AGO",
            LastNFiscalQuarters => "LAST_N_FISCAL_QUARTERS",
            NextNFiscalQuarters => "NEXT_N_FISCAL_QUARTERS",
            NFiscalQuartersAgo => "N_FISCAL_QUARTERS_AGO",
            LastNFiscalYears => "LAST_N_FISCAL_YEARS",
            NextNFiscalYears => "NEXT_N_FISCAL_YEARS",
            NFiscalYearsAgo => "N_FISCAL_YEARS_AGO",
        }
    }

    /// Whether the literal takes `:n`.
    pub fn takes_n(self) -> bool {
        // `LAST_N_DAYS`, `NEXT_N_WEEKS`, and the `N_..._AGO` forms.
        let keyword = self.keyword();
        keyword.contains("_N_") || keyword.starts_with("N_")
    }

    pub fn from_keyword(word: &str) -> Option<DateLiteralKind> {
        DateLiteralKind::ALL
            .into_iter()
            .find(|k| k.keyword().eq_ignore_ascii_case(word))
    }
}

/// `WITH ...` filters.
#[derive(Debug, Clone, PartialEq)]
pub enum WithClause {
    SecurityEnforced,
    UserMode,
    SystemMode,
    /// `WITH DATA CATEGORY Geography__c AT (usa__c, uk__c) AND Product__c ABOVE phones__c`.
    DataCategory(Vec<DataCategoryFilter>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataCategoryFilter {
    pub group: Ident,
    pub selector: DataCategorySelector,
    pub categories: Vec<Ident>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataCategorySelector {
    At,
    Above,
    Below,
    AboveOrBelow,
}

impl DataCategorySelector {
    pub fn keyword(self) -> &'static str {
        match self {
            DataCategorySelector::At => "AT",
            DataCategorySelector::Above => "ABOVE",
            DataCategorySelector::Below => "BELOW",
            DataCategorySelector::AboveOrBelow => "ABOVE_OR_BELOW",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupBy {
    Plain(Vec<Expr>),
    Rollup(Vec<Expr>),
    Cube(Vec<Expr>),
}

impl GroupBy {
    pub fn exprs(&self) -> &[Expr] {
        match self {
            GroupBy::Plain(e) | GroupBy::Rollup(e) | GroupBy::Cube(e) => e,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    /// `None` when the query did not say (ascending).
    pub direction: Option<SortDirection>,
    /// `None` when the query did not say: Salesforce then puts nulls first.
    pub nulls: Option<NullsOrder>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForClause {
    View,
    Reference,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateClause {
    Tracking,
    Viewstat,
}
