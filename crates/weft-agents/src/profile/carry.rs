//! The carry policy of a worker (workers.md §5): what each cycle's
//! transcript starts from (`inherit`, `fork`, `reset`, `compact` with
//! `keep_last`), whether stage/workflow workers receive the parent's
//! artifacts, whether snapshots are written, whether the worker stays
//! `awaiting` after each cycle, and whether `send_input` continues a
//! workflow worker's run.
//!
//! [`CarryPolicy::parse`] turns the `carry` option dict into the typed
//! struct once; [`CarryPolicy::starting_transcript`] decides a cycle's
//! starting transcript, using [`Transcript::fork`] and
//! [`Transcript::compact`] (no second copy of the compaction rules).

use serde::{Deserialize, Serialize};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_from, Value};

use super::{enum_name, parse_bool, parse_enum, wrong_type};
use crate::tools::keys::{check_keys, opt_type, unknown_key};
use crate::transcript::Transcript;

/// What a cycle's transcript starts from (`carry.transcript`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptMode {
    /// The worker's own transcript so far (empty the first time).
    #[default]
    Inherit,
    /// The first cycle starts from a copy of the parent's current session
    /// transcript; later cycles continue the worker's own.
    Fork,
    /// Every cycle starts empty.
    Reset,
    /// Like `inherit`, compacted to a summary plus the last `keep_last`
    /// messages before each new cycle.
    Compact,
}

impl TranscriptMode {
    const TABLE: &'static [(&'static str, TranscriptMode)] = &[
        ("inherit", TranscriptMode::Inherit),
        ("fork", TranscriptMode::Fork),
        ("reset", TranscriptMode::Reset),
        ("compact", TranscriptMode::Compact),
    ];

    pub fn name(self) -> &'static str {
        enum_name(self, Self::TABLE)
    }
}

/// Whether a stage/workflow worker receives the parent's artifacts
/// (`carry.artifacts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactsMode {
    #[default]
    Inherit,
    None,
}

impl ArtifactsMode {
    const TABLE: &'static [(&'static str, ArtifactsMode)] = &[
        ("inherit", ArtifactsMode::Inherit),
        ("none", ArtifactsMode::None),
    ];

    pub fn name(self) -> &'static str {
        enum_name(self, Self::TABLE)
    }
}

/// The parsed `carry` option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CarryPolicy {
    pub transcript: TranscriptMode,
    /// Messages kept verbatim by `compact` (default 4).
    pub keep_last: usize,
    pub artifacts: ArtifactsMode,
    /// Write snapshots (workers.md §6).
    pub persist: bool,
    /// After each cycle the worker is `awaiting` instead of `completed`.
    pub persistent: bool,
    /// For workflow workers: `send_input` continues the child run.
    pub resume_workflow: bool,
}

impl Default for CarryPolicy {
    fn default() -> Self {
        CarryPolicy {
            transcript: TranscriptMode::Inherit,
            keep_last: 4,
            artifacts: ArtifactsMode::Inherit,
            persist: true,
            persistent: false,
            resume_workflow: true,
        }
    }
}

/// The keys of the `carry` dict.
pub const CARRY_KEYS: &[&str] = &[
    "transcript",
    "keep_last",
    "artifacts",
    "persist",
    "persistent",
    "resume_workflow",
];

impl CarryPolicy {
    /// Parses the `carry` option (`nil` = all defaults). `who` names the
    /// builtin in unknown-key errors (`spawn_worker: unknown carry option
    /// 'transcrpt' (did you mean 'transcript'?)`).
    pub fn parse(v: &Value, who: &str) -> RtResult<CarryPolicy> {
        let mut c = CarryPolicy::default();
        let map = match v {
            Value::Nil => return Ok(c),
            Value::Dict(m) => m,
            other => return Err(opt_type(who, "carry", "a dict", other)),
        };
        check_keys(map, who, "carry", CARRY_KEYS)?;
        for (k, v) in map.iter() {
            if v.is_nil() {
                continue;
            }
            match k.as_str() {
                "transcript" => {
                    c.transcript = parse_enum(v, "carry.transcript", TranscriptMode::TABLE)?
                }
                "keep_last" => {
                    c.keep_last = match v {
                        Value::Int(n) if *n >= 0 => *n as usize,
                        Value::Int(_) => {
                            return Err(value_error(format!(
                                "carry.keep_last must be an int >= 0; got {}",
                                super::got(v)
                            )))
                        }
                        other => return Err(wrong_type("carry.keep_last", "an int >= 0", other)),
                    }
                }
                "artifacts" => {
                    c.artifacts = parse_enum(v, "carry.artifacts", ArtifactsMode::TABLE)?
                }
                "persist" => c.persist = parse_bool(v, "carry.persist")?,
                "persistent" => c.persistent = parse_bool(v, "carry.persistent")?,
                "resume_workflow" => c.resume_workflow = parse_bool(v, "carry.resume_workflow")?,
                other => return Err(unknown_key(who, "carry", other, CARRY_KEYS)),
            }
        }
        Ok(c)
    }

    /// The dict form, every key present (parses back to the same policy).
    pub fn to_value(&self) -> Value {
        dict_from([
            ("transcript", Value::str(self.transcript.name())),
            ("keep_last", Value::Int(self.keep_last as i64)),
            ("artifacts", Value::str(self.artifacts.name())),
            ("persist", Value::Bool(self.persist)),
            ("persistent", Value::Bool(self.persistent)),
            ("resume_workflow", Value::Bool(self.resume_workflow)),
        ])
    }

    /// The transcript cycle `cycle` starts from, before its user message is
    /// added. `cycle` counts from 0 (the cycle started by the spawn; each
    /// `send_input` starts the next one); `own` is the worker's transcript
    /// as the previous cycle left it (empty before the first); and
    /// `parent_session` is the parent's current session transcript, if it
    /// has one.
    ///
    /// - `inherit`: a copy of `own`.
    /// - `fork`: on cycle 0, a fork of `parent_session` (new id,
    ///   `parent_id` = the parent's transcript id); without a parent
    ///   session, `own`. Later cycles: `own`.
    /// - `reset`: a new empty transcript (new id) every cycle.
    /// - `compact`: `own`, compacted before every cycle after the first to
    ///   its summary plus the last `keep_last` messages.
    pub fn starting_transcript(
        &self,
        cycle: usize,
        own: &Transcript,
        parent_session: Option<&Transcript>,
    ) -> Transcript {
        match self.transcript {
            TranscriptMode::Inherit => own.clone(),
            TranscriptMode::Fork => match parent_session {
                Some(parent) if cycle == 0 => parent.fork(),
                _ => own.clone(),
            },
            TranscriptMode::Reset => Transcript::new(),
            TranscriptMode::Compact => {
                let mut t = own.clone();
                if cycle > 0 {
                    t.compact(self.keep_last);
                }
                t
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;
    use crate::profile::OrPanic;
    use weft_vm::value::from_json;

    fn parse(j: serde_json::Value) -> RtResult<CarryPolicy> {
        CarryPolicy::parse(&from_json(j), "spawn_worker")
    }

    fn err(j: serde_json::Value) -> (String, String) {
        let e = parse(j).unwrap_err();
        (e.category(), e.message())
    }

    fn transcript(n: usize) -> Transcript {
        let mut t = Transcript::new();
        for i in 0..n {
            if i % 2 == 0 {
                t.messages.push(Message::user(format!("q{i}")));
            } else {
                t.messages.push(Message::assistant(format!("a{i}")));
            }
        }
        t
    }

    #[test]
    fn defaults() {
        let c = CarryPolicy::parse(&Value::Nil, "spawn_worker").or_panic();
        assert_eq!(c, CarryPolicy::default());
        assert_eq!(c.transcript, TranscriptMode::Inherit);
        assert_eq!(c.keep_last, 4);
        assert_eq!(c.artifacts, ArtifactsMode::Inherit);
        assert!(c.persist && !c.persistent && c.resume_workflow);
        assert_eq!(parse(serde_json::json!({})).or_panic(), c);
        assert_eq!(parse(serde_json::json!({"transcript": null})).or_panic(), c);
    }

    #[test]
    fn parses_every_key() {
        let c = parse(serde_json::json!({
            "transcript": "compact", "keep_last": 0, "artifacts": "none",
            "persist": false, "persistent": true, "resume_workflow": false
        }))
        .or_panic();
        assert_eq!(
            c,
            CarryPolicy {
                transcript: TranscriptMode::Compact,
                keep_last: 0,
                artifacts: ArtifactsMode::None,
                persist: false,
                persistent: true,
                resume_workflow: false,
            }
        );
        for (name, mode) in TranscriptMode::TABLE {
            let c = parse(serde_json::json!({ "transcript": name })).or_panic();
            assert_eq!(c.transcript, *mode);
        }
    }

    #[test]
    fn unknown_key_has_did_you_mean() {
        assert_eq!(
            err(serde_json::json!({"transcrpt": "fork"})),
            (
                "value_error".into(),
                "spawn_worker: unknown carry option 'transcrpt' (did you mean 'transcript'?)"
                    .into()
            )
        );
        let (cat, msg) = err(serde_json::json!({"zzz": 1}));
        assert_eq!(cat, "value_error");
        assert_eq!(
            msg,
            "spawn_worker: unknown carry option 'zzz' (options: transcript, keep_last, \
             artifacts, persist, persistent, resume_workflow)"
        );
    }

    #[test]
    fn wrong_values_list_the_allowed_ones() {
        assert_eq!(
            err(serde_json::json!({"transcript": "keep"})),
            (
                "value_error".into(),
                "carry.transcript must be one of inherit, fork, reset, compact; got 'keep'".into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"transcript": 3})).1,
            "carry.transcript must be one of inherit, fork, reset, compact; got 3"
        );
        assert_eq!(
            err(serde_json::json!({"artifacts": "all"})).1,
            "carry.artifacts must be one of inherit, none; got 'all'"
        );
        assert_eq!(
            err(serde_json::json!({"keep_last": -1})),
            (
                "value_error".into(),
                "carry.keep_last must be an int >= 0; got -1".into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"keep_last": "2"})),
            (
                "type_error".into(),
                "carry.keep_last must be an int >= 0; got '2'".into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"persist": "yes"})),
            (
                "type_error".into(),
                "carry.persist must be a bool; got 'yes'".into()
            )
        );
        let e = CarryPolicy::parse(&Value::Int(1), "sub_agent_run").unwrap_err();
        assert_eq!(e.category(), "type_error");
        assert_eq!(
            e.message(),
            "sub_agent_run: option 'carry' must be a dict, got int"
        );
    }

    #[test]
    fn value_and_serde_round_trips() {
        let c =
            parse(serde_json::json!({"transcript": "fork", "keep_last": 2, "persistent": true}))
                .or_panic();
        assert_eq!(CarryPolicy::parse(&c.to_value(), "x").or_panic(), c);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["transcript"], "fork");
        assert_eq!(json["artifacts"], "inherit");
        let back: CarryPolicy = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
        let partial: CarryPolicy =
            serde_json::from_value(serde_json::json!({"transcript": "reset"})).unwrap();
        assert_eq!(partial.transcript, TranscriptMode::Reset);
        assert_eq!(partial.keep_last, 4);
    }

    fn policy(mode: TranscriptMode, keep_last: usize) -> CarryPolicy {
        CarryPolicy {
            transcript: mode,
            keep_last,
            ..CarryPolicy::default()
        }
    }

    #[test]
    fn inherit_continues_its_own() {
        let p = policy(TranscriptMode::Inherit, 4);
        let parent = transcript(3);
        let empty = Transcript::new();
        assert_eq!(p.starting_transcript(0, &empty, Some(&parent)), empty);
        let own = transcript(10);
        assert_eq!(p.starting_transcript(1, &own, Some(&parent)), own);
    }

    #[test]
    fn fork_starts_from_the_parent_session_once() {
        let p = policy(TranscriptMode::Fork, 4);
        let parent = transcript(3);
        let empty = Transcript::new();
        let first = p.starting_transcript(0, &empty, Some(&parent));
        assert_ne!(first.id, parent.id);
        assert_eq!(first.parent_id.as_deref(), Some(parent.id.as_str()));
        assert_eq!(first.messages, parent.messages);
        // Later cycles continue the worker's own transcript, not the parent's.
        let mut own = first.clone();
        own.messages.push(Message::user("more"));
        let second = p.starting_transcript(1, &own, Some(&parent));
        assert_eq!(second, own);
        // No parent session: starts from its own (empty) transcript.
        assert_eq!(p.starting_transcript(0, &empty, None), empty);
    }

    #[test]
    fn reset_starts_empty_every_cycle() {
        let p = policy(TranscriptMode::Reset, 4);
        let own = transcript(6);
        let parent = transcript(2);
        for cycle in 0..3 {
            let t = p.starting_transcript(cycle, &own, Some(&parent));
            assert!(t.messages.is_empty());
            assert_eq!(t.summary, None);
            assert_eq!(t.parent_id, None);
            assert_ne!(t.id, own.id);
        }
    }

    #[test]
    fn compact_keeps_a_summary_and_the_last_messages() {
        let p = policy(TranscriptMode::Compact, 2);
        let own = transcript(6);
        // The first cycle has nothing to compact.
        let empty = Transcript::new();
        assert_eq!(p.starting_transcript(0, &empty, None), empty);
        let t = p.starting_transcript(1, &own, None);
        assert_eq!(t.id, own.id);
        assert_eq!(t.messages, own.messages[4..].to_vec());
        assert_eq!(
            t.summary.as_deref(),
            Some("user: q0\nassistant: a1\nuser: q2\nassistant: a3")
        );
        // Same result as the transcript's own compaction.
        let mut expected = own.clone();
        expected.compact(2);
        assert_eq!(t.messages, expected.messages);
        assert_eq!(t.summary, expected.summary);
        // keep_last 0 folds everything; a short transcript is left as is.
        let all = policy(TranscriptMode::Compact, 0).starting_transcript(2, &own, None);
        assert!(all.messages.is_empty());
        let short = transcript(2);
        let kept = policy(TranscriptMode::Compact, 4).starting_transcript(3, &short, None);
        assert_eq!(kept, short);
    }
}
