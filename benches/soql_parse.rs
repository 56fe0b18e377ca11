//! How long the SOQL parser takes on a typical 300-character query (target: under 20 µs in
//! a release build). Run with `cargo bench --bench soql_parse`; `cargo test` and nextest
//! only check that the query parses.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sfmcp_soql::parse;

const TYPICAL: &str = "SELECT Id, Name, Account.Name, Owner.Email, Amount, CloseDate, StageName, \
    (SELECT Id, Quantity, UnitPrice FROM OpportunityLineItems WHERE Quantity > 1) \
    FROM Opportunity WHERE StageName IN ('Prospecting', 'Closed Won') AND CloseDate >= \
    LAST_N_DAYS:90 AND (Amount > 10000 OR Account.Industry LIKE 'Tech%') \
    ORDER BY CloseDate DESC NULLS LAST LIMIT 200";

const TARGET: Duration = Duration::from_micros(20);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo nextest run --all-targets` lists tests with `--list`: this binary has none.
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let length = TYPICAL.chars().count();
    if let Err(error) = parse(TYPICAL) {
        eprintln!(
            "the benchmark query does not parse: {}",
            error.render(TYPICAL)
        );
        std::process::exit(1);
    }
    // Only `cargo bench` passes `--bench`; under `cargo test` one parse is the whole check.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    // Warm up, then take the median of batches so one noisy neighbour cannot skew it.
    for _ in 0..2_000 {
        black_box(parse(black_box(TYPICAL)).ok());
    }
    const BATCH: u32 = 2_000;
    let mut per_parse: Vec<Duration> = (0..25)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(parse(black_box(TYPICAL)).ok());
            }
            start.elapsed() / BATCH
        })
        .collect();
    per_parse.sort();
    let median = per_parse[per_parse.len() / 2];
    let best = per_parse[0];
    let verdict = if median < TARGET { "within" } else { "OVER" };
    println!(
        "soql parse, {length}-character query: median {median:?}, best {best:?} per parse \
         ({verdict} the {TARGET:?} target)"
    );
}
