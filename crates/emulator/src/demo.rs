//! The demo org (`--demo`): deterministic and realistic. 300 accounts, 3,000 contacts,
//! 600 opportunities in every stage with close dates within six months of today, 400 cases,
//! 500 leads, 800 tasks, 400 events, 600 contact roles, and about 60 users (× `--scale`) in a
//! role hierarchy with profiles and permission sets. Opportunities are `Private`, so what a
//! sales rep sees differs from what their manager sees.
//!
//! The identity-audit data (licences, admin grants, OAuth tokens, audit trail, login history,
//! session settings, IdP directories with planted gaps, and the manifest of those gaps) is in
//! [`identity`]; it runs after the people exist and sees every generated user.
//!
//! Field history (opportunity stages, case statuses) is in [`history`]; the first case's
//! files and notes in [`files`].
//!
//! The last Leads, Contacts, Accounts and Cases carry an injection corpus instead of their
//! generated text ([`injection`], listed by [`injection_corpus`]); the counts above include
//! them.

pub mod files;
pub mod history;
pub mod identity;
pub mod injection;

pub use injection::{MARKER_PREFIX, PlantedValue, injection_corpus};

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveTime, Utc};
use serde_json::{Map, Value as Json, json};

use super::idp::Person;
use super::objects::OPPORTUNITY_STAGES;
use super::org::Org;
use super::seed::{self, OrgBuilder, RoleSeed, SeedFile, UserSeed};

/// A small deterministic generator (SplitMix64): the same demo on every run and platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const FIRST_NAMES: [&str; 40] = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Hedy",
    "Donald",
    "Katherine",
    "Edsger",
    "Sophie",
    "Niklaus",
    "Lynn",
    "Vint",
    "Anita",
    "Guido",
    "Mary",
    "Bjarne",
    "Shafi",
    "James",
    "Adele",
    "Leslie",
    "Jean",
    "Robert",
    "Carol",
    "Brian",
    "Susan",
    "Larry",
    "Joan",
    "Peter",
    "Elena",
    "Marco",
    "Priya",
    "Kenji",
];
const LAST_NAMES: [&str; 40] = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Knuth",
    "Johnson",
    "Dijkstra",
    "Wilson",
    "Wirth",
    "Conway",
    "Cerf",
    "Borg",
    "Van Rossum",
    "Keller",
    "Stroustrup",
    "Goldwasser",
    "Gosling",
    "Goldberg",
    "Lamport",
    "Sammet",
    "Kahn",
    "Shaw",
    "Kernighan",
    "Kare",
    "Page",
    "Clarke",
    "Naur",
    "Rossi",
    "Bianchi",
    "Patel",
    "Tanaka",
];
const COMPANY_STEMS: [&str; 30] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Oscorp",
    "Massive",
    "Aperture",
    "Black Mesa",
    "Gringotts",
    "Monarch",
    "Pied Piper",
    "Dunder",
    "Sterling",
    "Prestige",
    "Nakatomi",
    "Virtucon",
    "Zorg",
    "Blue Sun",
    "Weyland",
    "Ollivander",
    "Duff",
    "Krusty",
];
const COMPANY_SUFFIXES: [&str; 8] = [
    "Inc.", "Corp", "Ltd", "Group", "Holdings", "Labs", "Systems", "Partners",
];
const INDUSTRIES: [&str; 12] = [
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Communications",
    "Construction",
    "Education",
    "Energy",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
    "Transportation",
];
const CITIES: [(&str, &str, &str); 8] = [
    ("San Francisco", "CA", "US"),
    ("New York", "NY", "US"),
    ("Austin", "TX", "US"),
    ("Chicago", "IL", "US"),
    ("London", "England", "GB"),
    ("Paris", "Île-de-France", "FR"),
    ("Berlin", "Berlin", "DE"),
    ("Tokyo", "Tokyo", "JP"),
];
const TITLES: [&str; 8] = [
    "CEO",
    "CFO",
    "VP Engineering",
    "Director of IT",
    "Procurement Manager",
    "Head of Sales",
    "Operations Lead",
    "Analyst",
];

/// Generated users per `--scale` unit (the layout below plus one IT admin).
const PEOPLE_PER_COPY: usize = 60;

/// Builds the demo org and the people of its IdP directories.
pub fn build(index: usize, scale: u32) -> Result<(Org, Vec<Person>), String> {
    let scale = scale.max(1) as usize;
    let seed = SeedFile {
        org: seed::OrgSeed {
            name: Some("Emulated Demo Org".into()),
            sharing: HashMap::from([("Opportunity".to_string(), super::schema::Sharing::Private)]),
            session_settings: identity::session_settings(),
            trusted_ip_ranges: identity::trusted_ip_ranges(),
            demo_metadata: true,
            ..seed::OrgSeed::default()
        },
        profiles: identity::profiles(),
        roles: vec![
            role("CEO", None),
            role("VP Sales", Some("CEO")),
            role("Sales Manager West", Some("VP Sales")),
            role("Sales Manager East", Some("VP Sales")),
            role("Sales Rep West", Some("Sales Manager West")),
            role("Sales Rep East", Some("Sales Manager East")),
            role("VP Support", Some("CEO")),
            role("Support Agent", Some("VP Support")),
        ],
        permission_sets: identity::permission_sets(),
        permission_set_groups: identity::permission_set_groups(),
        // The key an ERP system knows accounts by: upserts match on it. Not unique, as
        // external ids often are not, so two accounts can share one (upsert answers 300).
        standard_fields: BTreeMap::from([(
            "Account".to_string(),
            vec![seed::CustomFieldSeed {
                name: "ERP_Id__c".into(),
                field_type: "string".into(),
                label: Some("ERP Id".into()),
                length: Some(20),
                external_id: true,
                ..seed::CustomFieldSeed::default()
            }],
        )]),
        users: vec![UserSeed {
            username: "admin@demo.emulator".into(),
            first_name: Some("Dana".into()),
            last_name: Some("Admin".into()),
            email: Some("dana.admin@demo.emulator".into()),
            profile: Some("System Administrator".into()),
            role: Some("CEO".into()),
            permission_sets: Vec::new(),
            permission_set_groups: Vec::new(),
            active: true,
            frozen: false,
            default: true,
            fields: Map::from_iter([("Title".to_string(), json!("Salesforce Administrator"))]),
        }]
        .into_iter()
        .chain(identity::planted_users())
        .chain(identity::exposure_users())
        .collect(),
        ..SeedFile::default()
    };
    seed::build_org(index, seed, true, |builder, _| generate(builder, scale))
}

fn role(name: &str, parent: Option<&str>) -> RoleSeed {
    RoleSeed {
        name: name.into(),
        parent: parent.map(str::to_string),
    }
}

fn id_of(builder: &OrgBuilder, object: &str, field: &str, value: &str) -> Option<String> {
    let index = builder.schema.index_of(object)?;
    let def = &builder.schema.objects[index];
    let f = def.field_index(field)?;
    builder.tables.table(index).rows.iter().find_map(|r| {
        (r.values.get(f).and_then(|v| v.as_str()) == Some(value)).then(|| r.id().to_string())
    })
}

fn generate(builder: &mut OrgBuilder, scale: usize) -> Result<(), String> {
    let mut rng = Rng::new(0x5f3c_0de5_eed5_0001);
    let today = seed::today();
    let now = Utc::now();
    let profile = |b: &OrgBuilder, name: &str| {
        id_of(b, "Profile", "Name", name).ok_or(format!("profile {name}"))
    };
    let role = |b: &OrgBuilder, name: &str| {
        id_of(b, "UserRole", "Name", name).ok_or(format!("role {name}"))
    };
    let sales_profile = profile(builder, "Sales User")?;
    let support_profile = profile(builder, "Support User")?;
    let standard_profile = profile(builder, "Standard User")?;
    let read_only_profile = profile(builder, "Read Only")?;
    let integration_profile = profile(builder, "Integration User")?;
    let admin_profile = profile(builder, "System Administrator")?;

    // People: ~60 per scale unit, in a hierarchy.
    let layout: [(&str, &str, usize); 9] = [
        ("VP Sales", "sales", 1),
        ("Sales Manager West", "sales", 2),
        ("Sales Manager East", "sales", 2),
        ("Sales Rep West", "sales", 16),
        ("Sales Rep East", "sales", 16),
        ("VP Support", "support", 1),
        ("Support Agent", "support", 14),
        ("", "readonly", 4),
        ("", "integration", 3),
    ];
    let mut reps = Vec::new();
    let mut all_users = vec![builder.actor.clone()];
    let mut n = 0usize;
    for copy in 0..scale {
        for &(role_name, kind, count) in &layout {
            for _ in 0..count {
                n += 1;
                let first = *rng.pick(&FIRST_NAMES);
                let last = *rng.pick(&LAST_NAMES);
                let username = format!(
                    "{}.{}{n}@demo.emulator",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase().replace([' ', '-'], "")
                );
                let profile_id = match kind {
                    "sales" => &sales_profile,
                    "support" => &support_profile,
                    "readonly" => &read_only_profile,
                    "integration" => &integration_profile,
                    _ => &standard_profile,
                };
                let mut fields = Map::new();
                fields.insert("Username".into(), json!(username));
                fields.insert("FirstName".into(), json!(first));
                fields.insert("LastName".into(), json!(last));
                fields.insert("Email".into(), json!(username));
                fields.insert(
                    "Alias".into(),
                    json!(format!("u{n}").chars().take(8).collect::<String>()),
                );
                fields.insert("TimeZoneSidKey".into(), json!("America/Los_Angeles"));
                fields.insert("LocaleSidKey".into(), json!("en_US"));
                fields.insert("EmailEncodingKey".into(), json!("UTF-8"));
                fields.insert("LanguageLocaleKey".into(), json!("en_US"));
                fields.insert("ProfileId".into(), json!(profile_id));
                fields.insert(
                    "IsActive".into(),
                    json!(kind != "readonly" || n.is_multiple_of(2)),
                );
                fields.insert(
                    "Title".into(),
                    json!(if role_name.is_empty() {
                        kind
                    } else {
                        role_name
                    }),
                );
                fields.insert("Department".into(), json!(kind));
                let login = now - Duration::hours(rng.below(24 * 60) as i64);
                fields.insert(
                    "LastLoginDate".into(),
                    json!(super::json::format_datetime(&login)),
                );
                if !role_name.is_empty() {
                    fields.insert("UserRoleId".into(), json!(role(builder, role_name)?));
                }
                let created = now - Duration::days(200 + rng.below(600) as i64);
                fields.insert(
                    "CreatedDate".into(),
                    json!(super::json::format_datetime(&created)),
                );
                let id = builder.insert("User", &fields, None)?;
                builder.refs.insert(username, id.clone());
                if role_name.starts_with("Sales Rep")
                    || (copy == 0 && role_name.starts_with("Sales Manager"))
                {
                    reps.push(id.clone());
                }
                all_users.push(id);
            }
        }
        // A second administrator per scale unit, as real orgs have.
        n += 1;
        let mut fields = Map::new();
        let username = format!("it.admin{}@demo.emulator", copy + 1);
        for (k, v) in [
            ("Username", json!(username)),
            ("LastName", json!(format!("Admin {n}"))),
            ("FirstName", json!("IT")),
            ("Email", json!(username)),
            (
                "Alias",
                json!(format!("ita{n}").chars().take(8).collect::<String>()),
            ),
            ("TimeZoneSidKey", json!("America/New_York")),
            ("LocaleSidKey", json!("en_US")),
            ("EmailEncodingKey", json!("UTF-8")),
            ("LanguageLocaleKey", json!("en_US")),
            ("ProfileId", json!(admin_profile)),
            ("IsActive", json!(true)),
        ] {
            fields.insert(k.into(), v);
        }
        let id = builder.insert("User", &fields, None)?;
        builder.refs.insert(username, id.clone());
        all_users.push(id);
    }
    let data_export =
        id_of(builder, "PermissionSet", "Name", "Data_Export").ok_or("permission set")?;
    let user_admin =
        id_of(builder, "PermissionSet", "Name", "User_Admin").ok_or("permission set")?;
    for (i, user) in all_users.iter().enumerate().skip(1) {
        if i % 7 == 0 {
            assign(builder, user, &data_export)?;
        }
        if i % 23 == 0 {
            assign(builder, user, &user_admin)?;
        }
    }

    // Business data (not scaled: --scale multiplies people and grants).
    let mut accounts = Vec::new();
    const ACCOUNTS: usize = 300;
    let planted_accounts = injection::for_object("Account");
    for i in 0..ACCOUNTS {
        let (city, state, country) = *rng.pick(&CITIES);
        let name = format!(
            "{} {}",
            rng.pick(&COMPANY_STEMS),
            rng.pick(&COMPANY_SUFFIXES)
        );
        let name = if i >= 30 {
            format!("{name} {}", i / 30)
        } else {
            name
        };
        let owner = rng.pick(&reps).clone();
        let mut f = Map::new();
        f.insert("Name".into(), json!(name));
        f.insert("Industry".into(), json!(rng.pick(&INDUSTRIES)));
        f.insert(
            "Type".into(),
            json!(if rng.chance(60) {
                "Customer - Direct"
            } else {
                "Prospect"
            }),
        );
        f.insert("BillingCity".into(), json!(city));
        f.insert("BillingState".into(), json!(state));
        f.insert("BillingCountry".into(), json!(country));
        f.insert(
            "Phone".into(),
            json!(format!(
                "(555) {:03}-{:04}",
                rng.below(1000),
                rng.below(10000)
            )),
        );
        f.insert(
            "Website".into(),
            json!(format!(
                "https://www.{}.example",
                name.to_ascii_lowercase().split(' ').next().unwrap_or("x")
            )),
        );
        f.insert(
            "AnnualRevenue".into(),
            json!((rng.below(500) + 1) as f64 * 100_000.0),
        );
        f.insert("NumberOfEmployees".into(), json!(rng.below(20_000) + 5));
        f.insert("Rating".into(), json!(rng.pick(&["Hot", "Warm", "Cold"])));
        f.insert("OwnerId".into(), json!(owner));
        f.insert("ERP_Id__c".into(), json!(format!("ERP-{:05}", i + 1)));
        let created = now - Duration::days(30 + rng.below(700) as i64);
        f.insert(
            "CreatedDate".into(),
            json!(super::json::format_datetime(&created)),
        );
        if let Some(planted) = (i + planted_accounts.len())
            .checked_sub(ACCOUNTS)
            .and_then(|k| planted_accounts.get(k))
        {
            injection::plant(planted, &mut f);
        }
        let id = builder.insert("Account", &f, None)?;
        accounts.push((id, owner));
    }
    let mut contacts = Vec::new();
    const CONTACTS_PER_ACCOUNT: usize = 10;
    let planted_contacts = injection::for_object("Contact");
    for (a, (account, owner)) in accounts.iter().enumerate() {
        for c in 0..CONTACTS_PER_ACCOUNT {
            let first = *rng.pick(&FIRST_NAMES);
            let last = *rng.pick(&LAST_NAMES);
            let mut f = Map::new();
            f.insert("FirstName".into(), json!(first));
            f.insert("LastName".into(), json!(last));
            f.insert("AccountId".into(), json!(account));
            f.insert("Title".into(), json!(rng.pick(&TITLES)));
            f.insert(
                "Email".into(),
                json!(format!(
                    "{}.{}{a}x{c}@customer.example",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase().replace([' ', '-'], "")
                )),
            );
            f.insert(
                "Phone".into(),
                json!(format!(
                    "(555) {:03}-{:04}",
                    rng.below(1000),
                    rng.below(10000)
                )),
            );
            f.insert(
                "LeadSource".into(),
                json!(rng.pick(&["Web", "Phone Inquiry", "Partner Referral", "Other"])),
            );
            f.insert("OwnerId".into(), json!(owner));
            let n = a * CONTACTS_PER_ACCOUNT + c;
            if let Some(planted) = (n + planted_contacts.len())
                .checked_sub(accounts.len() * CONTACTS_PER_ACCOUNT)
                .and_then(|k| planted_contacts.get(k))
            {
                injection::plant(planted, &mut f);
            }
            contacts.push((builder.insert("Contact", &f, None)?, account.clone()));
        }
    }
    let mut opportunities = Vec::new();
    for i in 0..600 {
        let (account, owner) = rng.pick(&accounts).clone();
        let stage = OPPORTUNITY_STAGES[i % OPPORTUNITY_STAGES.len()];
        let offset = rng.below(360) as i64 - 180;
        // Closed deals closed in the past; open ones close around today.
        let offset = if stage.closed { -offset.abs() } else { offset };
        let close = today + Duration::days(offset);
        let mut f = Map::new();
        f.insert(
            "Name".into(),
            json!(format!(
                "{} - {}",
                rng.pick(&COMPANY_STEMS),
                rng.pick(&["Renewal", "Expansion", "New Business", "Upgrade", "Pilot"])
            )),
        );
        f.insert("AccountId".into(), json!(account));
        f.insert("StageName".into(), json!(stage.name));
        f.insert(
            "CloseDate".into(),
            json!(close.format("%Y-%m-%d").to_string()),
        );
        f.insert(
            "Amount".into(),
            json!((rng.below(200) + 1) as f64 * 2_500.0),
        );
        f.insert(
            "Type".into(),
            json!(rng.pick(&[
                "New Customer",
                "Existing Customer - Upgrade",
                "Existing Customer - Replacement"
            ])),
        );
        f.insert(
            "LeadSource".into(),
            json!(rng.pick(&["Web", "Phone Inquiry", "Partner Referral"])),
        );
        f.insert("OwnerId".into(), json!(owner));
        opportunities.push((builder.insert("Opportunity", &f, None)?, account));
    }
    for (opportunity, account) in &opportunities {
        let candidates: Vec<&String> = contacts
            .iter()
            .filter(|(_, a)| a == account)
            .map(|(c, _)| c)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let mut f = Map::new();
        f.insert("OpportunityId".into(), json!(opportunity));
        f.insert("ContactId".into(), json!(rng.pick(&candidates)));
        f.insert(
            "Role".into(),
            json!(rng.pick(&[
                "Decision Maker",
                "Economic Buyer",
                "Evaluator",
                "Influencer"
            ])),
        );
        f.insert("IsPrimary".into(), json!(true));
        builder.insert("OpportunityContactRole", &f, None)?;
    }
    const CASES: usize = 400;
    let planted_cases = injection::for_object("Case");
    for i in 0..CASES {
        let (contact, account) = rng.pick(&contacts).clone();
        let mut f = Map::new();
        f.insert(
            "Subject".into(),
            json!(rng.pick(&[
                "Cannot log in",
                "Invoice question",
                "Feature request",
                "Outage report",
                "Integration error",
                "Billing address change"
            ])),
        );
        f.insert(
            "Status".into(),
            json!(rng.pick(&["New", "Working", "Escalated", "Closed"])),
        );
        f.insert(
            "Priority".into(),
            json!(rng.pick(&["High", "Medium", "Low"])),
        );
        f.insert("Origin".into(), json!(rng.pick(&["Phone", "Email", "Web"])));
        f.insert("ContactId".into(), json!(contact));
        f.insert("AccountId".into(), json!(account));
        let created = now - Duration::days(rng.below(120) as i64);
        f.insert(
            "CreatedDate".into(),
            json!(super::json::format_datetime(&created)),
        );
        if let Some(planted) = (i + planted_cases.len())
            .checked_sub(CASES)
            .and_then(|k| planted_cases.get(k))
        {
            injection::plant(planted, &mut f);
        }
        builder.insert("Case", &f, None)?;
    }
    const LEADS: usize = 500;
    let planted_leads = injection::for_object("Lead");
    for i in 0..LEADS {
        let mut f = Map::new();
        f.insert("FirstName".into(), json!(rng.pick(&FIRST_NAMES)));
        f.insert("LastName".into(), json!(rng.pick(&LAST_NAMES)));
        f.insert(
            "Company".into(),
            json!(format!(
                "{} {} {i}",
                rng.pick(&COMPANY_STEMS),
                rng.pick(&COMPANY_SUFFIXES)
            )),
        );
        f.insert(
            "Status".into(),
            json!(rng.pick(&[
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Not Converted"
            ])),
        );
        f.insert(
            "LeadSource".into(),
            json!(rng.pick(&["Web", "Phone Inquiry", "Purchased List"])),
        );
        f.insert("Industry".into(), json!(rng.pick(&INDUSTRIES)));
        f.insert("Email".into(), json!(format!("lead{i}@prospect.example")));
        f.insert("OwnerId".into(), json!(rng.pick(&reps)));
        if let Some(planted) = (i + planted_leads.len())
            .checked_sub(LEADS)
            .and_then(|k| planted_leads.get(k))
        {
            injection::plant(planted, &mut f);
        }
        builder.insert("Lead", &f, None)?;
    }
    for _ in 0..800 {
        let (contact, account) = rng.pick(&contacts).clone();
        let due = today + Duration::days(rng.below(60) as i64 - 30);
        let mut f = Map::new();
        f.insert(
            "Subject".into(),
            json!(rng.pick(&["Call", "Send Quote", "Send Letter", "Other"])),
        );
        f.insert(
            "Status".into(),
            json!(rng.pick(&["Not Started", "In Progress", "Completed"])),
        );
        f.insert(
            "Priority".into(),
            json!(rng.pick(&["High", "Normal", "Low"])),
        );
        f.insert(
            "ActivityDate".into(),
            json!(due.format("%Y-%m-%d").to_string()),
        );
        f.insert("WhoId".into(), json!(contact));
        f.insert("WhatId".into(), json!(account));
        f.insert("OwnerId".into(), json!(rng.pick(&reps)));
        builder.insert("Task", &f, None)?;
    }
    for _ in 0..400 {
        let (contact, account) = rng.pick(&contacts).clone();
        let day = today + Duration::days(rng.below(60) as i64 - 30);
        let hour = 8 + rng.below(9) as u32;
        let start = day
            .and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
            .and_utc();
        let mut f = Map::new();
        f.insert(
            "Subject".into(),
            json!(rng.pick(&["Meeting", "Call", "Email", "Other"])),
        );
        f.insert(
            "ActivityDateTime".into(),
            json!(super::json::format_datetime(&start)),
        );
        f.insert(
            "DurationInMinutes".into(),
            json!(*rng.pick(&[30, 45, 60, 90])),
        );
        f.insert("WhoId".into(), json!(contact));
        f.insert("WhatId".into(), json!(account));
        f.insert("OwnerId".into(), json!(rng.pick(&reps)));
        builder.insert("Event", &f, None)?;
    }
    let mut record_type = Map::new();
    for (k, v) in [
        ("Name", json!("Enterprise")),
        ("DeveloperName", json!("Enterprise")),
        ("SobjectType", json!("Account")),
    ] {
        record_type.insert(k.into(), v);
    }
    builder.insert("RecordType", &record_type, None)?;

    debug_assert_eq!(all_users.len(), 1 + PEOPLE_PER_COPY * scale);
    identity::seed(builder, &mut rng, scale, &all_users)?;
    history::seed(builder)?;
    files::seed(builder)
}

fn assign(builder: &mut OrgBuilder, user: &str, set: &str) -> Result<(), String> {
    let mut f = Map::new();
    f.insert("AssigneeId".into(), Json::String(user.to_string()));
    f.insert("PermissionSetId".into(), Json::String(set.to_string()));
    builder
        .insert("PermissionSetAssignment", &f, None)
        .map(|_| ())
}
