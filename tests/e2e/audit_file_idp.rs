//! The file IdP connector: CSV and JSON exports, and errors that point at the line to fix.

use std::path::Path;

use sfmcp_audit::IdpStatus;
use sfmcp_audit::collect::file::{FileIdpError, load, parse};

fn p() -> &'static Path {
    Path::new("idp.csv")
}

#[test]
fn csv_with_any_column_order_bom_and_blank_lines() {
    let text = "\u{feff}Status,EMAIL,aliases,secondEmail,id\n\
                ACTIVE, ann@corp.com ,ann.lee@corp.com; al@corp.io,ann@gmail.com,00u1\n\
                \n\
                deprovisioned,bob@corp.com,,,00u2\n\
                Locked_Out,\"cy@corp.com\",\"c@corp.com|cy2@corp.com\",,\n";
    let dir = parse(text, p()).unwrap();
    assert_eq!(dir.users.len(), 3);
    let ann = &dir.users[0];
    assert_eq!(ann.email, "ann@corp.com");
    assert_eq!(ann.status, IdpStatus::Active);
    assert_eq!(ann.vendor_status.as_deref(), Some("ACTIVE"));
    assert_eq!(ann.aliases, vec!["ann.lee@corp.com", "al@corp.io"]);
    assert_eq!(ann.id.as_deref(), Some("00u1"));
    // Personal addresses in other columns are never indexed.
    assert!(!ann.aliases.iter().any(|a| a.contains("gmail")));
    assert_eq!(dir.users[1].status, IdpStatus::Deprovisioned);
    assert!(dir.users[1].aliases.is_empty());
    assert_eq!(dir.users[2].status, IdpStatus::Locked);
    assert_eq!(dir.users[2].aliases, vec!["c@corp.com", "cy2@corp.com"]);
}

#[test]
fn csv_with_windows_line_endings() {
    let dir = parse(
        "email,status\r\nann@corp.com,active\r\nbob@corp.com,disabled\r\n",
        p(),
    )
    .unwrap();
    assert_eq!(dir.users.len(), 2);
    assert_eq!(dir.users[1].email, "bob@corp.com");
    assert_eq!(dir.users[1].status, IdpStatus::Suspended);
}

#[test]
fn csv_errors_name_line_and_column() {
    let bad_status = "email,status\nann@corp.com,active\nbob@corp.com,gone\n";
    let e = parse(bad_status, p()).unwrap_err();
    assert!(matches!(e, FileIdpError::BadValue { line: 3, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("line 3, column status"), "{msg}");
    assert!(msg.contains("unknown status `gone`"), "{msg}");

    let absent = "email,status\nann@corp.com,absent\n";
    let msg = parse(absent, p()).unwrap_err().to_string();
    assert!(
        msg.contains("leave people the IdP does not know out of the file"),
        "{msg}"
    );

    let bad_email = "email,status\nnot-an-address,active\n";
    let msg = parse(bad_email, p()).unwrap_err().to_string();
    assert!(msg.contains("line 2, column email"), "{msg}");

    let bad_alias = "email,status,aliases\nann@corp.com,active,ann@corp.com;oops\n";
    let msg = parse(bad_alias, p()).unwrap_err().to_string();
    assert!(
        msg.contains("line 2, column aliases") && msg.contains("`oops`"),
        "{msg}"
    );

    let missing = "mail,state\nann@corp.com,active\n";
    let msg = parse(missing, p()).unwrap_err().to_string();
    assert!(
        msg.contains("no `email` column") && msg.contains("found: mail, state"),
        "{msg}"
    );

    let ragged = "email,status\nann@corp.com,active,extra\n";
    let e = parse(ragged, p()).unwrap_err();
    assert!(matches!(e, FileIdpError::Syntax { line: 2, .. }), "{e:?}");

    let empty = "email,status\n";
    assert!(matches!(
        parse(empty, p()).unwrap_err(),
        FileIdpError::Empty { .. }
    ));
}

#[test]
fn json_array_and_wrapper_forms() {
    let arr = r#"[{"email":"ann@corp.com","status":"suspended","aliases":["a@corp.io"]},
                 {"email":"bob@corp.com","status":"Enabled","login":"bob@corp.onmicrosoft.com"}]"#;
    let dir = parse(arr, Path::new("idp.json")).unwrap();
    assert_eq!(dir.users.len(), 2);
    assert_eq!(dir.users[0].status, IdpStatus::Suspended);
    assert_eq!(dir.users[0].aliases, vec!["a@corp.io"]);
    assert_eq!(dir.users[1].status, IdpStatus::Active);
    assert_eq!(
        dir.users[1].login.as_deref(),
        Some("bob@corp.onmicrosoft.com")
    );

    let wrapped = r#"{"users": [{"email":"ann@corp.com","status":"pending"}]}"#;
    let dir = parse(wrapped, Path::new("idp.json")).unwrap();
    assert_eq!(dir.users[0].status, IdpStatus::Pending);
}

#[test]
fn json_errors_name_line_and_column() {
    let text = "[\n  {\"email\": \"ann@corp.com\", \"status\": \"active\"},\n  {\"email\": \"bob@corp.com\", \"status\": \"vanished\"}\n]";
    let e = parse(text, Path::new("idp.json")).unwrap_err();
    match &e {
        FileIdpError::Json { line, .. } => assert_eq!(*line, 3),
        other => panic!("unexpected {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("idp.json: line 3, column"), "{msg}");
    assert!(msg.contains("unknown status `vanished`"), "{msg}");

    let missing = r#"[{"email": "ann@corp.com"}]"#;
    let msg = parse(missing, Path::new("idp.json"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing field `status`"), "{msg}");
}

#[test]
fn unreadable_files_say_which_file() {
    let e = load(Path::new("/nonexistent/dir/idp.csv")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/dir/idp.csv"));
}

/// An HR export's mixed column goes in `secondary_emails`: read as addresses, kept apart from
/// the aliases, and matched only on the file's own domains (a personal address there could
/// make an ex-employee look present).
#[test]
fn secondary_emails_are_read_from_csv_and_json_and_match_only_on_the_files_domains() {
    use sfmcp_audit::matching::IdpIndex;
    use sfmcp_audit::model::SfUser;

    let csv = "email,status,aliases,secondary_emails\n\
               ann@corp.com,active,ann.lee@corp.com,ann.home@gmail.com; a.old@corp.com\n\
               bob@corp.com,deprovisioned,,\n";
    let dir = parse(csv, p()).unwrap();
    assert_eq!(dir.users[0].aliases, vec!["ann.lee@corp.com"]);
    assert_eq!(
        dir.users[0].secondary_emails,
        vec!["ann.home@gmail.com", "a.old@corp.com"]
    );
    assert!(dir.users[1].secondary_emails.is_empty());

    let json = r#"[{"email":"ann@corp.com","status":"active",
                    "secondary_emails":["ann.home@gmail.com","a.old@corp.com"]}]"#;
    let from_json = parse(json, Path::new("idp.json")).unwrap();
    assert_eq!(
        from_json.users[0].secondary_emails,
        dir.users[0].secondary_emails
    );

    let salesforce = |email: &str| SfUser {
        id: "005000000000001AAA".into(),
        username: "someone@corp.com.prod".into(),
        email: email.into(),
        is_active: true,
        user_type: "Standard".into(),
        ..Default::default()
    };
    let config = sfmcp_audit::MatchConfig::default();
    let index = IdpIndex::build(&dir, &config);
    let old = index.lookup(&salesforce("a.old@corp.com"));
    assert_eq!(
        (old.method, old.idp_user, old.status),
        (sfmcp_audit::MatchMethod::Alias, Some(0), IdpStatus::Active)
    );
    let personal = index.lookup(&salesforce("ann.home@gmail.com"));
    assert_eq!(personal.method, sfmcp_audit::MatchMethod::None);

    let bad = "email,status,secondary_emails\nann@corp.com,active,ann@corp.com;nope\n";
    let message = parse(bad, p()).unwrap_err().to_string();
    assert!(
        message.contains("line 2, column secondary_emails") && message.contains("`nope`"),
        "{message}"
    );
    let bad_json = r#"[{"email":"ann@corp.com","status":"active","secondary_emails":["nope"]}]"#;
    let message = parse(bad_json, Path::new("idp.json"))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`nope` is not an e-mail address"),
        "{message}"
    );
}
