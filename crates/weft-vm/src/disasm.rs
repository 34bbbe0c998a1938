//! `weft disasm`: a readable listing of compiled bytecode.

use std::fmt::Write;
use std::rc::Rc;

use crate::builtins::BuiltinDef;
use crate::bytecode::{FnProto, Op};

/// Lists `proto` and, after it, every function nested in it.
pub fn disassemble(proto: &FnProto, builtins: &[Rc<BuiltinDef>]) -> String {
    let mut out = String::new();
    list(&mut out, proto, builtins);
    out
}

fn list(out: &mut String, p: &FnProto, builtins: &[Rc<BuiltinDef>]) {
    let _ = writeln!(
        out,
        "== fn {} ({}) params={} required={}{} slots={} captures={} ==",
        p.name,
        p.file.name,
        p.nparams,
        p.nrequired,
        if p.has_rest { " +rest" } else { "" },
        p.nslots,
        p.captures.len()
    );
    for (i, op) in p.code.iter().enumerate() {
        let (line, col) = p
            .spans
            .get(i)
            .map(|s| p.file.line_col(s.start))
            .unwrap_or((0, 0));
        let mut text = format!("{op:?}");
        let note = match op {
            Op::Const(k) | Op::GetField(k) | Op::DictHas(k) => {
                p.consts.get(*k as usize).map(|v| v.to_repr())
            }
            Op::CallBuiltin { id, .. } | Op::CallBuiltinList(id) => {
                builtins.get(*id as usize).map(|b| b.name.to_string())
            }
            Op::CallMethod { name, .. }
            | Op::CallMethodScoped { name, .. }
            | Op::CallMethodList { name, .. } => p.consts.get(*name as usize).map(|v| v.to_repr()),
            Op::Closure(k) => p.protos.get(*k as usize).map(|f| format!("fn {}", f.name)),
            Op::Jump(o)
            | Op::JumpIfFalse(o)
            | Op::JumpIfTrue(o)
            | Op::JumpIfFalseOrPop(o)
            | Op::JumpIfTrueOrPop(o)
            | Op::JumpIfNotNilOrPop(o)
            | Op::JumpIfNil(o) => Some(format!("-> {}", i as i64 + 1 + *o as i64)),
            Op::IterNext { exit, .. } => Some(format!("exit -> {}", i as i64 + 1 + *exit as i64)),
            Op::MatchField { k, off, .. } => Some(format!(
                "{} else -> {}",
                p.consts
                    .get(*k as usize)
                    .map(|v| v.to_repr())
                    .unwrap_or_default(),
                i as i64 + 1 + *off as i64
            )),
            Op::LoopIfLocalK { k, back, .. } => Some(format!(
                "{} -> {}",
                p.consts
                    .get(*k as usize)
                    .map(|v| v.to_repr())
                    .unwrap_or_default(),
                i as i64 + 1 - *back as i64
            )),
            Op::LoopIfLocals { back, .. } | Op::IterLoop { back, .. } => {
                Some(format!("-> {}", i as i64 + 1 - *back as i64))
            }
            Op::PushHandler { offset, .. } => {
                Some(format!("handler -> {}", i as i64 + 1 + *offset as i64))
            }
            Op::JumpIfArgGiven { offset, .. } => {
                Some(format!("-> {}", i as i64 + 1 + *offset as i64))
            }
            _ => None,
        };
        if let Some(n) = note {
            let _ = write!(text, "    ; {n}");
        }
        let _ = writeln!(out, "{i:>5}  {line:>4}:{col:<3}  {text}");
    }
    for nested in &p.protos {
        out.push('\n');
        list(out, nested, builtins);
    }
}
