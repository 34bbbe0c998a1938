//! Math builtins (stdlib.md "Math"). Ints stay ints where the result is
//! exact (`abs`, `min`, `sum` of ints, `pow` with a non-negative int
//! exponent), with overflow raising `overflow` like the operators do.

use std::cmp::Ordering;

use super::{sync, Args, BuiltinDef};
use crate::error::{overflow, type_error, value_error, RtError, RtResult};
use crate::value::{compare, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("abs", &["x"], 1, 1, "math", "The absolute value (int for an int).", abs),
        sync("min", &["values", "..."], 1, u8::MAX, "math", "The smallest argument, or the smallest item of one list argument (numbers, strings or lists, compared like `<`).", min),
        sync("max", &["values", "..."], 1, u8::MAX, "math", "The largest argument, or the largest item of one list argument (numbers, strings or lists, compared like `>`).", max),
        sync("sum", &["list"], 1, 1, "math", "The sum of a list (or range) of numbers: an int when all are ints, else a float; 0 when empty.", sum).native_ranges(),
        sync("floor", &["x"], 1, 1, "math", "The largest int not greater than x.", floor),
        sync("ceil", &["x"], 1, 1, "math", "The smallest int not less than x.", ceil),
        sync("round", &["x", "digits"], 1, 2, "math", "x rounded half away from zero: to an int, or with `digits` to a float with that many decimals.", round),
        sync("sqrt", &["x"], 1, 1, "math", "The square root, as a float.", sqrt),
        sync("pow", &["base", "exponent"], 2, 2, "math", "`base ** exponent`: an int for int base and non-negative int exponent, else a float.", pow),
        sync("clamp", &["x", "lo", "hi"], 3, 3, "math", "x limited to the range lo..=hi.", clamp),
        sync("random", &[], 0, 0, "math", "A random float in [0, 1).", random),
        sync("random_int", &["lo", "hi"], 2, 2, "math", "A random int in lo..=hi.", random_int),
        sync("random_seed", &["seed"], 1, 1, "math", "Reseeds the program's random generator: the same seed gives the same sequence.", random_seed),
    ]
}

fn abs(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::Int(i) => i.checked_abs().map(Value::Int).ok_or_else(overflow),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        _ => Err(args.type_err(0, "a number")),
    }
}

fn min(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    extreme(args, Ordering::Less)
}

fn max(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    extreme(args, Ordering::Greater)
}

/// `min`/`max`: over the arguments, or over the items of a single list or
/// range argument. Ties keep the first.
fn extreme(args: &mut Args, want: Ordering) -> RtResult<Value> {
    let name = args.name;
    if args.len() == 1 {
        match &args.vals[0] {
            Value::List(items) => {
                if items.is_empty() {
                    return Err(value_error(format!("{name}: the list is empty")));
                }
                let i = pick(name, items, want)?;
                return Ok(items[i].clone());
            }
            Value::Range(r) => {
                if r.is_empty() {
                    return Err(value_error(format!("{name}: the range is empty")));
                }
                return Ok(Value::Int(if want == Ordering::Less {
                    r.start
                } else {
                    r.end - 1
                }));
            }
            // `min(...xs)` with a one-item list.
            Value::Int(_) | Value::Float(_) | Value::Str(_) => return Ok(args.take(0)),
            _ => return Err(args.type_err(0, "a list, number or string")),
        }
    }
    let i = pick(name, args.vals, want)?;
    Ok(args.take(i))
}

/// Index of the least (`Less`) or greatest (`Greater`) item.
fn pick(name: &str, items: &[Value], want: Ordering) -> RtResult<usize> {
    let mut best = 0;
    for (i, v) in items.iter().enumerate().skip(1) {
        match compare(v, &items[best]) {
            Ok(Some(o)) if o == want => best = i,
            Ok(_) => {}
            Err((a, b)) => return Err(type_error(format!("{name}: cannot compare {a} and {b}"))),
        }
    }
    // A single item still has to be something `<` accepts.
    if items.len() == 1 {
        if let Err((a, b)) = compare(&items[0], &items[0]) {
            return Err(type_error(format!("{name}: cannot compare {a} and {b}")));
        }
    }
    Ok(best)
}

fn sum(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let items = match &args.vals[0] {
        Value::List(items) => items,
        Value::Range(r) => {
            let n = r.len() as i128;
            let total = n * r.start as i128 + n * (n - 1) / 2;
            return i64::try_from(total).map(Value::Int).map_err(|_| overflow());
        }
        _ => return Err(args.type_err(0, "a list")),
    };
    // Left to right: ints while all are ints, then floats.
    let mut acc: i64 = 0;
    let mut iter = items.iter().enumerate();
    let mut facc = loop {
        match iter.next() {
            None => return Ok(Value::Int(acc)),
            Some((_, Value::Int(i))) => match acc.checked_add(*i) {
                Some(a) => acc = a,
                None => {
                    // Overflow only counts when the result would be an int.
                    if items.iter().any(|v| matches!(v, Value::Float(_))) {
                        break acc as f64 + *i as f64;
                    }
                    check_numbers(items)?;
                    return Err(overflow());
                }
            },
            Some((_, Value::Float(f))) => break acc as f64 + f,
            Some((i, other)) => return Err(not_a_number(i, other)),
        }
    };
    for (i, v) in iter {
        match v {
            Value::Int(n) => facc += *n as f64,
            Value::Float(f) => facc += f,
            other => return Err(not_a_number(i, other)),
        }
    }
    Ok(Value::Float(facc))
}

fn not_a_number(index: usize, v: &Value) -> Box<RtError> {
    type_error(format!(
        "sum: item {index} must be a number, got {}",
        v.type_name()
    ))
}

fn check_numbers(items: &[Value]) -> RtResult<()> {
    match items
        .iter()
        .enumerate()
        .find(|(_, v)| !matches!(v, Value::Int(_) | Value::Float(_)))
    {
        Some((i, v)) => Err(not_a_number(i, v)),
        None => Ok(()),
    }
}

/// A float that is already integral, as an int (`value_error` for NaN,
/// `overflow` beyond the int range).
fn float_to_int(name: &str, f: f64) -> RtResult<Value> {
    // 2^63 is exactly representable; every float below it fits in an i64.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        return Ok(Value::Int(f as i64));
    }
    let mut shown = String::new();
    crate::value::write_repr(&mut shown, &Value::Float(f));
    if f.is_nan() {
        Err(value_error(format!("{name}: cannot convert nan to an int")))
    } else {
        Err(RtError::new(
            "overflow",
            format!("{name}: {shown} is too large for an int"),
        ))
    }
}

fn floor(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int("floor", f.floor()),
        _ => Err(args.type_err(0, "a number")),
    }
}

fn ceil(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int("ceil", f.ceil()),
        _ => Err(args.type_err(0, "a number")),
    }
}

fn round(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let x = args.num(0)?;
    match args.opt(1) {
        None => match &args.vals[0] {
            Value::Int(i) => Ok(Value::Int(*i)),
            _ => float_to_int("round", x.round()),
        },
        Some(_) => {
            let digits = args.int(1)?;
            Ok(Value::Float(round_to_digits(x, digits)))
        }
    }
}

/// 10^0 ..= 10^22, all exact as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `x` rounded to `digits` decimals (negative: to tens, hundreds, ...),
/// half away from zero, judged on the float's exact value (so `2.675`,
/// stored as 2.67499999..., rounds to `2.67`). The result is the float
/// nearest the rounded decimal.
fn round_to_digits(x: f64, digits: i64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if !x.is_finite() || x.abs() >= TWO_52 && digits >= 0 {
        return x;
    }
    if digits < 0 {
        if digits < -308 {
            return 0.0f64.copysign(x);
        }
        let p = 10f64.powi((-digits) as i32);
        return (x / p).round() * p;
    }
    // Already has at most `digits` decimals: x * 2^digits is an integer.
    if digits <= 60 && (x * 2f64.powi(digits as i32)).fract() == 0.0 {
        return x;
    }
    if digits > 340 {
        // Finer than the smallest subnormal: nothing changes.
        return x;
    }
    if let Some(&p) = POW10.get(digits as usize) {
        let y = x * p;
        // An exact tie: x has exactly digits+1 decimals, the last a 5.
        // Then x * 10^digits is exact, and so is rounding it.
        if y.abs() < TWO_52
            && (y - y.trunc()).abs() == 0.5
            && (x * 2f64.powi(digits as i32 + 1)).fract() == 0.0
        {
            return y.round() / p;
        }
    }
    // Correctly rounded decimal text, read back as the nearest float.
    format!("{x:.0$}", digits as usize).parse().unwrap_or(x)
}

fn sqrt(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let x = args.num(0)?;
    if x < 0.0 {
        return Err(value_error(format!(
            "sqrt: cannot take the square root of a negative number ({})",
            args.vals[0].to_repr()
        )));
    }
    Ok(Value::Float(x.sqrt()))
}

fn pow(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let base = args.num(0)?;
    let exp = args.num(1)?;
    match (&args.vals[0], &args.vals[1]) {
        (Value::Int(b), Value::Int(e)) if *e >= 0 => {
            int_pow(*b, *e).map(Value::Int).ok_or_else(overflow)
        }
        _ => Ok(Value::Float(base.powf(exp))),
    }
}

/// `b ** e` for `e >= 0`, `None` on overflow.
fn int_pow(b: i64, e: i64) -> Option<i64> {
    match u32::try_from(e) {
        Ok(e) => b.checked_pow(e),
        // Huge exponents only fit for these bases.
        Err(_) => match b {
            0 | 1 => Some(b),
            -1 => Some(if e % 2 == 0 { 1 } else { -1 }),
            _ => None,
        },
    }
}

fn clamp(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    args.num(0)?;
    let lo = args.num(1)?;
    let hi = args.num(2)?;
    if lo > hi {
        return Err(value_error(format!(
            "clamp: lo ({}) must not be greater than hi ({})",
            args.vals[1].to_repr(),
            args.vals[2].to_repr()
        )));
    }
    let i = if compare(&args.vals[0], &args.vals[1]) == Ok(Some(Ordering::Less)) {
        1
    } else if compare(&args.vals[0], &args.vals[2]) == Ok(Some(Ordering::Greater)) {
        2
    } else {
        0
    };
    Ok(args.take(i))
}

fn random(vm: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Value::Float(vm.program.rng.borrow_mut().f64()))
}

fn random_int(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let lo = args.int(0)?;
    let hi = args.int(1)?;
    if lo > hi {
        return Err(value_error(format!(
            "random_int: lo ({lo}) must not be greater than hi ({hi})"
        )));
    }
    Ok(Value::Int(vm.program.rng.borrow_mut().i64(lo..=hi)))
}

fn random_seed(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let seed = args.int(0)?;
    *vm.program.rng.borrow_mut() = fastrand::Rng::with_seed(seed as u64);
    Ok(Value::Nil)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_away_from_zero() {
        assert_eq!(round_to_digits(0.25, 1), 0.3);
        assert_eq!(round_to_digits(-0.25, 1), -0.3);
        assert_eq!(round_to_digits(0.125, 2), 0.13);
        assert_eq!(round_to_digits(-0.125, 2), -0.13);
        assert_eq!(round_to_digits(2.5, 0), 3.0);
        assert_eq!(round_to_digits(0.5, 0), 1.0);
        assert_eq!(round_to_digits(-0.5, 0), -1.0);
    }

    #[test]
    fn round_uses_the_exact_value() {
        // 2.675 and 1.005 are stored slightly below the written value.
        assert_eq!(round_to_digits(2.675, 2), 2.67);
        assert_eq!(round_to_digits(1.005, 2), 1.0);
        assert_eq!(round_to_digits(0.1 + 0.2, 2), 0.3);
        assert_eq!(round_to_digits(1.23456, 3), 1.235);
        assert_eq!(round_to_digits(2.0 / 3.0, 4), 0.6667);
        assert_eq!(round_to_digits(1.5, 3), 1.5);
    }

    #[test]
    fn round_edge_cases() {
        assert_eq!(round_to_digits(1234.5678, -2), 1200.0);
        assert_eq!(round_to_digits(1250.0, -2), 1300.0);
        assert_eq!(round_to_digits(-1250.0, -2), -1300.0);
        assert_eq!(round_to_digits(5.0, -400), 0.0);
        assert_eq!(round_to_digits(1e300, 2), 1e300);
        assert_eq!(round_to_digits(1e-300, 400), 1e-300);
        assert_eq!(round_to_digits(1.23456789e-10, 12), 1.23e-10);
        assert!(round_to_digits(f64::NAN, 2).is_nan());
        assert_eq!(round_to_digits(f64::INFINITY, 2), f64::INFINITY);
    }

    #[test]
    fn int_pow_edges() {
        assert_eq!(int_pow(2, 10), Some(1024));
        assert_eq!(int_pow(2, 63), None);
        assert_eq!(int_pow(-2, 63), Some(i64::MIN));
        assert_eq!(int_pow(1, 1 << 40), Some(1));
        assert_eq!(int_pow(-1, (1 << 40) + 1), Some(-1));
        assert_eq!(int_pow(0, 0), Some(1));
        assert_eq!(int_pow(3, 1 << 40), None);
    }
}
