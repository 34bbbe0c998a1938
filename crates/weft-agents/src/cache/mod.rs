//! The result cache across runs (issue 17 §3; docs/cache-decisions.md):
//! `cache: true | {key?, ttl_ms?}` on `llm_call`, `agent_loop`,
//! `sub_agent_run` / `spawn_worker`, and workflow `stage` / `subagent`
//! nodes. What a run was given — provider, model, prompts, messages, tools
//! with their schemas, options — or the explicit `key` is hashed (SHA-256)
//! into `cache/<hash>.json` under the state directory, written through the
//! store module. Only successful results are stored; a hit returns the
//! stored result without calling the model or running a tool.
//!
//! This module owns the option, the entry format and its lookup; `llm`
//! caches single model calls, `agent` whole agent runs, `inventory` is
//! `weft cache stats` / `clear`.

pub mod agent;
pub mod inventory;
pub mod llm;

use std::cell::Cell;
use std::rc::Rc;

use serde_json::json;
use sha2::{Digest, Sha256};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, Value};
use weft_vm::vm::Vm;

use crate::state::AgentState;
use crate::store::Store;
use crate::tools::keys::{check_keys, opt_type};

pub use llm::complete_cached;

/// The `_type` of a cache entry.
pub const ENTRY_TYPE: &str = "weft.cache";
/// The entries' directory under the state directory.
pub const CACHE_DIR: &str = "cache";

/// The run's cache settings.
#[derive(Default)]
pub struct CacheState {
    /// `--no-cache`: neither read nor write.
    pub disabled: Cell<bool>,
}

/// A parsed `cache` option.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheOpt {
    /// Identifies the result instead of the inputs.
    pub key: Option<String>,
    /// A stored result older than this is not used.
    pub ttl_ms: Option<u64>,
}

/// Parses `cache: true | false | {key?, ttl_ms?}` (nil/false = none).
pub fn parse_cache(v: Option<&Value>, who: &str) -> RtResult<Option<CacheOpt>> {
    match v {
        None | Some(Value::Nil) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(CacheOpt::default())),
        Some(Value::Dict(d)) => {
            check_keys(d, who, "cache", &["key", "ttl_ms"])?;
            let key = match dict_get(d, "key") {
                None | Some(Value::Nil) => None,
                Some(Value::Str(s)) if !s.is_empty() => Some(s.to_string()),
                Some(Value::Str(_)) => {
                    return Err(value_error(format!("{who}: cache.key must not be empty")))
                }
                Some(other) => return Err(opt_type(who, "cache.key", "a string", other)),
            };
            let ttl_ms = match dict_get(d, "ttl_ms") {
                None | Some(Value::Nil) => None,
                Some(Value::Int(n)) if *n >= 1 => Some(*n as u64),
                Some(Value::Int(n)) => {
                    return Err(value_error(format!(
                        "{who}: cache.ttl_ms must be at least 1, got {n}"
                    )))
                }
                Some(other) => return Err(opt_type(who, "cache.ttl_ms", "an int", other)),
            };
            Ok(Some(CacheOpt { key, ttl_ms }))
        }
        Some(other) => Err(opt_type(
            who,
            "cache",
            "true, false or a dict {key, ttl_ms}",
            other,
        )),
    }
}

/// The SHA-256 (hex) of a canonical JSON text.
fn hash(v: &serde_json::Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

pub(crate) fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

/// Where one cached result lives: the store and the entry's path, found
/// from the option and the run's inputs. `None` when nothing is cached
/// (no option, `--no-cache`, no state directory or `WEFT_PERSIST=0`).
pub struct Slot {
    store: Rc<Store>,
    rel: String,
    kind: &'static str,
    opt: CacheOpt,
}

impl Slot {
    /// The slot of a `kind` result (`llm`, `agent_loop`, `sub_agent`):
    /// named by `{kind, key}` with an explicit key, else by `{kind,
    /// inputs}`; `inputs` is only built when it is needed.
    pub fn open(
        vm: &Vm,
        opt: Option<&CacheOpt>,
        kind: &'static str,
        inputs: impl FnOnce() -> RtResult<serde_json::Value>,
    ) -> RtResult<Option<Slot>> {
        let state = vm.program.ext::<AgentState>();
        let store = state.workers.store().filter(|s| s.persist());
        let (Some(opt), Some(store), false) = (opt, store, state.cache.disabled.get()) else {
            return Ok(None);
        };
        let name = match &opt.key {
            Some(k) => json!({"kind": kind, "key": k}),
            None => json!({"kind": kind, "inputs": inputs()?}),
        };
        Ok(Some(Slot {
            store,
            rel: format!("{CACHE_DIR}/{}.json", hash(&name)),
            kind,
            opt: opt.clone(),
        }))
    }

    /// The stored result, if there is a fresh entry. An entry that cannot
    /// be read, is not JSON, has another `_type` or has expired is a miss
    /// (the next successful run replaces it).
    pub fn lookup(&self) -> Option<serde_json::Value> {
        let entry = self.store.read_json(&self.rel).ok()?;
        if entry.get("_type").and_then(|t| t.as_str()) != Some(ENTRY_TYPE)
            || entry.get("kind").and_then(|k| k.as_str()) != Some(self.kind)
            || is_expired(&entry, now_ms())
        {
            return None;
        }
        entry.get("result").cloned()
    }

    /// Stores a successful result (best effort: a failed write leaves the
    /// run's result as it is; the store keeps the error in `last_error`).
    pub async fn store(&self, result: serde_json::Value) {
        let entry = json!({
            "_type": ENTRY_TYPE, "version": 1, "kind": self.kind,
            "created_at": crate::workers::registry::now(), "created_ms": now_ms(),
            "ttl_ms": self.opt.ttl_ms, "key": self.opt.key,
            "result": result,
        });
        let _ = self.store.write_json(&self.rel, &entry).await;
    }
}

/// Whether an entry's `ttl_ms` has passed at `now` (an entry without a
/// ttl never expires).
pub fn is_expired(entry: &serde_json::Value, now: u64) -> bool {
    match entry.get("ttl_ms").and_then(|t| t.as_u64()) {
        Some(ttl) => {
            let at = entry
                .get("created_ms")
                .and_then(|t| t.as_u64())
                .unwrap_or(0);
            now >= at.saturating_add(ttl)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
