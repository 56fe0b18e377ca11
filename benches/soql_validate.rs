//! Validation speed: a typical 300-character query against the recorded, indexed describes.
//! Target (issue 2): under 20 µs per validation, release build.
//!
//! Run: `cargo bench --bench soql_validate`. Plain timing loop (no harness): the median of
//! many batches, so a busy shared machine skews it less than a single long run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sfmcp_soql::parse;
use sfmcp_soql::schema::StaticSchema;
use sfmcp_soql::validate::validate;

const QUERY: &str = "SELECT Id, Name, StageName, Amount, CloseDate, Account.Name, Account.Parent.Name, \
    (SELECT Contact.Name, Role, IsPrimary FROM OpportunityContactRoles WHERE IsPrimary = true) \
    FROM Opportunity WHERE StageName IN ('Prospecting', 'Qualification') AND CloseDate = THIS_QUARTER \
    AND Amount > 10000 AND Account.Name LIKE 'Acme%' ORDER BY CloseDate DESC NULLS LAST LIMIT 50";

const BATCHES: usize = 200;
const PER_BATCH: usize = 500;

fn main() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/cumulusci");
    let bodies: Vec<String> = [
        "account",
        "contact",
        "opportunity",
        "opportunitycontactrole",
    ]
    .iter()
    .map(|name| {
        std::fs::read_to_string(format!("{fixtures}/describe-{name}.json"))
            .unwrap_or_else(|e| panic!("describe-{name}.json: {e}"))
    })
    .collect();
    let schema = StaticSchema::from_describes(bodies.iter().map(String::as_str))
        .unwrap_or_else(|e| panic!("describes: {e}"));
    let query = parse(QUERY).unwrap_or_else(|e| panic!("{}", e.render(QUERY)));
    if let Err(e) = validate(&query, &schema) {
        panic!("the benchmark query must validate: {e}");
    }

    let validate_only = median_per_call(|| {
        black_box(validate(black_box(&query), &schema)).ok();
    });
    let parse_and_validate = median_per_call(|| {
        if let Ok(query) = parse(black_box(QUERY)) {
            black_box(validate(&query, &schema)).ok();
        }
    });
    println!("query: {} characters", QUERY.chars().count());
    println!(
        "validate:          {:>8.2} µs (target < 20 µs)",
        micros(validate_only)
    );
    println!("parse + validate:  {:>8.2} µs", micros(parse_and_validate));
}

fn median_per_call(mut run: impl FnMut()) -> Duration {
    for _ in 0..PER_BATCH {
        run();
    }
    let mut batches: Vec<Duration> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..PER_BATCH {
                run();
            }
            start.elapsed() / PER_BATCH as u32
        })
        .collect();
    batches.sort();
    batches[BATCHES / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
