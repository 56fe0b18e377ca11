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

/// The workspace denies `unsafe` code; one audited call (glibc's `malloc_trim`) opts out, and
/// no other file may.
#[test]
fn only_the_heap_release_opts_out_of_the_unsafe_lint() {
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "target" && name != ".git" {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "crates", "tests", "examples", "fuzz"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    // Spelled in two pieces so this file does not match itself.
    let opt_out = ["allow(unsafe", "_code)"].concat();
    let opting: Vec<String> = files
        .iter()
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(&opt_out)))
        .map(|path| {
            path.strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(opting, ["crates/mcp/src/transport/heap.rs"]);
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("unsafe_code = \"deny\""));
}
