//! List builtins (stdlib.md "Lists").
//!
//! Lists are copy-on-write values. A builtin that "changes" a list takes it
//! out of its argument slot only after every argument has been validated,
//! then updates it through `Rc::make_mut`: in place when the caller moved
//! the list out of its variable (`xs = push(xs, v)`), as a copy otherwise.
//!
//! Callback builtins (`map`, `filter`, ...) accept lists, ranges, strings
//! (characters) and dicts (`{key, value}` entries). They iterate a shared
//! list by reference and reuse a uniquely owned one (a temporary such as
//! `xs.map(f).filter(g)`).

use std::collections::HashSet;
use std::rc::Rc;

use super::convert::iter_items;
use super::lists_order::*;
use super::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use crate::error::{index_error, type_error, value_error, RtResult};
use crate::value::{DictMap, RcStr, Value};
use crate::vm::Vm;

const LIST: &[&str] = &["list"];
const LIST_FN: &[&str] = &["list", "fn"];
const LIST_KEY_FN: &[&str] = &["list", "key_fn"];
const LIST_OTHER: &[&str] = &["list", "other"];
const LIST_COUNT: &[&str] = &["list", "count"];

#[rustfmt::skip]
pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("push", &["list", "value"], 2, 2, "lists", "A copy of the list with the value appended (in place when the list is uniquely owned).", push),
        sync("insert", &["list", "index", "value"], 3, 3, "lists", "A copy of the list with the value inserted before `index` (may equal the length; negative counts from the end).", insert),
        sync("remove_at", &["list", "index"], 2, 2, "lists", "A copy of the list without the item at `index` (negative counts from the end).", remove_at),
        sync("concat", LIST_OTHER, 2, 2, "lists", "The items of both lists, in order.", concat),
        sync("reverse", LIST, 1, 1, "lists", "The items of a list (or the characters of a string) in reverse order.", reverse),
        sync("sort", LIST, 1, 1, "lists", "The items sorted ascending (stable): numbers (ints and floats together), strings, or lists of those.", sort),
        asynchronous("sort_by", LIST_KEY_FN, 2, 2, "lists", "The items sorted (stable) by `key_fn(item)`; keys compare like `sort`.", sort_by),
        range_def(),
        asynchronous("map", LIST_FN, 2, 2, "lists", "A list of `fn(item)` for each item.", map),
        asynchronous("filter", LIST_FN, 2, 2, "lists", "The items for which `fn(item)` is truthy.", filter),
        asynchronous("reduce", &["list", "init", "fn"], 3, 3, "lists", "Folds the items with `fn(acc, item)` starting from `init`.", reduce),
        asynchronous("find", LIST_FN, 2, 2, "lists", "The first item for which `fn(item)` is truthy, or nil.", find),
        asynchronous("find_index", LIST_FN, 2, 2, "lists", "The index of the first item for which `fn(item)` is truthy, or -1.", find_index),
        asynchronous("any", LIST_FN, 1, 2, "lists", "True when `fn(item)` (or the item itself, without `fn`) is truthy for some item.", any),
        asynchronous("all", LIST_FN, 1, 2, "lists", "True when `fn(item)` (or the item itself, without `fn`) is truthy for every item.", all),
        asynchronous("flat_map", LIST_FN, 2, 2, "lists", "`fn(item)` for each item, with list (and range) results spliced in (one level).", flat_map),
        sync("flatten", LIST, 1, 1, "lists", "The items with nested lists (and ranges) spliced in (one level).", flatten),
        sync("zip", LIST_OTHER, 2, 2, "lists", "`[[a0, b0], [a1, b1], ...]`, as long as the shorter list.", zip),
        sync("enumerate", LIST, 1, 1, "lists", "`[[0, item0], [1, item1], ...]`.", enumerate),
        sync("unique", LIST, 1, 1, "lists", "The items without duplicates (`==`), keeping first occurrences in order.", unique),
        asynchronous("group_by", LIST_KEY_FN, 2, 2, "lists", "A dict from `key_fn(item)` (non-string keys use their display string) to the list of items with that key.", group_by),
        sync("chunk", &["list", "size"], 2, 2, "lists", "The items split into lists of `size` (the last may be shorter).", chunk),
        sync("first", LIST, 1, 1, "lists", "The first item, or nil when the list is empty.", first).native_ranges(),
        sync("last", LIST, 1, 1, "lists", "The last item, or nil when the list is empty.", last).native_ranges(),
        sync("take", LIST_COUNT, 2, 2, "lists", "The first `count` items (all of them when the list is shorter).", take),
        sync("skip", LIST_COUNT, 2, 2, "lists", "The items after the first `count`.", skip),
    ]
}

#[rustfmt::skip]
fn range_def() -> BuiltinDef {
    sync("range", &["start_or_count", "end", "step"], 1, 3, "lists", "`range(n)`, `range(a, b)`, `range(a, b, step)` as a list of ints.", range)
}

// ---------------------------------------------------------------------------
// Shared helpers

/// Moves the (already validated) list argument `i` out.
fn take_list(args: &mut Args, i: usize) -> Rc<Vec<Value>> {
    args.take(i).into_list().unwrap_or_default()
}

/// The items of a list, moved out when uniquely owned.
fn into_vec(l: Rc<Vec<Value>>) -> Vec<Value> {
    Rc::try_unwrap(l).unwrap_or_else(|shared| shared.to_vec())
}

/// Resolves a possibly negative index against `len`; `allow_end` admits
/// `len` itself (insertion point).
fn resolve_index(i: i64, len: usize, allow_end: bool) -> Option<usize> {
    let len_i = len as i64;
    let idx = if i < 0 { i.checked_add(len_i)? } else { i };
    let limit = if allow_end { len_i } else { len_i - 1 };
    (idx >= 0 && idx <= limit).then_some(idx as usize)
}

/// A non-negative count argument.
fn count_arg(args: &Args, i: usize) -> RtResult<usize> {
    let n = args.int(i)?;
    if n < 0 {
        return Err(value_error(format!(
            "{}: {} must not be negative, got {n}",
            args.name, LIST_COUNT[1]
        )));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The items a callback builtin iterates over, without copying a list.
enum Seq {
    List(Rc<Vec<Value>>),
    /// `start` and length of an integer range.
    Range(i64, usize),
}

impl Seq {
    fn len(&self) -> usize {
        match self {
            Seq::List(l) => l.len(),
            Seq::Range(_, n) => *n,
        }
    }

    fn get(&self, i: usize) -> Value {
        match self {
            Seq::List(l) => l[i].clone(),
            Seq::Range(start, _) => Value::Int(start + i as i64),
        }
    }

    /// The items as an owned Vec (moved when the list is uniquely owned).
    fn into_vec(self) -> Vec<Value> {
        match self {
            Seq::List(l) => into_vec(l),
            Seq::Range(start, n) => (0..n).map(|i| Value::Int(start + i as i64)).collect(),
        }
    }
}

/// Validates the iterable argument 0 and the function argument `fn_index`
/// (unless it is optional and absent), then moves both out.
fn seq_and_fn(
    name: &'static str,
    params: &'static [&'static str],
    vals: &mut [Value],
    fn_index: usize,
) -> RtResult<(Seq, Option<Value>)> {
    let a = Args::new(name, params, vals);
    let seq_ok = matches!(
        a.get(0),
        Some(Value::List(_) | Value::Range(_) | Value::Str(_) | Value::Dict(_))
    );
    if !seq_ok {
        return Err(a.type_err(0, "a list"));
    }
    let has_fn = a.get(fn_index).is_some();
    if has_fn {
        a.func(fn_index)?;
    }
    let f = has_fn.then(|| std::mem::take(&mut vals[fn_index]));
    let seq = match std::mem::take(&mut vals[0]).into_list() {
        Ok(l) => Seq::List(l),
        Err(Value::Range(ref r)) => Seq::Range(r.start, r.len()),
        Err(other) => Seq::List(Rc::new(iter_items(&other, name)?)),
    };
    Ok((seq, f))
}

/// `seq_and_fn` for a required function.
fn seq_and_required_fn(
    name: &'static str,
    params: &'static [&'static str],
    vals: &mut [Value],
    fn_index: usize,
) -> RtResult<(Seq, Value)> {
    if vals.len() <= fn_index {
        // Arity is checked by the VM; this keeps the helper total.
        return Err(type_error(format!(
            "{name}: missing argument {}",
            fn_index + 1
        )));
    }
    let (seq, f) = seq_and_fn(name, params, vals, fn_index)?;
    Ok((seq, f.unwrap_or_default()))
}

// ---------------------------------------------------------------------------
// Building and editing lists

fn push(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.list(0)?.len();
    vm.program.limits.check_list_len(len + 1)?;
    let v = args.take(1);
    let mut list = take_list(args, 0);
    Rc::make_mut(&mut list).push(v);
    Ok(Value::List(list))
}

fn insert(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.list(0)?.len();
    vm.program.limits.check_list_len(len + 1)?;
    let i = args.int(1)?;
    let Some(idx) = resolve_index(i, len, true) else {
        return Err(index_error(format!(
            "insert: index {i} out of bounds for list of length {len}"
        )));
    };
    let v = args.take(2);
    let mut list = take_list(args, 0);
    Rc::make_mut(&mut list).insert(idx, v);
    Ok(Value::List(list))
}

fn remove_at(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.list(0)?.len();
    let i = args.int(1)?;
    let Some(idx) = resolve_index(i, len, false) else {
        return Err(index_error(format!(
            "remove_at: index {i} out of bounds for list of length {len}"
        )));
    };
    let mut list = take_list(args, 0);
    Rc::make_mut(&mut list).remove(idx);
    Ok(Value::List(list))
}

fn concat(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let total = args.list(0)?.len() + args.list(1)?.len();
    vm.program.limits.check_list_len(total)?;
    let b = take_list(args, 1);
    let mut a = take_list(args, 0);
    if b.is_empty() {
        return Ok(Value::List(a));
    }
    if a.is_empty() {
        return Ok(Value::List(b));
    }
    let items = Rc::make_mut(&mut a);
    match Rc::try_unwrap(b) {
        Ok(b) => items.extend(b),
        Err(b) => items.extend_from_slice(&b),
    }
    Ok(Value::List(a))
}

fn reverse(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match args.get(0) {
        Some(Value::List(_)) => {
            let mut list = take_list(args, 0);
            Rc::make_mut(&mut list).reverse();
            Ok(Value::List(list))
        }
        Some(Value::Str(s)) => Ok(Value::str(s.chars().rev().collect::<String>())),
        _ => Err(args.type_err(0, "a list or string")),
    }
}

fn flatten(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let l = args.list(0)?;
    if !l
        .iter()
        .any(|v| matches!(v, Value::List(_) | Value::Range(_)))
    {
        return Ok(args.take(0));
    }
    let total = l
        .iter()
        .map(|v| match v {
            Value::List(inner) => inner.len(),
            Value::Range(r) => r.len(),
            _ => 1,
        })
        .fold(0usize, usize::saturating_add);
    vm.program.limits.check_list_len(total)?;
    let mut out = Vec::new();
    for v in into_vec(take_list(args, 0)) {
        match v.into_list() {
            Ok(inner) => match Rc::try_unwrap(inner) {
                Ok(inner) => out.extend(inner),
                Err(inner) => out.extend_from_slice(&inner),
            },
            Err(range @ Value::Range(_)) => out.extend(iter_items(&range, "flatten")?),
            Err(other) => out.push(other),
        }
    }
    Ok(Value::list(out))
}

fn zip(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let a = args.list(0)?;
    let b = args.list(1)?;
    let out = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| Value::list(vec![x.clone(), y.clone()]))
        .collect();
    Ok(Value::list(out))
}

fn enumerate(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    args.list(0)?;
    let mut items = take_list(args, 0);
    // Each item is replaced by its `[index, item]` pair, reusing the
    // list's buffer when it is uniquely owned.
    for (i, slot) in Rc::make_mut(&mut items).iter_mut().enumerate() {
        let item = std::mem::take(slot);
        *slot = Value::list(vec![Value::Int(i as i64), item]);
    }
    Ok(Value::List(items))
}

fn unique(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let keep = {
        let l = args.list(0)?;
        // `Value::Cell` (the only interior mutability) never appears inside
        // a list, so hashes cannot change while the set is alive.
        #[allow(clippy::mutable_key_type)]
        let mut seen: HashSet<HashKey, foldhash::fast::RandomState> =
            HashSet::with_capacity_and_hasher(l.len(), Default::default());
        let keep: Vec<bool> = l.iter().map(|v| seen.insert(HashKey(v))).collect();
        if keep.iter().all(|k| *k) {
            return Ok(args.take(0));
        }
        keep
    };
    let mut list = take_list(args, 0);
    let mut flags = keep.into_iter();
    Rc::make_mut(&mut list).retain(|_| flags.next().unwrap_or(false));
    Ok(Value::List(list))
}

fn chunk(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    args.list(0)?;
    let n = args.int(1)?;
    if n <= 0 {
        return Err(value_error(format!(
            "chunk: size must be positive, got {n}"
        )));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let items = into_vec(take_list(args, 0));
    let mut out = Vec::with_capacity(items.len().div_ceil(n));
    let mut iter = items.into_iter();
    loop {
        let part: Vec<Value> = iter.by_ref().take(n).collect();
        if part.is_empty() {
            break;
        }
        out.push(Value::list(part));
    }
    Ok(Value::list(out))
}

fn first(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if let Value::Range(r) = &args.vals[0] {
        return Ok(if r.is_empty() {
            Value::Nil
        } else {
            Value::Int(r.start)
        });
    }
    Ok(args.list(0)?.first().cloned().unwrap_or(Value::Nil))
}

fn last(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if let Value::Range(r) = &args.vals[0] {
        return Ok(if r.is_empty() {
            Value::Nil
        } else {
            Value::Int(r.end - 1)
        });
    }
    Ok(args.list(0)?.last().cloned().unwrap_or(Value::Nil))
}

fn take(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.list(0)?.len();
    let n = count_arg(args, 1)?;
    if n >= len {
        return Ok(args.take(0));
    }
    let list = take_list(args, 0);
    match Rc::try_unwrap(list) {
        Ok(mut items) => {
            items.truncate(n);
            Ok(Value::list(items))
        }
        Err(shared) => Ok(Value::list(shared[..n].to_vec())),
    }
}

fn skip(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let len = args.list(0)?.len();
    let n = count_arg(args, 1)?;
    if n == 0 {
        return Ok(args.take(0));
    }
    let n = n.min(len);
    let list = take_list(args, 0);
    match Rc::try_unwrap(list) {
        Ok(mut items) => {
            items.drain(..n);
            Ok(Value::list(items))
        }
        Err(shared) => Ok(Value::list(shared[n..].to_vec())),
    }
}

fn range(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let (start, end) = if args.len() == 1 {
        (0, args.int(0)?)
    } else {
        (args.int(0)?, args.int(1)?)
    };
    let step = if args.len() == 3 { args.int(2)? } else { 1 };
    if step == 0 {
        return Err(value_error("range: step must not be 0"));
    }
    let count = if step > 0 {
        ((end as i128 - start as i128).max(0) + step as i128 - 1) / step as i128
    } else {
        ((start as i128 - end as i128).max(0) + (-(step as i128)) - 1) / (-(step as i128))
    };
    if count > 100_000_000 {
        return Err(value_error(format!(
            "range: {count} items is too many for a list (use a lazy range `a..b`)"
        )));
    }
    vm.program.limits.check_list_len(count as usize)?;
    let mut out = Vec::with_capacity(count as usize);
    let mut v = start as i128;
    for _ in 0..count {
        out.push(Value::Int(v as i64));
        v += step as i128;
    }
    Ok(Value::list(out))
}

// ---------------------------------------------------------------------------
// Sorting

fn sort(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let l = args.list(0)?;
    let class = check_sortable(l.iter()).map_err(|pair| compare_error("sort", pair))?;
    match class {
        None => Ok(args.take(0)),
        Some(SortClass::List) => {
            // Nested items may still be incomparable: sort a copy so the
            // argument is untouched if that happens.
            let mut items = l.to_vec();
            let mut err = None;
            items.sort_by(|a, b| sort_cmp(a, b, &mut err));
            if let Some(pair) = err {
                return Err(compare_error("sort", pair));
            }
            Ok(Value::list(items))
        }
        Some(_) => {
            // Every pair is comparable: sort in place.
            let mut list = take_list(args, 0);
            let mut err = None;
            Rc::make_mut(&mut list).sort_by(|a, b| sort_cmp(a, b, &mut err));
            Ok(Value::List(list))
        }
    }
}

fn sort_by(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("sort_by", LIST_KEY_FN, &mut args, 1)?;
        let mut keys = Vec::with_capacity(seq.len());
        for i in 0..seq.len() {
            keys.push(vm.call_value(&f, &[seq.get(i)]).await?);
        }
        check_sortable(keys.iter()).map_err(|pair| compare_error("sort_by", pair))?;
        let mut pairs: Vec<(Value, Value)> = keys.into_iter().zip(seq.into_vec()).collect();
        let mut err = None;
        pairs.sort_by(|a, b| sort_cmp(&a.0, &b.0, &mut err));
        if let Some(pair) = err {
            return Err(compare_error("sort_by", pair));
        }
        Ok(Value::list(pairs.into_iter().map(|(_, v)| v).collect()))
    })
}

// ---------------------------------------------------------------------------
// Hashing consistent with `==`, for `unique`

// ---------------------------------------------------------------------------
// Callback builtins

fn map(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("map", LIST_FN, &mut args, 1)?;
        match seq {
            Seq::List(l) => match Rc::try_unwrap(l) {
                // A temporary list: replace its items in place.
                Ok(mut items) => {
                    for slot in items.iter_mut() {
                        let item = std::mem::take(slot);
                        *slot = vm.call_value(&f, std::slice::from_ref(&item)).await?;
                    }
                    Ok(Value::list(items))
                }
                Err(shared) => {
                    let mut out = Vec::with_capacity(shared.len());
                    for item in shared.iter() {
                        out.push(vm.call_value(&f, std::slice::from_ref(item)).await?);
                    }
                    Ok(Value::list(out))
                }
            },
            seq @ Seq::Range(..) => {
                let mut out = Vec::with_capacity(seq.len());
                for i in 0..seq.len() {
                    out.push(vm.call_value(&f, &[seq.get(i)]).await?);
                }
                Ok(Value::list(out))
            }
        }
    })
}

fn filter(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("filter", LIST_FN, &mut args, 1)?;
        match seq {
            Seq::List(l) => match Rc::try_unwrap(l) {
                // A temporary list: compact the kept items in place.
                Ok(mut items) => {
                    let mut kept = 0;
                    for i in 0..items.len() {
                        let keep = vm
                            .call_value(&f, std::slice::from_ref(&items[i]))
                            .await?
                            .truthy();
                        if keep {
                            items.swap(kept, i);
                            kept += 1;
                        }
                    }
                    items.truncate(kept);
                    Ok(Value::list(items))
                }
                Err(shared) => {
                    let mut out = Vec::new();
                    for item in shared.iter() {
                        if vm
                            .call_value(&f, std::slice::from_ref(item))
                            .await?
                            .truthy()
                        {
                            out.push(item.clone());
                        }
                    }
                    Ok(Value::list(out))
                }
            },
            seq @ Seq::Range(..) => {
                let mut out = Vec::new();
                for i in 0..seq.len() {
                    let item = seq.get(i);
                    if vm
                        .call_value(&f, std::slice::from_ref(&item))
                        .await?
                        .truthy()
                    {
                        out.push(item);
                    }
                }
                Ok(Value::list(out))
            }
        }
    })
}

fn reduce(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("reduce", &["list", "init", "fn"], &mut args, 2)?;
        let mut acc = std::mem::take(&mut args[1]);
        for i in 0..seq.len() {
            acc = vm.call_value(&f, &[acc, seq.get(i)]).await?;
        }
        Ok(acc)
    })
}

/// The index of the first item for which `f` (or, without `f`, the item
/// itself) is truthy; `want` inverts the test (for `all`).
async fn position(
    vm: &mut Vm,
    seq: &Seq,
    f: Option<&Value>,
    want: bool,
) -> RtResult<Option<usize>> {
    for i in 0..seq.len() {
        let item = seq.get(i);
        let hit = match f {
            Some(f) => vm
                .call_value(f, std::slice::from_ref(&item))
                .await?
                .truthy(),
            None => item.truthy(),
        };
        if hit == want {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn find(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("find", LIST_FN, &mut args, 1)?;
        let at = position(vm, &seq, Some(&f), true).await?;
        Ok(at.map(|i| seq.get(i)).unwrap_or(Value::Nil))
    })
}

fn find_index(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("find_index", LIST_FN, &mut args, 1)?;
        let at = position(vm, &seq, Some(&f), true).await?;
        Ok(Value::Int(at.map(|i| i as i64).unwrap_or(-1)))
    })
}

fn any(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_fn("any", LIST_FN, &mut args, 1)?;
        let at = position(vm, &seq, f.as_ref(), true).await?;
        Ok(Value::Bool(at.is_some()))
    })
}

fn all(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_fn("all", LIST_FN, &mut args, 1)?;
        let at = position(vm, &seq, f.as_ref(), false).await?;
        Ok(Value::Bool(at.is_none()))
    })
}

fn flat_map(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("flat_map", LIST_FN, &mut args, 1)?;
        let mut out = Vec::with_capacity(seq.len());
        for i in 0..seq.len() {
            match vm.call_value(&f, &[seq.get(i)]).await?.into_list() {
                Ok(inner) => match Rc::try_unwrap(inner) {
                    Ok(inner) => out.extend(inner),
                    Err(inner) => out.extend_from_slice(&inner),
                },
                Err(Value::Range(ref r)) => {
                    vm.program
                        .limits
                        .check_list_len(out.len().saturating_add(r.len()))?;
                    out.extend((r.start..r.end).map(Value::Int));
                }
                Err(other) => out.push(other),
            }
            vm.program.limits.check_list_len(out.len())?;
        }
        Ok(Value::list(out))
    })
}

/// The dict key for a `group_by` key value: strings as they are, anything
/// else by its display string.
fn group_key(v: Value) -> RcStr {
    match v.into_str() {
        Ok(s) => s,
        Err(other) => Rc::new(other.to_display()),
    }
}

fn group_by(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (seq, f) = seq_and_required_fn("group_by", LIST_KEY_FN, &mut args, 1)?;
        let mut keys = Vec::with_capacity(seq.len());
        for i in 0..seq.len() {
            keys.push(group_key(vm.call_value(&f, &[seq.get(i)]).await?));
        }
        let mut groups: indexmap::IndexMap<RcStr, Vec<Value>, foldhash::fast::RandomState> =
            indexmap::IndexMap::default();
        for (k, item) in keys.into_iter().zip(seq.into_vec()) {
            groups.entry(k).or_default().push(item);
        }
        let mut out = DictMap::with_capacity_and_hasher(groups.len(), Default::default());
        for (k, items) in groups {
            out.insert(k, Value::list(items));
        }
        Ok(Value::dict(out))
    })
}

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
