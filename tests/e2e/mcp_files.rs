//! Issue 17 item 6 (files and notes, read-only), end to end: rmcp's client -> `sfmcp serve`
//! (stdio, and Streamable HTTP) -> our client -> the emulator. `record_files` on the demo
//! case lists what the emulator's own REST answers link to it (latest versions, owners,
//! links), reads text content only, cut at the byte budget and said so, never a binary
//! file's bytes (the request log shows which contents were fetched), and keeps the
//! operator's allow-list and deny-list. The client reads no more of a body than it asked for,
//! whatever the server sends. The emulator: ContentDocumentLink's filter restriction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

use crate::common::{
    call, demo_emulator, is_error, org_env, requests, spawn_server, stop, structured, text,
};
use crate::emulator_common::Client;

/// The demo's classic note on the case that carries its files.
const NOTE_TITLE: &str = "Phone call with the customer";

async fn demo_case(rest: &Client) -> String {
    let reply = rest
        .query(&format!(
            "SELECT ParentId FROM Note WHERE Title = '{NOTE_TITLE}'"
        ))
        .await;
    reply.body["records"][0]["ParentId"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo's note: {}", reply.body))
        .to_string()
}

/// What the emulator's REST API links to `record`: each file's latest version, newest
/// first, as the tool's rows show them (without the link).
async fn expected_files(rest: &Client, record: &str) -> Vec<Value> {
    let links = rest
        .query(&format!(
            "SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{record}'"
        ))
        .await;
    assert_eq!(links.status, StatusCode::OK, "{}", links.body);
    let documents: Vec<String> = links.body["records"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| format!("'{}'", l["ContentDocumentId"].as_str().expect("id")))
        .collect();
    assert!(!documents.is_empty(), "the demo case has files");
    let versions = rest
        .query(&format!(
            "SELECT Id, ContentDocumentId, Title, FileType, FileExtension, ContentSize, Owner.Name, LastModifiedDate \
             FROM ContentVersion WHERE IsLatest = true AND ContentDocumentId IN ({}) ORDER BY LastModifiedDate DESC, Id DESC",
            documents.join(", ")
        ))
        .await;
    assert_eq!(versions.status, StatusCode::OK, "{}", versions.body);
    versions.body["records"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            json!({
                "title": v["Title"], "type": v["FileType"], "ext": v["FileExtension"],
                "bytes": v["ContentSize"], "owner": v["Owner"]["Name"],
                "modified": v["LastModifiedDate"], "document": v["ContentDocumentId"],
                "version": v["Id"],
            })
        })
        .collect()
}

/// A file version's bytes, as the emulator serves them.
async fn bytes_of(rest: &Client, version: &str) -> Vec<u8> {
    let response = rest
        .http
        .get(rest.data_url(&format!("/sobjects/ContentVersion/{version}/VersionData")))
        .bearer_auth(&rest.token)
        .send()
        .await
        .expect("blob");
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.expect("bytes").to_vec()
}

/// The versions whose content the server fetched, from the request log.
async fn contents_fetched(emulator: &EmulatorHandle) -> Vec<String> {
    requests(emulator)
        .await
        .iter()
        .filter_map(|r| r["path"].as_str())
        .filter_map(|p| p.strip_suffix("/VersionData"))
        .filter_map(|p| p.rsplit('/').next().map(str::to_string))
        .collect()
}

fn rows_without_urls(shown: &Value) -> Vec<Value> {
    shown["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().expect("row").remove("url");
            f
        })
        .collect()
}

fn expected_rows(expected: &[Value]) -> Vec<Value> {
    expected
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().expect("row").remove("version");
            f
        })
        .collect()
}

fn version_of<'a>(expected: &'a [Value], file_type: &str) -> &'a str {
    expected
        .iter()
        .find(|f| f["type"] == json!(file_type))
        .and_then(|f| f["version"].as_str())
        .expect("a file of that type")
}

/// Checks one default answer against REST: rows, links, contents and what was fetched.
async fn check_default_answer(rest: &Client, case: &str, answer: &rmcp::model::CallToolResult) {
    assert!(!is_error(answer), "{}", text(answer));
    let expected = expected_files(rest, case).await;
    let shown = structured(answer);
    assert_eq!(shown["object"], json!("Case"));
    assert_eq!(rows_without_urls(&shown), expected_rows(&expected));
    for (row, file) in shown["files"]
        .as_array()
        .expect("files")
        .iter()
        .zip(&expected)
    {
        let url = row["url"].as_str().expect("a link");
        assert!(
            url.ends_with(&format!(
                "/lightning/r/ContentDocument/{}/view",
                file["document"].as_str().expect("id")
            )),
            "{url}"
        );
    }
    // Text content, read to the default budget of 2,000 bytes: the call log cut, the CSV
    // whole, the enhanced note as plain text. The PDF never fetched.
    let contents = shown["contents"].as_array().expect("contents");
    let content_of = |version: &str| {
        contents
            .iter()
            .find(|c| c["version"] == json!(version))
            .unwrap_or_else(|| panic!("content of {version}: {contents:?}"))
    };
    let log = version_of(&expected, "TEXT");
    let log_bytes = bytes_of(rest, log).await;
    assert!(log_bytes.len() > 2_000);
    assert_eq!(
        content_of(log)["content"],
        json!(String::from_utf8(log_bytes[..2_000].to_vec()).expect("ascii"))
    );
    assert_eq!(content_of(log)["cut"], json!(true));
    let words = text(answer);
    assert!(
        words.contains(&format!("cut at 2000 of {} bytes", log_bytes.len())),
        "{words}"
    );
    let csv = version_of(&expected, "CSV");
    assert_eq!(
        content_of(csv)["content"],
        json!(String::from_utf8(bytes_of(rest, csv).await).expect("text"))
    );
    assert_eq!(content_of(csv)["cut"], json!(false));
    let note = content_of(version_of(&expected, "SNOTE"))["content"]
        .as_str()
        .expect("note text")
        .to_string();
    assert!(note.starts_with("Escalated to tier 2"), "{note}");
    assert!(!note.contains('<'), "{note}");
    let pdf = version_of(&expected, "PDF");
    assert!(contents.iter().all(|c| c["version"] != json!(pdf)));
    assert!(
        words.contains("1 binary file listed without content"),
        "{words}"
    );
    // Everything from the record is fenced: the planted instruction is inside a block.
    let planted = words
        .find("IGNORE PREVIOUS INSTRUCTIONS")
        .expect("the call log's line");
    let open = words[..planted].rfind("<data untrusted>").expect("fenced");
    assert!(!words[open..planted].contains("</data>"), "{words}");
    assert!(!words.contains("Signed RMA form\n"), "{words}");
    // The classic note, as REST reads it.
    let notes = rest
        .query(&format!(
            "SELECT Id, Title, Body FROM Note WHERE ParentId = '{case}'"
        ))
        .await;
    let stored = &notes.body["records"][0];
    let listed = &shown["notes"][0];
    for key in ["Id", "Title", "Body"] {
        assert_eq!(listed[key], stored[key], "{key}");
    }
}

#[tokio::test]
async fn record_files_lists_what_the_org_links_and_reads_only_text_within_the_budget() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let case = demo_case(&rest).await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    let answer = call(&client, "record_files", json!({"id": case})).await;
    check_default_answer(&rest, &case, &answer).await;
    let expected = expected_files(&rest, &case).await;
    let fetched: BTreeSet<String> = contents_fetched(&emulator).await.into_iter().collect();
    let text_versions: BTreeSet<String> = ["TEXT", "CSV", "SNOTE"]
        .iter()
        .map(|t| version_of(&expected, t).to_string())
        .collect();
    assert_eq!(fetched, text_versions, "only text contents are fetched");

    // max_bytes past the cap reads 16,000 at most: the whole call log, exactly.
    let log = version_of(&expected, "TEXT").to_string();
    let whole = call(
        &client,
        "record_files",
        json!({"id": case, "max_bytes": 1_000_000}),
    )
    .await;
    assert!(!is_error(&whole), "{}", text(&whole));
    let content = structured(&whole)["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .find(|c| c["version"] == json!(log))
        .cloned()
        .expect("the log");
    assert_eq!(
        content["content"],
        json!(String::from_utf8(bytes_of(&rest, &log).await).expect("text"))
    );
    assert_eq!(content["cut"], json!(false));

    // max_bytes 0 reads no content at all; max_rows 1 lists the newest file and says more.
    let before = contents_fetched(&emulator).await.len();
    let none = call(
        &client,
        "record_files",
        json!({"id": case, "max_bytes": 0, "max_rows": 1}),
    )
    .await;
    assert!(!is_error(&none), "{}", text(&none));
    assert_eq!(contents_fetched(&emulator).await.len(), before);
    let shown = structured(&none);
    assert_eq!(shown["files"].as_array().expect("files").len(), 1);
    assert_eq!(shown["files"][0]["title"], expected[0]["title"]);
    assert_eq!(shown["more"], json!(true));
    assert!(text(&none).contains("more remain"), "{}", text(&none));

    // A record with nothing attached: an answer, not an error.
    let account = rest.first_id("SELECT Id FROM Account LIMIT 1").await;
    let empty = call(&client, "record_files", json!({"id": account})).await;
    assert!(!is_error(&empty), "{}", text(&empty));
    assert!(
        text(&empty).contains("0 files") && text(&empty).contains("0 classic notes"),
        "{}",
        text(&empty)
    );
    // Read-only, and said so to the host.
    let tools = client.list_all_tools().await.expect("tools");
    let tool = tools
        .iter()
        .find(|t| t.name == "record_files")
        .expect("listed with toolset files");
    assert_eq!(
        tool.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );
    stop(client, stderr).await;
    assert!(
        requests(&emulator)
            .await
            .iter()
            .filter(|r| r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/services/data/")))
            .all(|r| r["method"] == json!("GET")),
        "record_files only reads"
    );
}

#[tokio::test]
async fn over_http_record_files_answers_as_rest_reads_back() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let case = demo_case(&rest).await;
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    let answer = call(&client, "record_files", json!({"id": case})).await;
    check_default_answer(&rest, &case, &answer).await;
    let _ = client.cancel().await;
    let _ = child.kill().await;
}

#[tokio::test]
async fn files_keep_the_allow_list_and_the_deny_list() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let case = demo_case(&rest).await;
    let queries_sent = |log: &[Value]| {
        log.iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/query")))
            .count()
    };

    // The links and versions must be allowed: refused before any query.
    for (allowed, named) in [
        ("Case,ContentVersion", "ContentDocumentLink"),
        ("Case,ContentDocumentLink", "ContentVersion"),
        ("ContentDocumentLink,ContentVersion", "Case"),
    ] {
        let mut env = org_env(&emulator.orgs[0]);
        env.push(("SFMCP_ALLOW_OBJECTS", allowed.into()));
        let (client, stderr) = spawn_server(&env, &[]).await;
        let before = queries_sent(&requests(&emulator).await);
        let refused = call(&client, "record_files", json!({"id": case})).await;
        assert!(is_error(&refused), "{allowed}");
        assert!(
            text(&refused).contains(named) && text(&refused).contains("--allow-objects"),
            "{}",
            text(&refused)
        );
        assert_eq!(
            queries_sent(&requests(&emulator).await),
            before,
            "{allowed}"
        );
        stop(client, stderr).await;
    }

    // Without Note and User: files listed, owners by id, classic notes left out and said so.
    let mut env = org_env(&emulator.orgs[0]);
    env.push((
        "SFMCP_ALLOW_OBJECTS",
        "Case,ContentDocumentLink,ContentVersion".into(),
    ));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "record_files", json!({"id": case})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    let admin = &emulator.orgs[0].user_id;
    assert!(
        shown["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["owner"] == json!(admin)),
        "{shown}"
    );
    assert!(!text(&answer).contains("Dana Admin"), "{}", text(&answer));
    assert_eq!(shown["notes"], json!([]));
    assert!(
        text(&answer).contains("Classic notes left out"),
        "{}",
        text(&answer)
    );
    stop(client, stderr).await;

    // Content denied: nothing fetched, and said so; a denied title is not asked for.
    let mut env = org_env(&emulator.orgs[0]);
    env.push((
        "SFMCP_DENY_FIELDS",
        "ContentVersion.VersionData,ContentVersion.Title,Note.Body".into(),
    ));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let before = contents_fetched(&emulator).await.len();
    let answer = call(&client, "record_files", json!({"id": case})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(contents_fetched(&emulator).await.len(), before);
    let words = text(&answer);
    assert!(words.contains("hidden by this server"), "{words}");
    assert!(!words.contains("Call log"), "{words}");
    assert!(!words.contains("serial numbers"), "{words}");
    let shown = structured(&answer);
    assert_eq!(shown["contents"], json!([]));
    assert!(
        shown["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["title"].is_null())
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn the_emulator_requires_a_filter_on_content_document_links() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let case = demo_case(&rest).await;
    for soql in [
        "SELECT Id FROM ContentDocumentLink".to_string(),
        "SELECT Id FROM ContentDocumentLink WHERE ShareType = 'V'".to_string(),
        format!("SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId != '{case}'"),
    ] {
        let refused = rest.query(&soql).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{soql}");
        assert_eq!(refused.body[0]["errorCode"], json!("MALFORMED_QUERY"));
        assert!(
            refused.body[0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Implementation restriction: ContentDocumentLink requires a filter by a single Id")),
            "{}",
            refused.body
        );
    }
    let fine = rest
        .query(&format!(
            "SELECT ContentDocument.Title FROM ContentDocumentLink WHERE LinkedEntityId = '{case}'"
        ))
        .await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.body);
    assert_eq!(fine.body["totalSize"], json!(4));
    // A version's record holds the URL its bytes are served at.
    let version = rest
        .query("SELECT Id, VersionData FROM ContentVersion WHERE FileType = 'CSV' LIMIT 1")
        .await;
    let row = &version.body["records"][0];
    assert_eq!(
        row["VersionData"],
        json!(format!(
            "/services/data/v62.0/sobjects/ContentVersion/{}/VersionData",
            row["Id"].as_str().expect("id")
        ))
    );
}

/// The client's bounded read against a server that would send 256 MB: it keeps exactly the
/// bytes asked for, says the body was cut, and the server could write only a little more
/// before the connection was dropped.
#[tokio::test]
async fn a_file_body_is_read_no_further_than_the_budget() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut request = vec![0u8; 8192];
        let _ = socket.read(&mut request).await;
        let total = 256 * 1024 * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {total}\r\n\r\n"
        );
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        while counter.load(Ordering::SeqCst) < total {
            if socket.write_all(&chunk).await.is_err() {
                break;
            }
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    });
    let base = url::Url::parse(&format!("http://{address}")).expect("url");
    let mut connection = sfmcp_salesforce::Connection::direct(
        Some(base.clone()),
        sfmcp_salesforce::DirectCredential::AccessToken {
            access_token: sfmcp_salesforce::Secret::new("00Dx0000000BV7z!AR8AQ.test-token"),
            login_url: base,
            client: None,
        },
    );
    connection.api_version = Some("62.0".into());
    let client =
        crate::salesforce_support::client(connection, crate::salesforce_support::fast_options());
    let version = sfmcp_salesforce::SalesforceId::parse("0685g00000002NeAAI").expect("id");
    let head = client.file_head(&version, 1_000).await.expect("read");
    assert_eq!(head.bytes, vec![b'x'; 1_000]);
    assert!(head.cut);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < 32 * 1024 * 1024,
        "the server wrote {sent} bytes: the client kept reading"
    );
}

/// Files follow the records they are linked to: the demo's proposal on a private
/// opportunity is invisible (its link, its version, its bytes, and through `record_files`)
/// to a rep who cannot see that deal, and visible to the deal's owner.
#[tokio::test]
async fn files_are_seen_only_by_those_who_see_their_record() {
    use crate::emulator_common::token_for;
    let emulator = demo_emulator().await;
    let admin = Client::for_org(&emulator, 0);
    let proposal = admin
        .query("SELECT Id, FirstPublishLocationId, OwnerId FROM ContentVersion WHERE Title = 'Proposal'")
        .await;
    let proposal = proposal.body["records"][0].clone();
    let version = proposal["Id"]
        .as_str()
        .expect("the demo's proposal")
        .to_string();
    let deal = proposal["FirstPublishLocationId"]
        .as_str()
        .expect("on a deal")
        .to_string();
    let owner = proposal["OwnerId"].as_str().expect("an owner").to_string();
    assert!(deal.starts_with("006"), "{deal}");

    // A sales rep who cannot see the deal.
    let reps = admin
        .query(&format!(
            "SELECT Id FROM User WHERE Profile.Name = 'Sales User' AND Id != '{owner}' AND IsActive = true"
        ))
        .await;
    let mut outsider = None;
    for rep in reps.body["records"].as_array().expect("reps") {
        let rep = rep["Id"].as_str().expect("id").to_string();
        let as_rep = Client::new(&emulator, &token_for(&emulator, 0, &rep));
        let sees = as_rep
            .query(&format!("SELECT Id FROM Opportunity WHERE Id = '{deal}'"))
            .await;
        if sees.body["totalSize"] == json!(0) {
            outsider = Some((rep, as_rep));
            break;
        }
    }
    let (rep, as_rep) = outsider.expect("a rep who cannot see the deal");
    let links = format!("SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '{deal}'");
    assert_eq!(admin.query(&links).await.body["totalSize"], json!(1));
    assert_eq!(as_rep.query(&links).await.body["totalSize"], json!(0));
    let versions = "SELECT Id FROM ContentVersion WHERE Title = 'Proposal'";
    assert_eq!(as_rep.query(versions).await.body["totalSize"], json!(0));
    let blob = format!("/sobjects/ContentVersion/{version}/VersionData");
    assert_eq!(as_rep.get(&blob).await.status, StatusCode::NOT_FOUND);
    // The case's files are the rep's to see: cases are shared with everyone in the demo.
    let case = demo_case(&admin).await;
    let case_links = format!("SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '{case}'");
    assert_eq!(as_rep.query(&case_links).await.body["totalSize"], json!(4));
    // The deal's owner sees the file.
    let as_owner = Client::new(&emulator, &token_for(&emulator, 0, &owner));
    assert_eq!(as_owner.query(versions).await.body["totalSize"], json!(1));
    assert_eq!(as_owner.get(&blob).await.status, StatusCode::OK);

    // Through record_files, connected as the rep: nothing of the deal's files.
    let env = vec![
        ("SF_INSTANCE_URL", emulator.orgs[0].instance_url.clone()),
        ("SF_ACCESS_TOKEN", token_for(&emulator, 0, &rep)),
    ];
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "record_files", json!({"id": deal})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(structured(&answer)["files"], json!([]));
    assert!(!text(&answer).contains("Proposal"), "{}", text(&answer));
    stop(client, stderr).await;
}

/// A content that cannot be read (the org fails that one request) leaves the listing and
/// says so; once the org answers again, the same call reads it.
#[tokio::test]
async fn a_content_the_org_fails_to_serve_is_said_and_the_rest_stands() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let case = demo_case(&rest).await;
    let expected = expected_files(&rest, &case).await;
    let csv = version_of(&expected, "CSV").to_string();
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let faults = format!("{}/__emulator/faults", emulator.base_url);
    let http = reqwest::Client::new();
    let added = http
        .post(&faults)
        .json(
            &json!({"path_regex": format!("{csv}/VersionData$"), "status": 503,
            "body": [{"errorCode": "SERVER_UNAVAILABLE", "message": "down for maintenance"}]}),
        )
        .send()
        .await
        .expect("fault");
    assert_eq!(added.status().as_u16(), 201);
    let answer = call(&client, "record_files", json!({"id": case})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    assert_eq!(rows_without_urls(&shown), expected_rows(&expected));
    let read: Vec<&Value> = shown["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|c| &c["version"])
        .collect();
    assert!(!read.contains(&&json!(csv)), "{read:?}");
    assert_eq!(read.len(), 2, "the log and the note still read");
    let words = text(&answer);
    assert!(words.contains("File 2 content not read"), "{words}");
    assert!(words.contains("down for maintenance"), "{words}");

    let cleared = http
        .post(format!("{faults}/clear"))
        .send()
        .await
        .expect("clear");
    assert!(cleared.status().is_success());
    let again = call(&client, "record_files", json!({"id": case})).await;
    assert!(!is_error(&again), "{}", text(&again));
    assert_eq!(
        structured(&again)["contents"]
            .as_array()
            .expect("contents")
            .len(),
        3
    );
    stop(client, stderr).await;
}
