//! Reading and writing run records through the one durable-state module
//! ([`crate::store`]): `<state>/runs/<id>.json` after every stage (awaited,
//! so a finished stage is durable before the next one starts), the key
//! index `<state>/run-keys/<key>.json`, and loading a record by id or
//! path with `value_error`s for anything unreadable. A run connected to a
//! cluster copies each durable record to it (`cluster/run_mirror.rs`).

use std::path::PathBuf;

use serde_json::json;
use weft_vm::error::{value_error, RtResult};

use super::exec::RunEnv;
use super::record::{key_rel, RunRecord, RUN_KEYS_DIR};
use crate::store::Store;
use crate::workers::run::registry;

/// The store records go to, when this run persists.
pub fn store_of(env: &RunEnv) -> Option<std::rc::Rc<Store>> {
    if !env.persist {
        return None;
    }
    let state = registry(&env.program);
    let s = state.workers.store()?;
    s.persist().then_some(s)
}

/// Writes `rec` and waits until it is durable.
pub async fn save_now(env: &RunEnv, rec: &mut RunRecord) {
    if let Some(s) = store_of(env) {
        if rec.path.is_none() {
            rec.path = s
                .path(&RunRecord::rel_path(&rec.id))
                .ok()
                .map(|p| p.to_string_lossy().into_owned());
        }
        let j = rec.to_json();
        *env.last_saved.borrow_mut() = Some(j.clone());
        let _ = s.write_json(&RunRecord::rel_path(&rec.id), &j).await;
        // A run with a cluster records itself there too.
        crate::cluster::run_mirror::mirror(&env.program, &j).await;
    }
}

/// Queues a write of `rec` without waiting (a stage started: a cancelled
/// or crashed run shows it running).
pub fn save_soon(env: &RunEnv, rec: &RunRecord) {
    let j = rec.to_json();
    if let Some(s) = store_of(env) {
        s.write_json_later(&RunRecord::rel_path(&rec.id), &j);
    }
    *env.last_saved.borrow_mut() = Some(j);
}

/// Queues a write of `rec` (for drop paths that cannot await).
pub fn save_later(env: &RunEnv, rec: &RunRecord) {
    if let Some(s) = store_of(env) {
        s.write_json_later(&RunRecord::rel_path(&rec.id), &rec.to_json());
    }
}

/// Records `key` → run id.
pub fn index_key(env: &RunEnv, key: &str, id: &str) {
    if let Some(s) = store_of(env) {
        s.write_json_later(&key_rel(key), &json!({"key": key, "id": id}));
    }
}

/// The stored record of a run key, if any.
pub async fn lookup_key(store: &Store, key: &str) -> RtResult<Option<RunRecord>> {
    let Some(id) = crate::store::read_key_index(store, RUN_KEYS_DIR, key)
        .await
        .map_err(value_error)?
    else {
        return Ok(None);
    };
    let rel = RunRecord::rel_path(&id);
    if !store.path(&rel).map(|p| p.exists()).unwrap_or(false) {
        return Ok(None);
    }
    let j = store.load(&rel, "weft.run", 1).map_err(value_error)?;
    RunRecord::from_json(&j).map(Some).map_err(value_error)
}

/// Loads a record by run id (`r_...`, from the state directory) or path.
pub fn load(store: Option<&Store>, id_or_path: &str) -> RtResult<RunRecord> {
    let path = if id_or_path.starts_with("r_") && !id_or_path.contains('/') {
        match store {
            Some(s) => s
                .path(&RunRecord::rel_path(id_or_path))
                .map_err(|e| value_error(e.to_string()))?,
            None => PathBuf::from(format!(".weft/runs/{id_or_path}.json")),
        }
    } else {
        PathBuf::from(id_or_path)
    };
    if !path.exists() {
        return Err(value_error(format!(
            "no stored run '{id_or_path}' ({} does not exist)",
            path.display()
        )));
    }
    let j = crate::store::load_record(&path, "weft.run", 1).map_err(value_error)?;
    RunRecord::from_json(&j).map_err(|m| value_error(format!("{}: {m}", path.display())))
}
