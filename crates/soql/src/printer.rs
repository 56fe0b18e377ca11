//! Canonical SOQL text for a syntax tree: upper-case keywords, `, ` between list items, single
//! spaces, strings re-escaped, decimals always with a decimal point, datetimes with their
//! offset, and parentheses exactly where SOQL needs them. Parsing the output gives back an
//! equal tree, and printing that tree gives the same text.

use std::fmt::{self, Display, Formatter, Write};

use chrono::{Offset, Timelike};

use super::ast::*;

fn comma_separated<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        comma_separated(f, &self.select)?;
        write!(f, " FROM {}", self.from.object)?;
        if let Some(alias) = &self.from.alias {
            write!(f, " {}", alias.name)?;
        }
        if let Some(scope) = &self.using_scope {
            write!(f, " USING SCOPE {}", scope.name)?;
        }
        if let Some(condition) = &self.where_clause {
            write!(f, " WHERE {condition}")?;
        }
        for with in &self.with {
            write!(f, " WITH {with}")?;
        }
        if let Some(group_by) = &self.group_by {
            f.write_str(" GROUP BY ")?;
            match group_by {
                GroupBy::Plain(exprs) => comma_separated(f, exprs)?,
                GroupBy::Rollup(exprs) => {
                    f.write_str("ROLLUP(")?;
                    comma_separated(f, exprs)?;
                    f.write_str(")")?;
                }
                GroupBy::Cube(exprs) => {
                    f.write_str("CUBE(")?;
                    comma_separated(f, exprs)?;
                    f.write_str(")")?;
                }
            }
        }
        if let Some(having) = &self.having {
            write!(f, " HAVING {having}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma_separated(f, &self.order_by)?;
        }
        if let Some(limit) = self.limit {
            write!(f, " LIMIT {limit}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " OFFSET {offset}")?;
        }
        if let Some(for_clause) = self.for_clause {
            f.write_str(match for_clause {
                ForClause::View => " FOR VIEW",
                ForClause::Reference => " FOR REFERENCE",
                ForClause::Update => " FOR UPDATE",
            })?;
        }
        if let Some(update) = self.update_clause {
            f.write_str(match update {
                UpdateClause::Tracking => " UPDATE TRACKING",
                UpdateClause::Viewstat => " UPDATE VIEWSTAT",
            })?;
        }
        Ok(())
    }
}

impl Display for FieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&segment.name)?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(alias) = alias {
                    write!(f, " {}", alias.name)?;
                }
                Ok(())
            }
            SelectItem::Subquery(query) => write!(f, "({query})"),
            SelectItem::TypeOf(type_of) => {
                write!(f, "TYPEOF {}", type_of.relationship.name)?;
                for when in &type_of.whens {
                    write!(f, " WHEN {} THEN ", when.object.name)?;
                    comma_separated(f, &when.fields)?;
                }
                if let Some(fields) = &type_of.else_fields {
                    f.write_str(" ELSE ")?;
                    comma_separated(f, fields)?;
                }
                f.write_str(" END")
            }
            SelectItem::Fields { group, .. } => write!(f, "FIELDS({})", group.keyword()),
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Field(path) => write!(f, "{path}"),
            Expr::Call(call) => {
                write!(f, "{}(", call.function.name())?;
                comma_separated(f, &call.args)?;
                f.write_str(")")
            }
            Expr::Literal(literal, _) => write!(f, "{literal}"),
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match self.direction {
            Some(SortDirection::Asc) => f.write_str(" ASC")?,
            Some(SortDirection::Desc) => f.write_str(" DESC")?,
            None => {}
        }
        match self.nulls {
            Some(NullsOrder::First) => f.write_str(" NULLS FIRST"),
            Some(NullsOrder::Last) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

impl Display for WithClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            WithClause::SecurityEnforced => f.write_str("SECURITY_ENFORCED"),
            WithClause::UserMode => f.write_str("USER_MODE"),
            WithClause::SystemMode => f.write_str("SYSTEM_MODE"),
            WithClause::DataCategory(filters) => {
                f.write_str("DATA CATEGORY ")?;
                for (i, filter) in filters.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    write!(f, "{} {} ", filter.group.name, filter.selector.keyword())?;
                    match filter.categories.as_slice() {
                        [single] => f.write_str(&single.name)?,
                        many => {
                            f.write_str("(")?;
                            for (j, category) in many.iter().enumerate() {
                                if j > 0 {
                                    f.write_str(", ")?;
                                }
                                f.write_str(&category.name)?;
                            }
                            f.write_str(")")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

impl Condition {
    /// Writes the condition as an operand of AND, OR or NOT: groups and negations get
    /// parentheses, because SOQL does not let AND, OR and NOT mix without them.
    fn fmt_operand(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(_) | Condition::Or(_) | Condition::Not(_) => write!(f, "({self})"),
            _ => write!(f, "{self}"),
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(parts) | Condition::Or(parts) => {
                let joiner = if matches!(self, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    part.fmt_operand(f)?;
                }
                Ok(())
            }
            Condition::Not(inner) => {
                f.write_str("NOT ")?;
                inner.fmt_operand(f)
            }
            Condition::Compare { left, op, value } => {
                write!(f, "{left} {} ", op.symbol())?;
                match value {
                    Value::Literal(Literal::String(s), _) if *op == CompareOp::Like => {
                        write_quoted(f, s, true)
                    }
                    other => write!(f, "{other}"),
                }
            }
            Condition::In {
                left,
                negated,
                values,
            } => {
                write!(f, "{left} {}", if *negated { "NOT IN " } else { "IN " })?;
                match values {
                    InValues::List(values) => {
                        f.write_str("(")?;
                        comma_separated(f, values)?;
                        f.write_str(")")
                    }
                    InValues::Subquery(query) => write!(f, "({query})"),
                    InValues::Bind(bind) => write!(f, ":{}", bind.text),
                }
            }
            Condition::Includes {
                left,
                excludes,
                values,
            } => {
                let keyword = if *excludes { "EXCLUDES" } else { "INCLUDES" };
                write!(f, "{left} {keyword} (")?;
                comma_separated(f, values)?;
                f.write_str(")")
            }
        }
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Literal(literal, _) => write!(f, "{literal}"),
            Value::Bind(bind) => write!(f, ":{}", bind.text),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Boolean(true) => f.write_str("TRUE"),
            Literal::Boolean(false) => f.write_str("FALSE"),
            Literal::String(s) => write_quoted(f, s, false),
            Literal::Integer(n) => write!(f, "{n}"),
            Literal::Decimal(n) => write_decimal(f, *n),
            // `USD5000` and `USD5000.5` both read back as the same amount.
            Literal::Currency { code, amount } => write!(f, "{code}{amount}"),
            Literal::Date(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            Literal::DateTime(datetime) => {
                write!(f, "{}", datetime.format("%Y-%m-%dT%H:%M:%S"))?;
                let nanos = datetime.nanosecond();
                if nanos != 0 {
                    let digits = format!("{nanos:09}");
                    let trimmed = digits.trim_end_matches('0');
                    // Milliseconds, as Salesforce writes them, unless more precision is there.
                    let shown = if trimmed.len() <= 3 {
                        &digits[..3]
                    } else {
                        trimmed
                    };
                    write!(f, ".{shown}")?;
                }
                let offset = datetime.offset().fix().local_minus_utc();
                if offset == 0 {
                    f.write_str("Z")
                } else {
                    let sign = if offset < 0 { '-' } else { '+' };
                    let minutes = offset.abs() / 60;
                    write!(f, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
                }
            }
            Literal::DateLiteral(literal) => {
                f.write_str(literal.kind.keyword())?;
                match literal.n {
                    Some(n) => write!(f, ":{n}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A decimal always shows a decimal point, so that it reads back as a decimal.
fn write_decimal(f: &mut Formatter<'_>, n: f64) -> fmt::Result {
    let text = n.to_string();
    f.write_str(&text)?;
    if !text.contains('.') && n.is_finite() {
        f.write_str(".0")?;
    }
    Ok(())
}

/// Quote and escape a string. In a LIKE pattern, `\%`, `\_` and `\\` are already escapes
/// (see [`Literal::String`]) and are written as they are.
fn write_quoted(f: &mut Formatter<'_>, s: &str, like: bool) -> fmt::Result {
    f.write_char('\'')?;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if like && matches!(chars.peek(), Some('%' | '_' | '\\')) => {
                f.write_char('\\')?;
                if let Some(next) = chars.next() {
                    f.write_char(next)?;
                }
            }
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}
