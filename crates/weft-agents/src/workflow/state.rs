//! Run state (`ctx.state`) and its reducers. A workflow declares its state
//! fields once, each with a reducer (LangGraph's state reducers are the
//! model):
//!
//! ```text
//! state: {repairs: {reducer: "add", default: 0}, notes: "append", plan: "replace"}
//! ```
//!
//! A node changes state only through its `update` function, `{ out, ctx ->
//! {FIELD: value, ...} }`, called once after the node's last attempt with
//! its output (nil when it failed) and its `ctx`. The scheduler folds the
//! returned dict into the state with each field's reducer, in the order
//! nodes finish, and writes the new state in the same record write as the
//! stage result — so after a crash the state is exactly what the finished
//! stages made it, and a re-run neither loses nor repeats an update.
//!
//! Reducers: `replace` (the new value; default nil), `append` (the value
//! added as one element of a list; default `[]`), `add` (numbers summed,
//! strings or lists concatenated; default 0), `merge` (dict keys
//! overwritten; default `{}`).

use std::rc::Rc;

use indexmap::IndexMap;
use weft_vm::value::{dict_get, DictMap, Value};

use super::graph::Problem;

/// A state field's reducer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    Replace,
    Append,
    Add,
    Merge,
}

/// Reducer names, as written.
pub const REDUCERS: &[&str] = &["replace", "append", "add", "merge"];
/// Keys of a field declaration.
pub const FIELD_KEYS: &[&str] = &["reducer", "default"];

impl Reducer {
    fn parse(s: &str) -> Option<Reducer> {
        Some(match s {
            "replace" => Reducer::Replace,
            "append" => Reducer::Append,
            "add" => Reducer::Add,
            "merge" => Reducer::Merge,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        REDUCERS[self as usize]
    }

    fn default_value(self) -> Value {
        match self {
            Reducer::Replace => Value::Nil,
            Reducer::Append => Value::list(Vec::new()),
            Reducer::Add => Value::Int(0),
            Reducer::Merge => Value::dict(DictMap::default()),
        }
    }
}

/// One declared field.
#[derive(Clone)]
pub struct Field {
    pub reducer: Reducer,
    pub default: Value,
}

/// The declared fields, in declaration order.
pub type Schema = IndexMap<String, Field>;

/// Parses the definition's `state` (nil = no fields).
pub fn parse_schema(v: Option<&Value>, problems: &mut Vec<Problem>) -> Schema {
    let mut out = Schema::new();
    let Some(v) = v else { return out };
    let Value::Dict(d) = v else {
        problems.push(Problem::new(
            "bad_value",
            None,
            format!(
                "'state' must be a dict of field -> reducer name or {{reducer, default}}, got {}",
                v.type_name()
            ),
        ));
        return out;
    };
    for (name, spec) in d.iter() {
        let bad_reducer = |problems: &mut Vec<Problem>, got: &str| {
            let hint = weft_syntax::suggest::did_you_mean(got, REDUCERS.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            problems.push(Problem::new(
                "bad_value",
                None,
                format!(
                    "state field '{name}': unknown reducer '{got}'{hint}; reducers: {}",
                    REDUCERS.join(", ")
                ),
            ));
        };
        let field = match spec {
            Value::Str(s) => match Reducer::parse(s) {
                Some(r) => Field {
                    reducer: r,
                    default: r.default_value(),
                },
                None => {
                    bad_reducer(problems, s);
                    continue;
                }
            },
            Value::Dict(fd) => {
                for k in fd.keys() {
                    if !FIELD_KEYS.contains(&k.as_str()) {
                        problems.push(super::graph::unknown_key_problem(
                            None,
                            &format!("state field '{name}' key"),
                            k,
                            FIELD_KEYS,
                        ));
                    }
                }
                let reducer = match dict_get(fd, "reducer") {
                    None | Some(Value::Nil) => Reducer::Replace,
                    Some(Value::Str(s)) => match Reducer::parse(s) {
                        Some(r) => r,
                        None => {
                            bad_reducer(problems, s);
                            continue;
                        }
                    },
                    Some(other) => {
                        problems.push(Problem::new(
                            "bad_value",
                            None,
                            format!(
                                "state field '{name}': 'reducer' must be a string, got {}",
                                other.type_name()
                            ),
                        ));
                        continue;
                    }
                };
                let default = match dict_get(fd, "default") {
                    None => reducer.default_value(),
                    Some(v) => v.clone(),
                };
                Field { reducer, default }
            }
            other => {
                problems.push(Problem::new(
                    "bad_value",
                    None,
                    format!(
                        "state field '{name}' must be a reducer name or {{reducer, default}}, got {}",
                        other.type_name()
                    ),
                ));
                continue;
            }
        };
        out.insert(name.to_string(), field);
    }
    out
}

/// The normalised `state` of a definition: every field as `{reducer, default}`.
pub fn normalized(schema: &Schema) -> Value {
    let mut d = DictMap::default();
    for (name, f) in schema {
        d.insert(
            Rc::new(name.clone()),
            weft_vm::value::dict_from([
                ("reducer", Value::str(f.reducer.name())),
                ("default", f.default.clone()),
            ]),
        );
    }
    Value::dict(d)
}

/// The state of a new run: every field at its default.
pub fn initial(schema: &Schema) -> IndexMap<String, Value> {
    schema
        .iter()
        .map(|(k, f)| (k.clone(), f.default.clone()))
        .collect()
}

/// Folds `update` (what a node's `update` returned) into `state`. Checks
/// everything first, so a bad update changes nothing; the error says what
/// was wrong.
pub fn apply(
    schema: &Schema,
    state: &mut IndexMap<String, Value>,
    node: &str,
    update: &Value,
) -> Result<(), String> {
    let Value::Dict(d) = update else {
        return Err(format!(
            "node '{node}': 'update' must return a dict of state fields, got {}",
            update.type_name()
        ));
    };
    let mut next: Vec<(String, Value)> = Vec::new();
    for (k, v) in d.iter() {
        let Some(field) = schema.get(k.as_str()) else {
            let names: Vec<&str> = schema.keys().map(String::as_str).collect();
            let hint = weft_syntax::suggest::did_you_mean(k, names.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            let declared = if names.is_empty() {
                "the workflow declares no state".to_string()
            } else {
                format!("declared: {}", names.join(", "))
            };
            return Err(format!(
                "node '{node}': update: unknown state field '{k}'{hint}; {declared}"
            ));
        };
        let old = state.get(k.as_str()).cloned().unwrap_or(Value::Nil);
        let new = reduce(field.reducer, old, v.clone()).map_err(|m| {
            format!(
                "node '{node}': update of state field '{k}' ({}): {m}",
                field.reducer.name()
            )
        })?;
        next.push((k.to_string(), new));
    }
    for (k, v) in next {
        state.insert(k, v);
    }
    Ok(())
}

fn reduce(r: Reducer, old: Value, new: Value) -> Result<Value, String> {
    Ok(match r {
        Reducer::Replace => new,
        Reducer::Append => match &old {
            Value::List(l) => {
                let mut items = (**l).clone();
                items.push(new);
                Value::list(items)
            }
            Value::Nil => Value::list(vec![new]),
            other => return Err(format!("the field holds {}, not a list", other.type_name())),
        },
        Reducer::Add => match (&old, &new) {
            (Value::Int(a), Value::Int(b)) => Value::Int(
                a.checked_add(*b)
                    .ok_or_else(|| "integer overflow".to_string())?,
            ),
            (Value::Int(a), Value::Float(b)) => Value::Float(*a as f64 + b),
            (Value::Float(a), Value::Int(b)) => Value::Float(a + *b as f64),
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (Value::Str(a), Value::Str(b)) => Value::str(format!("{a}{b}")),
            (Value::List(a), Value::List(b)) => {
                let mut items = (**a).clone();
                items.extend(b.iter().cloned());
                Value::list(items)
            }
            (Value::Nil, _) => new,
            _ => {
                return Err(format!(
                    "cannot add {} to {}",
                    new.type_name(),
                    old.type_name()
                ))
            }
        },
        Reducer::Merge => match (&old, &new) {
            (Value::Dict(a), Value::Dict(b)) => {
                let mut m = (**a).clone();
                for (k, v) in b.iter() {
                    m.insert(k.clone(), v.clone());
                }
                Value::dict(m)
            }
            (Value::Nil, Value::Dict(_)) => new,
            _ => {
                return Err(format!(
                    "merge needs dicts, got {} into {}",
                    new.type_name(),
                    old.type_name()
                ))
            }
        },
    })
}

/// `state` as a script value.
pub fn to_value(state: &IndexMap<String, Value>) -> Value {
    let mut d = DictMap::default();
    for (k, v) in state {
        d.insert(Rc::new(k.clone()), v.clone());
    }
    Value::dict(d)
}
