//! Dict builtins (stdlib.md "Dicts").
//!
//! Dicts are copy-on-write values: `set`, `remove`, `merge` and `omit`
//! take the dict out of its argument slot only after validating every
//! argument, then update it through `Rc::make_mut` (in place when the
//! caller moved it out of its variable, as in `d = set(d, k, v)`).
//! Removal keeps the order of the remaining keys.

use std::collections::HashSet;
use std::rc::Rc;

use super::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use crate::error::{type_error, RtResult};
use crate::value::{dict_get, DictMap, RcStr, StrKey, Value};
use crate::vm::Vm;

const DICT: &[&str] = &["dict"];
const DICT_KEY: &[&str] = &["dict", "key"];
const DICT_KEYS: &[&str] = &["dict", "keys"];
const DICT_FN: &[&str] = &["dict", "fn"];

#[rustfmt::skip]
pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("keys", DICT, 1, 1, "dicts", "The keys of a dict, in insertion order.", keys),
        sync("values", DICT, 1, 1, "dicts", "The values of a dict, in insertion order.", values),
        sync("entries", DICT, 1, 1, "dicts", "The entries of a dict as `[{key, value}, ...]`, in insertion order.", entries),
        sync("has", DICT_KEY, 2, 2, "dicts", "True when the dict has the key (even if its value is nil).", has),
        sync("get", &["dict", "key", "default"], 2, 3, "dicts", "The value for the key, or `default` (nil) when absent; on a list, the item at an int index (negative from the end) or `default`.", get),
        sync("set", &["dict", "key", "value"], 3, 3, "dicts", "A copy of the dict with the key set (an existing key keeps its position; in place when uniquely owned).", set),
        sync("remove", DICT_KEY, 2, 2, "dicts", "A copy of the dict without the key (unchanged when absent); the other keys keep their order.", remove),
        sync("merge", &["dict", "..."], 1, u8::MAX, "dicts", "The dicts merged left to right: later values win, keys keep their first position.", merge),
        sync("pick", DICT_KEYS, 2, 2, "dicts", "A dict of just the listed keys that are present, in the order of `keys`.", pick),
        sync("omit", DICT_KEYS, 2, 2, "dicts", "A copy of the dict without the listed keys.", omit),
        asynchronous("map_values", DICT_FN, 2, 2, "dicts", "A dict with the same keys and `fn(value)` as values.", map_values),
        asynchronous("filter_entries", DICT_FN, 2, 2, "dicts", "The entries for which `fn(key, value)` is truthy.", filter_entries),
    ]
}

/// Moves the (already validated) dict argument `i` out.
fn take_dict(args: &mut Args, i: usize) -> Rc<DictMap> {
    args.take(i).into_dict().unwrap_or_default()
}

/// Validates a list-of-strings argument.
fn key_list<'v>(args: &'v Args, i: usize) -> RtResult<&'v Rc<Vec<Value>>> {
    let l = match args.get(i) {
        Some(Value::List(l)) => l,
        _ => return Err(args.type_err(i, "a list of strings")),
    };
    if let Some((at, bad)) = l
        .iter()
        .enumerate()
        .find(|(_, v)| !matches!(v, Value::Str(_)))
    {
        return Err(type_error(format!(
            "{}: argument {} ({}) must be a list of strings, got {} at index {at}",
            args.name,
            i + 1,
            DICT_KEYS[1],
            bad.type_name()
        )));
    }
    Ok(l)
}

fn keys(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    Ok(Value::list(
        d.keys().map(|k| Value::Str(k.clone())).collect(),
    ))
}

fn values(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    Ok(Value::list(d.values().cloned().collect()))
}

fn entries(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    let key: RcStr = Rc::new("key".to_string());
    let value: RcStr = Rc::new("value".to_string());
    let out = d
        .iter()
        .map(|(k, v)| {
            let mut m = DictMap::with_capacity_and_hasher(2, Default::default());
            m.insert(key.clone(), Value::Str(k.clone()));
            m.insert(value.clone(), v.clone());
            Value::dict(m)
        })
        .collect();
    Ok(Value::list(out))
}

fn has(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    let k = args.str(1)?;
    Ok(Value::Bool(dict_get(d, k).is_some()))
}

fn get(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let found = match args.get(0) {
        Some(Value::Dict(d)) => dict_get(d, args.str(1)?).cloned(),
        Some(Value::List(l)) => {
            let Some(Value::Int(i)) = args.get(1) else {
                return Err(args.type_err(1, "an int index for a list"));
            };
            let i = *i;
            let idx = if i < 0 {
                i.checked_add(l.len() as i64)
            } else {
                Some(i)
            };
            idx.and_then(|i| usize::try_from(i).ok())
                .and_then(|i| l.get(i))
                .cloned()
        }
        _ => return Err(args.type_err(0, "a dict or list")),
    };
    match found {
        Some(v) => Ok(v),
        None if args.len() > 2 => Ok(args.take(2)),
        None => Ok(Value::Nil),
    }
}

fn set(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.dict(0)?.len();
    let k = args.rc_str(1)?.clone();
    if vm.program.limits.any() && !args.dict(0)?.contains_key(&k) {
        vm.program.limits.check_dict_len(len + 1)?;
    }
    let v = args.take(2);
    let mut d = take_dict(args, 0);
    Rc::make_mut(&mut d).insert(k, v);
    Ok(Value::Dict(d))
}

fn remove(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let present = {
        let d = args.dict(0)?;
        let k = args.str(1)?;
        dict_get(d, k).is_some()
    };
    if !present {
        return Ok(args.take(0));
    }
    let k = args.take(1);
    let mut d = take_dict(args, 0);
    if let Value::Str(k) = &k {
        Rc::make_mut(&mut d).shift_remove(&StrKey(k.as_str()));
    }
    Ok(Value::Dict(d))
}

fn merge(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    for i in 0..args.len() {
        args.dict(i)?;
    }
    if vm.program.limits.any() {
        // The size of the merged dict, before the first one is extended.
        let mut keys: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for i in 0..args.len() {
            keys.extend(args.dict(i)?.keys().map(|k| k.as_str()));
            vm.program.limits.check_dict_len(keys.len())?;
        }
    }
    // The first dict is extended, so `d = merge(d, extra)` updates `d` in
    // place; an empty first dict is replaced by the next one instead.
    let mut out = take_dict(args, 0);
    for i in 1..args.len() {
        let other = take_dict(args, i);
        if other.is_empty() {
            continue;
        }
        if out.is_empty() {
            out = other;
            continue;
        }
        let map = Rc::make_mut(&mut out);
        match Rc::try_unwrap(other) {
            Ok(other) => map.extend(other),
            Err(other) => map.extend(other.iter().map(|(k, v)| (k.clone(), v.clone()))),
        }
    }
    Ok(Value::Dict(out))
}

fn pick(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    let keys = key_list(args, 1)?;
    let mut out = DictMap::with_capacity_and_hasher(keys.len().min(d.len()), Default::default());
    for k in keys.iter() {
        if let Value::Str(k) = k {
            if let Some((key, v)) = d.get_key_value(&StrKey(k.as_str())) {
                out.insert(key.clone(), v.clone());
            }
        }
    }
    Ok(Value::dict(out))
}

fn omit(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let any_present = {
        let d = args.dict(0)?;
        let keys = key_list(args, 1)?;
        keys.iter()
            .any(|k| k.as_str().is_some_and(|k| dict_get(d, k).is_some()))
    };
    if !any_present {
        return Ok(args.take(0));
    }
    let keys = args.take(1);
    let mut d = take_dict(args, 0);
    let Ok(keys) = keys.into_list() else {
        return Ok(Value::Dict(d));
    };
    let drop: HashSet<&str, foldhash::fast::RandomState> =
        keys.iter().filter_map(|k| k.as_str()).collect();
    Rc::make_mut(&mut d).retain(|k, _| !drop.contains(k.as_str()));
    Ok(Value::Dict(d))
}

/// Validates the dict argument 0 and function argument 1, then moves both out.
fn dict_and_fn(name: &'static str, vals: &mut [Value]) -> RtResult<(Rc<DictMap>, Value)> {
    let a = Args::new(name, DICT_FN, vals);
    a.dict(0)?;
    a.func(1)?;
    let f = std::mem::take(&mut vals[1]);
    Ok((
        std::mem::take(&mut vals[0]).into_dict().unwrap_or_default(),
        f,
    ))
}

fn map_values(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (d, f) = dict_and_fn("map_values", &mut args)?;
        match Rc::try_unwrap(d) {
            // A temporary dict: replace its values in place.
            Ok(mut map) => {
                for (_, slot) in map.iter_mut() {
                    let v = std::mem::take(slot);
                    *slot = vm.call_value(&f, std::slice::from_ref(&v)).await?;
                }
                Ok(Value::dict(map))
            }
            Err(shared) => {
                let mut out = DictMap::with_capacity_and_hasher(shared.len(), Default::default());
                for (k, v) in shared.iter() {
                    let nv = vm.call_value(&f, std::slice::from_ref(v)).await?;
                    out.insert(k.clone(), nv);
                }
                Ok(Value::dict(out))
            }
        }
    })
}

fn filter_entries(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (d, f) = dict_and_fn("filter_entries", &mut args)?;
        let mut keep = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let r = vm
                .call_value(&f, &[Value::Str(k.clone()), v.clone()])
                .await?;
            keep.push(r.truthy());
        }
        if keep.iter().all(|k| *k) {
            return Ok(Value::Dict(d));
        }
        let mut d = d;
        let mut flags = keep.into_iter();
        Rc::make_mut(&mut d).retain(|_, _| flags.next().unwrap_or(false));
        Ok(Value::Dict(d))
    })
}
