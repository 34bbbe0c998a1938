//! Carry policies and execution profiles of delegated workers
//! (workers.md §4–§5), parsed once at the boundary into typed structs
//! (architecture.md): [`CarryPolicy`] (what a worker's cycles start from and
//! what it keeps), [`ExecutionProfile`] (its cwd, environment overlay and
//! optional git worktree) and the [`Worktree`] handle that cleans up after it.
//!
//! Error discipline shared by both option dicts: an unknown key is a
//! `value_error` naming it with the closest known key
//! (`spawn_worker: unknown carry option 'transcrpt' (did you mean
//! 'transcript'?)`); a wrong value lists the allowed ones
//! (`carry.transcript must be one of inherit, fork, reset, compact; got
//! 'keep'`); a value of the wrong type is a `type_error` of the same shape
//! (`carry.persist must be a bool; got 'yes'`). A `nil` value means "the
//! default", as everywhere else in the option dicts.

pub mod carry;
pub mod execution;
pub mod worktree;

pub use carry::{ArtifactsMode, CarryPolicy, TranscriptMode};
pub use execution::ExecutionProfile;
pub use worktree::{Cleanup, Worktree, WorktreeSpec};

use weft_vm::error::{type_error, value_error, RtError, RtResult};
use weft_vm::value::Value;

/// Longest rendering of a wrong value in an error message.
const GOT_CHARS: usize = 60;

/// How a wrong value shows after `got`: strings in single quotes, anything
/// else as its repr, cut to [`GOT_CHARS`] characters.
pub(crate) fn got(v: &Value) -> String {
    let s = match v {
        Value::Str(s) => format!("'{s}'"),
        other => other.to_repr(),
    };
    if s.chars().count() <= GOT_CHARS {
        return s;
    }
    let mut out: String = s.chars().take(GOT_CHARS - 3).collect();
    out.push_str("...");
    out
}

/// `PATH must be one of A, B, C; got X` (`value_error`).
pub(crate) fn not_one_of(path: &str, allowed: &[&str], v: &Value) -> Box<RtError> {
    value_error(format!(
        "{path} must be one of {}; got {}",
        allowed.join(", "),
        got(v)
    ))
}

/// `PATH must be EXPECTED; got X` (`type_error`).
pub(crate) fn wrong_type(path: &str, expected: &str, v: &Value) -> Box<RtError> {
    type_error(format!("{path} must be {expected}; got {}", got(v)))
}

/// One of the names in `table`, else [`not_one_of`].
pub(crate) fn parse_enum<T: Copy>(v: &Value, path: &str, table: &[(&str, T)]) -> RtResult<T> {
    if let Value::Str(s) = v {
        if let Some((_, t)) = table.iter().find(|(n, _)| *n == s.as_str()) {
            return Ok(*t);
        }
    }
    let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    Err(not_one_of(path, &names, v))
}

/// The name of `t` in `table`.
pub(crate) fn enum_name<T: Copy + PartialEq>(t: T, table: &[(&'static str, T)]) -> &'static str {
    table
        .iter()
        .find(|(_, x)| *x == t)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

/// A bool value.
pub(crate) fn parse_bool(v: &Value, path: &str) -> RtResult<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong_type(path, "a bool", other)),
    }
}

/// A non-empty string value.
pub(crate) fn parse_name(v: &Value, path: &str) -> RtResult<String> {
    match v {
        Value::Str(s) if !s.is_empty() => Ok(s.to_string()),
        Value::Str(_) => Err(value_error(format!(
            "{path} must be a non-empty string; got ''"
        ))),
        other => Err(wrong_type(path, "a string", other)),
    }
}

/// Serde for an environment overlay (`IndexMap<String, String>`) as a JSON
/// object in insertion order, without needing indexmap's `serde` feature.
pub(crate) mod env_serde {
    use indexmap::IndexMap;
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        env: &IndexMap<String, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(env.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<IndexMap<String, String>, D::Error> {
        struct Env;
        impl<'de> Visitor<'de> for Env {
            type Value = IndexMap<String, String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut env = IndexMap::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    env.insert(k, v);
                }
                Ok(env)
            }
        }
        d.deserialize_map(Env)
    }
}

/// Test helper: unwraps an [`RtResult`] (`RtError` has no `Debug`),
/// panicking with the error's category and message.
#[cfg(test)]
pub(crate) trait OrPanic<T> {
    fn or_panic(self) -> T;
}

#[cfg(test)]
impl<T> OrPanic<T> for RtResult<T> {
    fn or_panic(self) -> T {
        self.unwrap_or_else(|e| panic!("{}: {}", e.category(), e.message()))
    }
}
