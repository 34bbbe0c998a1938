//! The instruction set and compiled functions.
//!
//! The VM is a stack machine with per-frame local slots. A frame's stack
//! region is `[callee][slot 0 .. slot nslots-1][operand stack ...]`; the
//! arguments of a call become slots `0..nparams`. Every instruction below
//! documents its operands and its stack effect as `[before] -> [after]`
//! (top of stack on the right). Jump offsets are relative to the
//! instruction after the jump.

use std::rc::Rc;
use std::sync::Arc;

use weft_syntax::{SourceFile, Span};

use crate::value::Value;

/// Where a path assignment's root variable lives (operand of
/// [`Op::GetPath`] / [`Op::SetPath`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocKind {
    /// A local slot of the current frame.
    Local,
    /// A local slot holding a shared cell.
    Cell,
    /// An upvalue of the current closure holding a shared cell.
    UpvalCell,
    /// A module global.
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// No operation (also a placeholder patched to `MakeCell`/`SaveHeight`). `[] -> []`
    Nop,
    /// Push constant `consts[k]`. `[] -> [v]`
    Const(u32),
    /// Push nil. `[] -> [nil]`
    Nil,
    /// Push true. `[] -> [true]`
    True,
    /// Push false. `[] -> [false]`
    False,
    /// Push a small integer. `[] -> [int]`
    Int(i32),
    /// Discard the top value. `[v] -> []`
    Pop,
    /// Duplicate the top value. `[v] -> [v, v]`
    Dup,

    /// Push local slot `s`. `[] -> [v]`
    LoadLocal(u16),
    /// Pop into local slot `s`. `[v] -> []`
    StoreLocal(u16),
    /// Move local slot `s` out (leaving it undefined) so a builtin or
    /// operator finds the value uniquely owned; restored if the consuming
    /// instruction fails. `[] -> [v]`
    TakeLocal(u16),
    /// Wrap the value in local slot `s` in a new shared cell (a `var`
    /// captured by a closure). `[] -> []`
    MakeCell(u16),
    /// Push the contents of the cell in local slot `s`. `[] -> [v]`
    LoadCell(u16),
    /// Pop into the cell in local slot `s`. `[v] -> []`
    StoreCell(u16),
    /// Move the contents of the cell in local slot `s` out. `[] -> [v]`
    TakeCell(u16),
    /// Push upvalue `u` (an immutable capture). `[] -> [v]`
    LoadUpval(u16),
    /// Push the contents of upvalue cell `u`. `[] -> [v]`
    LoadUpvalCell(u16),
    /// Pop into upvalue cell `u`. `[v] -> []`
    StoreUpvalCell(u16),
    /// Move the contents of upvalue cell `u` out. `[] -> [v]`
    TakeUpvalCell(u16),
    /// Push module global `g` (error `undefined` if it has no value yet). `[] -> [v]`
    LoadGlobal(u32),
    /// Pop into module global `g`. `[v] -> []`
    StoreGlobal(u32),
    /// Move module global `g` out. `[] -> [v]`
    TakeGlobal(u32),

    /// Arithmetic and comparison: `[a, b] -> [a OP b]`.
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `a in b`. `[a, b] -> [bool]`
    In,
    /// `a not in b`. `[a, b] -> [bool]`
    NotIn,
    /// `a..b` (or `a..=b` when `true`). `[a, b] -> [range]`
    MakeRange(bool),
    /// Arithmetic negation. `[a] -> [-a]`
    Neg,
    /// Logical not. `[a] -> [bool]`
    Not,
    /// Add an immediate integer. `[a] -> [a + n]`
    AddInt(i32),
    /// Compare with an immediate integer. `[a] -> [a < n]`
    LtInt(i32),

    /// Unconditional jump. `[] -> []`
    Jump(i32),
    /// Pop; jump if falsy. `[c] -> []`
    JumpIfFalse(i32),
    /// Pop; jump if truthy. `[c] -> []`
    JumpIfTrue(i32),
    /// `&&`: if falsy jump keeping the value, else pop. `[c] -> [c] | []`
    JumpIfFalseOrPop(i32),
    /// `||`: if truthy jump keeping the value, else pop. `[c] -> [c] | []`
    JumpIfTrueOrPop(i32),
    /// `??`: if not nil jump keeping the value, else pop. `[v] -> [v] | []`
    JumpIfNotNilOrPop(i32),
    /// Optional chaining: if nil jump keeping the nil. `[v] -> [v]`
    JumpIfNil(i32),
    /// Compare and jump when the comparison is false: `[a, b] -> []`.
    JumpIfNotLt(i32),
    JumpIfNotLe(i32),
    JumpIfNotGt(i32),
    JumpIfNotGe(i32),
    JumpIfNotEq(i32),
    JumpIfNotNe(i32),
    /// Push local `slot` plus an immediate int. `[] -> [x + n]`
    LoadLocalAddInt {
        slot: u16,
        n: i32,
    },
    /// Push local `slot` modulo an immediate int (`n != 0`). `[] -> [x % n]`
    LoadLocalRemInt {
        slot: u16,
        n: i32,
    },
    /// Push local `slot` times an immediate int. `[] -> [x * n]`
    LoadLocalMulInt {
        slot: u16,
        n: i32,
    },
    /// Compare local `slot` with an immediate int; jump when false.
    /// (`Cmp` selects `< <= > >= == !=`.) `[] -> []`
    JumpIfNotLocalLtInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    JumpIfNotLocalLeInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    JumpIfNotLocalGtInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    JumpIfNotLocalGeInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    JumpIfNotLocalEqInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    JumpIfNotLocalNeInt {
        slot: u8,
        n: i16,
        off: i32,
    },
    /// Compare locals `a` and `b` with `cmp`; jump when false. `[] -> []`
    JumpIfNotLocals {
        cmp: Cmp,
        a: u8,
        b: u8,
        off: i32,
    },
    /// `x += v` on local slot `s` (or the cell in it), in place. `[v] -> []`
    AddToLocal(u16),
    /// `x += v` on module global `g`, in place. `[v] -> []`
    AddToGlobal(u32),
    /// `x += v` on upvalue cell `u`, in place. `[v] -> []`
    AddToUpvalCell(u16),
    /// `a % n` for an immediate int. `[a] -> [a % n]`
    RemInt(i32),
    /// `a * n` for an immediate int. `[a] -> [a * n]`
    MulInt(i32),
    /// `x += n` on local slot `slot` (or the cell in it). `[] -> []`
    IncLocal {
        slot: u16,
        n: i32,
    },
    /// `x += n` on module global `g`. `[] -> []`
    IncGlobal {
        g: u16,
        n: i32,
    },
    /// Function prologue: jump if argument slot `slot` was passed (skips
    /// the default value's code). `[] -> []`
    JumpIfArgGiven {
        slot: u16,
        offset: i32,
    },

    /// Call with `argc` arguments. `[f, a1..an] -> [result]`
    Call(u8),
    /// A call in tail position (always followed by `Return`). When `f` is
    /// the running function itself, called with exactly its parameters and
    /// with no `try` handler of this frame installed, the frame is reused:
    /// the arguments become slots `0..n`, the other slots are cleared and
    /// execution restarts at instruction 0 (self-recursion in tail position
    /// runs in constant stack). Otherwise exactly `Call(argc)`.
    /// `[f, a1..an] -> [result]`
    TailCall(u8),
    /// Call with an argument list (spread calls). `[f, args] -> [result]`
    CallList,
    /// Call builtin `id` directly. `[a1..an] -> [result]`
    CallBuiltin {
        id: u16,
        argc: u8,
    },
    /// Call builtin `id` with an argument list. `[args] -> [result]`
    CallBuiltinList(u16),
    /// Method call `recv.name(a1..an)` (language.md §4): the dict's own
    /// function field `consts[name]`, else builtin `builtin` (`u16::MAX` =
    /// none) as `builtin(recv, a1..an)`. `[recv, a1..an] -> [result]`
    CallMethod {
        name: u32,
        argc: u8,
        builtin: u16,
    },
    /// As `CallMethod`, with a candidate function from scope tried after
    /// the dict field and before the builtin. `[recv, a1..an, cand] -> [result]`
    CallMethodScoped {
        name: u32,
        argc: u8,
        builtin: u16,
    },
    /// Method call with an argument list; `scoped` as above.
    /// `[recv, args, cand?] -> [result]`
    CallMethodList {
        name: u32,
        builtin: u16,
        scoped: bool,
    },
    /// Return from the current function. `[v] -> ` (caller gets `[v]`)
    Return,
    /// Create a closure of nested function `protos[k]`, capturing per its
    /// capture list. `[] -> [fn]`
    Closure(u32),

    /// Build a list from the top `n` values. `[v1..vn] -> [list]`
    MakeList(u32),
    /// Append to the list below. `[list, v] -> [list]`
    ListAppend,
    /// Append every item of an iterable to the list below. `[list, xs] -> [list]`
    ListExtend,
    /// Build a dict from `n` key/value pairs. `[k1, v1 .. kn, vn] -> [dict]`
    MakeDict(u32),
    /// Insert into the dict below. `[dict, k, v] -> [dict]`
    DictInsert,
    /// Merge a dict into the dict below (right wins). `[dict, d] -> [dict]`
    DictExtend,
    /// Concatenate the display strings of the top `n` values. `[v1..vn] -> [str]`
    Interp(u32),

    /// `obj[index]`. `[obj, index] -> [v]`
    GetIndex,
    /// `obj.name` with `consts[k]` the name. `[obj] -> [v]`
    GetField(u32),
    /// `obj[start:end]`; absent bounds are not pushed. `[obj, start?, end?] -> [v]`
    Slice {
        start: bool,
        end: bool,
    },
    /// Read the value at a path below a variable (for compound path
    /// assignment), leaving the keys. `[k1..kn] -> [k1..kn, v]`
    GetPath {
        kind: LocKind,
        depth: u8,
        idx: u32,
    },
    /// Assign at a path below a variable, copying shared collections on the
    /// way (copy-on-write). `[k1..kn, v] -> []`
    SetPath {
        kind: LocKind,
        depth: u8,
        idx: u32,
    },

    /// Start iterating: store the iterable in slot `s` and the cursor in
    /// slot `s + 1`. `[iterable] -> []`
    IterInit(u16),
    /// Push the next item of the iteration in slots `slot`, `slot + 1`, or
    /// jump by `exit` when exhausted. `[] -> [item] | []`
    IterNext {
        slot: u16,
        exit: i32,
    },

    /// The back-edge of a `while` loop whose condition is `local CMP int
    /// literal` (`consts[k]` holds the int), rotated to the loop's bottom.
    /// Always directly followed by the loop's `Jump` back to its condition.
    /// Fast path (the local is an int and no budget check is due): counts
    /// the back-edge like that `Jump`, then jumps back by `back` to the
    /// body when the comparison holds, else skips the `Jump` (leaving the
    /// loop). Otherwise it does nothing, so the `Jump` runs the loop's
    /// own condition code (which raises any error at its exact span).
    /// `[] -> []`
    LoopIfLocalK {
        cmp: Cmp,
        slot: u8,
        k: u16,
        back: u16,
    },
    /// Like [`Op::LoopIfLocalK`] for a `local CMP local` condition (both
    /// locals must be ints for the fast path). `[] -> []`
    LoopIfLocals {
        cmp: Cmp,
        a: u8,
        b: u8,
        back: u16,
    },
    /// The back-edge of a `for` loop, rotated like [`Op::LoopIfLocalK`]
    /// and directly followed by the loop's `Jump` back to its
    /// [`Op::IterNext`]. Fast path (no budget check due): counts the
    /// back-edge, then pushes the next item of the iteration in slots
    /// `slot`, `slot + 1` and jumps back by `back` to the loop body, or
    /// skips the `Jump` when the iteration is exhausted.
    /// `[] -> [item] | []`
    IterLoop {
        slot: u16,
        back: u16,
    },

    /// Install an error handler at `offset`; with `finally` the handler
    /// receives the error in flight, else the caught value. `[] -> []`
    PushHandler {
        offset: i32,
        finally: bool,
    },
    /// Remove the innermost handler. `[] -> []`
    PopHandler,
    /// Raise the value as an error. `[v] -> !`
    Throw,
    /// Re-raise an error in flight after a `finally` block. `[err] -> !`
    Rethrow,
    /// Record the stack height in slot `s` (loop entry). `[] -> []`
    SaveHeight(u16),
    /// Cut the stack back to the height saved in slot `s`. `[...] -> []`
    RestoreHeight(u16),

    /// Pattern test: is it a list with `len` items (at least, with `rest`)? `[v] -> [bool]`
    MatchList {
        len: u16,
        rest: bool,
    },
    /// Destructuring check: raise unless a list with enough items. `[v] -> [v]`
    ExpectList {
        len: u16,
        rest: bool,
    },
    /// Pattern test: is it a dict? `[v] -> [bool]`
    IsDict,
    /// Destructuring check: raise unless a dict. `[v] -> [v]`
    ExpectDict,
    /// Pattern test: does the dict have key `consts[k]`? `[dict] -> [bool]`
    DictHas(u32),
    /// Dict pattern field (`{key: ...}` without a default): when local
    /// `slot` holds a dict with key `consts[k]`, push that key's value;
    /// otherwise (no such key, or not a dict) jump by `off`.
    /// `[] -> [v] | []`
    MatchField {
        slot: u8,
        k: u16,
        off: i32,
    },
    /// The dict without the `n` keys above it. `[dict, k1..kn] -> [dict]`
    DictWithout(u16),
    /// The items of a list from index `start` on. `[list] -> [list]`
    ListFrom(u16),

    /// Run module `m`'s top level if it has not run yet; pushes its value
    /// (nil when it already ran). `[] -> [v]`
    RunModule(u32),
}

impl Op {
    /// The relative jump offset of a jumping instruction.
    pub fn jump_offset(self) -> Option<i32> {
        match self {
            Op::Jump(o)
            | Op::JumpIfFalse(o)
            | Op::JumpIfTrue(o)
            | Op::JumpIfFalseOrPop(o)
            | Op::JumpIfTrueOrPop(o)
            | Op::JumpIfNotNilOrPop(o)
            | Op::JumpIfNil(o)
            | Op::JumpIfNotLt(o)
            | Op::JumpIfNotLe(o)
            | Op::JumpIfNotGt(o)
            | Op::JumpIfNotGe(o)
            | Op::JumpIfNotEq(o)
            | Op::JumpIfNotNe(o) => Some(o),
            Op::JumpIfArgGiven { offset, .. } => Some(offset),
            Op::JumpIfNotLocalLtInt { off, .. }
            | Op::JumpIfNotLocalLeInt { off, .. }
            | Op::JumpIfNotLocalGtInt { off, .. }
            | Op::JumpIfNotLocalGeInt { off, .. }
            | Op::JumpIfNotLocalEqInt { off, .. }
            | Op::JumpIfNotLocalNeInt { off, .. }
            | Op::JumpIfNotLocals { off, .. } => Some(off),
            Op::IterNext { exit, .. } => Some(exit),
            Op::MatchField { off, .. } => Some(off),
            Op::PushHandler { offset, .. } => Some(offset),
            Op::LoopIfLocalK { back, .. }
            | Op::LoopIfLocals { back, .. }
            | Op::IterLoop { back, .. } => Some(-(back as i32)),
            _ => None,
        }
    }

    /// The same instruction with another jump offset.
    pub fn with_offset(self, o: i32) -> Op {
        match self {
            Op::Jump(_) => Op::Jump(o),
            Op::JumpIfFalse(_) => Op::JumpIfFalse(o),
            Op::JumpIfTrue(_) => Op::JumpIfTrue(o),
            Op::JumpIfFalseOrPop(_) => Op::JumpIfFalseOrPop(o),
            Op::JumpIfTrueOrPop(_) => Op::JumpIfTrueOrPop(o),
            Op::JumpIfNotNilOrPop(_) => Op::JumpIfNotNilOrPop(o),
            Op::JumpIfNil(_) => Op::JumpIfNil(o),
            Op::JumpIfNotLt(_) => Op::JumpIfNotLt(o),
            Op::JumpIfNotLe(_) => Op::JumpIfNotLe(o),
            Op::JumpIfNotGt(_) => Op::JumpIfNotGt(o),
            Op::JumpIfNotGe(_) => Op::JumpIfNotGe(o),
            Op::JumpIfNotEq(_) => Op::JumpIfNotEq(o),
            Op::JumpIfNotNe(_) => Op::JumpIfNotNe(o),
            Op::JumpIfArgGiven { slot, .. } => Op::JumpIfArgGiven { slot, offset: o },
            Op::JumpIfNotLocalLtInt { slot, n, .. } => Op::JumpIfNotLocalLtInt { slot, n, off: o },
            Op::JumpIfNotLocalLeInt { slot, n, .. } => Op::JumpIfNotLocalLeInt { slot, n, off: o },
            Op::JumpIfNotLocalGtInt { slot, n, .. } => Op::JumpIfNotLocalGtInt { slot, n, off: o },
            Op::JumpIfNotLocalGeInt { slot, n, .. } => Op::JumpIfNotLocalGeInt { slot, n, off: o },
            Op::JumpIfNotLocalEqInt { slot, n, .. } => Op::JumpIfNotLocalEqInt { slot, n, off: o },
            Op::JumpIfNotLocalNeInt { slot, n, .. } => Op::JumpIfNotLocalNeInt { slot, n, off: o },
            Op::JumpIfNotLocals { cmp, a, b, .. } => Op::JumpIfNotLocals { cmp, a, b, off: o },
            Op::IterNext { slot, .. } => Op::IterNext { slot, exit: o },
            Op::MatchField { slot, k, .. } => Op::MatchField { slot, k, off: o },
            Op::PushHandler { finally, .. } => Op::PushHandler { offset: o, finally },
            // Back-edges only ever get shorter (`strip_nops`), so the new
            // distance fits.
            Op::LoopIfLocalK { cmp, slot, k, .. } => Op::LoopIfLocalK {
                cmp,
                slot,
                k,
                back: back_distance(o),
            },
            Op::LoopIfLocals { cmp, a, b, .. } => Op::LoopIfLocals {
                cmp,
                a,
                b,
                back: back_distance(o),
            },
            Op::IterLoop { slot, .. } => Op::IterLoop {
                slot,
                back: back_distance(o),
            },
            other => other,
        }
    }
}

/// The `back` operand of a rotated back-edge for relative offset `o`
/// (negative: the body starts before the instruction).
fn back_distance(o: i32) -> u16 {
    u16::try_from(-(o as i64)).expect("a back-edge's distance fits its operand")
}

/// Removes `Nop`s (unused placeholders) and re-targets jumps; a jump to a
/// `Return` becomes the `Return` itself.
pub fn strip_nops(code: &mut Vec<Op>, spans: &mut Vec<Span>) {
    for i in 0..code.len() {
        if let Op::Jump(off) = code[i] {
            let mut t = (i as i64 + 1 + off as i64) as usize;
            while code.get(t) == Some(&Op::Nop) {
                t += 1;
            }
            if code.get(t) == Some(&Op::Return) {
                code[i] = Op::Return;
            } else if t == i + 1 {
                // A jump to the next instruction (an empty `else`).
                code[i] = Op::Nop;
            }
        }
    }
    if !code.contains(&Op::Nop) {
        return;
    }
    let mut map = Vec::with_capacity(code.len() + 1);
    let mut n = 0i64;
    for op in code.iter() {
        map.push(n);
        if *op != Op::Nop {
            n += 1;
        }
    }
    map.push(n);
    let mut new_code = Vec::with_capacity(n as usize);
    let mut new_spans = Vec::with_capacity(n as usize);
    for (p, op) in code.iter().enumerate() {
        if *op == Op::Nop {
            continue;
        }
        let op = match op.jump_offset() {
            Some(off) => {
                let target = (p as i64 + 1 + off as i64) as usize;
                let new_off = map[target] - (map[p] + 1);
                op.with_offset(new_off as i32)
            }
            None => *op,
        };
        new_code.push(op);
        new_spans.push(spans[p]);
    }
    *code = new_code;
    *spans = new_spans;
}

/// Turns every `Call` directly followed by `Return` into a `TailCall`
/// (run after [`strip_nops`], which has already turned jumps to a `Return`
/// into `Return`s). A `return` inside `try` pops its handler or runs its
/// `finally` before the `Return`, so such calls are never adjacent to it.
pub fn mark_tail_calls(code: &mut [Op]) {
    for i in 1..code.len() {
        if code[i] == Op::Return {
            if let Op::Call(argc) = code[i - 1] {
                code[i - 1] = Op::TailCall(argc);
            }
        }
    }
}

/// A comparison operator (operand of fused compare-and-jump instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// How a closure captures one variable of the enclosing function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Capture {
    /// The enclosing frame's local slot (its value, or its cell).
    Local(u16),
    /// The enclosing closure's upvalue.
    Upval(u16),
}

/// A compiled function (also a module's top level).
pub struct FnProto {
    pub name: String,
    pub code: Vec<Op>,
    /// The source span of each instruction (parallel to `code`).
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    pub protos: Vec<Rc<FnProto>>,
    pub captures: Vec<Capture>,
    /// Number of named parameters (not counting a rest parameter).
    pub nparams: u16,
    /// Parameters without a default.
    pub nrequired: u16,
    /// Whether a `...rest` parameter follows the named ones (slot `nparams`).
    pub has_rest: bool,
    /// Local slots the frame needs (parameters included).
    pub nslots: u16,
    pub file: Arc<SourceFile>,
    pub span: Span,
    /// A module's top level rather than a function.
    pub is_module: bool,
}

impl FnProto {
    /// `name() takes 1 to 2 arguments` style description of the arity.
    pub fn arity_text(&self) -> String {
        let plural = |n: u16| if n == 1 { "argument" } else { "arguments" };
        if self.has_rest {
            format!(
                "takes at least {} {}",
                self.nrequired,
                plural(self.nrequired)
            )
        } else if self.nrequired == self.nparams {
            format!("takes {} {}", self.nparams, plural(self.nparams))
        } else {
            format!("takes {} to {} arguments", self.nrequired, self.nparams)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn only_calls_right_before_return_become_tail_calls() {
        let mut code = vec![
            Op::Call(1),
            Op::Pop,
            Op::Call(2),
            Op::Return,
            Op::Call(0),
            Op::PopHandler,
            Op::Return,
        ];
        super::mark_tail_calls(&mut code);
        assert_eq!(code[0], Op::Call(1));
        assert_eq!(code[2], Op::TailCall(2));
        assert_eq!(code[4], Op::Call(0));
    }

    #[test]
    fn ops_are_small() {
        assert!(std::mem::size_of::<Op>() <= 8);
    }
}
