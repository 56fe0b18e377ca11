//! The whole-suite secrets sweep: every byte every `sfmcp` process of the e2e suite wrote
//! (stdout and stderr at a verbose log level, and the tool results clients received), searched
//! for every secret the emulators issued or were configured with and every secret a test
//! configured a server with (`common/capture.rs` keeps both). `make test` runs
//! `the_whole_suite_wrote_no_secret` after the rest of the suite; it is ignored otherwise.
//! A hit names the file and the secret's kind, never the secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::capture;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use serde_json::Value;

/// Below this a "secret" would match ordinary text; none the emulator issues is that short.
const MIN_SECRET_LEN: usize = 16;
/// Fewer distinct characters than this and a "secret" is filler (a test's all-`A` cursor
/// key): its pieces show up in any input made of the same filler, such as a forged cursor.
const MIN_DISTINCT_CHARS: usize = 8;

/// Whether `value` can be told apart from ordinary text at all.
fn searchable(value: &str) -> bool {
    let distinct: BTreeSet<char> = value.chars().collect();
    value.len() >= MIN_SECRET_LEN && distinct.len() >= MIN_DISTINCT_CHARS
}
/// Pieces this long, every `WINDOW / 2` characters, are looked for too: any piece of a secret
/// at least `WINDOW + WINDOW / 2 - 1` (23) characters long holds one, so a token cut,
/// wrapped or half-escaped still shows.
const WINDOW: usize = 16;

/// A full `make test` run spawns about 55 stdio servers, 20 HTTP servers and 40 other
/// commands and clients, and records about 1,400 secrets (tests/README.md); well under that
/// means the capture is missing or partial, and a sweep over it would prove nothing.
const MIN_STDIO_SERVERS: usize = 40;
const MIN_HTTP_SERVERS: usize = 15;
const MIN_OTHER_COMMANDS: usize = 30;
const MIN_SECRETS: usize = 1_000;
const KINDS_REQUIRED: [&str; 6] = [
    "access token",
    "refresh token",
    "client secret",
    "Paragon signing key",
    "IdP access token",
    "Okta API token",
];

struct Secret {
    kind: String,
    value: String,
}

/// Every form of every secret worth looking for, each mapped back to its secret.
struct Matcher {
    automaton: AhoCorasick,
    owner: Vec<usize>,
    secrets: Vec<Secret>,
}

/// The strings whose presence means `value` leaked: the whole secret as written, URL-encoded
/// and JSON-escaped, and every [`WINDOW`]-long piece of it (for a PEM key, of each body line:
/// a key printed whole, in JSON or cut, shows one of them).
fn needles(value: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let parts: Vec<&str> = if value.contains("-----BEGIN") {
        value
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && l.len() >= MIN_SECRET_LEN)
            .collect()
    } else {
        vec![value]
    };
    for part in parts {
        out.insert(part.to_string());
        out.insert(url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>());
        let json = serde_json::to_string(part).unwrap_or_default();
        out.insert(json.trim_matches('"').to_string());
        let chars: Vec<char> = part.chars().collect();
        if chars.len() > WINDOW {
            let mut starts: Vec<usize> = (0..=chars.len() - WINDOW).step_by(WINDOW / 2).collect();
            starts.push(chars.len() - WINDOW);
            for start in starts {
                out.insert(chars[start..start + WINDOW].iter().collect());
            }
        }
    }
    out.into_iter().filter(|n| n.len() >= WINDOW).collect()
}

impl Matcher {
    fn new(secrets: Vec<Secret>) -> Matcher {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            for needle in needles(&secret.value) {
                patterns.push(needle);
                owner.push(index);
            }
        }
        let automaton = AhoCorasick::new(&patterns).expect("the needles build an automaton");
        Matcher {
            automaton,
            owner,
            secrets,
        }
    }

    /// The kinds of the secrets `text` holds a form or a piece of.
    fn kinds_in(&self, text: &[u8]) -> BTreeSet<&str> {
        self.automaton
            .find_overlapping_iter(text)
            .map(|m| {
                self.secrets[self.owner[m.pattern().as_usize()]]
                    .kind
                    .as_str()
            })
            .collect()
    }
}

/// Anything shaped like a signed JWT (`eyJ...` header, `.eyJ...` claims): Paragon user
/// tokens and Google assertions sfmcp mints itself, which no journal can list.
fn holds_a_jwt(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    text.match_indices("eyJ").any(|(i, _)| {
        let rest = &text[i..];
        let header = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        header > 10 && rest[header..].starts_with(".eyJ")
    })
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "no capture at {} ({e}): run `make test`, which runs the suite with the capture on \
                 and this sweep after it",
                dir.display()
            )
        })
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn load_secrets(dir: &Path) -> Vec<Secret> {
    let mut by_value: BTreeMap<String, String> = BTreeMap::new();
    for file in files_in(dir) {
        let text = std::fs::read_to_string(&file).expect("a secrets journal");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            // A line cut by a killed process is skipped; every other one must parse.
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(kind), Some(value)) = (entry["kind"].as_str(), entry["value"].as_str())
            else {
                panic!("{}: a journal line without kind and value", file.display());
            };
            by_value.insert(value.to_string(), kind.to_string());
        }
    }
    by_value
        .into_iter()
        .map(|(value, kind)| Secret { kind, value })
        .collect()
}

/// The process a capture file belongs to and what it was (`serve-stdio`, `audit`, ...).
fn process_of(file: &Path) -> Option<(String, String)> {
    let name = file.file_name()?.to_str()?;
    let (process, _stream) = name.rsplit_once('.')?;
    let what = process.rsplit("__").next()?.to_string();
    Some((process.to_string(), what))
}

#[test]
#[ignore = "run by `make test` after the whole suite, over that run's capture"]
fn the_whole_suite_wrote_no_secret() {
    let dir = capture::dir().expect(
        "no capture to sweep: SFMCP_E2E_CAPTURE is unset; `make test` sets it and runs the suite first",
    );
    let secrets = load_secrets(&dir.join("secrets"));
    let outputs = files_in(&dir.join("outputs"));

    let mut processes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &outputs {
        if let Some((process, what)) = process_of(file) {
            processes.entry(what).or_default().insert(process);
        }
    }
    let count = |what: &str| processes.get(what).map_or(0, BTreeSet::len);
    let others: usize = processes
        .iter()
        .filter(|(what, _)| !what.starts_with("serve") && *what != "client")
        .map(|(_, p)| p.len())
        .sum();
    let census: Vec<String> = processes
        .iter()
        .map(|(what, p)| format!("{what}: {}", p.len()))
        .collect();
    // Every problem at once: a thin capture and a leak are both worth seeing in one run.
    let mut problems = Vec::new();
    if count("serve_stdio") + count("serve_stdio_raw") < MIN_STDIO_SERVERS
        || count("serve_http") < MIN_HTTP_SERVERS
        || others < MIN_OTHER_COMMANDS
    {
        problems.push(format!(
            "too few captured processes in {} ({census:?}): was the whole suite run with the \
             capture on? `make test` does it",
            dir.display()
        ));
    }
    let kinds: BTreeSet<&str> = secrets.iter().map(|s| s.kind.as_str()).collect();
    if secrets.len() < MIN_SECRETS || !KINDS_REQUIRED.iter().all(|k| kinds.contains(k)) {
        problems.push(format!(
            "too few recorded secrets in {} ({} of kinds {kinds:?}): were the emulators run \
             with SFMCP_EMULATOR_SECRETS_DIR set? `make test` does it",
            dir.display(),
            secrets.len()
        ));
    }

    let (secrets, unsearchable): (Vec<Secret>, Vec<Secret>) =
        secrets.into_iter().partition(|s| searchable(&s.value));
    let short = unsearchable.len();
    let searched = secrets.len();
    let matcher = Matcher::new(secrets);
    // Self-check on the real journal: every recorded secret planted in text (as is, and
    // URL-encoded) is found, so the automaton over all of them cannot miss one.
    for secret in &matcher.secrets {
        let encoded: String =
            url::form_urlencoded::byte_serialize(secret.value.as_bytes()).collect();
        for planted in [format!("x {} y", secret.value), format!("token={encoded}&")] {
            assert!(
                matcher
                    .kinds_in(planted.as_bytes())
                    .contains(secret.kind.as_str()),
                "the matcher misses a planted {}",
                secret.kind
            );
        }
    }
    let mut bytes = 0usize;
    for file in &outputs {
        let written = std::fs::read(file).expect("a capture file");
        bytes += written.len();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        for kind in matcher.kinds_in(&written) {
            problems.push(format!("{name}: holds a {kind} (or a piece of one)"));
        }
        if holds_a_jwt(&written) {
            problems.push(format!("{name}: holds something shaped like a signed JWT"));
        }
    }
    eprintln!(
        "swept {} files ({} MB) of {census:?} for {searched} secrets ({short} too short or too uniform to search)",
        outputs.len(),
        bytes / 1_000_000
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn secret(kind: &str, value: &str) -> Secret {
    Secret {
        kind: kind.into(),
        value: value.into(),
    }
}

const TOKEN: &str = "00D000000000001!AQ8AQ.k3y_p4rt_that_is_long_enough_to_matter";

#[test]
fn the_matcher_finds_a_planted_token_in_every_form_and_names_only_its_kind() {
    let matcher = Matcher::new(vec![secret("access token", TOKEN)]);
    let url_encoded: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
    assert_ne!(
        url_encoded, TOKEN,
        "the token has a character URL encoding changes"
    );
    let cut = &TOKEN[10..33];
    for written in [
        format!("DEBUG sfmcp: sent Authorization: Bearer {TOKEN}\n"),
        format!("body=token%3D{url_encoded}&x=1"),
        format!("{{\"token\":{}}}", serde_json::to_string(TOKEN).unwrap()),
        format!("... {cut} (truncated)"),
    ] {
        let found = matcher.kinds_in(written.as_bytes());
        assert_eq!(found, BTreeSet::from(["access token"]), "{written}");
    }
    assert!(
        matcher
            .kinds_in(b"nothing here but 00D000000000001 and AQ8AQ")
            .is_empty()
    );
}

#[test]
fn the_matcher_finds_a_key_printed_as_pem_or_inside_json() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n\
                MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu";
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
    let matcher = Matcher::new(vec![secret("Paragon signing key", &pem)]);
    let in_json = serde_json::to_string(&serde_json::json!({ "key": pem })).unwrap();
    for written in [
        pem.clone(),
        in_json,
        body.lines().nth(1).unwrap()[20..40].to_string(),
    ] {
        assert_eq!(
            matcher.kinds_in(written.as_bytes()),
            BTreeSet::from(["Paragon signing key"]),
            "{written}"
        );
    }
    // The armour lines alone are no leak.
    assert!(
        matcher
            .kinds_in(b"-----BEGIN PRIVATE KEY----- -----END PRIVATE KEY-----")
            .is_empty()
    );
}

#[test]
fn filler_and_short_values_are_not_searched_and_random_ones_are() {
    assert!(!searchable("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert!(!searchable("00Dxx!token"));
    assert!(searchable("5Aep00D000000000001q8Zr2LmXv0pW3kT"));
}

#[test]
fn a_jwt_is_recognised_by_its_shape_and_a_plain_eyj_is_not() {
    assert!(holds_a_jwt(
        b"x-paragon-token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    ));
    assert!(!holds_a_jwt(
        b"eyJ alone, or eyJhbGciOiJSUzI1NiJ9 without claims"
    ));
}

#[test]
fn capture_file_names_give_the_process_and_what_it_was() {
    let file = Path::new("/c/outputs/mcp_stdio__a_test__123-4__serve_stdio.stderr");
    assert_eq!(
        process_of(file),
        Some((
            "mcp_stdio__a_test__123-4__serve_stdio".to_string(),
            "serve_stdio".to_string()
        ))
    );
}
