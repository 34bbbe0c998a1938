//! Stored worker snapshots and run records as the `weft workers` / `weft
//! runs` commands address them: finding one by a reference a person types
//! (a full id, a unique id prefix, a durable key, a name, or a file), and
//! pruning finished ones. Removal goes through the store module.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;

use crate::store::{self, list_dir, load_record, Store};

/// Which kind of record, with where it lives and how it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `<state>/workers/<id>.json`, `_type: weft.worker`, keys in `keys/`.
    Worker,
    /// `<state>/runs/<id>.json`, `_type: weft.run`, keys in `run-keys/`.
    Run,
}

impl RecordKind {
    fn dir(self) -> &'static str {
        match self {
            RecordKind::Worker => "workers",
            RecordKind::Run => "runs",
        }
    }

    fn keys_dir(self) -> &'static str {
        match self {
            RecordKind::Worker => "keys",
            RecordKind::Run => "run-keys",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            RecordKind::Worker => "weft.worker",
            RecordKind::Run => "weft.run",
        }
    }

    /// The field holding what a person calls the record by.
    fn name_field(self) -> &'static str {
        match self {
            RecordKind::Worker => "name",
            RecordKind::Run => "workflow",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            RecordKind::Worker => "worker",
            RecordKind::Run => "run",
        }
    }

    /// Every status a stored record of this kind can have.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            RecordKind::Worker => store::WORKER_STATUSES,
            RecordKind::Run => store::RUN_STATUSES,
        }
    }

    /// Still in progress: never pruned.
    fn is_active(self, status: &str) -> bool {
        match self {
            RecordKind::Worker => matches!(status, "queued" | "running"),
            RecordKind::Run => status == "running",
        }
    }
}

/// One readable stored record and its file.
#[derive(Debug, Clone)]
pub struct Stored {
    pub path: PathBuf,
    pub record: Json,
}

impl Stored {
    fn field(&self, name: &str) -> &str {
        self.record[name].as_str().unwrap_or("")
    }
}

/// Shows records still `running`/`queued` as `interrupted` when no live
/// process uses `state_dir` (their process was killed or crashed;
/// `store::liveness`).
pub fn mark_cut_short<'a>(state_dir: &Path, records: impl IntoIterator<Item = &'a mut Json>) {
    let mut in_use = None;
    for r in records {
        let Some(status) = r["status"].as_str() else {
            continue;
        };
        if !matches!(status, "running" | "queued") {
            continue;
        }
        let live = *in_use.get_or_insert_with(|| store::liveness::in_use(state_dir));
        let shown = store::liveness::shown_status(status, live).to_string();
        r["status"] = Json::from(shown);
    }
}

/// Every readable record of `kind`, and the reasons the others were
/// skipped (each names its file). Statuses as [`mark_cut_short`] shows them.
pub fn stored(state_dir: &Path, kind: RecordKind) -> (Vec<Stored>, Vec<String>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for path in list_dir(&state_dir.join(kind.dir())) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match load_record(&path, kind.type_name(), 1) {
            Ok(record) => rows.push(Stored { path, record }),
            Err(reason) => errors.push(reason),
        }
    }
    mark_cut_short(state_dir, rows.iter_mut().map(|r| &mut r.record));
    (rows, errors)
}

/// Finds the one record `reference` means, tried in this order: a file
/// path (contains `/` or ends in `.json`), an exact id, a durable key, a
/// unique id prefix, a name (a worker's `name`, a run's workflow). More
/// than one match is an error listing them; so is none.
pub fn resolve(state_dir: &Path, kind: RecordKind, reference: &str) -> Result<Json, String> {
    let mut found = resolve_stored(state_dir, kind, reference)?;
    mark_cut_short(state_dir, [&mut found]);
    Ok(found)
}

fn resolve_stored(state_dir: &Path, kind: RecordKind, reference: &str) -> Result<Json, String> {
    let noun = kind.noun();
    if reference.ends_with(".json") || reference.contains('/') {
        let path = PathBuf::from(reference);
        if !path.exists() {
            return Err(format!("no {noun} file {reference}"));
        }
        return load_record(&path, kind.type_name(), 1);
    }
    if reference.is_empty() {
        return Err(format!(
            "an empty {noun} reference: give an id, a prefix of one, a key or a name"
        ));
    }
    let exact = state_dir.join(kind.dir()).join(format!("{reference}.json"));
    if exact.exists() {
        return load_record(&exact, kind.type_name(), 1);
    }
    let (rows, _) = stored(state_dir, kind);
    let records: Vec<Json> = rows.into_iter().map(|s| s.record).collect();
    pick(
        kind,
        reference,
        &records,
        &format!("in {}", state_dir.display()),
    )
}

/// Finds the one record of `rows` that `reference` means: an exact id, a
/// durable key, a unique id prefix, a name (a worker's `name`, a run's
/// workflow), in that order. More than one match is an error listing them;
/// so is none (`place` says where was looked: `in DIR`, `on the cluster
/// at URLS`). Used for state directories and the cluster alike.
pub fn pick(kind: RecordKind, reference: &str, rows: &[Json], place: &str) -> Result<Json, String> {
    let noun = kind.noun();
    if reference.is_empty() {
        return Err(format!(
            "an empty {noun} reference: give an id, a prefix of one, a key or a name"
        ));
    }
    fn field(r: &Json, name: &str) -> String {
        r[name].as_str().unwrap_or("").to_string()
    }
    fn by<'a>(rows: &'a [Json], pred: &dyn Fn(&Json) -> bool) -> Vec<&'a Json> {
        rows.iter().filter(|r| pred(r)).collect()
    }
    let candidates = [
        ("id", by(rows, &|r| field(r, "id") == reference)),
        ("key", by(rows, &|r| field(r, "key") == reference)),
        (
            "id prefix",
            by(rows, &|r| field(r, "id").starts_with(reference)),
        ),
        (
            kind.name_field(),
            by(rows, &|r| field(r, kind.name_field()) == reference),
        ),
    ];
    for (how, found) in candidates {
        match found.as_slice() {
            [] => continue,
            [one] => return Ok((*one).clone()),
            many => {
                let mut sorted: Vec<&&Json> = many.iter().collect();
                sorted.sort_by_key(|r| std::cmp::Reverse(field(r, time_field(kind))));
                let listed: Vec<String> = sorted
                    .iter()
                    .take(10)
                    .map(|r| {
                        format!(
                            "  {}  {}  {}",
                            field(r, "id"),
                            field(r, "status"),
                            field(r, time_field(kind))
                        )
                    })
                    .collect();
                let more = if many.len() > 10 {
                    format!("\n  ... and {} more", many.len() - 10)
                } else {
                    String::new()
                };
                return Err(format!(
                    "'{reference}' matches {} {noun}s by {how} (newest first):\n{}{more}\ngive the id, or more of it",
                    many.len(),
                    listed.join("\n")
                ));
            }
        }
    }
    Err(format!(
        "no {noun} '{reference}' {place}: not an id, a unique id prefix, a key or a {}",
        kind.name_field()
    ))
}

/// The timestamp a record is listed and sorted by.
fn time_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Worker => "updated_at",
        RecordKind::Run => "created_at",
    }
}

/// What [`prune`] removes.
#[derive(Debug, Clone, Default)]
pub struct PruneFilter {
    /// Only records last written at least this long ago.
    pub older_than: Option<Duration>,
    /// Only records with one of these statuses (empty: any finished one).
    pub statuses: Vec<String>,
}

/// What [`prune`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Ids removed, oldest first.
    pub removed: Vec<String>,
    /// Records that matched the filter but are still queued or running,
    /// or parked at an approval gate (kept).
    pub kept_active: usize,
    /// Unreadable records (left alone), each naming its file.
    pub unreadable: Vec<String>,
}

/// Removes finished records of `kind` matching `filter`, with their key
/// index entries (so a keyed program run again starts afresh). A record
/// still queued or running, or parked at an approval gate (unless
/// `awaiting_approval` is asked for by name), is never removed. Age is the
/// file's last write.
/// With `dry_run`, reports what would go and removes nothing.
pub fn prune(
    state_dir: &Path,
    kind: RecordKind,
    filter: &PruneFilter,
    dry_run: bool,
) -> PruneReport {
    let (mut rows, unreadable) = stored(state_dir, kind);
    rows.sort_by(|a, b| a.field(time_field(kind)).cmp(b.field(time_field(kind))));
    let now = SystemTime::now();
    let store = Store::new(state_dir.to_path_buf(), !dry_run);
    let mut report = PruneReport {
        unreadable,
        ..PruneReport::default()
    };
    for row in rows {
        let status = row.field("status");
        if !filter.statuses.is_empty() && !filter.statuses.iter().any(|s| s == status) {
            continue;
        }
        if let Some(min_age) = filter.older_than {
            let age = std::fs::metadata(&row.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok());
            if age.is_none_or(|age| age < min_age) {
                continue;
            }
        }
        // Still in progress, or parked at an approval gate a human has not
        // answered yet (deleting it would drop the gate's continuation):
        // kept, unless `awaiting_approval` was asked for by name.
        let parked = status == "awaiting_approval" && !filter.statuses.iter().any(|s| s == status);
        if kind.is_active(status) || parked {
            report.kept_active += 1;
            continue;
        }
        let id = row.field("id").to_string();
        if !dry_run {
            if let Some(key) = row.record["key"].as_str() {
                for rel in [
                    store::key_index_rel(kind.keys_dir(), key),
                    store::legacy_key_index_rel(kind.keys_dir(), key),
                ] {
                    // Only an entry that still names this record: a newer
                    // record may own the key now.
                    let names_this = store
                        .read_json(&rel)
                        .ok()
                        .is_some_and(|entry| entry["id"].as_str() == Some(id.as_str()));
                    if names_this {
                        store.remove(&rel);
                    }
                }
            }
            store.remove(&format!("{}/{id}.json", kind.dir()));
        }
        report.removed.push(id);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, rel: &str, v: &Json) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, v.to_string()).unwrap();
    }

    fn worker(id: &str, name: &str, key: Option<&str>, status: &str, at: &str) -> Json {
        json!({"_type": "weft.worker", "version": 1, "id": id, "name": name, "key": key,
               "status": status, "updated_at": at, "task": "t"})
    }

    fn state() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "workers/w_0190aaaa.json",
            &worker(
                "w_0190aaaa",
                "summarize",
                Some("daily"),
                "completed",
                "2026-01-01T00:00:00Z",
            ),
        );
        write(
            d,
            "workers/w_0190bbbb.json",
            &worker(
                "w_0190bbbb",
                "summarize",
                None,
                "failed",
                "2026-01-02T00:00:00Z",
            ),
        );
        write(
            d,
            "workers/w_0191cccc.json",
            &worker(
                "w_0191cccc",
                "review",
                None,
                "running",
                "2026-01-03T00:00:00Z",
            ),
        );
        write(
            d,
            &store::key_index_rel("keys", "daily"),
            &json!({"key": "daily", "id": "w_0190aaaa"}),
        );
        dir
    }

    fn id_of(r: Result<Json, String>) -> String {
        r.unwrap()["id"].as_str().unwrap().to_string()
    }

    #[test]
    fn a_reference_is_an_id_a_key_a_unique_prefix_or_a_name() {
        let dir = state();
        let d = dir.path();
        let w = RecordKind::Worker;
        assert_eq!(id_of(resolve(d, w, "w_0190bbbb")), "w_0190bbbb");
        assert_eq!(id_of(resolve(d, w, "daily")), "w_0190aaaa");
        assert_eq!(id_of(resolve(d, w, "w_0191")), "w_0191cccc");
        assert_eq!(id_of(resolve(d, w, "review")), "w_0191cccc");
        let path = d.join("workers/w_0190bbbb.json");
        assert_eq!(id_of(resolve(d, w, path.to_str().unwrap())), "w_0190bbbb");
    }

    #[test]
    fn an_ambiguous_or_unknown_reference_says_what_it_matched() {
        let dir = state();
        let d = dir.path();
        let e = resolve(d, RecordKind::Worker, "w_0190").unwrap_err();
        assert!(
            e.starts_with(
                "'w_0190' matches 2 workers by id prefix (newest first):\n  w_0190bbbb  failed"
            ),
            "{e}"
        );
        assert!(e.ends_with("give the id, or more of it"), "{e}");
        let e = resolve(d, RecordKind::Worker, "summarize").unwrap_err();
        assert!(e.contains("matches 2 workers by name"), "{e}");
        let e = resolve(d, RecordKind::Worker, "nope").unwrap_err();
        assert!(e.starts_with("no worker 'nope' in "), "{e}");
        assert!(
            e.ends_with("not an id, a unique id prefix, a key or a name"),
            "{e}"
        );
        let e = resolve(d, RecordKind::Run, "anything").unwrap_err();
        assert!(e.ends_with("a key or a workflow"), "{e}");
        assert!(resolve(d, RecordKind::Worker, "").is_err());
    }

    #[test]
    fn prune_removes_finished_records_and_their_keys_never_running_ones() {
        let dir = state();
        let d = dir.path();
        let w = RecordKind::Worker;
        // A live process uses the state directory: its running worker is
        // really running.
        let live = store::liveness::LiveLock::take(d).unwrap();
        let everything = PruneFilter::default();
        let dry = prune(d, w, &everything, true);
        assert_eq!(dry.removed, ["w_0190aaaa", "w_0190bbbb"]);
        assert!(
            d.join("workers/w_0190aaaa.json").exists(),
            "a dry run removes nothing"
        );

        let failed = PruneFilter {
            statuses: vec!["failed".into()],
            ..PruneFilter::default()
        };
        assert_eq!(prune(d, w, &failed, false).removed, ["w_0190bbbb"]);
        assert!(d.join("workers/w_0190aaaa.json").exists());

        let recent = PruneFilter {
            older_than: Some(Duration::from_secs(3600)),
            ..PruneFilter::default()
        };
        assert!(
            prune(d, w, &recent, false).removed.is_empty(),
            "written just now"
        );

        let report = prune(d, w, &everything, false);
        assert_eq!(report.removed, ["w_0190aaaa"]);
        assert_eq!(report.kept_active, 1);
        assert!(!d.join("workers/w_0190aaaa.json").exists());
        assert!(
            !d.join(store::key_index_rel("keys", "daily")).exists(),
            "its key goes too"
        );
        assert!(d.join("workers/w_0191cccc.json").exists(), "running: kept");

        // Its process died: the worker was cut short, shown interrupted,
        // and can be pruned.
        drop(live);
        assert_eq!(
            resolve(d, w, "w_0191cccc").unwrap()["status"],
            "interrupted"
        );
        assert_eq!(prune(d, w, &everything, false).removed, ["w_0191cccc"]);
    }

    #[test]
    fn prune_keeps_a_record_parked_at_an_approval_gate_unless_asked_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "workers/w_gate.json",
            &worker(
                "w_gate",
                "deploy",
                None,
                "awaiting_approval",
                "2026-01-01T00:00:00Z",
            ),
        );
        let report = prune(d, RecordKind::Worker, &PruneFilter::default(), false);
        assert!(report.removed.is_empty());
        assert_eq!(report.kept_active, 1);
        let named = PruneFilter {
            statuses: vec!["awaiting_approval".into()],
            ..PruneFilter::default()
        };
        assert_eq!(
            prune(d, RecordKind::Worker, &named, false).removed,
            ["w_gate"]
        );
    }

    #[test]
    fn prune_keeps_a_key_entry_that_a_newer_record_owns() {
        let dir = state();
        let d = dir.path();
        write(
            d,
            &store::key_index_rel("keys", "daily"),
            &json!({"key": "daily", "id": "w_0191cccc"}),
        );
        let only = PruneFilter {
            statuses: vec!["completed".into()],
            ..PruneFilter::default()
        };
        assert_eq!(
            prune(d, RecordKind::Worker, &only, false).removed,
            ["w_0190aaaa"]
        );
        assert!(d.join(store::key_index_rel("keys", "daily")).exists());
    }
}
