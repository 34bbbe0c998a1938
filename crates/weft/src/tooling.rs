//! APIs for tools built on Weft (the `weft` command, editors, test
//! runners) rather than for ordinary hosts: compile-only checks,
//! bytecode listings, a REPL's incremental evaluation and completion
//! names, and reading the worker snapshots of a state directory.
//!
//! They are public and stable like the rest of the facade, but a host
//! that only runs scripts does not need them.

use std::path::{Path, PathBuf};

use crate::engine::{Engine, no_runtime};
use crate::error::{Error, Result};
use crate::value::Value;
use weft_agents::records;
pub use weft_agents::records::{PruneFilter, PruneReport, RecordKind};

/// Weft's keywords (for completion and highlighting).
pub const KEYWORDS: &[&str] = weft_syntax::lexer::KEYWORDS;

/// The outcome of one REPL input ([`Engine::repl_eval`]).
#[derive(Debug)]
pub enum ReplOutcome {
    /// The input ended inside an open construct: read more lines and
    /// evaluate the whole text again.
    Incomplete,
    /// It ran; `Some(value)` when the input ended with an expression.
    Value(Option<Value>),
    /// A compile or runtime error.
    Error(Error),
}

impl Engine {
    /// Parses and compiles a file and everything it imports; runs nothing.
    /// All diagnostics are in the error.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("bad.wf");
    /// std::fs::write(&path, "let x = \n").unwrap();
    /// let mut engine = weft::Engine::builder().build()?;
    /// let err = engine.check_file(&path).unwrap_err();
    /// assert_eq!(err.category(), "syntax_error");
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn check_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.runtime()
            .check_file(path.as_ref())
            .map_err(Error::from_diagnostics)
    }

    /// The bytecode listing of a file (`weft disasm`; for developers of
    /// Weft — the format is not stable).
    pub fn disassemble_file(&mut self, path: impl AsRef<Path>) -> Result<String> {
        self.runtime()
            .disassemble_file(path.as_ref())
            .map_err(Error::from_diagnostics)
    }

    /// The bytecode of REPL input `source`, compiled against the session's
    /// names; its declarations are not kept and nothing runs.
    pub fn disassemble_source(&mut self, source: &str) -> Result<String> {
        self.runtime()
            .disassemble_repl(source)
            .map_err(Error::from_diagnostics)
    }

    /// Evaluates one REPL input: like [`Engine::eval`], but an unfinished
    /// input is reported as [`ReplOutcome::Incomplete`], and workers started
    /// by the input keep running (they progress while later inputs run)
    /// instead of being cancelled when it returns.
    ///
    /// ```
    /// use weft::tooling::ReplOutcome;
    /// let mut engine = weft::Engine::builder().build()?;
    /// assert!(matches!(weft::block_on(async { Ok(engine.repl_eval("[1,").await) })?, ReplOutcome::Incomplete));
    /// match weft::block_on(async { Ok(engine.repl_eval("[1, 2]").await) })? {
    ///     ReplOutcome::Value(Some(v)) => assert_eq!(v.repr(), "[1, 2]"),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub async fn repl_eval(&mut self, source: &str) -> ReplOutcome {
        if tokio::runtime::Handle::try_current().is_err() {
            return ReplOutcome::Error(no_runtime());
        }
        let local = self.local_set();
        let rt = self.runtime();
        rt.restart_clock();
        match local.run_until(rt.eval_repl(source)).await {
            weft_vm::ReplOutcome::Incomplete => ReplOutcome::Incomplete,
            weft_vm::ReplOutcome::Value(v) => ReplOutcome::Value(v.map(Value::from_vm)),
            weft_vm::ReplOutcome::Errors(ds) => ReplOutcome::Error(Error::from_diagnostics(ds)),
        }
    }

    /// Names a REPL completes: every builtin (native functions included)
    /// and every top-level name defined so far, sorted. Keywords are in
    /// [`KEYWORDS`].
    pub fn completion_names(&mut self) -> Vec<String> {
        let rt = self.runtime();
        let mut names: Vec<String> = rt.builtins().iter().map(|b| b.name.to_string()).collect();
        names.extend(rt.repl_names());
        names.sort();
        names.dedup();
        names
    }
}

/// One builtin function as documentation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinInfo {
    /// The name scripts call.
    pub name: &'static str,
    /// Parameter names; a trailing `"..."` marks a variadic builtin.
    pub params: &'static [&'static str],
    /// Fewest arguments accepted.
    pub min_args: usize,
    /// Most arguments accepted; `None` for a variadic builtin.
    pub max_args: Option<usize>,
    /// The stdlib family (`strings`, `lists`, `agents`, ...; `host` for
    /// native functions).
    pub family: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// The keys its options dict accepts (empty when it takes none): the
    /// key lists its option parser checks against.
    pub options: Vec<&'static str>,
}

impl BuiltinInfo {
    fn of(def: &weft_vm::builtins::BuiltinDef) -> BuiltinInfo {
        BuiltinInfo {
            name: def.name,
            params: def.params,
            min_args: def.min as usize,
            max_args: (def.max != u8::MAX).then_some(def.max as usize),
            family: def.family,
            doc: def.doc,
            options: def.option_keys(),
        }
    }
}

/// Every builtin of `weft run` (the core library, then the agent layer),
/// in registry order — what the generated builtin reference lists.
///
/// ```
/// let all = weft::tooling::builtins();
/// let split = all.iter().find(|b| b.name == "split").unwrap();
/// assert_eq!((split.min_args, split.max_args), (1, Some(2)));
/// assert!(all.iter().any(|b| b.name == "llm_call"));
/// ```
pub fn builtins() -> Vec<BuiltinInfo> {
    weft_vm::builtins::core_builtins()
        .iter()
        .chain(weft_agents::builtins().iter())
        .map(BuiltinInfo::of)
        .collect()
}

impl Engine {
    /// This engine's builtins, native functions included, in registry order.
    pub fn builtin_infos(&mut self) -> Vec<BuiltinInfo> {
        self.runtime()
            .builtins()
            .iter()
            .map(|b| BuiltinInfo::of(b))
            .collect()
    }
}

/// The stored worker snapshots (`<state_dir>/workers/*.json`, workers.md
/// §6), oldest first. A file that is not a valid snapshot (bad JSON,
/// another `_type`, an unknown `version`) is an `Err` naming the file and
/// the reason; the others are still returned. A snapshot still `running`
/// or `queued` while no live process uses the state directory is returned
/// as `interrupted`: its process was killed or crashed.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(weft::tooling::worker_snapshots(dir.path()).is_empty());
/// ```
pub fn worker_snapshots(state_dir: &Path) -> Vec<Result<serde_json::Value>> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for path in weft_agents::store::list_dir(&state_dir.join("workers")) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match read_record(&path, "weft.worker", 1) {
            Ok(v) => ok.push(v),
            Err(e) => bad.push(Err(e)),
        }
    }
    ok.sort_by(|a, b| a["created_at"].as_str().cmp(&b["created_at"].as_str()));
    records::mark_cut_short(state_dir, ok.iter_mut());
    bad.into_iter().chain(ok.into_iter().map(Ok)).collect()
}

/// Shows each record still `running` or `queued` as `interrupted` when no
/// live process uses `state_dir` (the process that wrote it was killed or
/// crashed; a keyed re-run resumes it). [`worker_snapshots`],
/// [`run_records`] and the single-record readers already do this; a tool
/// with its own record cache (the dashboard) calls it on what it shows.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut rec = serde_json::json!({"status": "running"});
/// weft::tooling::mark_cut_short(dir.path(), [&mut rec]);
/// assert_eq!(rec["status"], "interrupted");
/// ```
pub fn mark_cut_short<'a>(
    state_dir: &Path,
    records: impl IntoIterator<Item = &'a mut serde_json::Value>,
) {
    records::mark_cut_short(state_dir, records)
}

/// The snapshot of the worker `reference` names in `state_dir`: its id
/// (`w_...`), a unique prefix of the id, its durable key, its name, or a
/// snapshot file (a path ending in `.json` or containing `/`). A reference
/// that matches nothing, or several workers, is a `value_error` saying so
/// (listing the candidates).
pub fn worker_snapshot(state_dir: &Path, reference: &str) -> Result<serde_json::Value> {
    records::resolve(state_dir, RecordKind::Worker, reference).map_err(Error::value)
}

/// The stored workflow run records (`<state_dir>/runs/*.json`,
/// workflows.md §4), oldest first; like [`worker_snapshots`], an unreadable
/// record is an `Err` naming the file and the reason.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(weft::tooling::run_records(dir.path()).is_empty());
/// ```
pub fn run_records(state_dir: &Path) -> Vec<Result<serde_json::Value>> {
    let (mut rows, errors) = weft_agents::workflow::report::list_runs(state_dir);
    records::mark_cut_short(state_dir, rows.iter_mut());
    errors
        .into_iter()
        .map(|e| Err(Error::value(e)))
        .chain(rows.into_iter().map(Ok))
        .collect()
}

/// The run record `reference` names in `state_dir`, resolved like
/// [`worker_snapshot`]: id (`r_...`), unique id prefix, key, workflow name,
/// or a record file.
pub fn run_record(state_dir: &Path, reference: &str) -> Result<serde_json::Value> {
    records::resolve(state_dir, RecordKind::Run, reference).map_err(Error::value)
}

/// Deletes the finished worker snapshots or run records of `state_dir`
/// that `filter` selects, with their key index entries (a keyed program
/// run again then starts afresh); queued or running ones are never
/// deleted. With `dry_run` nothing is deleted and the report says what
/// would be.
pub fn prune_records(
    state_dir: &Path,
    kind: RecordKind,
    filter: &PruneFilter,
    dry_run: bool,
) -> PruneReport {
    records::prune(state_dir, kind, filter, dry_run)
}

/// A multi-line summary of a run record (`weft runs show`): its stages
/// with branch, attempts, duration, tokens and worker, the transitions
/// taken, pending nodes, usage and the error.
pub fn run_summary(record: &serde_json::Value) -> String {
    weft_agents::workflow::report::summary(record)
}

/// Reads one durable record (a worker snapshot, a run record, ...),
/// checking its `_type` and `version`; the error names the file.
pub fn read_record(path: &Path, type_name: &str, version: u64) -> Result<serde_json::Value> {
    weft_agents::store::load_record(path, type_name, version).map_err(Error::value)
}

/// The files of a state-directory folder, sorted (empty if it is
/// missing).
pub fn list_state_dir(dir: &Path) -> Vec<PathBuf> {
    weft_agents::store::list_dir(dir)
}

/// The picture formats of [`run_diagram`] and [`source_diagram`]:
/// `mermaid`, `dot`, `svg`.
pub const DIAGRAM_FORMATS: &[&str] = weft_agents::workflow::diagram::FORMATS;

fn diagram_format(name: &str) -> Result<weft_agents::workflow::diagram::Format> {
    weft_agents::workflow::diagram::Format::parse(name).map_err(Error::value)
}

/// The picture of a run record's workflow (`weft runs graph ID`, `weft
/// ui`): nodes coloured by their latest status and marked with their
/// visits, the edges taken drawn thick with their counts. `format` is one
/// of [`DIAGRAM_FORMATS`]; SVG comes without an XML declaration, ready to
/// inline in HTML.
///
/// ```
/// let record = serde_json::json!({
///     "definition": {"name": "w", "entry": "a", "nodes": {"a": {"kind": "code"}}, "edges": []},
///     "stages": [{"node": "a", "status": "completed"}],
/// });
/// let text = weft::tooling::run_diagram(&record, "mermaid")?;
/// assert!(text.contains("classDef completed"));
/// # Ok::<(), weft::Error>(())
/// ```
pub fn run_diagram(record: &serde_json::Value, format: &str) -> Result<String> {
    use weft_agents::workflow::diagram::{Diagram, Overlay, render};
    let format = diagram_format(format)?;
    let diagram = Diagram::from_record(record).map_err(Error::value)?;
    Ok(render(
        &diagram,
        Some(&Overlay::from_record(record)),
        format,
    ))
}

/// The picture of the workflow defined in source file `path` (`weft runs
/// graph FILE.wf`), read without running the file: its
/// `workflow_graph({...})` call's name, entry, node kinds and edges must be
/// literals. `name` chooses among several workflows. Problems are
/// diagnostics with the file, line and column.
pub fn source_diagram(path: &Path, name: Option<&str>, format: &str) -> Result<String> {
    use weft_agents::workflow::diagram::{render, source::diagram_of_source};
    let format = diagram_format(format)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::value(format!("cannot read {}: {e}", path.display())))?;
    let file = weft_syntax::diagnostic::SourceFile::new(path.display().to_string(), text);
    let diagram = diagram_of_source(&file, name).map_err(|d| Error::from_diagnostics(vec![d]))?;
    Ok(render(&diagram, None, format))
}

/// The result cache's statistics of `state_dir` (`weft cache stats`):
/// `{state_dir, entries, bytes, by_kind: {KIND: {entries, bytes}}, oldest,
/// newest, expired, corrupt: [{file, bytes, reason}]}`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(weft::tooling::cache_stats(dir.path())["entries"], 0);
/// ```
pub fn cache_stats(state_dir: &Path) -> serde_json::Value {
    weft_agents::cache::inventory::stats(state_dir)
}

/// Deletes the result cache entries of `state_dir` created at least
/// `older_than` ago (all without it) and every corrupt file there (`weft
/// cache clear`); returns `{state_dir, removed, bytes, corrupt, kept}`.
pub fn cache_clear(
    state_dir: &Path,
    older_than: Option<std::time::Duration>,
) -> Result<serde_json::Value> {
    weft_agents::cache::inventory::clear(state_dir, older_than).map_err(Error::value)
}

/// The approval requests of `state_dir` (`<state_dir>/approvals/*.json`),
/// oldest first; an unreadable record is an `Err` naming the file.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(weft::tooling::approvals(dir.path()).is_empty());
/// ```
pub fn approvals(state_dir: &Path) -> Vec<Result<serde_json::Value>> {
    let (rows, errors) = weft_agents::approval::record::list(state_dir);
    errors
        .into_iter()
        .map(|e| Err(Error::value(e)))
        .chain(rows.into_iter().map(Ok))
        .collect()
}

/// Answers the pending approval request `id` of `state_dir` (`weft
/// approve`), atomically through the store; returns the updated record. A
/// missing or already answered request, or a choice that is not one of
/// the request's, is a `value_error`.
pub fn answer_approval(
    state_dir: &Path,
    id: &str,
    answer: crate::Approval,
) -> Result<serde_json::Value> {
    crate::block_on(async {
        weft_agents::approval::record::answer(state_dir, id, &answer)
            .await
            .map_err(Error::value)
    })
}

/// Checks the environment variables of the crash-point test hook
/// (`WEFT_CRASH_AFTER_WRITE`, `WEFT_CRASH_AFTER_EFFECT`,
/// `WEFT_CRASH_POINTS_FILE`; docs/testing.md "Crash points"): `Err` with a
/// message naming the variable when a value is not what it takes. The hook
/// is inert unless one of them is set.
pub fn check_crash_hook_env() -> std::result::Result<(), String> {
    weft_agents::store::crash_points::check_env()
}
