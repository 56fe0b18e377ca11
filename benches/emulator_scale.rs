//! Building the demo org at benchmark scale: `--scale 834` gives 50,000+ users with their
//! profile assignments, OAuth grants, login history, 90 days of audit trail and the five IdP
//! directories. Goal (issue 3): under 5 s in release.
//!
//! `cargo bench --bench emulator_scale`. Prints the build time and the row counts, then
//! times the live audit's OAuth read (`OauthToken WHERE UserId IN (200 ids)` for every
//! partition of users) scanning the table (as before the lookup index served it) and through
//! the engine's index ([`sfmcp_emulator::engine::Narrowed`]), and checks both answer the
//! same rows. `SFMCP_BENCH_SCALE` overrides the scale (a quick run: 100).
//!
//! Measured 2026-11-22 (release, 2 cores shared with a concurrent release build, load ~26):
//! 50,056 users, 55,061 IdP people, 59,383 permission set assignments, 68,549 OAuth grants,
//! 150,126 audit-trail rows, 96,903 logins in 5.73 s: the goal is not yet met on a busy
//! machine; the audit-trail and login rows (two thirds of the inserts) are the place to cut.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use sfmcp_emulator::OrgSource;
use sfmcp_emulator::engine::Narrowed;
use sfmcp_emulator::idp::IdpServer;
use sfmcp_emulator::org::View;
use sfmcp_emulator::seed;
use sfmcp_soql::eval::{EvalContext, evaluate};

const SCALE: u32 = 834;
const GOAL_SECS: f64 = 5.0;

fn main() {
    let scale = std::env::var("SFMCP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SCALE);
    let started = Instant::now();
    let org = seed::build(0, &OrgSource::Demo { scale }).expect("demo org builds");
    let elapsed = started.elapsed();
    let tables = org.snapshot();
    let count = |object: &str| {
        org.schema
            .index_of(object)
            .map_or(0, |i| tables.table(i).rows.len())
    };
    let people = IdpServer::shared().people().len();
    println!(
        "demo org --scale {scale}: {} users, {} IdP people, {} permission set assignments, \
         {} OAuth grants, {} audit-trail rows, {} logins, built in {:.2?}",
        count("User"),
        people,
        count("PermissionSetAssignment"),
        count("OauthToken"),
        count("SetupAuditTrail"),
        count("LoginHistory"),
        elapsed
    );
    if scale == SCALE {
        assert!(
            count("User") >= 50_000,
            "the scale no longer reaches 50,000 users"
        );
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "goal: under {GOAL_SECS} s: {}",
        if secs < GOAL_SECS { "met" } else { "MISSED" }
    );
    oauth_partitions(&org, &tables);
}

/// The audit's partitioned OauthToken read, as `crates/audit/src/collect/salesforce.rs`
/// sends it (200 user ids a query), scanned and indexed.
fn oauth_partitions(org: &sfmcp_emulator::org::Org, tables: &sfmcp_emulator::store::Tables) {
    let access = org
        .access(tables, &org.default_user)
        .expect("the default user");
    let view = View {
        org,
        tables,
        access: &access,
        all_rows: false,
    };
    let users = org.schema.index_of("User").expect("User");
    let ids: Vec<&str> = tables.table(users).rows.iter().map(|r| r.id()).collect();
    let queries: Vec<sfmcp_soql::Query> = ids
        .chunks(200)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
            let soql = format!(
                "SELECT AppName, UserId, UseCount, LastUsedDate, CreatedDate FROM OauthToken \
                 WHERE UserId IN ({})",
                list.join(", ")
            );
            sfmcp_soql::parse(&soql).expect("the audit's query parses")
        })
        .collect();
    let ctx = EvalContext::default();
    let started = Instant::now();
    let mut scanned = 0;
    for query in &queries {
        scanned += evaluate(query, &view, &ctx).expect("evaluates").total_size;
    }
    let scan_time = started.elapsed();
    let started = Instant::now();
    let mut indexed = 0;
    for query in &queries {
        let source = Narrowed::new(&view, query);
        assert!(source.candidates().is_some(), "the index serves the query");
        indexed += evaluate(query, &source, &ctx)
            .expect("evaluates")
            .total_size;
    }
    let index_time = started.elapsed();
    assert_eq!(scanned, indexed, "the index answers what the scan answers");
    println!(
        "OauthToken WHERE UserId IN (200 ids), {} partitions, {indexed} rows: \
         scan {scan_time:.2?}, index {index_time:.2?}",
        queries.len()
    );
}
