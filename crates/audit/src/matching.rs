//! Matching Salesforce users to IdP accounts by corporate address.
//!
//! Keys are trimmed, case-folded and put in Unicode NFC. Every corporate address of an IdP account is indexed:
//! primary e-mail and login as primary keys, aliases and SMTP `proxyAddresses` as alias keys.
//! Secondary addresses that may be personal (Okta `secondEmail`, JumpCloud `alternateEmail`,
//! members' Entra `otherMails`) are alias keys only on a domain the directory's primary
//! addresses or logins use: a personal address could make an ex-employee look present.
//! An alias never outranks a primary key: a leaver's address forwarded to a colleague must
//! not make the leaver's own offboarded account read as active.
//! Domain aliases and `+tag` stripping apply only where configured (plus-addressing is a
//! convention some domains follow, not a standard), and a sandbox's `.invalid` suffix is removed
//! from Salesforce addresses. Dots are never removed: dot-insensitivity is consumer Gmail
//! behaviour, not a rule. Each match says how it was made, which becomes the finding's
//! confidence.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::model::{IdpDirectory, IdpStatus, SfUser};

/// Matching options that depend on the customer's mail setup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchConfig {
    /// Alias domain → canonical domain (e.g. `corp.co.uk` → `corp.com`), lower-case.
    pub domain_aliases: HashMap<String, String>,
    /// Domains (canonical or alias) where `local+tag@domain` delivers to `local@domain`.
    pub subaddress_domains: HashSet<String>,
}

impl MatchConfig {
    pub fn add_domain_alias(&mut self, alias: &str, canonical: &str) {
        self.domain_aliases.insert(
            fold(alias.trim_start_matches('@')),
            fold(canonical.trim_start_matches('@')),
        );
    }

    pub fn add_subaddress_domain(&mut self, domain: &str) {
        self.subaddress_domains
            .insert(fold(domain.trim_start_matches('@')));
    }

    fn rewrites_anything(&self) -> bool {
        !self.domain_aliases.is_empty() || !self.subaddress_domains.is_empty()
    }
}

/// How a Salesforce user was tied to an IdP account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMethod {
    /// `FederationIdentifier` equals the IdP login / UPN.
    FederationId,
    /// Same primary address (after trimming, case folding and `.invalid` removal).
    ExactEmail,
    /// The Salesforce address is one of the account's aliases or SMTP proxy addresses.
    Alias,
    /// Equal after mapping a configured alias domain to its canonical domain.
    DomainAlias,
    /// Equal after removing `+tag` on a domain configured for it.
    SubaddressStripped,
    /// No IdP account carries any of the user's corporate addresses.
    None,
}

impl MatchMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMethod::FederationId => "federation_id",
            MatchMethod::ExactEmail => "exact_email",
            MatchMethod::Alias => "alias",
            MatchMethod::DomainAlias => "domain_alias",
            MatchMethod::SubaddressStripped => "subaddress_stripped",
            MatchMethod::None => "none",
        }
    }
}

/// The outcome for one Salesforce user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMatch {
    pub method: MatchMethod,
    /// Index into the directory's `users`, when matched.
    pub idp_user: Option<usize>,
    pub status: IdpStatus,
    /// The key that was looked up (normalised Salesforce address), if the user had one.
    pub key: Option<String>,
    /// The Salesforce address carried a sandbox `.invalid` suffix that was removed.
    pub sandbox_suffix_removed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Primary,
    Alias,
}

/// Hash index over one directory: O(1) lookups, built once per run.
pub struct IdpIndex<'a> {
    directory: &'a IdpDirectory,
    config: &'a MatchConfig,
    by_key: HashMap<String, Slots<(u32, Via)>>,
    /// Only built when the config rewrites addresses; value says whether a domain alias was
    /// involved on the IdP side.
    by_canonical: HashMap<String, Slots<(u32, bool)>>,
}

impl<'a> IdpIndex<'a> {
    pub fn build(directory: &'a IdpDirectory, config: &'a MatchConfig) -> Self {
        let mut by_key: HashMap<String, Slots<(u32, Via)>> =
            HashMap::with_capacity(directory.users.len() * 2);
        let mut by_canonical: HashMap<String, Slots<(u32, bool)>> = HashMap::new();
        let rewrites = config.rewrites_anything();
        let own_domains = own_domains(directory);
        for (i, user) in directory.users.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            let primary = std::iter::once(user.email.as_str()).chain(user.login.as_deref());
            let secondaries = user
                .secondary_emails
                .iter()
                .map(String::as_str)
                .filter(|a| domain_of(a).is_some_and(|d| own_domains.contains(d.as_str())));
            let aliases = user
                .aliases
                .iter()
                .map(String::as_str)
                .chain(user.proxy_addresses.iter().filter_map(|p| smtp_address(p)))
                .chain(secondaries);
            let addresses = primary
                .map(|a| (a, Via::Primary))
                .chain(aliases.map(|a| (a, Via::Alias)));
            for (raw, via) in addresses {
                let Some(key) = normalise_address(raw) else {
                    continue;
                };
                // Only addresses the configuration rewrites go in the canonical map; the
                // others are found in `by_key` under their own (already canonical) form.
                if rewrites {
                    let (canonical, domain_aliased, stripped) = canonicalise(&key, config);
                    if domain_aliased || stripped {
                        by_canonical
                            .entry(canonical)
                            .or_default()
                            .push_unique((i, domain_aliased));
                    }
                }
                by_key.entry(key).or_default().push_unique((i, via));
            }
        }
        IdpIndex {
            directory,
            config,
            by_key,
            by_canonical,
        }
    }

    pub fn directory(&self) -> &IdpDirectory {
        self.directory
    }

    pub fn lookup(&self, user: &SfUser) -> IdpMatch {
        let (key, sandbox_suffix_removed) = match sandbox_free(&user.email) {
            Some((k, removed)) => (Some(k), removed),
            None => (None, false),
        };
        // (alias?, liveness, method, idp index): a primary key beats an alias; among equals
        // the most alive account wins (a rehire's new account next to the old one), then the
        // strongest method.
        let mut best: Option<(bool, u8, MatchMethod, u32)> = None;
        let users = &self.directory.users;
        let consider = |best: &mut Option<(bool, u8, MatchMethod, u32)>, idx: u32, method| {
            if let Some(acct) = users.get(idx as usize) {
                let via_alias =
                    !matches!(method, MatchMethod::FederationId | MatchMethod::ExactEmail);
                let cand = (via_alias, acct.status.liveness_rank(), method, idx);
                if best.is_none_or(|b| cand < b) {
                    *best = Some(cand);
                }
            }
        };

        if let Some(fed) = user
            .federation_identifier
            .as_deref()
            .and_then(normalise_address)
        {
            for &(idx, _) in self.by_key.get(&fed).map_or(&[][..], Slots::as_slice) {
                consider(&mut best, idx, MatchMethod::FederationId);
            }
        }
        if let Some(k) = &key {
            for &(idx, via) in self.by_key.get(k).map_or(&[][..], Slots::as_slice) {
                let method = match via {
                    Via::Primary => MatchMethod::ExactEmail,
                    Via::Alias => MatchMethod::Alias,
                };
                consider(&mut best, idx, method);
            }
        }
        if best.is_none()
            && self.config.rewrites_anything()
            && let Some(k) = &key
        {
            let (canonical, sf_aliased, _) = canonicalise(k, self.config);
            let sf_rewritten = canonical != *k;
            let method_for = |idp_aliased: bool| {
                if sf_aliased || idp_aliased {
                    MatchMethod::DomainAlias
                } else {
                    MatchMethod::SubaddressStripped
                }
            };
            if sf_rewritten {
                for &(idx, _) in self.by_key.get(&canonical).map_or(&[][..], Slots::as_slice) {
                    consider(&mut best, idx, method_for(false));
                }
            }
            for &(idx, idp_aliased) in self
                .by_canonical
                .get(&canonical)
                .map_or(&[][..], Slots::as_slice)
            {
                consider(&mut best, idx, method_for(idp_aliased));
            }
        }

        match best {
            Some((_, _, method, idx)) => {
                let status = self
                    .directory
                    .users
                    .get(idx as usize)
                    .map_or(IdpStatus::Absent, |u| u.status);
                IdpMatch {
                    method,
                    idp_user: Some(idx as usize),
                    status,
                    key,
                    sandbox_suffix_removed,
                }
            }
            None => IdpMatch {
                method: MatchMethod::None,
                idp_user: None,
                status: IdpStatus::Absent,
                key,
                sandbox_suffix_removed,
            },
        }
    }
}

/// Index values: almost every address belongs to one account, so the first candidate is
/// stored inline and only shared addresses allocate.
#[derive(Debug, Clone, Default)]
enum Slots<T> {
    #[default]
    Empty,
    One([T; 1]),
    Many(Vec<T>),
}

impl<T: PartialEq + Copy> Slots<T> {
    fn push_unique(&mut self, item: T) {
        match self {
            Slots::Empty => *self = Slots::One([item]),
            Slots::One([first]) => {
                if *first != item {
                    *self = Slots::Many(vec![*first, item]);
                }
            }
            Slots::Many(v) => {
                if !v.contains(&item) {
                    v.push(item);
                }
            }
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Slots::Empty => &[],
            Slots::One(one) => one,
            Slots::Many(v) => v,
        }
    }
}

/// Trimmed, lower-cased and in Unicode NFC: the same address typed on two systems may arrive
/// precomposed (`é`) or decomposed (`e` + U+0301), and those are one address.
fn fold(s: &str) -> String {
    let lower = s.trim().to_lowercase();
    // ASCII is already NFC, and almost every address is ASCII: skip the copy.
    if lower.is_ascii() {
        lower
    } else {
        lower.nfc().collect()
    }
}

/// The domains of the directory's primary addresses and logins, folded: where the
/// organisation issues addresses. Empty (and free) when no account has a secondary address.
fn own_domains(directory: &IdpDirectory) -> HashSet<String> {
    if directory
        .users
        .iter()
        .all(|u| u.secondary_emails.is_empty())
    {
        return HashSet::new();
    }
    directory
        .users
        .iter()
        .flat_map(|u| std::iter::once(u.email.as_str()).chain(u.login.as_deref()))
        .filter_map(domain_of)
        .collect()
}

/// The folded domain of an address, if it is one.
fn domain_of(raw: &str) -> Option<String> {
    normalise_address(raw).and_then(|key| key.rsplit_once('@').map(|(_, domain)| domain.to_owned()))
}

/// Trim and case-fold an address; `None` when it is not `local@domain`.
pub fn normalise_address(raw: &str) -> Option<String> {
    let key = fold(raw);
    let (local, domain) = key.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || key.contains(char::is_whitespace)
    {
        return None;
    }
    Some(key)
}

/// A Salesforce address without a sandbox's `.invalid` suffix, and whether one was removed.
pub fn sandbox_free(raw: &str) -> Option<(String, bool)> {
    let key = fold(raw);
    match key.strip_suffix(".invalid") {
        Some(stripped) => normalise_address(stripped).map(|k| (k, true)),
        None => normalise_address(&key).map(|k| (k, false)),
    }
}

/// Entra `proxyAddresses` carry a type prefix: `SMTP:` is the primary, `smtp:` a secondary;
/// other types (`sip:`, `x500:`) are not mail addresses.
pub fn smtp_address(proxy: &str) -> Option<&str> {
    let proxy = proxy.trim();
    let (kind, address) = proxy.split_once(':')?;
    kind.eq_ignore_ascii_case("smtp").then_some(address)
}

/// Apply the configured domain alias and `+tag` stripping to a normalised key.
/// Returns the canonical key, whether a domain alias applied, and whether a tag was stripped.
fn canonicalise(key: &str, config: &MatchConfig) -> (String, bool, bool) {
    let Some((local, domain)) = key.rsplit_once('@') else {
        return (key.to_owned(), false, false);
    };
    let (domain_out, aliased) = match config.domain_aliases.get(domain) {
        Some(canonical) => (canonical.as_str(), true),
        None => (domain, false),
    };
    let tag_allowed = config.subaddress_domains.contains(domain)
        || config.subaddress_domains.contains(domain_out);
    let (local_out, stripped) = match local.split_once('+') {
        Some((base, _)) if tag_allowed && !base.is_empty() => (base, true),
        _ => (local, false),
    };
    (format!("{local_out}@{domain_out}"), aliased, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdpKind, IdpUser};

    fn idp(users: Vec<IdpUser>) -> IdpDirectory {
        IdpDirectory {
            kind: IdpKind::File,
            source: "test".into(),
            users,
        }
    }

    fn acct(email: &str, status: IdpStatus) -> IdpUser {
        IdpUser::new(email, status)
    }

    fn sf(email: &str) -> SfUser {
        SfUser {
            id: "005000000000001AAA".into(),
            username: "u@corp.com.prod".into(),
            email: email.into(),
            is_active: true,
            user_type: "Standard".into(),
            ..Default::default()
        }
    }

    #[test]
    fn case_and_whitespace_differences_still_match_exactly() {
        let dir = idp(vec![acct("Ann.Lee@Corp.com", IdpStatus::Active)]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("  ann.lee@CORP.COM "));
        assert_eq!(m.method, MatchMethod::ExactEmail);
        assert_eq!(m.idp_user, Some(0));
    }

    #[test]
    fn dots_are_significant() {
        let dir = idp(vec![acct("annlee@corp.com", IdpStatus::Active)]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        assert_eq!(
            index.lookup(&sf("ann.lee@corp.com")).method,
            MatchMethod::None
        );
    }

    #[test]
    fn aliases_and_smtp_proxy_addresses_match_as_alias() {
        let mut a = acct("robert@corp.com", IdpStatus::Active);
        a.aliases = vec!["bob@corp.com".into()];
        a.proxy_addresses = vec![
            "SMTP:robert@corp.com".into(),
            "smtp:rob@corp.io".into(),
            "sip:bobby@corp.com".into(),
        ];
        let dir = idp(vec![a]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        assert_eq!(index.lookup(&sf("BOB@corp.com")).method, MatchMethod::Alias);
        assert_eq!(index.lookup(&sf("rob@corp.io")).method, MatchMethod::Alias);
        assert_eq!(
            index.lookup(&sf("bobby@corp.com")).method,
            MatchMethod::None
        );
    }

    #[test]
    fn plus_tags_are_stripped_only_on_configured_domains() {
        let dir = idp(vec![
            acct("ann@corp.com", IdpStatus::Active),
            acct("joe@other.com", IdpStatus::Active),
        ]);
        let mut cfg = MatchConfig::default();
        cfg.add_subaddress_domain("corp.com");
        let index = IdpIndex::build(&dir, &cfg);
        assert_eq!(
            index.lookup(&sf("ann+sfdc@corp.com")).method,
            MatchMethod::SubaddressStripped
        );
        assert_eq!(
            index.lookup(&sf("joe+sfdc@other.com")).method,
            MatchMethod::None
        );
    }

    #[test]
    fn configured_domain_aliases_match_in_both_directions() {
        let dir = idp(vec![
            acct("ann@corp.com", IdpStatus::Active),
            acct("li@corp.co.uk", IdpStatus::Active),
        ]);
        let mut cfg = MatchConfig::default();
        cfg.add_domain_alias("corp.co.uk", "corp.com");
        let index = IdpIndex::build(&dir, &cfg);
        assert_eq!(
            index.lookup(&sf("ann@corp.co.uk")).method,
            MatchMethod::DomainAlias
        );
        assert_eq!(
            index.lookup(&sf("li@corp.com")).method,
            MatchMethod::DomainAlias
        );
        assert_eq!(index.lookup(&sf("ann@corp.de")).method, MatchMethod::None);
    }

    #[test]
    fn sandbox_invalid_suffix_is_removed() {
        let dir = idp(vec![acct("ann@corp.com", IdpStatus::Active)]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("ann@corp.com.invalid"));
        assert_eq!(m.method, MatchMethod::ExactEmail);
        assert!(m.sandbox_suffix_removed);
    }

    #[test]
    fn the_most_alive_account_speaks_for_a_rehired_person() {
        let mut new = acct("bob@corp.com", IdpStatus::Active);
        new.login = Some("bob.2@corp.com".into());
        let dir = idp(vec![acct("bob@corp.com", IdpStatus::Deprovisioned), new]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("bob@corp.com"));
        assert_eq!(m.status, IdpStatus::Active);
        assert_eq!(m.idp_user, Some(1));
    }

    /// Offboarding often forwards a leaver's address to a colleague as an alias: the alias
    /// must not make the leaver's own deprovisioned or suspended account read as active.
    #[test]
    fn an_alias_elsewhere_never_revives_an_offboarded_account() {
        for offboarded in [IdpStatus::Deprovisioned, IdpStatus::Suspended] {
            let mut manager = acct("robert@corp.com", IdpStatus::Active);
            manager.aliases = vec!["bob@corp.com".into()];
            manager.secondary_emails = vec!["bob@corp.com".into()];
            let dir = idp(vec![manager, acct("Bob@corp.com", offboarded)]);
            let cfg = MatchConfig::default();
            let index = IdpIndex::build(&dir, &cfg);
            let m = index.lookup(&sf("bob@corp.com"));
            assert_eq!((m.status, m.idp_user), (offboarded, Some(1)));
            assert_eq!(m.method, MatchMethod::ExactEmail);
        }
    }

    #[test]
    fn an_alias_of_an_offboarded_account_keeps_its_status() {
        let mut gone = acct("robert@corp.com", IdpStatus::Suspended);
        gone.secondary_emails = vec!["bob@corp.com".into()];
        let dir = idp(vec![gone]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("bob@corp.com"));
        assert_eq!(
            (m.method, m.status),
            (MatchMethod::Alias, IdpStatus::Suspended)
        );
    }

    /// Okta `secondEmail` and JumpCloud `alternateEmail` hold personal and corporate
    /// addresses alike: only an address on the directory's own domains is one of the account's.
    #[test]
    fn secondary_addresses_count_only_on_the_directory_domains() {
        let mut ann = acct("ann.lee@corp.com", IdpStatus::Active);
        ann.secondary_emails = vec!["ALee@Corp.com".into()];
        let mut joe = acct("joe@corp.com", IdpStatus::Active);
        joe.secondary_emails = vec!["joe.home@gmail.com".into()];
        let mut kay = acct("kay@corp.com", IdpStatus::Active);
        kay.login = Some("kay@corp.onmicrosoft.com".into());
        kay.secondary_emails = vec!["kay.k@corp.onmicrosoft.com".into()];
        let dir = idp(vec![ann, joe, kay]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("alee@corp.com"));
        assert_eq!((m.method, m.idp_user), (MatchMethod::Alias, Some(0)));
        assert_eq!(
            index.lookup(&sf("joe.home@gmail.com")).method,
            MatchMethod::None
        );
        assert_eq!(
            index.lookup(&sf("kay.k@corp.onmicrosoft.com")).idp_user,
            Some(2)
        );
    }

    #[test]
    fn federation_id_matches_the_login() {
        let mut a = acct("ann@corp.com", IdpStatus::Suspended);
        a.login = Some("a.lee@corp.onmicrosoft.com".into());
        let dir = idp(vec![a]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let mut u = sf("ann.personal@gmail.com");
        u.federation_identifier = Some("A.Lee@corp.onmicrosoft.com".into());
        let m = index.lookup(&u);
        assert_eq!(m.method, MatchMethod::FederationId);
        assert_eq!(m.status, IdpStatus::Suspended);
    }

    #[test]
    fn users_without_an_address_match_nothing_with_low_confidence() {
        let dir = idp(vec![acct("ann@corp.com", IdpStatus::Active)]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let m = index.lookup(&sf("  "));
        assert_eq!(m.method, MatchMethod::None);
        assert_eq!(m.key, None);
    }
}
