//! Unit tests of the list builtins (builtins/lists.rs).

use super::*;
use crate::value::values_equal;
use std::cmp::Ordering;
use std::hash::BuildHasher;

fn sorted(items: Vec<Value>) -> Result<Vec<Value>, (&'static str, &'static str)> {
    check_sortable(items.iter())?;
    let mut items = items;
    let mut err = None;
    items.sort_by(|a, b| sort_cmp(a, b, &mut err));
    err.map_or(Ok(items), Err)
}

fn show(items: &[Value]) -> String {
    Value::list(items.to_vec()).to_display()
}

#[test]
fn numbers_sort_together() {
    let v = sorted(vec![
        Value::Float(2.5),
        Value::Int(3),
        Value::Int(-1),
        Value::Float(-0.5),
        Value::Int(2),
    ])
    .unwrap();
    assert_eq!(show(&v), "[-1, -0.5, 2, 2.5, 3]");
}

#[test]
fn sort_is_stable_for_equal_numbers() {
    let v = sorted(vec![
        Value::Float(1.0),
        Value::Int(0),
        Value::Int(1),
        Value::Float(0.0),
    ])
    .unwrap();
    assert_eq!(show(&v), "[0, 0.0, 1.0, 1]");
}

#[test]
fn nan_sorts_last() {
    let v = sorted(vec![
        Value::Float(f64::NAN),
        Value::Int(1),
        Value::Float(0.5),
    ])
    .unwrap();
    assert!(matches!(v[2], Value::Float(f) if f.is_nan()));
    assert_eq!(show(&v[..2]), "[0.5, 1]");
}

#[test]
fn large_ints_compare_exactly_with_floats() {
    let big = (1i64 << 53) + 1;
    let f = (1i64 << 53) as f64;
    assert_eq!(int_float_cmp(big, f), Ordering::Greater);
    assert_eq!(int_float_cmp(big - 1, f), Ordering::Equal);
    assert_eq!(int_float_cmp(i64::MAX, 9.3e18), Ordering::Less);
    assert_eq!(int_float_cmp(i64::MIN, -9.3e18), Ordering::Greater);
    assert_eq!(int_float_cmp(2, 2.5), Ordering::Less);
    assert_eq!(int_float_cmp(-2, -2.5), Ordering::Greater);
    assert_eq!(int_float_cmp(0, -0.0), Ordering::Equal);
}

#[test]
fn strings_sort_by_scalar() {
    let v = sorted(vec![
        Value::str("b"),
        Value::str("B"),
        Value::str("é"),
        Value::str("a"),
    ])
    .unwrap();
    assert_eq!(show(&v), r#"["B", "a", "b", "é"]"#);
}

#[test]
fn mixed_kinds_are_rejected() {
    assert_eq!(
        sorted(vec![Value::Int(1), Value::str("a")]).err(),
        Some(("string", "int"))
    );
    assert_eq!(
        sorted(vec![Value::str("a"), Value::Int(1)]).err(),
        Some(("int", "string"))
    );
    assert_eq!(
        sorted(vec![Value::Bool(true), Value::Bool(false)]).err(),
        Some(("bool", "bool"))
    );
    // One item needs no comparison.
    assert!(sorted(vec![Value::Bool(true)]).is_ok());
}

#[test]
fn lists_sort_element_wise_and_report_nested_mismatches() {
    let l = |xs: Vec<Value>| Value::list(xs);
    let v = sorted(vec![
        l(vec![Value::Int(2)]),
        l(vec![Value::Int(1), Value::str("b")]),
        l(vec![Value::Int(1)]),
        l(vec![Value::Int(1), Value::str("a")]),
    ])
    .unwrap();
    assert_eq!(show(&v), r#"[[1], [1, "a"], [1, "b"], [2]]"#);
    let err = sorted(vec![
        l(vec![Value::Int(1), Value::str("a")]),
        l(vec![Value::Int(1), Value::Int(2)]),
    ]);
    assert!(err.is_err());
}

#[test]
fn indexes_resolve_from_either_end() {
    assert_eq!(resolve_index(0, 3, false), Some(0));
    assert_eq!(resolve_index(-1, 3, false), Some(2));
    assert_eq!(resolve_index(3, 3, false), None);
    assert_eq!(resolve_index(3, 3, true), Some(3));
    assert_eq!(resolve_index(-4, 3, true), None);
    assert_eq!(resolve_index(i64::MIN, 3, true), None);
    assert_eq!(resolve_index(0, 0, false), None);
    assert_eq!(resolve_index(0, 0, true), Some(0));
}

#[test]
fn equal_values_hash_alike() {
    let s = foldhash::fast::FixedState::default();
    let h = |v: &Value| s.hash_one(HashKey(v));
    assert_eq!(h(&Value::Int(1)), h(&Value::Float(1.0)));
    assert_eq!(h(&Value::Float(0.0)), h(&Value::Float(-0.0)));
    let a = crate::value::dict_from([("a", Value::Int(1)), ("b", Value::Int(2))]);
    let b = crate::value::dict_from([("b", Value::Int(2)), ("a", Value::Float(1.0))]);
    assert!(values_equal(&a, &b));
    assert_eq!(h(&a), h(&b));
}
