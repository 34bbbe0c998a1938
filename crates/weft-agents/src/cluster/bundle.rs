//! Program bundles: the module sources a worker job needs, stored once in
//! the JetStream object store `weft_bundles` under the SHA-256 of their
//! content, so a job carries only the hash and each host fetches a bundle
//! once and keeps it in its own cache. A fetched bundle whose content does
//! not hash to its name is refused (a corrupted or forged object never
//! runs).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use async_nats::jetstream::object_store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::ready::{retry_while_starting, STARTUP_GRACE};
use super::Cluster;

const BUNDLES_BUCKET: &str = "weft_bundles";
/// Largest bundle a host fetches (module sources, not data).
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

/// The sources of a program: its entry module and every module it imports,
/// by the path the entry's imports resolve to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramBundle {
    /// Path of the entry module (a key of `modules`).
    pub entry: String,
    /// Module path → source text (sorted, so equal programs hash equally).
    pub modules: BTreeMap<String, String>,
}

impl ProgramBundle {
    /// The canonical bytes that are stored and hashed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a bundle of strings always encodes")
    }

    /// Hex SHA-256 of [`Self::to_bytes`]: the bundle's name on the cluster.
    pub fn hash(&self) -> String {
        sha256_hex(&self.to_bytes())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bundle object store plus this process's cache of fetched bundles.
pub struct BundleStore {
    store: object_store::ObjectStore,
    cache: RefCell<HashMap<String, Rc<ProgramBundle>>>,
    fetches: RefCell<u64>,
}

impl BundleStore {
    /// Opens `weft_bundles`, creating it with `replicas` copies when missing.
    pub async fn open(cluster: &Cluster, replicas: usize) -> Result<BundleStore, String> {
        let js = cluster.jetstream();
        let store = retry_while_starting(STARTUP_GRACE, move || async move {
            match js.get_object_store(BUNDLES_BUCKET).await {
                Ok(store) => Ok(store),
                Err(_) => js
                    .create_object_store(object_store::Config {
                        bucket: BUNDLES_BUCKET.to_string(),
                        num_replicas: replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| {
                        format!("cannot create object store {BUNDLES_BUCKET} on the cluster: {e}")
                    }),
            }
        })
        .await?;
        Ok(BundleStore {
            store,
            cache: RefCell::new(HashMap::new()),
            fetches: RefCell::new(0),
        })
    }

    /// Stores `bundle` unless a bundle of the same hash is there; returns the hash.
    pub async fn put(&self, bundle: &ProgramBundle) -> Result<String, String> {
        let hash = bundle.hash();
        if self.store.info(&hash).await.is_ok() {
            return Ok(hash);
        }
        let bytes = bundle.to_bytes();
        self.store
            .put(hash.as_str(), &mut bytes.as_slice())
            .await
            .map_err(|e| format!("cannot store program bundle {hash} on the cluster: {e}"))?;
        Ok(hash)
    }

    /// The bundle named `hash`: from this process's cache, else fetched,
    /// checked against its hash and cached.
    pub async fn get(&self, hash: &str) -> Result<Rc<ProgramBundle>, String> {
        if let Some(found) = self.cache.borrow().get(hash) {
            return Ok(found.clone());
        }
        let mut object = self.store.get(hash).await.map_err(|e| {
            format!("program bundle {hash} is not on the cluster ({e}); the job cannot run")
        })?;
        let mut bytes = Vec::new();
        (&mut object)
            .take(MAX_BUNDLE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| format!("cannot read program bundle {hash}: {e}"))?;
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(format!(
                "program bundle {hash} is larger than {MAX_BUNDLE_BYTES} bytes; refused"
            ));
        }
        let actual = sha256_hex(&bytes);
        if actual != hash {
            return Err(format!(
                "program bundle {hash} on the cluster hashes to {actual}: corrupted or \
                 replaced, refused"
            ));
        }
        let bundle: ProgramBundle = serde_json::from_slice(&bytes)
            .map_err(|e| format!("program bundle {hash} is not a Weft bundle ({e}); refused"))?;
        if !bundle.modules.contains_key(&bundle.entry) {
            return Err(format!(
                "program bundle {hash} has no source for its entry module {}; refused",
                bundle.entry
            ));
        }
        *self.fetches.borrow_mut() += 1;
        let bundle = Rc::new(bundle);
        self.cache
            .borrow_mut()
            .insert(hash.to_string(), bundle.clone());
        Ok(bundle)
    }

    /// How many bundles this process fetched from the cluster (cache misses).
    pub fn fetches(&self) -> u64 {
        *self.fetches.borrow()
    }

    /// Overwrites the object named `hash` with other bytes (tests: a
    /// corrupted or replaced bundle must be refused).
    pub async fn put_raw(&self, hash: &str, bytes: &[u8]) -> Result<(), String> {
        self.store
            .put(hash, &mut &bytes[..])
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot store object {hash}: {e}"))
    }
}
