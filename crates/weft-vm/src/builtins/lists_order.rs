//! Orderings and hashing for the list builtins: the total sort order of
//! `sort`/`sort_by` (numbers, strings, lists; errors recorded, never
//! panicking) and hashing consistent with `==` for `unique`.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;

use crate::error::type_error;
use crate::value::{values_equal, Value};

/// What a sortable value is compared as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum SortClass {
    Num,
    Str,
    List,
}

pub(super) fn sort_class(v: &Value) -> Option<SortClass> {
    match v {
        Value::Int(_) | Value::Float(_) => Some(SortClass::Num),
        Value::Str(_) => Some(SortClass::Str),
        Value::List(_) => Some(SortClass::List),
        _ => None,
    }
}

/// The class shared by all items (`None` when there are fewer than two, so
/// nothing is compared), or the first pair of type names that cannot be
/// compared, later item first (as `later < earlier` would report it).
pub(super) fn check_sortable<'a>(
    mut items: impl Iterator<Item = &'a Value>,
) -> Result<Option<SortClass>, (&'static str, &'static str)> {
    let Some(head) = items.next() else {
        return Ok(None);
    };
    let class = sort_class(head);
    let mut seen_two = false;
    for v in items {
        seen_two = true;
        let c = sort_class(v);
        if c.is_none() || c != class {
            return Err((v.type_name(), head.type_name()));
        }
    }
    Ok(if seen_two { class } else { None })
}

/// Orders an int against a float exactly (no rounding of large ints); NaN
/// sorts after every number.
pub(super) fn int_float_cmp(x: i64, y: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if y.is_nan() || y >= TWO_63 {
        return Ordering::Less;
    }
    if y < -TWO_63 {
        return Ordering::Greater;
    }
    let t = y.trunc();
    match x.cmp(&(t as i64)) {
        Ordering::Equal => {
            if y > t {
                Ordering::Less
            } else if y < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// Floats in ascending order, `-0.0 == 0.0`, NaN last.
pub(super) fn float_cmp(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Rank of a value's kind, so that the sort order stays total even while a
/// comparison error is being recorded.
pub(super) fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Float(_) => 0,
        Value::Str(_) => 1,
        Value::List(_) => 2,
        Value::Nil | Value::Undef => 3,
        Value::Bool(_) => 4,
        Value::Dict(_) => 5,
        Value::Range(_) => 6,
        Value::Func(_) | Value::Builtin(_) => 7,
        Value::Task(_) | Value::Channel(_) => 8,
        Value::Cell(_) | Value::Pending(_) => 9,
    }
}

/// The sort order: numbers numerically (ints and floats together, NaN
/// last), strings by Unicode scalar, lists element-wise. It is a total
/// order, so the standard sorts never see an inconsistent comparator; a
/// pair that `<` would reject is recorded in `err` (first one wins) and
/// ordered by kind.
pub(super) fn sort_cmp(
    a: &Value,
    b: &Value,
    err: &mut Option<(&'static str, &'static str)>,
) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => float_cmp(*x, *y),
        (Value::Int(x), Value::Float(y)) => int_float_cmp(*x, *y),
        (Value::Float(x), Value::Int(y)) => int_float_cmp(*y, *x).reverse(),
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match sort_cmp(p, q, err) {
                    Ordering::Equal => continue,
                    other => return other,
                }
            }
            x.len().cmp(&y.len())
        }
        _ => {
            if err.is_none() {
                *err = Some((a.type_name(), b.type_name()));
            }
            kind_rank(a).cmp(&kind_rank(b))
        }
    }
}

pub(super) fn compare_error(name: &str, (a, b): (&str, &str)) -> Box<crate::error::RtError> {
    type_error(format!("{name}: cannot compare {a} and {b}"))
}

/// A value hashed consistently with `values_equal`: numbers by their f64
/// value (so `1 == 1.0` collide), dicts independently of key order.
pub(super) struct HashKey<'a>(pub(super) &'a Value);

impl PartialEq for HashKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        values_equal(self.0, other.0)
    }
}

impl Eq for HashKey<'_> {}

impl Hash for HashKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_value(self.0, h);
    }
}

pub(super) fn hash_f64<H: Hasher>(f: f64, h: &mut H) {
    // -0.0 == 0.0, so both hash alike.
    let f = if f == 0.0 { 0.0 } else { f };
    f.to_bits().hash(h);
}

pub(super) fn hash_value<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Nil | Value::Undef => 0u8.hash(h),
        Value::Bool(b) => {
            1u8.hash(h);
            b.hash(h);
        }
        Value::Int(i) => {
            2u8.hash(h);
            hash_f64(*i as f64, h);
        }
        Value::Float(f) => {
            2u8.hash(h);
            hash_f64(*f, h);
        }
        Value::Str(s) => {
            3u8.hash(h);
            s.as_str().hash(h);
        }
        Value::List(l) => {
            4u8.hash(h);
            l.len().hash(h);
            for item in l.iter() {
                hash_value(item, h);
            }
        }
        Value::Dict(d) => {
            5u8.hash(h);
            d.len().hash(h);
            let state = foldhash::fast::FixedState::default();
            let sum = d.iter().fold(0u64, |acc, (k, v)| {
                acc.wrapping_add(state.hash_one((k.as_str(), HashKey(v))))
            });
            sum.hash(h);
        }
        Value::Func(f) => {
            6u8.hash(h);
            (Rc::as_ptr(f) as *const u8 as usize).hash(h);
        }
        Value::Builtin(b) => {
            6u8.hash(h);
            (Rc::as_ptr(b) as *const u8 as usize).hash(h);
        }
        Value::Range(r) => {
            7u8.hash(h);
            r.start.hash(h);
            r.end.hash(h);
        }
        Value::Task(t) => {
            9u8.hash(h);
            t.id.hash(h);
        }
        Value::Channel(c) => {
            10u8.hash(h);
            c.id.hash(h);
        }
        Value::Cell(c) => hash_value(&c.borrow(), h),
        Value::Pending(_) => 8u8.hash(h),
    }
}
