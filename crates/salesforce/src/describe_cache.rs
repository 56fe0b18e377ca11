//! Describe metadata cached per tenant with a TTL and revalidated with If-Modified-Since.
//!
//! Only describe metadata is cached; record data never is. Entries are keyed by tenant, so
//! one tenant's describe is never served to another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::api::describe::{DescribeFetch, GlobalDescribe};
use super::auth::TenantKey;
use super::client::SalesforceClient;
use super::errors::SfError;
use sfmcp_soql::schema::{Lookup, ObjectSchema, Schema};

struct ObjectEntry {
    schema: Arc<ObjectSchema>,
    checked: Instant,
    /// Sent back as `If-Modified-Since`.
    last_modified: String,
}

struct GlobalEntry {
    describe: Arc<GlobalDescribe>,
    /// Lower-cased name → index in `describe.sobjects`.
    by_name: HashMap<String, usize>,
    checked: Instant,
}

type ObjectKey = (TenantKey, String);

pub struct DescribeCache {
    ttl: Duration,
    objects: RwLock<HashMap<ObjectKey, ObjectEntry>>,
    globals: RwLock<HashMap<TenantKey, GlobalEntry>>,
    /// One fetch per object at a time: concurrent callers wait for it and share its answer.
    fetching: Mutex<HashMap<ObjectKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for DescribeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DescribeCache")
            .field("ttl", &self.ttl)
            .field(
                "objects",
                &self
                    .objects
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            )
            .finish()
    }
}

fn http_date_now() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

impl DescribeCache {
    pub fn new(ttl: Duration) -> Self {
        DescribeCache {
            ttl,
            objects: RwLock::new(HashMap::new()),
            globals: RwLock::new(HashMap::new()),
            fetching: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, key: &ObjectKey) -> Option<Arc<ObjectSchema>> {
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        objects
            .get(key)
            .filter(|e| e.checked.elapsed() < self.ttl)
            .map(|e| e.schema.clone())
    }

    /// An object's describe: from the cache while fresh, revalidated when stale.
    pub async fn describe(
        &self,
        client: &SalesforceClient,
        tenant: &TenantKey,
        object: &str,
    ) -> Result<Arc<ObjectSchema>, SfError> {
        let key = (tenant.clone(), object.to_ascii_lowercase());
        if let Some(schema) = self.fresh(&key) {
            return Ok(schema);
        }
        let gate = self
            .fetching
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let _one_fetch = gate.lock().await;
        // Whoever held the gate before us may have just refreshed the entry.
        if let Some(schema) = self.fresh(&key) {
            return Ok(schema);
        }
        let cached = {
            let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
            objects
                .get(&key)
                .map(|e| (e.schema.clone(), e.last_modified.clone()))
        };
        let since = cached.as_ref().map(|(_, since)| since.as_str());
        // Revalidate under the canonical name Salesforce gave, not the caller's casing.
        let name = cached
            .as_ref()
            .map_or(object, |(schema, _)| schema.name.as_str());
        let fetched_at = http_date_now();
        match client.describe_object(name, since).await? {
            DescribeFetch::NotModified => {
                let kept = {
                    let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
                    objects.get_mut(&key).map(|entry| {
                        entry.checked = Instant::now();
                        entry.schema.clone()
                    })
                };
                match kept {
                    Some(schema) => Ok(schema),
                    // Evicted meanwhile: fetch unconditionally.
                    None => self.fetch_fresh(client, key, object).await,
                }
            }
            DescribeFetch::Modified {
                schema,
                last_modified,
            } => Ok(self.store(key, schema, last_modified.unwrap_or(fetched_at))),
        }
    }

    async fn fetch_fresh(
        &self,
        client: &SalesforceClient,
        key: (TenantKey, String),
        object: &str,
    ) -> Result<Arc<ObjectSchema>, SfError> {
        let fetched_at = http_date_now();
        match client.describe_object(object, None).await? {
            DescribeFetch::Modified {
                schema,
                last_modified,
            } => Ok(self.store(key, schema, last_modified.unwrap_or(fetched_at))),
            DescribeFetch::NotModified => Err(SfError::UnexpectedResponse {
                what: format!("describe {object}"),
                status: 304,
                detail: "Not Modified for an unconditional request".into(),
                setting: client.url_setting(),
            }),
        }
    }

    fn store(
        &self,
        key: (TenantKey, String),
        schema: Box<ObjectSchema>,
        last_modified: String,
    ) -> Arc<ObjectSchema> {
        let schema: Arc<ObjectSchema> = Arc::from(schema);
        let canonical = (key.0.clone(), schema.name.to_ascii_lowercase());
        let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
        for k in [key, canonical] {
            objects.insert(
                k,
                ObjectEntry {
                    schema: schema.clone(),
                    checked: Instant::now(),
                    last_modified: last_modified.clone(),
                },
            );
        }
        schema
    }

    /// Describe global, cached for the TTL.
    pub async fn global(
        &self,
        client: &SalesforceClient,
        tenant: &TenantKey,
    ) -> Result<Arc<GlobalDescribe>, SfError> {
        {
            let globals = self.globals.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = globals.get(tenant)
                && entry.checked.elapsed() < self.ttl
            {
                return Ok(entry.describe.clone());
            }
        }
        let describe = Arc::new(client.describe_global().await?);
        let by_name = describe
            .sobjects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        self.globals
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                tenant.clone(),
                GlobalEntry {
                    describe: describe.clone(),
                    by_name,
                    checked: Instant::now(),
                },
            );
        Ok(describe)
    }

    /// Drops everything cached for a tenant.
    pub fn invalidate(&self, tenant: &TenantKey) {
        self.objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(t, _), _| t != tenant);
        self.globals
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
        self.fetching
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(t, _), _| t != tenant);
    }

    /// Tenants with anything cached (for metrics, and to show the cache stays bounded).
    pub fn tenant_count(&self) -> usize {
        let mut tenants: std::collections::HashSet<TenantKey> = self
            .objects
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .map(|(t, _)| t.clone())
            .collect();
        tenants.extend(
            self.globals
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .keys()
                .cloned(),
        );
        tenants.len()
    }

    /// Validation's view of one tenant's entries.
    pub fn tenant_schema(self: &Arc<Self>, tenant: TenantKey) -> TenantSchema {
        TenantSchema {
            cache: self.clone(),
            tenant,
        }
    }
}

/// One tenant's cached describes, as [`Schema`] for SOQL validation. Answers
/// [`Lookup::NotLoaded`] for objects that exist (or may exist) but are not fetched or are
/// stale, so the caller describes them and validates again; [`Lookup::Unknown`] only when
/// describe global is loaded and does not list the object.
#[derive(Clone)]
pub struct TenantSchema {
    cache: Arc<DescribeCache>,
    tenant: TenantKey,
}

impl std::fmt::Debug for TenantSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantSchema")
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl TenantSchema {
    /// The object whose ids start with `prefix`, from describe global when loaded.
    pub fn object_for_key_prefix(&self, prefix: &str) -> Option<String> {
        let globals = self
            .cache
            .globals
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        globals.get(&self.tenant).and_then(|g| {
            g.describe
                .sobjects
                .iter()
                .find(|o| o.key_prefix.as_deref() == Some(prefix))
                .map(|o| o.name.clone())
        })
    }
}

impl Schema for TenantSchema {
    fn object(&self, name: &str) -> Lookup {
        let lower = name.to_ascii_lowercase();
        {
            let objects = self
                .cache
                .objects
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = objects.get(&(self.tenant.clone(), lower.clone()))
                && entry.checked.elapsed() < self.cache.ttl
            {
                return Lookup::Found(entry.schema.clone());
            }
        }
        let globals = self
            .cache
            .globals
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match globals.get(&self.tenant) {
            Some(global) if !global.by_name.contains_key(&lower) => Lookup::Unknown,
            _ => Lookup::NotLoaded,
        }
    }

    fn object_names(&self) -> Vec<String> {
        let globals = self
            .cache
            .globals
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(global) = globals.get(&self.tenant) {
            return global
                .describe
                .sobjects
                .iter()
                .map(|o| o.name.clone())
                .collect();
        }
        drop(globals);
        let objects = self
            .cache
            .objects
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = objects
            .iter()
            .filter(|((t, _), _)| t == &self.tenant)
            .map(|(_, e)| e.schema.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}
