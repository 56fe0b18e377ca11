//! Groups of tools an operator chooses to offer (`--toolsets`, `SFMCP_TOOLSETS`).
//!
//! Every tool in `tools/list` is paid for in every conversation, so a server offers the groups
//! its people use and no more. `core` (who am I, query, search, describe, read, links, limits,
//! list views) is always offered: the other groups and the prompts lean on it.
//!
//! | toolset | default | tools |
//! |---|---|---|
//! | `core` | always | whoami, soql_query, query_more, sosl_search, list_objects, describe_object, get_record, record_url, org_limits, list_views |
//! | `writes` | yes | create_record, update_record, create_records, update_records, upsert_record, upsert_records (removed anyway when the server is read-only) |
//! | `reports` | yes | list_reports, run_report (reports and dashboards) |
//! | `audit` | yes | audit_rules, audit_run, audit_findings |
//! | `history` | no | record_history, recent_items |
//! | `files` | no | record_files (a record's files and notes, read-only) |
//! | `tooling` | no | tooling_query (metadata: validation rules, flows, Apex) |
//!
//! Each tool's group is one row of [`TOOLSET_OF`]; a unit test fails for a routed tool without
//! one.

use std::fmt;

/// One group of tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolset {
    Core,
    Writes,
    Reports,
    Audit,
    History,
    Files,
    Tooling,
}

impl Toolset {
    pub const ALL: [Toolset; 7] = [
        Toolset::Core,
        Toolset::Writes,
        Toolset::Reports,
        Toolset::Audit,
        Toolset::History,
        Toolset::Files,
        Toolset::Tooling,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Toolset::Core => "core",
            Toolset::Writes => "writes",
            Toolset::Reports => "reports",
            Toolset::Audit => "audit",
            Toolset::History => "history",
            Toolset::Files => "files",
            Toolset::Tooling => "tooling",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The groups a server offers; `core` is always among them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Toolsets(u8);

impl Toolsets {
    /// What a server offers when nobody chose: what most people ask of a CRM assistant, and
    /// the audit; the rest on request.
    pub const DEFAULT: Toolsets = Toolsets(
        1 << Toolset::Core as u8
            | 1 << Toolset::Writes as u8
            | 1 << Toolset::Reports as u8
            | 1 << Toolset::Audit as u8,
    );

    /// `core` alone: what every server offers.
    pub const CORE: Toolsets = Toolsets(1 << Toolset::Core as u8);

    pub fn all() -> Self {
        Toolset::ALL
            .iter()
            .fold(Toolsets::CORE, |sets, set| sets.with(*set))
    }

    pub fn with(self, set: Toolset) -> Self {
        Toolsets(self.0 | set.bit())
    }

    pub fn union(self, other: Toolsets) -> Self {
        Toolsets(self.0 | other.0)
    }

    pub fn contains(self, set: Toolset) -> bool {
        self.0 & set.bit() != 0
    }

    /// The groups named in `names` (each `core`, `writes`, …, or `all`), with `core`; what an
    /// operator typed, so a wrong name says which names there are.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        names
            .into_iter()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(Toolsets::parse_one)
            .collect()
    }

    /// One name: a group, or `all`. Shaped for clap's `value_parser`.
    pub fn parse_one(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("all") {
            return Ok(Toolsets::all());
        }
        if let Some(set) = Toolset::ALL
            .iter()
            .find(|set| set.name().eq_ignore_ascii_case(name))
        {
            return Ok(Toolsets::CORE.with(*set));
        }
        let names: Vec<&str> = Toolset::ALL.iter().map(|set| set.name()).collect();
        let hint = closest_hint(name, names.iter().copied());
        Err(format!(
            "there is no toolset `{}`; {hint}the toolsets are {}, or all",
            name.chars()
                .filter(|c| !c.is_control())
                .take(40)
                .collect::<String>(),
            names.join(", ")
        ))
    }

    /// The group names, in their order: `core,writes,reports,audit`.
    pub fn names(self) -> Vec<&'static str> {
        Toolset::ALL
            .iter()
            .filter(|set| self.contains(**set))
            .map(|set| set.name())
            .collect()
    }

    /// Whether `tool` belongs to one of these groups.
    pub fn offers(self, tool: &str) -> bool {
        self.contains(toolset_of(tool))
    }
}

/// The groups chosen, one value each (`--toolsets a,b`), with `core`.
impl FromIterator<Toolsets> for Toolsets {
    fn from_iter<I: IntoIterator<Item = Toolsets>>(chosen: I) -> Self {
        chosen.into_iter().fold(Toolsets::CORE, Toolsets::union)
    }
}

/// "did you mean `x`? " for the name among `candidates` closest to `typed`, or nothing: the
/// hint of a wrong toolset or tool name.
pub(crate) fn closest_hint<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    sfmcp_soql::validate::similar_words(typed, candidates)
        .first()
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default()
}

impl Default for Toolsets {
    fn default() -> Self {
        Toolsets::DEFAULT
    }
}

impl fmt::Debug for Toolsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Toolsets({})", self.names().join(","))
    }
}

/// Each tool's group.
pub const TOOLSET_OF: &[(&str, Toolset)] = &[
    ("whoami", Toolset::Core),
    ("soql_query", Toolset::Core),
    ("query_more", Toolset::Core),
    ("sosl_search", Toolset::Core),
    ("list_objects", Toolset::Core),
    ("describe_object", Toolset::Core),
    ("get_record", Toolset::Core),
    ("record_url", Toolset::Core),
    ("org_limits", Toolset::Core),
    ("list_views", Toolset::Core),
    ("create_record", Toolset::Writes),
    ("update_record", Toolset::Writes),
    ("create_records", Toolset::Writes),
    ("update_records", Toolset::Writes),
    ("upsert_record", Toolset::Writes),
    ("upsert_records", Toolset::Writes),
    ("list_reports", Toolset::Reports),
    ("run_report", Toolset::Reports),
    ("record_history", Toolset::History),
    ("recent_items", Toolset::History),
    ("record_files", Toolset::Files),
    ("tooling_query", Toolset::Tooling),
    ("audit_rules", Toolset::Audit),
    ("audit_run", Toolset::Audit),
    ("audit_findings", Toolset::Audit),
];

/// The group `tool` belongs to. A tool without a row is offered with `core` (the unit test
/// below keeps every tool in a row).
pub fn toolset_of(tool: &str) -> Toolset {
    TOOLSET_OF
        .iter()
        .find(|(name, _)| *name == tool)
        .map_or(Toolset::Core, |(_, set)| *set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_belongs_to_a_toolset() {
        let policy = crate::server::Policy {
            toolsets: Toolsets::all(),
            ..Default::default()
        };
        for tool in crate::server::SfServer::router(&policy).list_all() {
            assert!(
                TOOLSET_OF.iter().any(|(name, _)| *name == tool.name),
                "{} has no row in TOOLSET_OF",
                tool.name
            );
        }
    }

    #[test]
    fn names_parse_with_core_always_in() {
        let sets = Toolsets::parse(["writes", " Audit "]).unwrap();
        assert_eq!(sets.names(), ["core", "writes", "audit"]);
        assert_eq!(Toolsets::parse([]).unwrap().names(), ["core"]);
        assert_eq!(Toolsets::parse(["all"]).unwrap(), Toolsets::all());
        assert_eq!(
            Toolsets::DEFAULT.names(),
            ["core", "writes", "reports", "audit"]
        );
    }

    #[test]
    fn a_wrong_name_is_refused_with_the_closest() {
        let error = Toolsets::parse(["report"]).unwrap_err();
        assert!(error.contains("did you mean `reports`?"), "{error}");
        assert!(error.contains("core, writes, reports, audit, history, files, tooling, or all"));
        let error = Toolsets::parse(["\u{1b}[31mzz"]).unwrap_err();
        assert!(!error.contains('\u{1b}'), "{error}");
    }

    #[test]
    fn only_chosen_groups_offer_their_tools() {
        let sets = Toolsets::parse(["history"]).unwrap();
        assert!(sets.offers("soql_query"));
        assert!(!sets.offers("create_record"));
        assert!(!sets.offers("audit_run"));
        assert!(Toolsets::DEFAULT.offers("audit_run"));
    }
}
