//! Emulator speed: building a scaled demo org, small queries per second over one keep-alive
//! connection on a single-threaded runtime (client and server share one core), and the
//! server time of a 2,000-row page (from the request log).
//!
//! `cargo bench --bench emulator` (release). Bounded: a fixed number of requests.
//!
//! 2026-11-22, 2 cores, load average about 2, two runs: 50,056 users (scale 834, identity
//! data and IdP directories included) built in 2.20-2.32 s (goal < 5 s); 9,433-10,142 small
//! queries/s on one core (goal 5,000); 2,000-row page median 3.54-3.60 ms of server time, max
//! 5.9 ms (goal < 5 ms: met). Earlier the same day: 9.0 ms; what changed is in the log (Fx
//! field lookups, values borrowed from the store instead of copied per cell, no allocation
//! per record URL).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use sfmcp_emulator::{Emulator, EmulatorConfig, OrgSource};

const SMALL_QUERIES: usize = 5_000;
const PAGE_QUERIES: usize = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for scale in [1u32, 834] {
            let started = Instant::now();
            let handle = Emulator::start(EmulatorConfig {
                orgs: vec![OrgSource::Demo { scale }],
                ..EmulatorConfig::default()
            })
            .await
            .expect("emulator");
            let users = handle.state().orgs[0]
                .snapshot()
                .table(handle.state().orgs[0].schema.index_of("User").expect("User"))
                .rows
                .len();
            println!("demo org, --scale {scale}: {users} users built in {:.2?}", started.elapsed());
            handle.shutdown().await;
        }

        let handle = Emulator::start(EmulatorConfig {
            daily_api_limit: u64::MAX,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let org = &handle.orgs[0];
        let http = reqwest::Client::new();
        let url = format!("{}/services/data/v62.0/query", handle.base_url);
        let small = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' LIMIT 5";
        // Warm up the connection and caches.
        for _ in 0..50 {
            http.get(&url).query(&[("q", small)]).bearer_auth(&org.access_token).send().await.expect("query");
        }
        let started = Instant::now();
        for _ in 0..SMALL_QUERIES {
            let reply = http.get(&url).query(&[("q", small)]).bearer_auth(&org.access_token).send().await.expect("query");
            assert!(reply.status().is_success());
            reply.bytes().await.expect("body");
        }
        let elapsed = started.elapsed();
        println!(
            "{SMALL_QUERIES} small queries over one connection, one core: {:.2?} ({:.0} queries/s)",
            elapsed,
            SMALL_QUERIES as f64 / elapsed.as_secs_f64()
        );

        let page = "SELECT Id, FirstName, LastName, Email, Phone, Title, AccountId, Account.Name, CreatedDate FROM Contact LIMIT 2000";
        for _ in 0..PAGE_QUERIES {
            let reply = http.get(&url).query(&[("q", page)]).bearer_auth(&org.access_token).send().await.expect("page");
            assert!(reply.status().is_success());
            reply.bytes().await.expect("body");
        }
        let log: serde_json::Value = http
            .get(format!("{}/__emulator/requests", handle.base_url))
            .send()
            .await
            .expect("log")
            .json()
            .await
            .expect("json");
        let mut times: Vec<f64> = log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .rev()
            .take(PAGE_QUERIES)
            .filter_map(|e| e["millis"].as_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "2,000-row page, server time over {PAGE_QUERIES} runs: median {:.2} ms, max {:.2} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
        handle.shutdown().await;
    });
}
