//! Structural equality and ordering (language.md §2 and §4).

use std::cmp::Ordering;
use std::rc::Rc;

use super::Value;

/// How deep the recursive comparisons go before switching to an explicit
/// stack (values built in a loop can nest far deeper than the Rust stack
/// allows).
const MAX_RECURSION: usize = 256;

/// `==`: structural for lists and dicts (dict key order ignored), `1 == 1.0`,
/// functions by identity.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    eq_at(a, b, 0)
}

fn eq_at(a: &Value, b: &Value, depth: usize) -> bool {
    match (a, b) {
        (Value::Nil | Value::Undef, Value::Nil | Value::Undef) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || x == y,
        (Value::List(_) | Value::Dict(_) | Value::Cell(_), _)
        | (_, Value::List(_) | Value::Dict(_) | Value::Cell(_))
            if depth >= MAX_RECURSION =>
        {
            eq_iterative(a.clone(), b.clone())
        }
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter().zip(y.iter()).all(|(a, b)| eq_at(a, b, depth + 1)))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| eq_at(v, w, depth + 1))))
        }
        (Value::Func(x), Value::Func(y)) => Rc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => Rc::ptr_eq(x, y),
        (Value::Range(x), Value::Range(y)) => x == y,
        (Value::Task(x), Value::Task(y)) => Rc::ptr_eq(x, y),
        (Value::Channel(x), Value::Channel(y)) => Rc::ptr_eq(x, y),
        (Value::Cell(x), _) => eq_at(&x.borrow(), b, depth + 1),
        (_, Value::Cell(y)) => eq_at(a, &y.borrow(), depth + 1),
        _ => false,
    }
}

/// [`values_equal`] with an explicit stack of pairs still to compare.
#[cold]
fn eq_iterative(a: Value, b: Value) -> bool {
    let mut todo = vec![(a, b)];
    while let Some((a, b)) = todo.pop() {
        match (&a, &b) {
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    continue;
                }
                if x.len() != y.len() {
                    return false;
                }
                todo.extend(x.iter().cloned().zip(y.iter().cloned()));
            }
            (Value::Dict(x), Value::Dict(y)) => {
                if Rc::ptr_eq(x, y) {
                    continue;
                }
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x.iter() {
                    match y.get(k) {
                        Some(w) => todo.push((v.clone(), w.clone())),
                        None => return false,
                    }
                }
            }
            (Value::Cell(x), _) => todo.push((x.borrow().clone(), b.clone())),
            (_, Value::Cell(y)) => todo.push((a.clone(), y.borrow().clone())),
            // Neither side is a container here: no recursion.
            _ => {
                if !eq_at(&a, &b, 0) {
                    return false;
                }
            }
        }
    }
    true
}

/// `<` and friends: numbers (mixed int/float), strings (by Unicode scalar),
/// lists (element-wise). `None` when the pair cannot be compared (the caller
/// raises `cannot compare X and Y`). NaN compares as `Some(Equal)`-less: it
/// yields `None` only for type mismatches; NaN orderings are false.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, (&'static str, &'static str)> {
    compare_at(a, b, 0)
}

type CompareResult = Result<Option<Ordering>, (&'static str, &'static str)>;

fn compare_at(a: &Value, b: &Value, depth: usize) -> CompareResult {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (Value::Float(x), Value::Float(y)) => Ok(x.partial_cmp(y)),
        (Value::Int(x), Value::Float(y)) => Ok((*x as f64).partial_cmp(y)),
        (Value::Float(x), Value::Int(y)) => Ok(x.partial_cmp(&(*y as f64))),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.as_str().cmp(y.as_str()))),
        (Value::List(x), Value::List(y)) if depth >= MAX_RECURSION => {
            compare_lists_iterative(x.clone(), y.clone())
        }
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare_at(p, q, depth + 1)? {
                    Some(Ordering::Equal) => continue,
                    other => return Ok(other),
                }
            }
            Ok(Some(x.len().cmp(&y.len())))
        }
        _ => Err((a.type_name(), b.type_name())),
    }
}

/// Element-wise list ordering with an explicit stack of the lists being
/// walked (and the position in each).
#[cold]
fn compare_lists_iterative(x: Rc<Vec<Value>>, y: Rc<Vec<Value>>) -> CompareResult {
    let mut stack = vec![(x, y, 0usize)];
    while let Some((x, y, i)) = stack.last_mut() {
        if *i >= x.len().min(y.len()) {
            let ord = x.len().cmp(&y.len());
            stack.pop();
            if ord != Ordering::Equal || stack.is_empty() {
                return Ok(Some(ord));
            }
            continue;
        }
        let (p, q) = (x[*i].clone(), y[*i].clone());
        *i += 1;
        match (&p, &q) {
            (Value::List(px), Value::List(qx)) => stack.push((px.clone(), qx.clone(), 0)),
            _ => match compare_at(&p, &q, 0)? {
                Some(Ordering::Equal) => {}
                other => return Ok(other),
            },
        }
    }
    Ok(Some(Ordering::Equal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::dict_from;

    #[test]
    fn deeply_nested_values_compare_without_recursion() {
        let nest = |leaf: i64| {
            let mut v = Value::list(vec![Value::Int(leaf)]);
            for _ in 0..200_000 {
                v = Value::list(vec![v]);
            }
            v
        };
        let (a, b, c) = (nest(1), nest(1), nest(2));
        assert!(values_equal(&a, &b));
        assert!(!values_equal(&a, &c));
        assert_eq!(compare(&a, &c), Ok(Some(Ordering::Less)));
        assert_eq!(compare(&a, &b), Ok(Some(Ordering::Equal)));
        let mut d = Value::dict(Default::default());
        let mut e = Value::dict(Default::default());
        for _ in 0..200_000 {
            d = crate::value::dict_from([("k", d)]);
            e = crate::value::dict_from([("k", e)]);
        }
        assert!(values_equal(&d, &e));
    }

    #[test]
    fn structural_equality() {
        assert!(values_equal(&Value::Int(1), &Value::Float(1.0)));
        let a = dict_from([("a", Value::Int(1)), ("b", Value::Int(2))]);
        let b = dict_from([("b", Value::Int(2)), ("a", Value::Int(1))]);
        assert!(values_equal(&a, &b));
        assert!(!values_equal(&Value::str("1"), &Value::Int(1)));
    }

    #[test]
    fn ordering() {
        let l1 = Value::list(vec![Value::Int(1), Value::Int(2)]);
        let l2 = Value::list(vec![Value::Int(1), Value::Int(3)]);
        assert_eq!(compare(&l1, &l2), Ok(Some(Ordering::Less)));
        assert!(compare(&Value::Int(1), &Value::str("a")).is_err());
    }
}
