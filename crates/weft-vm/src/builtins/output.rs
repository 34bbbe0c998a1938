//! Output builtins: `print`, `println`, `eprintln`, `log`.

use std::io::Write;

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::limits::string_too_long;
use crate::value::{write_display_capped, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync(
            "print",
            &["values", "..."],
            0,
            u8::MAX,
            "output",
            "Writes the values to stdout, separated by spaces, without a newline.",
            print,
        ),
        sync(
            "println",
            &["values", "..."],
            0,
            u8::MAX,
            "output",
            "Writes the values to stdout, separated by spaces, then a newline.",
            println,
        ),
        sync(
            "eprintln",
            &["values", "..."],
            0,
            u8::MAX,
            "output",
            "Writes the values to stderr, separated by spaces, then a newline.",
            eprintln,
        ),
        sync(
            "log",
            &["message"],
            1,
            1,
            "output",
            "Writes `[weft] message` to stderr.",
            log,
        ),
    ]
}

/// Hands the display strings of the arguments, separated by single
/// spaces, to `emit` piece by piece (nothing is joined, so printing many
/// large values allocates no more than one of them). Strings go out as
/// they are; any other value is displayed within `max_string_len`.
fn emit_args(vm: &Vm, args: &Args, mut emit: impl FnMut(&str)) -> RtResult<()> {
    let cap = vm.program.limits.string_cap();
    let mut buf = String::new();
    for (i, v) in args.vals.iter().enumerate() {
        if i > 0 {
            emit(" ");
        }
        match v {
            Value::Str(s) => emit(s),
            v => {
                buf.clear();
                if write_display_capped(&mut buf, v, cap).is_err() {
                    return Err(string_too_long(buf.len(), cap));
                }
                emit(&buf);
            }
        }
    }
    Ok(())
}

/// The display strings of all arguments joined by spaces.
pub(crate) fn joined(vm: &Vm, args: &Args) -> RtResult<String> {
    let mut s = String::new();
    emit_args(vm, args, |piece| s.push_str(piece))?;
    Ok(s)
}

fn print(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    emit_args(vm, args, |piece| vm.program.write_out(piece))?;
    Ok(Value::Nil)
}

fn println(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if args.vals.len() == 1 {
        if let Value::Str(s) = &args.vals[0] {
            // The common case: one string, one write.
            let mut line = String::with_capacity(s.len() + 1);
            line.push_str(s);
            line.push('\n');
            vm.program.write_out(&line);
            return Ok(Value::Nil);
        }
    }
    emit_args(vm, args, |piece| vm.program.write_out(piece))?;
    vm.program.write_out("\n");
    Ok(Value::Nil)
}

fn to_stderr(vm: &Vm, line: &str) {
    vm.program.flush_out();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn eprintln(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    to_stderr(vm, &joined(vm, args)?);
    Ok(Value::Nil)
}

fn log(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    to_stderr(vm, &format!("[weft] {}", joined(vm, args)?));
    Ok(Value::Nil)
}
