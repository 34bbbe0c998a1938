//! Structural equality and ordering (language.md §2 and §4).

use std::cmp::Ordering;
use std::rc::Rc;

use super::Value;

/// `==`: structural for lists and dicts (dict key order ignored), `1 == 1.0`,
/// functions by identity.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil | Value::Undef, Value::Nil | Value::Undef) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || x == y,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| values_equal(a, b)))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w))))
        }
        (Value::Func(x), Value::Func(y)) => Rc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => Rc::ptr_eq(x, y),
        (Value::Range(x), Value::Range(y)) => x == y,
        (Value::Task(x), Value::Task(y)) => Rc::ptr_eq(x, y),
        (Value::Channel(x), Value::Channel(y)) => Rc::ptr_eq(x, y),
        (Value::Cell(x), _) => values_equal(&x.borrow(), b),
        (_, Value::Cell(y)) => values_equal(a, &y.borrow()),
        _ => false,
    }
}

/// `<` and friends: numbers (mixed int/float), strings (by Unicode scalar),
/// lists (element-wise). `None` when the pair cannot be compared (the caller
/// raises `cannot compare X and Y`). NaN compares as `Some(Equal)`-less: it
/// yields `None` only for type mismatches; NaN orderings are false.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, (&'static str, &'static str)> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (Value::Float(x), Value::Float(y)) => Ok(x.partial_cmp(y)),
        (Value::Int(x), Value::Float(y)) => Ok((*x as f64).partial_cmp(y)),
        (Value::Float(x), Value::Int(y)) => Ok(x.partial_cmp(&(*y as f64))),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.as_str().cmp(y.as_str()))),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q)? {
                    Some(Ordering::Equal) => continue,
                    other => return Ok(other),
                }
            }
            Ok(Some(x.len().cmp(&y.len())))
        }
        _ => Err((a.type_name(), b.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::dict_from;

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
