//! The guarantee, checked against the evaluator: over random queries, records and policies,
//!
//! - the footprint is sound: every object and field the evaluator reads while answering a
//!   query is in its footprint (the org records each read);
//! - so a query the policy allows reads no row of a disallowed object and no value of a
//!   denied field, to return it or to filter, sort, group or aggregate on it;
//! - and a refusal names something the footprint really holds.
//!
//! The seed is fixed, so CI runs the same cases every time (`tools/soak-properties` runs
//! more, at random seeds); a failure is kept in `proptest-regressions/` and replayed first.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use super::*;
use crate::eval::{Cell, EvalContext, QueryResult, RecordKind, evaluate};
use crate::test_support::{RecordingOrg, Tape, case, random_query};
use crate::validate::validate;

/// Cases per run: enough to meet every shape many times, few enough to run in a second or two.
const CASES: u32 = 384;

fn config() -> Config {
    crate::test_support::guarantee_config(CASES, 0x5f_ac_c3_55)
}

fn in_footprint(footprint: &Footprint, object: &str, field: &str) -> bool {
    footprint
        .fields
        .iter()
        .any(|u| u.object.eq_ignore_ascii_case(object) && u.field.eq_ignore_ascii_case(field))
}

/// The object types of every record in a result, nested ones included.
fn record_objects<R>(result: &QueryResult<'_, R>, out: &mut BTreeSet<String>) {
    for record in &result.records {
        collect(record, out);
    }
}

fn collect<R>(record: &crate::eval::Record<'_, R>, out: &mut BTreeSet<String>) {
    if let RecordKind::SObject { object, .. } = &record.kind {
        out.insert(object.to_string());
    }
    for field in &record.fields {
        match &field.value {
            Cell::Value(_) => {}
            Cell::Parent(Some(parent)) => collect(parent, out),
            Cell::Parent(None) => {}
            Cell::Children(children) => record_objects(children, out),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn allowed_queries_read_nothing_the_policy_forbids((text, org, policy) in case()) {
        let query = crate::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        if let Err(error) = validate(&query, &org) {
            return Err(TestCaseError::fail(format!("generated an invalid query: {text}: {error}")));
        }
        let used = footprint(&query, &org)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let result = evaluate(&query, &org, &EvalContext::default())
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;

        for (object, field) in org.fields_read() {
            prop_assert!(
                in_footprint(&used, &object, &field),
                "{text}: the evaluator read {object}.{field}, which the footprint lacks: {used:#?}"
            );
        }
        for object in org.objects_read() {
            prop_assert!(
                used.objects.iter().any(|u| u.object.eq_ignore_ascii_case(&object)),
                "{text}: the evaluator read {object} rows, which the footprint lacks: {used:#?}"
            );
        }

        match policy.check(&used) {
            Ok(()) => {
                for (object, field) in org.fields_read() {
                    prop_assert!(
                        !policy.is_field_denied(&object, &field),
                        "{text} allowed under {policy}, yet it read {object}.{field}"
                    );
                    prop_assert!(
                        policy.is_object_allowed(&object),
                        "{text} allowed under {policy}, yet it read {object}"
                    );
                }
                let mut returned = BTreeSet::new();
                record_objects(&result, &mut returned);
                for object in returned {
                    prop_assert!(
                        policy.is_object_allowed(&object),
                        "{text} allowed under {policy}, yet it returned {object} records"
                    );
                }
            }
            Err(refusal) => {
                prop_assert!(!refusal.reasons.is_empty());
                let forbidden = used.objects.iter().any(|u| !policy.is_object_allowed(&u.object))
                    || used.fields.iter().any(|u| policy.is_field_denied(&u.object, &u.field));
                prop_assert!(forbidden, "{text} refused under {policy} for nothing: {refusal}");
            }
        }
    }
}

/// The generator is not vacuous: over the same fixed seed, every shape the property is about
/// comes up, and the policies both allow and refuse.
#[test]
fn the_generator_covers_every_shape() {
    let mut runner = TestRunner::new(config());
    let strategy = case();
    let (mut allowed, mut refused) = (0, 0);
    let mut texts = Vec::new();
    for _ in 0..CASES {
        let tree = strategy.new_tree(&mut runner);
        let Ok(tree) = tree else {
            panic!("the strategy makes a value");
        };
        let (text, org, policy) = tree.current();
        let Ok(query) = crate::parse(&text) else {
            panic!("{text} parses");
        };
        let Ok(used) = footprint(&query, &org) else {
            panic!("{text} resolves");
        };
        match policy.check(&used) {
            Ok(()) => allowed += 1,
            Err(_) => refused += 1,
        }
        texts.push(text);
    }
    assert!(allowed >= CASES / 10, "only {allowed} allowed");
    assert!(refused >= CASES / 10, "only {refused} refused");
    for shape in [
        "(SELECT ",
        " IN (SELECT ",
        " NOT IN (SELECT ",
        "TYPEOF What",
        "ELSE Name",
        "FIELDS(STANDARD)",
        "COUNT()",
        "GROUP BY",
        "HAVING",
        "ORDER BY",
        "SUM(",
        "MAX(",
        "What.",
        "Owner.",
        " LIKE ",
        "toLabel(",
        "CALENDAR_YEAR(",
    ] {
        let count = texts.iter().filter(|t| t.contains(shape)).count();
        assert!(count >= 3, "{shape} came up {count} times");
    }
    // Parent paths two hops deep.
    assert!(texts.iter().any(|t| {
        t.split([' ', ',', '(', ')'])
            .any(|w| w.matches('.').count() >= 2)
    }));
}

#[test]
fn a_tape_makes_the_same_query_every_time() {
    let tape = || Tape::new((0..64).map(|n| n * 7919 + 13).collect());
    assert_eq!(random_query(&mut tape()), random_query(&mut tape()));
    let _ = RecordingOrg::empty();
}
