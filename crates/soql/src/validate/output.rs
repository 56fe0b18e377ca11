//! What a validated query tells the MCP layer about its results.

use crate::ast::Function;
use crate::schema::FieldType;

/// A query that passed validation: its FROM object, its kind and its output columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The FROM object's canonical API name (`Account` for `FROM account`). For a child
    /// subquery, the child object (`Contact` for `FROM Contacts`).
    pub object: String,
    pub kind: QueryKind,
    /// The columns in SELECT order, `FIELDS()` expanded in describe order.
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// Records of `object`, fields nested under relationship names.
    Records,
    /// `AggregateResult` rows keyed by [`Column::name`].
    Aggregate,
    /// `SELECT COUNT() ...`: no records, the answer is `totalSize`.
    Count,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The key the value comes under in a result row: the canonical dotted path in record
    /// queries (`Account.Owner.Name`, walk it through the nested records), the alias or the
    /// field name (`Name`) or `expr0`, `expr1`... in aggregate rows, the relationship name for a
    /// child subquery or TYPEOF.
    pub name: String,
    pub value: ColumnValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValue {
    /// A field, perhaps through parents: `path` is canonical (`Account.Owner.Name`).
    /// `function` is `toLabel`, `FORMAT` or `convertCurrency` when one wraps it; the value is
    /// then the label or formatted text.
    Field {
        path: String,
        field_type: FieldType,
        function: Option<Function>,
    },
    /// A computed value (an aggregate, a date function, `DISTANCE`) and the type of its result.
    Expr {
        function: Function,
        field_type: FieldType,
    },
    /// A parent-to-child subquery; [`Column::name`] is the relationship name.
    Child(Box<Validated>),
    /// `TYPEOF`: which columns come back depends on the referenced record's type.
    TypeOf(TypeOfColumn),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeOfColumn {
    pub branches: Vec<TypeOfBranch>,
    /// The ELSE columns: for any other type (empty without ELSE).
    pub else_columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeOfBranch {
    /// Canonical API name of the WHEN object.
    pub object: String,
    pub columns: Vec<Column>,
}
