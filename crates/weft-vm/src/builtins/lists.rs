//! List builtins (stdlib.md "Lists").

use std::rc::Rc;

use super::convert::iter_items;
use super::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use crate::error::{value_error, RtResult};
use crate::value::Value;
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("push", &["list", "value"], 2, 2, "lists", "A copy of the list with the value appended (in place when the list is uniquely owned).", push),
        sync("range", &["start_or_count", "end", "step"], 1, 3, "lists", "`range(n)`, `range(a, b)`, `range(a, b, step)` as a list of ints.", range),
        asynchronous("map", &["list", "fn"], 2, 2, "lists", "A list of `fn(item)` for each item.", map),
        asynchronous("filter", &["list", "fn"], 2, 2, "lists", "The items for which `fn(item)` is truthy.", filter),
        asynchronous("reduce", &["list", "init", "fn"], 3, 3, "lists", "Folds the items with `fn(acc, item)` starting from `init`.", reduce),
    ]
}

fn push(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    args.list(0)?;
    let v = args.take(1);
    let mut list = args.take(0);
    if let Value::List(items) = &mut list {
        Rc::make_mut(items).push(v);
    }
    Ok(list)
}

fn range(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
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
        return Err(value_error(format!("range: {count} items is too many for a list (use a lazy range `a..b`)")));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut v = start as i128;
    for _ in 0..count {
        out.push(Value::Int(v as i64));
        v += step as i128;
    }
    Ok(Value::list(out))
}

/// Validated (items, function) for the callback builtins.
fn items_and_fn(name: &'static str, params: &'static [&'static str], args: &mut Vec<Value>, fn_index: usize) -> RtResult<(Vec<Value>, Value)> {
    let a = Args::new(name, params, args);
    a.func(fn_index)?;
    let items = match a.get(0) {
        Some(Value::List(l)) => l.to_vec(),
        Some(v @ (Value::Range(_) | Value::Str(_) | Value::Dict(_))) => iter_items(v, name)?,
        _ => return Err(a.type_err(0, "a list")),
    };
    Ok((items, args[fn_index].clone()))
}

fn map(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (items, f) = items_and_fn("map", &["list", "fn"], &mut args, 1)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(vm.call_value(&f, &[item]).await?);
        }
        Ok(Value::list(out))
    })
}

fn filter(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (items, f) = items_and_fn("filter", &["list", "fn"], &mut args, 1)?;
        let mut out = Vec::new();
        for item in items {
            if vm.call_value(&f, std::slice::from_ref(&item)).await?.truthy() {
                out.push(item);
            }
        }
        Ok(Value::list(out))
    })
}

fn reduce(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (items, f) = items_and_fn("reduce", &["list", "init", "fn"], &mut args, 2)?;
        let mut acc = std::mem::take(&mut args[1]);
        for item in items {
            acc = vm.call_value(&f, &[acc, item]).await?;
        }
        Ok(acc)
    })
}
