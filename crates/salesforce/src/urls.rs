//! Links back into Salesforce: Lightning record URLs derived from the instance URL.
//!
//! My Domain hosts map onto their Lightning hosts by suffix (`acme.my.salesforce.com` →
//! `acme.lightning.force.com`, with the `sandbox`/`develop`/`scratch`/... partition kept).
//! Legacy instance hosts (`na1.salesforce.com`) have no Lightning host, so they get the
//! classic `{instance}/{id}` link, which Salesforce redirects to the record. Loopback hosts
//! (the local emulator) keep their own origin. Anything else gets no link rather than a
//! wrong one.

use url::Url;

use super::ids::SalesforceId;

/// How record links are made for one org. Build once per connection, then call
/// [`RecordLinks::url`] per record or print [`RecordLinks::template`] once per result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordLinks {
    /// `{origin}/lightning/r/{object}/{id}/view`
    Lightning { origin: String },
    /// `{origin}/{id}`: legacy instance hosts without a Lightning domain.
    Classic { origin: String },
    /// A host with no known mapping (Government Cloud, China, ...).
    None,
}

/// My Domain partitions whose Lightning host keeps the partition segment.
const PARTITIONS: &[&str] = &[
    "sandbox",
    "develop",
    "scratch",
    "trailblaze",
    "demo",
    "patch",
    "free",
];

impl RecordLinks {
    pub fn for_instance(instance_url: &Url) -> RecordLinks {
        let Some(host) = instance_url.host_str() else {
            return RecordLinks::None;
        };
        let host = host.to_ascii_lowercase();
        if is_loopback(instance_url) {
            return RecordLinks::Lightning {
                origin: origin(instance_url),
            };
        }
        if host.ends_with(".lightning.force.com") {
            return RecordLinks::Lightning {
                origin: format!("https://{host}"),
            };
        }
        if let Some(domain) = host.strip_suffix(".my.salesforce.com") {
            let labels: Vec<&str> = domain.split('.').collect();
            let lightning = match labels.as_slice() {
                [name] => format!("{name}.lightning.force.com"),
                [name, partition] if PARTITIONS.contains(partition) => {
                    format!("{name}.{partition}.lightning.force.com")
                }
                // Non-enhanced sandbox `acme--uat.cs42`: the instance segment goes away.
                [name, instance] if is_instance_label(instance) => {
                    format!("{name}.lightning.force.com")
                }
                _ => return RecordLinks::None,
            };
            return RecordLinks::Lightning {
                origin: format!("https://{lightning}"),
            };
        }
        if let Some(instance) = host.strip_suffix(".salesforce.com")
            && is_instance_label(instance)
        {
            return RecordLinks::Classic {
                origin: format!("https://{host}"),
            };
        }
        RecordLinks::None
    }

    /// The link to one record.
    pub fn url(&self, object: &str, id: &SalesforceId) -> Option<String> {
        // Written out rather than filled from `template`: this runs for every record of an
        // answer. A test holds the two to the same links.
        let id = id.as_str();
        match self {
            RecordLinks::Lightning { origin } => {
                Some(format!("{origin}/lightning/r/{object}/{id}/view"))
            }
            RecordLinks::Classic { origin } => Some(format!("{origin}/{id}")),
            RecordLinks::None => None,
        }
    }

    /// One template for a whole result, with `{object}` and `{id}` placeholders, so a tool
    /// prints it once instead of a URL per row.
    pub fn template(&self) -> Option<String> {
        match self {
            RecordLinks::Lightning { origin } => {
                Some(format!("{origin}/lightning/r/{{object}}/{{id}}/view"))
            }
            RecordLinks::Classic { origin } => Some(format!("{origin}/{{id}}")),
            RecordLinks::None => None,
        }
    }
}

/// `na1`, `cs42`, `eu12`, `um5`, `usa3`: letters then digits.
fn is_instance_label(label: &str) -> bool {
    let letters = label
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    letters > 0 && letters < label.len() && label[letters..].chars().all(|c| c.is_ascii_digit())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(instance: &str) -> Option<String> {
        let url = Url::parse(instance).expect("test url");
        let id = SalesforceId::parse("0010c00001vlGl5AAE").expect("test id");
        RecordLinks::for_instance(&url).url("Account", &id)
    }

    #[test]
    fn my_domain_hosts() {
        assert_eq!(
            link("https://acme.my.salesforce.com").as_deref(),
            Some("https://acme.lightning.force.com/lightning/r/Account/0010c00001vlGl5AAE/view")
        );
        assert_eq!(
            link("https://acme--uat.sandbox.my.salesforce.com/").as_deref(),
            Some(
                "https://acme--uat.sandbox.lightning.force.com/lightning/r/Account/0010c00001vlGl5AAE/view"
            )
        );
        assert_eq!(
            link("https://acme-dev-ed.develop.my.salesforce.com").as_deref(),
            Some(
                "https://acme-dev-ed.develop.lightning.force.com/lightning/r/Account/0010c00001vlGl5AAE/view"
            )
        );
        assert_eq!(
            link("https://x.scratch.my.salesforce.com").as_deref(),
            Some(
                "https://x.scratch.lightning.force.com/lightning/r/Account/0010c00001vlGl5AAE/view"
            )
        );
        assert_eq!(
            link("https://ACME--uat.cs42.my.salesforce.com").as_deref(),
            Some(
                "https://acme--uat.lightning.force.com/lightning/r/Account/0010c00001vlGl5AAE/view"
            )
        );
    }

    #[test]
    fn legacy_loopback_and_unknown_hosts() {
        assert_eq!(
            link("https://na1.salesforce.com").as_deref(),
            Some("https://na1.salesforce.com/0010c00001vlGl5AAE")
        );
        assert_eq!(
            link("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080/lightning/r/Account/0010c00001vlGl5AAE/view")
        );
        assert_eq!(link("https://acme.my.salesforce.mil"), None);
        assert_eq!(link("https://login.salesforce.com.evil.example"), None);
        assert_eq!(link("https://a.b.c.my.salesforce.com"), None);
    }

    #[test]
    fn template_has_placeholders() {
        let url = Url::parse("https://acme.my.salesforce.com").expect("test url");
        assert_eq!(
            RecordLinks::for_instance(&url).template().as_deref(),
            Some("https://acme.lightning.force.com/lightning/r/{object}/{id}/view")
        );
    }

    #[test]
    fn each_link_is_its_template_filled_in() {
        let id = SalesforceId::parse("0010c00001vlGl5AAE").expect("test id");
        for instance in [
            "https://acme.my.salesforce.com",
            "https://na1.salesforce.com",
            "http://127.0.0.1:8080",
            "https://acme.my.salesforce.mil",
        ] {
            let links = RecordLinks::for_instance(&Url::parse(instance).expect("test url"));
            let filled = links.template().map(|t| {
                t.replace("{object}", "Account")
                    .replace("{id}", id.as_str())
            });
            assert_eq!(links.url("Account", &id), filled, "{instance}");
        }
    }
}
