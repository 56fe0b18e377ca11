//! A string that must never be shown: access tokens, refresh tokens, client secrets, keys.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret value. `Debug` and `Display` print a fixed placeholder, so a secret that ends up
/// in a struct, an error or a log line still does not leak; [`Secret::expose`] is the one
/// door out, used only where the value goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::new("00Dx!very-secret");
        assert!(!format!("{secret:?}").contains("very-secret"));
        assert!(!format!("{secret}").contains("very-secret"));
        assert_eq!(secret.expose(), "00Dx!very-secret");
    }
}
