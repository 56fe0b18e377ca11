//! The identity-gap audit: rules, findings, collectors and exports.
