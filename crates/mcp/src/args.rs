//! Tool arguments, decoded so that a wrong one is named: `max_rows: expected an integer, got
//! the string "ten"` rather than serde's bare `invalid type: string "ten", expected u32`.
//!
//! Every tool takes its arguments as [`Parameters`], a drop-in for rmcp's wrapper of the same
//! name (the `#[tool]` macro finds the input schema by that name). A bad argument is a tool
//! result with `isError`, as MCP 2025-11-25 asks of input validation errors, so the model can
//! read it and correct its call: rmcp's router makes that of an invalid-params error whose
//! message starts with [`RMCP_ARGUMENT_ERROR_PREFIX`], and a JSON-RPC error (-32602, which
//! clients tend to hide from the model) of any other.

use std::borrow::Cow;

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// A tool's decoded arguments.
#[derive(Debug, Clone)]
pub struct Parameters<P>(pub P);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        decode(serde_json::Value::Object(arguments))
            .map(Parameters)
            .map_err(|message| {
                rmcp::ErrorData::invalid_params(
                    format!("{RMCP_ARGUMENT_ERROR_PREFIX} {message}"),
                    None,
                )
            })
    }
}

/// What rmcp 3.11's tool router looks for to answer a decoding failure as a tool error
/// (`TOOL_ARGUMENT_DESERIALIZATION_ERROR_PREFIX`, private there).
pub const RMCP_ARGUMENT_ERROR_PREFIX: &str = "failed to deserialize parameters:";

/// Decodes `arguments`, or says which argument is wrong and what it should be.
pub fn decode<P: DeserializeOwned>(arguments: serde_json::Value) -> Result<P, String> {
    serde_path_to_error::deserialize(arguments).map_err(|error| {
        let path = error.path().to_string();
        let said = explain(&error.inner().to_string());
        if path == "." {
            format!("invalid arguments: {said}")
        } else {
            format!("{path}: {said}")
        }
    })
}

/// Longest piece of a wrong value quoted back: a megabyte argument must not come back whole.
const QUOTE_MAX: usize = 60;

/// serde's `invalid type: X, expected Y` in words a model (or person) acts on.
fn explain(message: &str) -> String {
    let Some((got, expected)) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "))
    else {
        return message.to_string();
    };
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "an array",
        "a map" => "an object",
        "a boolean" => "true or false",
        other if other.starts_with("struct ") => "an object",
        other => other,
    };
    let got = match got.split_once(' ') {
        Some(("string", quoted)) => format!("the string {}", shorten(quoted)),
        Some(("integer" | "floating", _)) => format!("the number {}", number_in(got)),
        Some(("boolean", value)) => value.trim_matches('`').to_string(),
        _ => match got {
            "sequence" => "an array".to_string(),
            "map" => "an object".to_string(),
            "unit value" | "null" => "null".to_string(),
            other => shorten(other),
        },
    };
    format!("expected {expected}, got {got}")
}

/// The number inside serde's "integer `5`" / "floating point `1.5`".
fn number_in(got: &str) -> String {
    got.split('`').nth(1).unwrap_or(got).to_string()
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(QUOTE_MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Args {
        query: String,
        max_rows: Option<u32>,
        ids: Option<Vec<String>>,
        fields: Option<serde_json::Map<String, serde_json::Value>>,
        strict: Option<bool>,
    }

    fn error(arguments: serde_json::Value) -> String {
        decode::<Args>(arguments).expect_err("refused")
    }

    #[test]
    fn a_wrong_type_names_the_argument_and_what_it_should_be() {
        assert_eq!(
            error(json!({"query": 5})),
            "query: expected a string, got the number 5"
        );
        assert_eq!(
            error(json!({"query": "q", "max_rows": "ten"})),
            "max_rows: expected a whole number (0 or more), got the string \"ten\""
        );
        assert_eq!(
            error(json!({"query": "q", "max_rows": -3})),
            "max_rows: expected a whole number (0 or more), got the number -3"
        );
        assert_eq!(
            error(json!({"query": "q", "ids": "001"})),
            "ids: expected an array, got the string \"001\""
        );
        assert_eq!(
            error(json!({"query": "q", "ids": ["001", 7]})),
            "ids[1]: expected a string, got the number 7"
        );
        assert_eq!(
            error(json!({"query": "q", "fields": [1]})),
            "fields: expected an object, got an array"
        );
        assert_eq!(
            error(json!({"query": "q", "strict": "yes"})),
            "strict: expected true or false, got the string \"yes\""
        );
        assert_eq!(
            error(json!({"query": {"nested": [1, 2]}})),
            "query: expected a string, got an object"
        );
    }

    #[test]
    fn a_missing_argument_is_named_and_a_huge_value_is_not_quoted_whole() {
        assert_eq!(error(json!({})), "invalid arguments: missing field `query`");
        let huge = "x".repeat(1 << 20);
        let said = error(json!({"query": "q", "max_rows": huge}));
        assert!(
            said.starts_with("max_rows: expected a whole number"),
            "{said}"
        );
        assert!(said.len() < 200, "{} bytes", said.len());
    }

    #[test]
    fn good_arguments_decode() {
        let args: Args =
            decode(json!({"query": "SELECT Id FROM Account", "max_rows": 5})).expect("decodes");
        assert_eq!(args.max_rows, Some(5));
    }
}
