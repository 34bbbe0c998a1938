//! Output builtins: `print`, `println`, `eprintln`, `log`.

use std::io::Write;

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::{write_display, Value};
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

/// The display strings of all arguments joined by spaces.
pub(crate) fn joined(args: &Args) -> String {
    let mut s = String::new();
    for (i, v) in args.vals.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        write_display(&mut s, v);
    }
    s
}

fn print(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    vm.program.write_out(&joined(args));
    Ok(Value::Nil)
}

fn println(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let mut s = joined(args);
    s.push('\n');
    vm.program.write_out(&s);
    Ok(Value::Nil)
}

fn to_stderr(vm: &Vm, line: &str) {
    vm.program.flush_out();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn eprintln(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    to_stderr(vm, &joined(args));
    Ok(Value::Nil)
}

fn log(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    to_stderr(vm, &format!("[weft] {}", joined(args)));
    Ok(Value::Nil)
}
