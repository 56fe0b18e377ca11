//! The demo org's field history: every third opportunity walked through the stages before
//! its current one (with the probability and forecast category each stage implies, and now
//! and then an amount revised), and every fourth case moved through its statuses. Each
//! history starts with its `created` row; the record's `CreatedDate` is moved back to it so
//! the two agree. Runs last, with its own generator, so the rest of the demo is unchanged.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::Rng;
use crate::history::{self, CREATED, Change};
use crate::objects::{OPPORTUNITY_STAGES, OpportunityStage, opportunity_stage};
use crate::schema::ObjectDef;
use crate::seed::OrgBuilder;
use sfmcp_soql::data::Value;

/// Opportunities with history: one in this many.
const OPPORTUNITY_STRIDE: usize = 3;
/// Cases with history: one in this many.
const CASE_STRIDE: usize = 4;

pub fn seed(builder: &mut OrgBuilder) -> Result<(), String> {
    let mut rng = Rng::new(0x4157_0e11_d15c_0001);
    opportunities(builder, &mut rng)?;
    cases(builder, &mut rng)
}

/// A history's rows in order: each change set with when and by whom.
type Steps = Vec<(DateTime<Utc>, String, Vec<Change>)>;

fn change(field: &str, data_type: &'static str, old: Value, new: Value) -> Change {
    Change {
        field: field.into(),
        data_type: Some(data_type),
        old,
        new,
    }
}

fn created() -> Change {
    Change {
        field: CREATED.into(),
        data_type: None,
        old: Value::Null,
        new: Value::Null,
    }
}

fn text(value: &str) -> Value {
    Value::String(value.into())
}

fn stage_step(from: &OpportunityStage, to: &OpportunityStage) -> Vec<Change> {
    let mut changes = vec![change(
        "StageName",
        "Picklist",
        text(from.name),
        text(to.name),
    )];
    if from.probability != to.probability {
        changes.push(change(
            "Probability",
            "Percent",
            Value::Double(f64::from(from.probability)),
            Value::Double(f64::from(to.probability)),
        ));
    }
    if from.forecast_category_name != to.forecast_category_name {
        changes.push(change(
            "ForecastCategoryName",
            "Picklist",
            text(from.forecast_category_name),
            text(to.forecast_category_name),
        ));
    }
    changes
}

fn opportunities(builder: &mut OrgBuilder, rng: &mut Rng) -> Result<(), String> {
    let (index, def) = object(builder, "Opportunity")?;
    let field = |name: &str| def.field_index(name).ok_or(format!("Opportunity.{name}"));
    let (stage, amount, owner, created_date) = (
        field("StageName")?,
        field("Amount")?,
        field("OwnerId")?,
        field("CreatedDate")?,
    );
    let rows: Vec<(u32, Vec<Value>)> = builder
        .tables
        .table(index)
        .rows
        .iter()
        .enumerate()
        .step_by(OPPORTUNITY_STRIDE)
        .map(|(row, record)| (row as u32, record.values.clone()))
        .collect();
    let admin = builder.actor.clone();
    for (row, values) in rows {
        let Some(current) = values[stage].as_str().and_then(opportunity_stage) else {
            continue;
        };
        let by = values[owner].as_str().unwrap_or(&admin).to_string();
        // The open stages before the current one, from the first.
        let position = OPPORTUNITY_STAGES
            .iter()
            .position(|s| s.name == current.name)
            .unwrap_or(0);
        let reached = if current.closed {
            1 + rng.below(OPPORTUNITY_STAGES.len() - 2)
        } else {
            position
        };
        let mut path: Vec<&OpportunityStage> =
            OPPORTUNITY_STAGES[..reached.max(1)].iter().collect();
        if path.last().map(|s| s.name) != Some(current.name) {
            path.push(current);
        }
        let start = builder.now - Duration::days(20 + rng.below(70) as i64);
        let mut at = start;
        let mut steps: Steps = vec![(at, by.clone(), vec![created()])];
        for pair in path.windows(2) {
            at += Duration::hours(6 + rng.below(96) as i64);
            steps.push((at, by.clone(), stage_step(pair[0], pair[1])));
        }
        if let Value::Double(now_amount) = values[amount]
            && rng.chance(40)
        {
            at += Duration::hours(2 + rng.below(48) as i64);
            // Some revisions are the admin's, so a history names more than one person.
            let who = if rng.chance(30) {
                admin.clone()
            } else {
                by.clone()
            };
            let earlier = (now_amount * 0.8 / 100.0).round() * 100.0;
            steps.push((
                at,
                who,
                vec![change(
                    "Amount",
                    "Currency",
                    Value::Double(earlier),
                    Value::Double(now_amount),
                )],
            ));
        }
        write(builder, &def, index, row, created_date, start, steps);
    }
    Ok(())
}

fn cases(builder: &mut OrgBuilder, rng: &mut Rng) -> Result<(), String> {
    const PATH: [&str; 4] = ["New", "Working", "Escalated", "Closed"];
    let (index, def) = object(builder, "Case")?;
    let field = |name: &str| def.field_index(name).ok_or(format!("Case.{name}"));
    let (status, owner, created_date) =
        (field("Status")?, field("OwnerId")?, field("CreatedDate")?);
    let rows: Vec<(u32, Vec<Value>)> = builder
        .tables
        .table(index)
        .rows
        .iter()
        .enumerate()
        .step_by(CASE_STRIDE)
        .map(|(row, record)| (row as u32, record.values.clone()))
        .collect();
    let admin = builder.actor.clone();
    for (row, values) in rows {
        let Some(reached) = values[status]
            .as_str()
            .and_then(|s| PATH.iter().position(|p| *p == s))
        else {
            continue;
        };
        let Value::DateTime(start) = values[created_date] else {
            continue;
        };
        let by = values[owner].as_str().unwrap_or(&admin).to_string();
        let mut at = start;
        let mut steps: Steps = vec![(at, by.clone(), vec![created()])];
        // Escalation is skipped by most cases that close.
        let path: Vec<&str> = PATH[..=reached]
            .iter()
            .copied()
            .filter(|s| *s != "Escalated" || reached == 2 || rng.chance(25))
            .collect();
        let room = (builder.now - start).num_minutes().max(1) as usize;
        for pair in path.windows(2) {
            at += Duration::minutes(1 + rng.below(room / (path.len() + 1)).max(1) as i64);
            steps.push((
                at,
                by.clone(),
                vec![change("Status", "Picklist", text(pair[0]), text(pair[1]))],
            ));
        }
        write(builder, &def, index, row, created_date, start, steps);
    }
    Ok(())
}

fn object(builder: &OrgBuilder, name: &str) -> Result<(usize, Arc<ObjectDef>), String> {
    let index = builder
        .schema
        .index_of(name)
        .ok_or(format!("no {name} object"))?;
    Ok((index, Arc::clone(&builder.schema.objects[index])))
}

/// Appends `steps` to the record's history and dates the record's creation at `created`.
fn write(
    builder: &mut OrgBuilder,
    def: &ObjectDef,
    index: usize,
    row: u32,
    created_date: usize,
    created: DateTime<Utc>,
    steps: Steps,
) {
    let schema = Arc::clone(&builder.schema);
    let Some(id) = builder
        .tables
        .table(index)
        .rows
        .get(row as usize)
        .map(|r| r.id().to_string())
    else {
        return;
    };
    let last = steps.last().map(|(at, _, _)| *at);
    let next_id = &mut builder.next_id;
    for (at, by, changes) in steps {
        history::append(
            &schema,
            &mut builder.tables,
            def,
            &id,
            changes,
            history::Made { by: &by, at },
            |d| {
                let minted = crate::ids::mint(&d.key_prefix, *next_id);
                *next_id += 1;
                minted
            },
        );
    }
    let mut dates = vec![(created_date, Value::DateTime(created))];
    // The record was last modified no earlier than its last recorded change.
    for name in ["LastModifiedDate", "SystemModstamp"] {
        if let (Some(i), Some(last)) = (def.field_index(name), last)
            && let Some(Value::DateTime(modified)) = builder
                .tables
                .table(index)
                .rows
                .get(row as usize)
                .and_then(|r| r.values.get(i))
            && *modified < last
        {
            dates.push((i, Value::DateTime(last)));
        }
    }
    let table = Arc::make_mut(&mut builder.tables.tables[index]);
    table.update(def, row, dates);
}
