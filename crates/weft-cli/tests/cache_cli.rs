//! `weft cache stats [--json]` and `weft cache clear [--older-than
//! DURATION] [--json]` (issue 17 §3): counting the entries a run stored,
//! naming and removing corrupt files, removing by age, and the error for a
//! bad duration.

use std::path::Path;
use std::process::{Command, Output};

fn weft(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env_remove("WEFT_PERSIST")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// Fills the cache: two model calls and one agent run.
fn fill(dir: &Path) {
    std::fs::write(
        dir.join("fill.wf"),
        r#"
llm_call("one", nil, {cache: true})
llm_call("two", nil, {cache: true})
sub_agent_run("three", {cache: true})
"#,
    )
    .unwrap();
    let o = weft(dir, &["run", "fill.wf"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn stats_count_the_entries_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    // An empty (missing) cache.
    let empty = weft(dir.path(), &["cache", "stats", "--json"]);
    assert!(empty.status.success(), "{}", stderr(&empty));
    let s = json(&empty);
    assert_eq!(s["entries"], 0);
    assert_eq!(s["oldest"], serde_json::Value::Null);

    fill(dir.path());
    let o = weft(dir.path(), &["cache", "stats", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&o);
    assert_eq!(s["entries"], 3, "{s}");
    assert_eq!(s["by_kind"]["llm"]["entries"], 2, "{s}");
    assert_eq!(s["by_kind"]["sub_agent"]["entries"], 1, "{s}");
    assert!(s["bytes"].as_u64().unwrap() > 0);
    assert_eq!(s["expired"], 0);
    assert!(s["oldest"].as_str().unwrap() <= s["newest"].as_str().unwrap());
    assert_eq!(s["corrupt"], serde_json::json!([]));

    let text = weft(dir.path(), &["cache", "stats"]);
    let t = stdout(&text);
    assert!(t.contains(": 3 entries"), "{t}");
    assert!(t.contains("llm         2 entries"), "{t}");
    assert!(t.contains("sub_agent   1 entry"), "{t}");
}

#[test]
fn corrupt_entries_are_named_by_stats_and_removed_by_clear() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let cache = dir.path().join("state/cache");
    std::fs::write(cache.join("broken.json"), "{not json").unwrap();
    std::fs::write(cache.join("other.json"), r#"{"_type": "weft.run"}"#).unwrap();

    let o = weft(dir.path(), &["cache", "stats", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let s = json(&o);
    let files: Vec<&str> = s["corrupt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["cache/broken.json", "cache/other.json"], "{s}");
    assert!(
        stderr(&o).contains("2 corrupt cache files"),
        "{}",
        stderr(&o)
    );
    let t = stdout(&weft(dir.path(), &["cache", "stats"]));
    assert!(t.contains("corrupt cache/broken.json"), "{t}");

    // A run reading a corrupt entry treats it as a miss (and replaces it).
    let entries = std::fs::read_dir(&cache).unwrap().count();
    let llm_entry = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"kind\": \"llm\"")
        })
        .unwrap();
    std::fs::write(&llm_entry, "garbage").unwrap();
    std::fs::write(
        dir.path().join("again.wf"),
        r#"println(llm_call("one", nil, {cache: true}).cached, llm_call("two", nil, {cache: true}).cached)"#,
    )
    .unwrap();
    let again = weft(dir.path(), &["run", "again.wf"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let mut seen = stdout(&again)
        .trim()
        .split(' ')
        .map(str::to_string)
        .collect::<Vec<_>>();
    seen.sort();
    assert_eq!(seen, ["false", "true"], "one call missed, one hit");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), entries);

    // clear --older-than keeps the fresh entries, removes the corrupt ones.
    let o = weft(
        dir.path(),
        &["cache", "clear", "--older-than", "1h", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(
        (
            r["removed"].as_u64(),
            r["corrupt"].as_u64(),
            r["kept"].as_u64()
        ),
        (Some(2), Some(2), Some(3)),
        "{r}"
    );
    let s = json(&weft(dir.path(), &["cache", "stats", "--json"]));
    assert_eq!(s["entries"], 3);
    assert_eq!(s["corrupt"], serde_json::json!([]));
}

#[test]
fn clear_removes_entries_by_age() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    // An entry created ten days ago (and expired: its ttl was one second).
    let old_ms = chrono::Utc::now().timestamp_millis() as u64 - 10 * 86_400_000;
    let old = serde_json::json!({
        "_type": "weft.cache", "version": 1, "kind": "llm",
        "created_at": "2026-01-01T00:00:00Z", "created_ms": old_ms, "ttl_ms": 1000,
        "key": null, "result": {},
    });
    std::fs::write(dir.path().join("state/cache/0ld.json"), old.to_string()).unwrap();
    let s = json(&weft(dir.path(), &["cache", "stats", "--json"]));
    assert_eq!(
        (s["entries"].as_u64(), s["expired"].as_u64()),
        (Some(4), Some(1)),
        "{s}"
    );
    assert_eq!(s["oldest"], "2026-01-01T00:00:00Z");

    let o = weft(dir.path(), &["cache", "clear", "--older-than", "7d"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("removed 1 cache entry ("),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("; kept 3"), "{}", stdout(&o));
    assert!(!dir.path().join("state/cache/0ld.json").exists());

    for fresh in ["30s", "10m", "2h"] {
        let r = json(&weft(
            dir.path(),
            &["cache", "clear", "--older-than", fresh, "--json"],
        ));
        assert_eq!(
            (r["removed"].as_u64(), r["kept"].as_u64()),
            (Some(0), Some(3)),
            "{fresh}: {r}"
        );
    }
    let r = json(&weft(dir.path(), &["cache", "clear", "--json"]));
    assert_eq!(
        (r["removed"].as_u64(), r["kept"].as_u64()),
        (Some(3), Some(0)),
        "{r}"
    );
    assert_eq!(
        json(&weft(dir.path(), &["cache", "stats", "--json"]))["entries"],
        0
    );
}

#[test]
fn a_bad_duration_says_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let o = weft(dir.path(), &["cache", "clear", "--older-than", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--older-than"), "{e}");
    assert!(
        e.contains("expected a duration like 90s, 30m, 12h, 7d or 2w"),
        "{e}"
    );
}

#[test]
fn the_state_dir_flag_is_used_without_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["cache", "stats", "--json", "--state-dir"])
        .arg(dir.path().join("state"))
        .env_remove("WEFT_STATE_DIR")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["entries"], 3);
}
