//! The crates are the layers, and their arrows run one way (docs/architecture.md): a
//! dependency that points upward, or an emulator that leans on the product, fails here
//! instead of slipping through review.

use std::collections::BTreeSet;
use std::path::Path;

/// Each crate and the sfmcp crates it may depend on (normal and dev dependencies alike).
const ALLOWED: [(&str, &[&str]); 5] = [
    ("soql", &[]),
    ("salesforce", &["sfmcp-soql"]),
    ("audit", &["sfmcp-salesforce", "sfmcp-soql"]),
    ("mcp", &["sfmcp-audit", "sfmcp-salesforce", "sfmcp-soql"]),
    ("emulator", &["sfmcp-soql"]),
];

fn sfmcp_dependencies(manifest: &toml::Table) -> BTreeSet<String> {
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| manifest.get(*section).and_then(toml::Value::as_table))
        .flat_map(|table| table.keys())
        .filter(|name| name.starts_with("sfmcp"))
        .cloned()
        .collect()
}

#[test]
fn no_crate_depends_upward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crates: BTreeSet<String> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: BTreeSet<String> = ALLOWED.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(crates, listed, "every crate has its place in the layering");
    for (name, allowed) in ALLOWED {
        let path = root.join("crates").join(name).join("Cargo.toml");
        let text = std::fs::read_to_string(&path).expect("manifest");
        let manifest: toml::Table = toml::from_str(&text).expect("manifest parses");
        let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
        let upward: Vec<String> = sfmcp_dependencies(&manifest)
            .difference(&allowed)
            .cloned()
            .collect();
        assert!(
            upward.is_empty(),
            "sfmcp-{name} depends on {upward:?}, against the layering in docs/architecture.md"
        );
    }
}
