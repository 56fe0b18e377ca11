//! `sfmcp audit` end to end: files in, report out, exit codes 0 / 1 / 2.
// Fixture helpers outside #[test] functions: a broken fixture should panic the test.
#![allow(clippy::unwrap_used)]

use crate::audit_support;
use crate::common::capture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use audit_support::*;
use serde_json::Value;

const AS_OF: &str = "2026-03-01T12:00:00Z";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// alice: admin, in the IdP; dave: not in the IdP (high); root: admin not in the IdP
    /// (critical) unless `with_root` puts root in the IdP file.
    fn new(with_root: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut snap = snapshot(
            vec![
                user(1, "alice@corp.com.prod", "alice@corp.com"),
                user(2, "dave@corp.com.prod", "dave@corp.com"),
                user(3, "root@corp.com.prod", "root@corp.com"),
            ],
            vec![sysadmin(1), sysadmin(3)],
        );
        snap.audit_trail = Some(vec![export_row("0Ym000000000001AAA", 1, days_ago(3), None)]);
        std::fs::write(
            dir.path().join("snapshot.json"),
            serde_json::to_string_pretty(&snap).unwrap(),
        )
        .unwrap();
        let mut csv = String::from("email,status,aliases\nAlice@corp.com,ACTIVE,\n");
        if with_root {
            csv.push_str("root@corp.com,active,\n");
        }
        std::fs::write(dir.path().join("idp.csv"), csv).unwrap();
        Fixture { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn audit(&self, extra: &[&str]) -> Output {
        let idp = format!("file:{}", self.path("idp.csv").display());
        let snap = self.path("snapshot.json");
        let mut args: Vec<&str> = vec![
            "audit",
            "--idp",
            &idp,
            "--salesforce-snapshot",
            snap.to_str().unwrap(),
            "--as-of",
            AS_OF,
        ];
        args.extend_from_slice(extra);
        let output = Command::new(env!("CARGO_BIN_EXE_sfmcp"))
            .args(&args)
            .envs(capture::env())
            .output()
            .unwrap();
        capture::record_output("audit", &output);
        output
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_report_on_stdout_progress_on_stderr_exit_0_without_fail_on() {
    let fx = Fixture::new(false);
    let out = fx.audit(&["--format", "json", "--allow-admin", "alice@corp.com"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // root: IDP-001 (critical), PRV-001, PRV-002; dave: IDP-002; alice's export: EXP-001.
    assert_eq!(
        rules,
        vec![
            "SF-IDP-001",
            "SF-IDP-002",
            "SF-PRV-001",
            "SF-PRV-002",
            "SF-EXP-001"
        ]
    );
    assert_eq!(v["summary"]["expected_admins"], 1);
    assert_eq!(v["generated_at"], "2026-03-01T12:00:00.000Z");
    assert!(stderr(&out).contains("audit: 5 finding(s)"));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let fx = Fixture::new(false);
    let out = fx.audit(&["--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("SF-IDP-001"));

    let fx = Fixture::new(true);
    let out = fx.audit(&["--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = fx.audit(&["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1));
    // Only the selected rule counts.
    let out = fx.audit(&["--fail-on", "high", "--rule", "SF-CFG-001"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn every_format_renders_and_output_files_are_written_whole() {
    let fx = Fixture::new(false);
    for (format, marker) in [
        ("table", "SEVERITY"),
        ("ocsf", "\"class_uid\": 2003"),
        ("sarif", "\"version\": \"2.1.0\""),
        ("ocsf-jsonl", "{\"activity_id\":1,"),
        ("csv", "finding_id,rule_id,rule_version,"),
        ("html", "<svg"),
    ] {
        let out = fx.audit(&["--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(stdout(&out).contains(marker), "{format}");
    }
    let target = fx.path("report.html");
    let out = fx.audit(&["--format", "html", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let html = std::fs::read_to_string(&target).unwrap();
    assert!(html.ends_with("</html>\n"));
    let leftovers: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

/// `--format ocsf-jsonl` and `--format csv` to a file: one line per finding (plus the CSV
/// header), each line whole.
#[test]
fn ocsf_lines_and_csv_exports_write_one_line_per_finding() {
    let fx = Fixture::new(false);
    let lines_path = fx.path("events.jsonl");
    let out = fx.audit(&[
        "--format",
        "ocsf-jsonl",
        "--allow-admin",
        "alice@corp.com",
        "-o",
        lines_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = std::fs::read_to_string(&lines_path).unwrap();
    let parsed: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The five findings of json_report_on_stdout_progress_on_stderr_exit_0_without_fail_on.
    assert_eq!(parsed.len(), 5);
    assert!(
        parsed
            .iter()
            .all(|e| e["metadata"]["log_name"] == "sfmcp-audit")
    );
    let csv_path = fx.path("findings.csv");
    let out = fx.audit(&[
        "--format",
        "csv",
        "--allow-admin",
        "alice@corp.com",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rules: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert_eq!(
        rules,
        vec![
            "SF-IDP-001",
            "SF-IDP-002",
            "SF-PRV-001",
            "SF-PRV-002",
            "SF-EXP-001"
        ]
    );
}

/// A scheduled audit compares with the previous run's JSON export: root joined the IdP, so
/// its SF-IDP-001 is resolved and the rest unchanged; OCSF closes the resolved one.
#[test]
fn baseline_reports_new_resolved_and_unchanged_findings() {
    let before = Fixture::new(false);
    let previous = before.path("previous.json");
    let out = before.audit(&[
        "--format",
        "json",
        "--allow-admin",
        "alice@corp.com",
        "-o",
        previous.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let old: Value = serde_json::from_str(&std::fs::read_to_string(&previous).unwrap()).unwrap();
    let idp_001 = old["findings"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(old["findings"][0]["rule_id"], "SF-IDP-001");

    let after = Fixture::new(true);
    let baseline = ["--baseline", previous.to_str().unwrap()];
    let out = after.audit(
        &[
            &["--format", "json", "--allow-admin", "alice@corp.com"][..],
            &baseline,
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let diff = &v["baseline"];
    assert_eq!(diff["new"].as_array().unwrap().len(), 0, "{diff}");
    assert_eq!(diff["unchanged"].as_array().unwrap().len(), 4, "{diff}");
    let resolved = diff["resolved"].as_array().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["id"], idp_001.as_str());
    assert_eq!(resolved[0]["status"], "resolved");
    assert!(
        stderr(&out).contains("0 new, 1 resolved, 4 unchanged"),
        "{}",
        stderr(&out)
    );

    let out = after.audit(
        &[
            &["--format", "ocsf-jsonl", "--allow-admin", "alice@corp.com"][..],
            &baseline,
        ]
        .concat(),
    );
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 5);
    let closed: Vec<&Value> = events
        .iter()
        .filter(|e| e["status"] == "Resolved")
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["finding_info"]["uid"], idp_001.as_str());

    let out = after.audit(&[&["--format", "sarif"][..], &baseline].concat());
    let sarif: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"new"),
        "alice's PRV findings were allow-listed before: {states:?}"
    );
    assert!(states.contains(&"unchanged"));

    // Not an earlier run's JSON export: a usage error that says which file to pass.
    let out = after.audit(&["--baseline", after.path("idp.csv").to_str().unwrap()]);
    assert_error(&out, "--format json");
}

fn assert_error(out: &Output, fragment: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stdout(out).is_empty());
    assert!(stderr(out).contains(fragment), "{}", stderr(out));
}

#[test]
fn errors_exit_2_with_a_message_that_says_what_to_do() {
    let fx = Fixture::new(false);
    let bin = env!("CARGO_BIN_EXE_sfmcp");
    let idp = format!("file:{}", fx.path("idp.csv").display());

    // Without a snapshot the org is collected live: no settings, a message naming them and
    // the other two ways to run.
    let out = Command::new(bin)
        .args(["audit", "--idp", &idp])
        .env_clear()
        .envs(capture::env())
        .output()
        .unwrap();
    capture::record_output("audit", &out);
    assert_error(&out, "SF_REFRESH_TOKEN");
    assert_error(&out, "or audit the demo org with --demo");

    let snap = fx.path("snapshot.json");
    let out = Command::new(bin)
        .args(["audit", "--idp", "okta", "--salesforce-snapshot"])
        .arg(&snap)
        .envs(capture::env())
        .output()
        .unwrap();
    capture::record_output("audit", &out);
    assert_error(&out, "use --idp file:PATH");

    let missing: &Path = Path::new("/nonexistent/report-dir/report.json");
    let out = fx.audit(&["-o", missing.to_str().unwrap()]);
    assert_error(&out, "cannot write /nonexistent/report-dir/report.json");

    std::fs::write(fx.path("idp.csv"), "email,status\nann@corp.com,gone\n").unwrap();
    let out = fx.audit(&[]);
    assert_error(&out, "line 2, column status");

    std::fs::write(fx.path("idp.csv"), "email,status\nann@corp.com,active\n").unwrap();
    std::fs::write(fx.path("snapshot.json"), "{\"org_id\": \" \"}").unwrap();
    let out = fx.audit(&[]);
    assert_error(&out, "`org_id` is empty");

    std::fs::write(
        fx.path("snapshot.json"),
        "{\"org_id\": \"00D1\",\n \"userz\": []}",
    )
    .unwrap();
    let out = fx.audit(&[]);
    assert_error(&out, "line 2, column");
    assert!(stderr(&out).contains("userz"));
}

#[test]
fn bad_flags_are_usage_errors() {
    let fx = Fixture::new(false);
    let out = fx.audit(&["--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use table, json, ocsf, ocsf-jsonl, sarif, csv or html"));
    let out = fx.audit(&["--fail-on", "severe"]);
    assert_eq!(out.status.code(), Some(2));
    let out = fx.audit(&["--window-days", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = fx.audit(&["--domain-alias", "corp.co.uk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ALIAS=CANONICAL"));
}

#[cfg(unix)]
/// What `-o` leaves at `path`: its type, as `ls -l` shows it.
fn file_type_of(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    if t.is_symlink() {
        "symlink"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_char_device() {
        "char device"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_is_written_through_and_the_fifo_stays() {
    let fx = Fixture::new(false);
    let fifo = fx.path("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    // The reader must be there for the writer's open to complete, as with `sfmcp ... -o
    // fifo` feeding another program.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = fx.audit(&["--format", "json", "-o", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(file_type_of(&fifo), "fifo", "the FIFO was replaced");
    let read = reader.join().unwrap();
    assert!(read.contains("\"findings\""), "{read}");
}

#[cfg(unix)]
#[test]
fn output_to_a_character_device_writes_to_the_device() {
    let fx = Fixture::new(false);
    // A null device of our own (as root), so a regression cannot turn the system's /dev/null
    // into a regular file; without the right to make one, /dev/null itself.
    let dev = fx.path("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    let dev = if made {
        dev
    } else {
        PathBuf::from("/dev/null")
    };
    let out = fx.audit(&["--format", "json", "-o", dev.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(file_type_of(&dev), "char device");
}

#[cfg(unix)]
#[test]
fn output_through_a_symlink_replaces_the_target_and_keeps_the_link() {
    let fx = Fixture::new(false);
    let target = fx.path("real-report.json");
    std::fs::write(&target, "old").unwrap();
    let link = fx.path("report.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = fx.audit(&["--format", "json", "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(file_type_of(&link), "symlink");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("\"findings\"")
    );
}

#[cfg(unix)]
#[test]
fn output_over_an_existing_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new(false);
    let target = fx.path("report.json");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = fx.audit(&["--format", "json", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("\"findings\"")
    );
}

#[cfg(unix)]
#[test]
fn output_to_a_hard_linked_file_updates_every_link() {
    let fx = Fixture::new(false);
    let target = fx.path("report.json");
    std::fs::write(&target, "old").unwrap();
    let other = fx.path("same-report.json");
    std::fs::hard_link(&target, &other).unwrap();
    let out = fx.audit(&["--format", "json", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A rename would give `report.json` a new inode and leave the other name stale.
    assert!(
        std::fs::read_to_string(&other)
            .unwrap()
            .contains("\"findings\"")
    );
}
