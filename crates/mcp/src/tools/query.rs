//! `soql_query`, `query_more` and `sosl_search`: queries checked before they cost an API
//! call, results paged to fit a model's context, children kept with their parents.

use std::sync::atomic::{AtomicU64, Ordering};

use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::args::Parameters;
use crate::cursor::{CURSOR_TTL_SECS, CursorState};
use crate::error::ToolError;
use crate::render::{self, with_url};
use crate::server::{Policy, SfServer};
use crate::tools::objects::resolve_object;
use sfmcp_salesforce::{
    Field, GlobalDescribe, ParameterizedSearch, QueryOptions, QueryPage, Record, RecordLinks,
    SalesforceClient, SearchObject,
};
use sfmcp_soql::access::{AccessPolicy, footprint};
use sfmcp_soql::error::ErrorCode;
use sfmcp_soql::schema::{ObjectSchema, Schema};
use sfmcp_soql::validate::{ColumnValue, QueryKind, ValidateError, Validated, validate};
use sfmcp_soql::{self as soql, ast};

/// Tooling rows' cells: a body (Apex, a formula, a flow's metadata) is shown whole up to half
/// the answer's budget, as no other tool returns it.
const TOOLING_CELLS: render::CellLimit = render::CellLimit {
    max_chars: render::MAX_TEXT_BYTES / 2,
    note: "a value ending …[+N chars] is cut at the answer's size budget: query that one row alone (WHERE Id = '...') with only the body field\n",
};

/// Validation fetches missing describes one at a time; a query names few objects.
const MAX_DESCRIBE_ROUNDS: usize = 12;
/// Salesforce's default limit on the length of a SOQL statement.
pub(crate) const MAX_SOQL_CHARS: usize = 100_000;
/// Salesforce returns no rows for SOSL search text longer than this.
const MAX_SEARCH_CHARS: usize = 10_000;
/// Child rows fetched per parent record across child-subquery pages.
const MAX_CHILD_ROWS: usize = 2_000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SoqlQueryArgs {
    pub query: String,
    /// up to 2000
    pub max_rows: Option<u32>,
    // Undescribed: the name says it, and soql_query's listing has no bytes to spare.
    pub include_deleted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryMoreArgs {
    pub cursor: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SoslSearchArgs {
    pub text: String,
    /// default: 5 core objects
    pub objects: Option<Vec<String>>,
    /// per object, default 20
    pub limit: Option<u32>,
}

/// The locator of a cursor that runs its query again (sealed, so it cannot be edited): a
/// query whose answer fit one page has no Salesforce locator to continue from. A query that
/// included deleted rows runs again through `queryAll`, as a Salesforce locator of it
/// continues on `/queryAll/`; a Tooling query through `/tooling/query`.
const RERUN: &str = "/rerun:";
const RERUN_ALL: &str = "/rerun-all:";
const RERUN_TOOLING: &str = "/rerun-tooling:";

/// Where a query runs, and so where its next rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Query,
    /// `queryAll`: deleted and archived rows included.
    QueryAll,
    /// The Tooling API's query: metadata rows, which have no Lightning record pages.
    Tooling,
}

impl Endpoint {
    fn rerun_prefix(self) -> &'static str {
        match self {
            Endpoint::Query => RERUN,
            Endpoint::QueryAll => RERUN_ALL,
            Endpoint::Tooling => RERUN_TOOLING,
        }
    }

    /// The endpoint a Salesforce locator continues on.
    fn of_locator(locator: &str) -> Endpoint {
        if locator.contains("/tooling/") {
            Endpoint::Tooling
        } else if locator.contains("/queryAll/") {
            Endpoint::QueryAll
        } else {
            Endpoint::Query
        }
    }
}

fn rerun_locator(query: &str, endpoint: Endpoint) -> String {
    format!("{}{query}", endpoint.rerun_prefix())
}

/// The query a re-run locator holds, and where it ran.
fn parse_rerun(locator: &str) -> Option<(&str, Endpoint)> {
    [Endpoint::QueryAll, Endpoint::Tooling, Endpoint::Query]
        .into_iter()
        .find_map(|endpoint| {
            locator
                .strip_prefix(endpoint.rerun_prefix())
                .map(|query| (query, endpoint))
        })
}

/// How the rows after a budget can be reached when the page holding them has no locator.
struct WayOn<'a> {
    /// A locator of this query from an earlier page (any row of it can be named).
    locator: Option<String>,
    /// The query, to run again, and where.
    query: Option<(&'a str, Endpoint)>,
}

/// What the query shape says about rendering.
struct Shape {
    object: Option<String>,
    child_relationships: Vec<String>,
    /// Where the rows come from: `queryAll` includes deleted and archived rows; Tooling rows
    /// have no record pages and may hold whole bodies.
    endpoint: Endpoint,
}

impl Shape {
    fn of(validated: &Validated, endpoint: Endpoint) -> Shape {
        Shape {
            endpoint,
            object: (validated.kind == QueryKind::Records).then(|| validated.object.clone()),
            child_relationships: validated
                .columns
                .iter()
                .filter(|c| matches!(c.value, ColumnValue::Child(_)))
                .map(|c| c.name.clone())
                .collect(),
        }
    }
}

/// Rows gathered for one answer, and where the next ones start.
struct Gathered {
    total_size: u64,
    records: Vec<Record>,
    /// A locator for the next rows, when some remain.
    next: Option<String>,
    /// Any locator of this query, which [`relocate`] can point at any of its rows.
    locator: Option<String>,
}

/// Progress for a client that asked for it (a `progressToken` on the call): one notification
/// before each further page is fetched, so single-page answers cost nothing extra.
struct Progress {
    token: Option<ProgressToken>,
    peer: Peer<RoleServer>,
    /// Rows (parents and children) fetched so far; progress must only grow.
    fetched: AtomicU64,
}

impl Progress {
    fn of(context: &RequestContext<RoleServer>) -> Progress {
        Progress {
            token: context.meta.get_progress_token(),
            peer: context.peer.clone(),
            fetched: AtomicU64::new(0),
        }
    }

    /// Counts `rows` just fetched and tells the client, `total` being what the answer will
    /// hold when it is known.
    async fn fetched(&self, rows: usize, total: Option<u64>, what: &str) {
        let fetched = self.fetched.fetch_add(rows as u64, Ordering::Relaxed) + rows as u64;
        let Some(token) = &self.token else {
            return;
        };
        let message = match total {
            Some(total) => format!("{fetched} of {total} rows fetched; fetching more {what}"),
            None => format!("{fetched} rows fetched; fetching more {what}"),
        };
        let mut param =
            ProgressNotificationParam::new(token.clone(), fetched as f64).with_message(message);
        if let Some(total) = total {
            param = param.with_total(total.max(fetched) as f64);
        }
        // A client that stopped listening is no reason to fail the query.
        let _ = self.peer.notify_progress(param).await;
    }
}

#[tool_router(router = query_router, vis = "pub(crate)")]
impl SfServer {
    /// Prechecked SOQL SELECT as the connected user; columnar rows, cursor if more
    #[tool(annotations(read_only_hint = true))]
    async fn soql_query(
        &self,
        Parameters(args): Parameters<SoqlQueryArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let text = args.query.trim();
        let length = text.chars().count();
        if length > MAX_SOQL_CHARS {
            // Refused before parsing: an error would otherwise quote the whole query back.
            return Err(ToolError::Input(format!(
                "The query is {length} characters; Salesforce accepts at most {MAX_SOQL_CHARS}. Select fewer fields, or split a long IN list over several queries."
            )));
        }
        let max_rows = self.row_budget(args.max_rows)?;
        let include_deleted = args.include_deleted.unwrap_or(false);
        self.run_checked_query(text, max_rows, include_deleted, &context)
            .await
    }

    /// Next rows for a cursor from soql_query, tooling_query or list_views.
    #[tool(annotations(read_only_hint = true))]
    async fn query_more(
        &self,
        Parameters(args): Parameters<QueryMoreArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let client = self.client(&context)?;
        let state = self.state.cursor_key.open(
            &args.cursor,
            client.tenant().as_str(),
            chrono::Utc::now().timestamp(),
        )?;
        let max_rows = state.max_rows.clamp(1, 2_000);
        let rerun = parse_rerun(&state.locator);
        let page = match rerun {
            // The answer had fit one page, so Salesforce gave no locator: run the query again
            // and skip the rows already served.
            Some((query, endpoint)) => {
                let mut page = match endpoint {
                    Endpoint::Tooling => {
                        client
                            .tooling_query_paged(query, Some(batch_size(max_rows)))
                            .await?
                    }
                    _ => {
                        client
                            .query(
                                query,
                                QueryOptions {
                                    include_deleted: endpoint == Endpoint::QueryAll,
                                    batch_size: Some(batch_size(max_rows)),
                                },
                            )
                            .await?
                    }
                };
                let served = usize::try_from(state.served).unwrap_or(usize::MAX);
                page.records.drain(..served.min(page.records.len()));
                page
            }
            None => {
                client
                    .query_more(&state.locator, Some(batch_size(max_rows)))
                    .await?
            }
        };
        let endpoint = rerun.map_or_else(|| Endpoint::of_locator(&state.locator), |(_, e)| e);
        let progress = Progress::of(&context);
        let way_on = WayOn {
            locator: rerun.is_none().then(|| state.locator.clone()),
            query: rerun,
        };
        let mut gathered = self
            .gather(&client, page, state.served, max_rows, way_on, &progress)
            .await?;
        gathered.locator.get_or_insert(state.locator);
        let shape = Shape {
            endpoint,
            object: state.object,
            child_relationships: state.child_relationships,
        };
        self.answer(&client, gathered, state.served, max_rows, shape, None)
            .await
    }

    /// Full-text search (SOSL); plain text.
    #[tool(annotations(read_only_hint = true))]
    async fn sosl_search(
        &self,
        Parameters(args): Parameters<SoslSearchArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let text = args.text.trim();
        let length = text.chars().count();
        if length > MAX_SEARCH_CHARS {
            return Err(ToolError::Input(format!(
                "The search text is {length} characters; Salesforce finds nothing for search text over {MAX_SEARCH_CHARS}. Search for a few distinctive words."
            )));
        }
        if length < 2 {
            return Err(ToolError::Input(
                "search text must have at least 2 characters".into(),
            ));
        }
        let named = args.objects.filter(|objects| !objects.is_empty());
        if named.as_ref().is_some_and(|o| o.len() > MAX_SEARCH_OBJECTS) {
            return Err(ToolError::Input(format!(
                "search at most {MAX_SEARCH_OBJECTS} objects at once; split the search"
            )));
        }
        // Every named object is checked against the allow-list before any request.
        for object in named.iter().flatten() {
            self.allowed_object(object.trim())?;
        }
        let client = self.client(&context)?;
        let plan = self.plan_search(&client, named.as_deref()).await?;
        let limits = SearchLimits::new(args.limit, plan.len());
        let search = ParameterizedSearch {
            text: text.to_string(),
            objects: plan
                .iter()
                .map(|object| SearchObject {
                    name: object.name.clone(),
                    fields: object.fields.clone(),
                    // One more than is shown: whether it comes back says if there are more.
                    limit: Some(limits.per_object + 1),
                })
                .collect(),
            overall_limit: Some(limits.requested_total()),
        };
        let found = client.parameterized_search(&search).await?;
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let answer = SearchAnswer::sort(&plan, limits.per_object, found.search_records, |o, f| {
            self.policy().is_field_denied(o, f)
        });
        Ok(answer.render(&limits, &links))
    }
}

/// Searched when a call names no objects and the operator allows every object.
const DEFAULT_SEARCH_OBJECTS: [&str; 5] = ["Account", "Contact", "Lead", "Opportunity", "Case"];
/// Objects one search names at most.
const MAX_SEARCH_OBJECTS: usize = 20;
/// Salesforce returns at most 2,000 search results in all (SOSL reference, LIMIT).
const MAX_SEARCH_RESULTS: u32 = 2_000;
/// Records per object unless the call asks otherwise, and at most.
const DEFAULT_SEARCH_LIMIT: u32 = 20;
const MAX_SEARCH_LIMIT: u32 = 200;

/// The objects a search names, as `global` spells them. Without named objects: the allowed
/// objects, else the five core ones, so a search never looks at an object the operator
/// refuses. A named object that is refused, unknown (with "did you mean") or not searchable
/// fails the search; a default the org lacks is left out.
fn search_targets(
    policy: &Policy,
    named: Option<&[String]>,
    global: &GlobalDescribe,
    names: &dyn Schema,
) -> Result<Vec<String>, ToolError> {
    let defaults: Vec<String> = if policy.allow_objects.is_empty() {
        DEFAULT_SEARCH_OBJECTS
            .iter()
            .map(|o| o.to_string())
            .collect()
    } else {
        policy.allow_objects.clone()
    };
    let explicit = named.is_some();
    let mut targets: Vec<String> = Vec::new();
    for typed in named.unwrap_or(&defaults) {
        let name = match resolve_object(policy, global, names, typed) {
            Ok(name) => name,
            Err(error) if explicit => return Err(error),
            Err(_) => continue,
        };
        if targets.contains(&name) {
            continue;
        }
        if !global
            .sobjects
            .iter()
            .any(|o| o.name == name && o.searchable)
        {
            if explicit {
                return Err(ToolError::Input(format!(
                    "{name} cannot be searched; find its records with soql_query"
                )));
            }
            continue;
        }
        targets.push(name);
    }
    if targets.is_empty() {
        return Err(ToolError::Input(
            "none of the objects to search exists or can be searched here; name them in objects (list_objects shows them)".into(),
        ));
    }
    Ok(targets)
}

/// The fields a search asks for on `schema`'s object: the Id and the name fields the
/// operator does not deny. Salesforce returns only these, so no denied value can come back.
fn search_fields(policy: &Policy, schema: &ObjectSchema) -> Result<Vec<String>, ToolError> {
    let name = &schema.name;
    if policy.is_field_denied(name, "Id") {
        return Err(ToolError::Denied(format!(
            "{name}.Id is denied by the operator (--deny-fields), and every search result carries its Id; leave {name} out of objects"
        )));
    }
    let mut fields = vec!["Id".to_string()];
    fields.extend(
        schema
            .fields
            .iter()
            .filter(|f| f.name_field && !policy.is_field_denied(name, &f.name))
            .map(|f| f.name.clone()),
    );
    Ok(fields)
}

/// One object a search returns, and the fields it asks for: the Id and the name fields the
/// operator does not deny.
struct SearchedObject {
    name: String,
    fields: Vec<String>,
}

/// The limits a search uses, said in its answer.
struct SearchLimits {
    /// What the call asked for per object.
    asked: u32,
    /// What each object gets: `asked`, unless the objects together would pass Salesforce's
    /// 2,000 (one record each is spent finding out whether there are more).
    per_object: u32,
    objects: u32,
}

impl SearchLimits {
    fn new(asked: Option<u32>, objects: usize) -> SearchLimits {
        let asked = asked
            .unwrap_or(DEFAULT_SEARCH_LIMIT)
            .clamp(1, MAX_SEARCH_LIMIT);
        let objects = u32::try_from(objects.max(1)).unwrap_or(u32::MAX);
        let per_object = asked.min((MAX_SEARCH_RESULTS / objects).saturating_sub(1).max(1));
        SearchLimits {
            asked,
            per_object,
            objects,
        }
    }

    fn requested_total(&self) -> u32 {
        ((self.per_object + 1) * self.objects).min(MAX_SEARCH_RESULTS)
    }
}

/// A search's records, object by object, and which objects had more.
struct SearchAnswer {
    objects: Vec<(String, Vec<Record>, bool)>,
}

impl SearchAnswer {
    /// Groups `records` by the object each belongs to, keeps `per_object` of each, and notes
    /// which had more. A record of an object not searched, or a denied field, is dropped:
    /// the request never asked for either.
    fn sort(
        plan: &[SearchedObject],
        per_object: u32,
        records: Vec<Record>,
        denied: impl Fn(&str, &str) -> bool,
    ) -> SearchAnswer {
        let mut objects: Vec<(String, Vec<Record>, bool)> = plan
            .iter()
            .map(|o| (o.name.clone(), Vec::new(), false))
            .collect();
        for mut record in records {
            let Some(object) = record.object().map(str::to_string) else {
                continue;
            };
            let Some((name, rows, more)) = objects
                .iter_mut()
                .find(|(name, _, _)| name.eq_ignore_ascii_case(&object))
            else {
                continue;
            };
            record.retain(|field, _| !denied(name, field));
            if rows.len() < per_object as usize {
                rows.push(record);
            } else {
                *more = true;
            }
        }
        SearchAnswer { objects }
    }

    fn render(self, limits: &SearchLimits, links: &RecordLinks) -> CallToolResult {
        let shown: usize = self.objects.iter().map(|(_, rows, _)| rows.len()).sum();
        let counts: Vec<String> = self
            .objects
            .iter()
            .map(|(name, rows, more)| {
                format!("{name} {}{}", rows.len(), if *more { "+" } else { "" })
            })
            .collect();
        let with_more: Vec<String> = self
            .objects
            .iter()
            .filter(|(_, _, more)| *more)
            .map(|(name, _, _)| name.clone())
            .collect();
        let mut text = format!(
            "{shown} records found (up to {} per object): {}\n",
            limits.per_object,
            counts.join(", ")
        );
        if limits.per_object < limits.asked {
            // The objects together would pass Salesforce's 2,000: said, not hidden.
            text.push_str(&format!(
                "{} objects share Salesforce's {MAX_SEARCH_RESULTS} results, so each got {} rather than {}.\n",
                limits.objects, limits.per_object, limits.asked
            ));
        }
        if !with_more.is_empty() {
            let how = if limits.per_object < MAX_SEARCH_LIMIT && limits.objects > 1 {
                format!(
                    "search them alone with a higher limit (up to {MAX_SEARCH_LIMIT}): objects {}",
                    serde_json::to_string(&with_more).unwrap_or_default()
                )
            } else if limits.per_object < MAX_SEARCH_LIMIT {
                format!("search again with a higher limit (up to {MAX_SEARCH_LIMIT})")
            } else {
                "search for more specific text".to_string()
            };
            text.push_str(&format!(
                "Not complete: {} had more matches than the {} shown. To see them, {how}; or list every match with soql_query and a WHERE clause.\n",
                with_more.join(", "),
                limits.per_object
            ));
        }
        let mut records = Vec::new();
        let mut summary = Vec::new();
        for (object, rows, more) in self.objects {
            summary.push(render::object([
                ("object", object.clone().into()),
                ("returned", rows.len().into()),
                ("more", more.into()),
            ]));
            if rows.is_empty() {
                continue;
            }
            text.push_str(&format!("{object}:\n"));
            let table = render::table(&rows, &[], render::MAX_TEXT_BYTES / 4);
            text.push_str(&table.text);
            if table.rows_shown < rows.len() {
                text.push_str(&format!(
                    "…{} more {object} rows not shown as text; search for fewer objects or pass a smaller limit\n",
                    rows.len() - table.rows_shown
                ));
            }
            records.extend(rows.into_iter().map(|r| with_url(r.into(), links)));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("complete", with_more.is_empty().into()),
            ("perObjectLimit", limits.per_object.into()),
            ("objects", Value::Array(summary)),
            ("records", Value::Array(records)),
        ]));
        result
    }
}

impl SfServer {
    /// A SOQL text checked (syntax, the operator's policy on everything it touches, the
    /// org's describes) and run, its rows paged within `max_rows` and the byte budget:
    /// soql_query, and every tool that runs a query it did not write (a list view's).
    pub(crate) async fn run_checked_query(
        &self,
        text: &str,
        max_rows: u32,
        include_deleted: bool,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let query = soql::parse(text).map_err(|e| ToolError::Soql {
            rendered: e.render(text),
        })?;
        self.check_query_policy(&query)?;
        let client = self.client(context)?;
        let validated =
            validate_with_describes(&client, &query, text, &self.access_policy()).await?;
        if !self.policy().deny_fields.is_empty() {
            // Describes are cached by the validation above.
            let used = footprint(&query, &client.schema()).map_err(|_| {
                ToolError::Upstream("the query's footprint could not be listed again".into())
            })?;
            crate::tools::history::refuse_hidden_values(self.policy(), &used)?;
            crate::tools::history::refuse_recent_person_fields(&self.access_policy(), &used)?;
        }
        // Checked as written (errors point into the caller's text); sent confined to the
        // allowed objects when it reads RecentlyViewed.
        let confined = crate::tools::history::confine_recently_viewed(self.policy(), &query);
        let text = confined.as_deref().unwrap_or(text);
        let endpoint = if include_deleted {
            Endpoint::QueryAll
        } else {
            Endpoint::Query
        };
        let shape = Shape::of(&validated, endpoint);
        let first = client
            .query(
                text,
                QueryOptions {
                    include_deleted,
                    batch_size: Some(batch_size(max_rows)),
                },
            )
            .await?;
        let progress = Progress::of(context);
        let way_on = WayOn {
            locator: None,
            query: Some((text, endpoint)),
        };
        let gathered = self
            .gather(&client, first, 0, max_rows, way_on, &progress)
            .await?;
        self.answer(&client, gathered, 0, max_rows, shape, Some(text))
            .await
    }

    /// A Tooling API query already checked by `tooling_query`, run and paged as
    /// [`Self::run_checked_query`] pages: the same budgets, cursors and fenced table.
    pub(crate) async fn run_tooling_query(
        &self,
        client: &SalesforceClient,
        text: &str,
        object: Option<String>,
        max_rows: u32,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let first = client
            .tooling_query_paged(text, Some(batch_size(max_rows)))
            .await?;
        let progress = Progress::of(context);
        let way_on = WayOn {
            locator: None,
            query: Some((text, Endpoint::Tooling)),
        };
        let gathered = self
            .gather(client, first, 0, max_rows, way_on, &progress)
            .await?;
        let shape = Shape {
            object,
            child_relationships: Vec::new(),
            endpoint: Endpoint::Tooling,
        };
        self.answer(client, gathered, 0, max_rows, shape, Some(text))
            .await
    }

    /// The objects a search returns, as the org spells them, and the fields to ask for
    /// ([`search_targets`], [`search_fields`]); describes come from the cache.
    async fn plan_search(
        &self,
        client: &SalesforceClient,
        named: Option<&[String]>,
    ) -> Result<Vec<SearchedObject>, ToolError> {
        let global = client.objects().await?;
        let targets = search_targets(self.policy(), named, &global, &client.schema())?;
        let mut plan = Vec::new();
        for name in targets {
            let schema = client.describe(&name).await?;
            let fields = search_fields(self.policy(), &schema)?;
            plan.push(SearchedObject { name, fields });
        }
        Ok(plan)
    }

    /// Follows `nextRecordsUrl` until `max_rows` rows are in hand, completes child-subquery
    /// pages, and notes where the next rows start.
    async fn gather(
        &self,
        client: &SalesforceClient,
        mut page: QueryPage<Record>,
        already_served: u64,
        max_rows: u32,
        way_on: WayOn<'_>,
        progress: &Progress,
    ) -> Result<Gathered, ToolError> {
        let total_size = page.total_size;
        let mut locator = page.next_records_url.clone().or(way_on.locator);
        let answer_rows = total_size
            .saturating_sub(already_served)
            .min(u64::from(max_rows));
        let mut records = Vec::new();
        loop {
            let page_len = page.records.len();
            let room = max_rows as usize - records.len();
            if page_len > room {
                // The page holds more than the budget: continue inside it. Salesforce's
                // locators end in the row number they start at, so any locator of this query
                // names any of its rows by changing that number. A query that fit one page has
                // none: its cursor runs it again. The budget is a cap either way.
                let served = already_served + (records.len() + room) as u64;
                if let Some(next) = page
                    .next_records_url
                    .as_deref()
                    .or(locator.as_deref())
                    .and_then(|url| relocate(url, served))
                    .or_else(|| {
                        way_on
                            .query
                            .map(|(query, endpoint)| rerun_locator(query, endpoint))
                    })
                {
                    records.extend(page.records.drain(..room));
                    return self
                        .finish(client, total_size, records, Some(next), locator, progress)
                        .await;
                }
            }
            records.append(&mut page.records);
            match page.next_records_url.take() {
                Some(next) if !page.done && records.len() < max_rows as usize => {
                    if page_len == 0 {
                        return Err(stalled_paging());
                    }
                    progress.fetched(page_len, Some(answer_rows), "rows").await;
                    page = client.query_more(&next, Some(batch_size(max_rows))).await?;
                    locator = page.next_records_url.clone().or(Some(next));
                }
                Some(next) if !page.done => {
                    return self
                        .finish(client, total_size, records, Some(next), locator, progress)
                        .await;
                }
                _ => {
                    return self
                        .finish(client, total_size, records, None, locator, progress)
                        .await;
                }
            }
        }
    }

    async fn finish(
        &self,
        client: &SalesforceClient,
        total_size: u64,
        mut records: Vec<Record>,
        next: Option<String>,
        locator: Option<String>,
        progress: &Progress,
    ) -> Result<Gathered, ToolError> {
        complete_children(client, &mut records, progress).await?;
        Ok(Gathered {
            total_size,
            records,
            locator: locator.or_else(|| next.clone()),
            next,
        })
    }

    /// The answer as the model reads it (a fenced table) and, in the `both` answer form, as
    /// a program reads it (the same rows in columns), both within the byte budget: rows past
    /// it are left for the cursor. `rerun` is the query, for a cursor that runs it again when Salesforce gave no
    /// locator to continue from.
    async fn answer(
        &self,
        client: &SalesforceClient,
        mut gathered: Gathered,
        served_before: u64,
        max_rows: u32,
        shape: Shape,
        rerun: Option<&str>,
    ) -> Result<CallToolResult, ToolError> {
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        // The text-only form builds no columns: they would be dropped unread.
        let mut columnar = self.policy().answer_form.structured().then(|| {
            render::Columnar::of(
                &gathered.records,
                &shape.child_relationships,
                render::MAX_TEXT_BYTES,
            )
        });
        let fit = columnar
            .as_ref()
            .map_or(gathered.records.len(), |c| c.rows.len())
            .min(gathered.records.len());
        let cells = if shape.endpoint == Endpoint::Tooling {
            TOOLING_CELLS
        } else {
            render::RECORD_CELLS
        };
        let table = render::table_with(
            &gathered.records[..fit],
            &shape.child_relationships,
            render::MAX_TEXT_BYTES,
            cells,
        );
        let kept = table.rows_shown.min(fit);
        if let Some(columnar) = columnar.as_mut() {
            columnar.rows.truncate(kept);
        }
        // Rows that do not fit the budget are left for the next call, so the model loses none
        // of them.
        let mut unshown_note = None;
        if kept < gathered.records.len() {
            let first_unshown = served_before + kept as u64;
            match gathered
                .locator
                .as_deref()
                .and_then(|l| relocate(l, first_unshown))
                .or_else(|| rerun.map(|query| rerun_locator(query, shape.endpoint)))
            {
                Some(next) => {
                    gathered.records.truncate(kept);
                    gathered.next = Some(next);
                }
                None => {
                    unshown_note = Some(format!(
                        "this answer stops after {kept} of the {} rows returned, to stay within {} KB. Query the rest with fewer or shorter fields, or with a WHERE clause that skips the rows shown\n",
                        gathered.records.len(),
                        render::MAX_TEXT_BYTES / 1024
                    ));
                    gathered.records.truncate(kept);
                }
            }
        }
        let returned = gathered.records.len() as u64;
        let served = served_before + returned;
        let cursor = gathered.next.as_ref().map(|locator| {
            self.state.cursor_key.seal(&CursorState {
                tenant: client.tenant().as_str().to_string(),
                locator: locator.clone(),
                served,
                total_size: gathered.total_size,
                max_rows,
                object: shape.object.clone(),
                child_relationships: shape.child_relationships.clone(),
                expires_at: chrono::Utc::now().timestamp() + CURSOR_TTL_SECS,
            })
        });
        let mut text = String::new();
        let label = shape.object.as_deref().unwrap_or("AggregateResult");
        let first_row = served_before + 1;
        let deleted = if shape.endpoint == Endpoint::QueryAll {
            " (deleted and archived rows included; IsDeleted tells them apart)"
        } else {
            ""
        };
        if returned == 0 {
            text.push_str(&format!(
                "{label}: totalSize {}{deleted}\n",
                gathered.total_size
            ));
        } else {
            text.push_str(&format!(
                "{label}: rows {first_row}-{served} of {}{deleted}\n",
                gathered.total_size
            ));
        }
        let template = shape
            .object
            .as_ref()
            .filter(|_| shape.endpoint != Endpoint::Tooling)
            .and_then(|_| links.template());
        if let Some(template) = &template {
            text.push_str(&format!("record URL: {template}\n"));
        }
        text.push_str(&table.text);
        if let Some(note) = &unshown_note {
            text.push_str(note);
        }
        if let Some(cursor) = &cursor {
            text.push_str(&format!(
                "more rows remain: call query_more with cursor {cursor}\n"
            ));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        let Some(columnar) = columnar else {
            return Ok(result);
        };
        let mut structured = Map::new();
        structured.insert("totalSize".into(), gathered.total_size.into());
        structured.insert("returned".into(), returned.into());
        if let Some(template) = template {
            structured.insert("recordUrl".into(), Value::String(template));
        }
        columnar.into_fields(&mut structured);
        if let Some(note) = unshown_note {
            structured.insert("note".into(), Value::String(note.trim_end().to_string()));
        }
        if let Some(cursor) = cursor {
            structured.insert("cursor".into(), Value::String(cursor));
        }
        result.structured_content = Some(Value::Object(structured));
        Ok(result)
    }

    /// A query checked as [`Self::run_checked_query`] checks it (the operator's policy on
    /// everything it touches, the org's describes), and not sent: how other tools check what
    /// a definition in the org (a report's columns) would read.
    pub(crate) async fn check_parsed(
        &self,
        client: &SalesforceClient,
        query: &ast::Query,
        text: &str,
    ) -> Result<(), ToolError> {
        self.check_query_policy(query)?;
        validate_with_describes(client, query, text, &self.access_policy())
            .await
            .map(|_| ())
    }

    /// A FROM object outside the allow-list is refused before any call, describes included.
    /// Everything else the query touches is checked once describes resolve its relationships
    /// ([`validate_with_describes`]).
    fn check_query_policy(&self, query: &ast::Query) -> Result<(), ToolError> {
        match query.from.object.segments.last() {
            Some(object) => self.policy().check_object(&object.name),
            None => Ok(()),
        }
    }

    /// The operator's allow-list and deny-list, as the SOQL access check reads them.
    fn access_policy(&self) -> AccessPolicy {
        let policy = self.policy();
        AccessPolicy::new(&policy.allow_objects, &policy.deny_fields)
    }

    pub(crate) fn row_budget(&self, requested: Option<u32>) -> Result<u32, ToolError> {
        match requested {
            None => Ok(self.policy().max_rows),
            Some(0) => Err(ToolError::Input(
                "max_rows must be at least 1; use SELECT COUNT() to count rows".into(),
            )),
            Some(n) => Ok(n.min(2_000)),
        }
    }
}

/// Validates, fetching each describe the validator asks for (cached afterwards), then checks
/// everything the query touches against the operator's policy: child subqueries, parent paths,
/// semi-joins, `TYPEOF`, `FIELDS()`, and denied fields in any clause or function
/// (`sfmcp_soql::access`). A refused query is never sent.
async fn validate_with_describes(
    client: &SalesforceClient,
    query: &ast::Query,
    text: &str,
    access: &AccessPolicy,
) -> Result<Validated, ToolError> {
    let schema = client.schema();
    for _ in 0..MAX_DESCRIBE_ROUNDS {
        let checked = validate(query, &schema).and_then(|validated| {
            let used = if access.is_open() {
                None
            } else {
                Some(footprint(query, &schema)?)
            };
            Ok((validated, used))
        });
        match checked {
            Ok((validated, used)) => {
                if let Some(used) = used {
                    access.check(&used).map_err(|refusal| {
                        ToolError::Denied(format!(
                            "{refusal}. The operator decides this with --allow-objects and --deny-fields; leave these out of the query."
                        ))
                    })?;
                }
                return Ok(validated);
            }
            Err(ValidateError::Invalid(mut error)) => {
                // "Did you mean" never offers what the operator keeps out of view.
                error
                    .suggestions
                    .retain(|suggestion| !access.hides_field(suggestion));
                let mut rendered = error.render(text);
                if error.code == ErrorCode::InvalidField
                    && error.message.starts_with("No such column")
                {
                    // Describe shows only what this user may see: a field that exists in
                    // the org can be missing because field-level security hides it.
                    rendered.push_str(&format!(
                        "\nNext step: describe_object {} lists the fields the connected user can see. A field that exists in the org but not there is hidden from this user by field-level security; an administrator can grant read access in their profile or a permission set.",
                        query.from.object.dotted()
                    ));
                }
                return Err(ToolError::Soql { rendered });
            }
            Err(ValidateError::NeedsDescribe(object)) => {
                // Describe global first (cached per connection): a misspelled object is then
                // unknown to validation, which suggests the right name, and costs no describe.
                let global = client.objects().await?;
                if global
                    .sobjects
                    .iter()
                    .any(|o| o.name.eq_ignore_ascii_case(&object))
                {
                    client.describe(&object).await?;
                }
            }
        }
    }
    Err(ToolError::Input(
        "this query names too many objects to check; split it into smaller queries".into(),
    ))
}

/// Fetches the remaining pages of child subqueries (`done: false`), so children are never
/// silently dropped.
async fn complete_children(
    client: &SalesforceClient,
    records: &mut [Record],
    progress: &Progress,
) -> Result<(), ToolError> {
    for record in records.iter_mut() {
        for (_, value) in record.fields_mut() {
            let Field::Children(child) = value else {
                continue;
            };
            if child.done {
                continue;
            }
            let mut counted = 0;
            let mut next = child.next_records_url.clone();
            while let Some(url) = next.take() {
                let count = child.records.len();
                if count >= MAX_CHILD_ROWS {
                    break;
                }
                progress.fetched(count - counted, None, "child rows").await;
                counted = count;
                let page = client.query_more::<Record>(&url, None).await?;
                if page.records.is_empty() && !page.done {
                    return Err(stalled_paging());
                }
                child.records.extend(page.records);
                child.done = page.done;
                child.next_records_url = page.next_records_url.filter(|_| !page.done);
                next = child.next_records_url.clone();
            }
        }
    }
    Ok(())
}

fn stalled_paging() -> ToolError {
    ToolError::Upstream(
        "Salesforce sent an empty page that says more rows follow; stopped rather than loop. Run the query again, or narrow it with WHERE or LIMIT.".into(),
    )
}

/// `/services/data/v62.0/query/01gXX-2000` with the row number replaced by `row`. A re-run
/// cursor's locator names every row already: the cursor's count of rows served says where.
fn relocate(locator: &str, row: u64) -> Option<String> {
    if parse_rerun(locator).is_some() {
        return Some(locator.to_string());
    }
    let (base, number) = locator.rsplit_once('-')?;
    number.parse::<u64>().ok()?;
    Some(format!("{base}-{row}"))
}

fn batch_size(max_rows: u32) -> u16 {
    // Salesforce takes 200..=2000; matching the row budget keeps pages and answers aligned.
    max_rows.clamp(200, 2_000) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_moved_to_any_row() {
        assert_eq!(
            relocate("/services/data/v62.0/query/01gD0000002HU6KIAW-2000", 250),
            Some("/services/data/v62.0/query/01gD0000002HU6KIAW-250".into())
        );
        assert_eq!(relocate("/services/data/v62.0/query/nodash", 1), None);
    }

    mod search_policy {
        //! Random searches under random policies (issue 15, item 1): whatever is named and
        //! whatever Salesforce answers, a search asks only for allowed objects and fields
        //! that are not denied, and shows no row of another object and no denied value.

        use super::super::*;
        use proptest::prelude::*;
        use serde_json::json;
        use sfmcp_soql::schema::StaticSchema;

        const OBJECTS: [&str; 6] = ["Account", "Contact", "Lead", "Opportunity", "Case", "User"];
        const FIELDS: [&str; 6] = ["Id", "Name", "Email", "Subject", "AnnualRevenue", "Phone"];
        /// What a caller may type: real names in any case, misspellings, and junk.
        const TYPED: [&str; 10] = [
            "Account",
            "contact",
            "LEAD",
            "Opportunity",
            "Case",
            "User",
            "Acount",
            "Opportunty",
            "Invoice__c",
            "Account/../x",
        ];

        fn global() -> GlobalDescribe {
            let sobjects: Vec<Value> = OBJECTS
                .iter()
                .map(|o| json!({"name": o, "label": o, "searchable": *o != "User"}))
                .collect();
            serde_json::from_value(json!({ "sobjects": sobjects })).expect("global")
        }

        /// Every object has every field; `Name` and `Subject` are its name fields.
        fn describe(object: &str) -> ObjectSchema {
            let fields: Vec<Value> = FIELDS
                .iter()
                .map(|f| {
                    json!({"name": f, "label": f, "type": "string",
                    "nameField": *f == "Name" || *f == "Subject"})
                })
                .collect();
            serde_json::from_value::<ObjectSchema>(
                json!({"name": object, "label": object, "fields": fields}),
            )
            .expect("describe")
            .index()
        }

        fn policy_strategy() -> impl Strategy<Value = Policy> {
            (
                proptest::sample::subsequence(OBJECTS.to_vec(), 0..=3),
                proptest::collection::vec(
                    (
                        proptest::option::of(proptest::sample::select(OBJECTS.to_vec())),
                        proptest::sample::select(FIELDS.to_vec()),
                    ),
                    0..4,
                ),
            )
                .prop_map(|(allow, deny)| Policy {
                    allow_objects: allow.iter().map(|o| o.to_string()).collect(),
                    deny_fields: deny
                        .iter()
                        .map(|(o, f)| o.map_or(f.to_string(), |o| format!("{o}.{f}")))
                        .collect(),
                    ..Policy::default()
                })
        }

        /// What Salesforce might send back, including rows and fields it was not asked for.
        fn answer_strategy() -> impl Strategy<Value = Vec<Value>> {
            proptest::collection::vec(
                (
                    proptest::sample::select(OBJECTS.to_vec()),
                    proptest::sample::subsequence(FIELDS.to_vec(), 0..=FIELDS.len()),
                ),
                0..40,
            )
            .prop_map(|rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (object, fields))| {
                        let mut record = json!({"attributes": {"type": object}});
                        for field in fields {
                            record[field] = json!(format!("{object}-{field}-{i}"));
                        }
                        record
                    })
                    .collect()
            })
        }

        proptest! {
            #![proptest_config(sfmcp_soql::test_support::guarantee_config(256, 0x005e_a2c4))]

            #[test]
            fn searches_ask_for_and_show_only_what_the_policy_allows(
                policy in policy_strategy(),
                named in proptest::option::of(
                    proptest::sample::subsequence(TYPED.to_vec(), 1..=4)),
                answer in answer_strategy(),
                per_object in 1u32..5,
            ) {
                let global = global();
                let mut names = StaticSchema::new();
                for object in OBJECTS {
                    names.add_known(object);
                }
                let named: Option<Vec<String>> =
                    named.map(|n| n.iter().map(|s| s.to_string()).collect());
                let Ok(targets) = search_targets(&policy, named.as_deref(), &global, &names)
                else {
                    return Ok(());
                };
                let mut plan = Vec::new();
                for name in &targets {
                    // The request: only allowed objects, never a denied field.
                    prop_assert!(policy.check_object(name).is_ok(), "{name} searched");
                    prop_assert!(name != "User", "an unsearchable object was searched");
                    let Ok(fields) = search_fields(&policy, &describe(name)) else {
                        continue;
                    };
                    for field in &fields {
                        prop_assert!(!policy.is_field_denied(name, field), "{name}.{field} asked");
                    }
                    plan.push(SearchedObject { name: name.clone(), fields });
                }
                if named.is_none() && !policy.allow_objects.is_empty() {
                    for name in &targets {
                        prop_assert!(policy.allow_objects.iter().any(|a| a == name));
                    }
                }
                // The answer: whatever came back, nothing refused is shown.
                let shown = SearchAnswer::sort(&plan, per_object, render::records(answer), |o, f| {
                    policy.is_field_denied(o, f)
                });
                for (object, rows, _) in &shown.objects {
                    prop_assert!(plan.iter().any(|p| &p.name == object));
                    prop_assert!(rows.len() <= per_object as usize);
                    for row in rows {
                        prop_assert_eq!(row.object(), Some(object.as_str()));
                        for (field, _) in row.fields() {
                            prop_assert!(
                                !policy.is_field_denied(object, field),
                                "{}.{} shown", object, field
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn batch_sizes_stay_in_salesforces_range() {
        assert_eq!(batch_size(5), 200);
        assert_eq!(batch_size(500), 500);
        assert_eq!(batch_size(9_000), 2_000);
    }
}
