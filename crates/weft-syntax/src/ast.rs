//! The abstract syntax tree produced by `parse_module`.
//!
//! Every node carries a [`Span`] (byte offsets into the source file it was
//! parsed from). Expressions and statements are separate types; control flow
//! constructs (`if`, `while`, `for`, `match`, `try`, blocks) are expressions
//! whose value is their last expression statement (or `nil`).

use crate::span::Span;

/// A parsed `.wf` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// A `{ ... }` sequence of statements. Its value is the value of its last
/// statement when that statement is an expression statement, else `nil`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `let PATTERN = EXPR` (`mutable == false`) or `var PATTERN = EXPR`.
    /// `pub` marks a top-level binding as exported.
    Let {
        public: bool,
        mutable: bool,
        pattern: Pattern,
        value: Expr,
    },
    /// `pub? fn NAME(PARAMS) BLOCK`.
    Fn { public: bool, def: FnDef },
    /// `pub? import "path"` or `pub? import { a, b as c } from "path"`.
    Import(Import),
    /// `TARGET = EXPR` or `TARGET op= EXPR`. `target` is an identifier, or a
    /// chain of `.name` / `[index]` accesses rooted at an identifier.
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    /// An expression evaluated for its value or effects.
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// `pub import ...`: the imported names are also exported (re-exported)
    /// by the importing module.
    pub public: bool,
    /// The path string as written (`"./util.wf"`, `"std/agents"`).
    pub path: String,
    pub path_span: Span,
    /// `None` for `import "path"` (all pub names); otherwise the listed names.
    pub names: Option<Vec<ImportName>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportName {
    /// Name exported by the module.
    pub name: String,
    /// Local name (`rank as score` → alias `score`); `None` = same as `name`.
    pub alias: Option<String>,
    pub span: Span,
}

/// A function: named declaration, `fn(...) {}` expression, or `{ x -> ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct FnDef {
    pub name: Option<String>,
    /// Span of the name (or of the `fn` keyword / opening brace when anonymous).
    pub name_span: Span,
    pub params: Vec<Param>,
    /// `...rest` parameter, if any (always last).
    pub rest: Option<Param>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// Default value expression; may refer to earlier parameters.
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string literal without interpolation (escapes already processed).
    Str(String),
    /// A string with `${expr}` interpolation.
    Template(Vec<TemplatePart>),
    Ident(String),
    /// `_` used as an expression: the pipe placeholder.
    Placeholder,
    List(Vec<ListItem>),
    Dict(Vec<DictItem>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    /// Binary operators including `&&`, `||`, `??` (which short-circuit)
    /// and the ranges `..` / `..=`.
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `lhs |> rhs`; `rhs` is usually a call (possibly containing `_`) or a name.
    Pipe {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `receiver.name(args)` or `receiver?.name(args)` (`optional`).
    MethodCall {
        receiver: Box<Expr>,
        name: String,
        name_span: Span,
        args: Vec<Arg>,
        optional: bool,
    },
    /// `object.name` or `object?.name`.
    Member {
        object: Box<Expr>,
        name: String,
        name_span: Span,
        optional: bool,
    },
    /// `object[index]` or `object?[index]`.
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
        optional: bool,
    },
    /// `object[start:end]`, either bound optional.
    Slice {
        object: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
        optional: bool,
    },
    /// `fn(...) { }` or `{ params -> body }`.
    Function(Box<FnDef>),
    If {
        cond: Box<Expr>,
        then_block: Block,
        /// `else { }` (an `ExprKind::Block`) or `else if ...` (an `ExprKind::If`).
        else_branch: Option<Box<Expr>>,
    },
    While {
        cond: Box<Expr>,
        body: Block,
    },
    For {
        pattern: Pattern,
        iter: Box<Expr>,
        body: Block,
    },
    Match {
        subject: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Try {
        body: Block,
        catch: Option<CatchClause>,
        finally: Option<Block>,
    },
    Block(Block),
    /// `return` / `return expr`.
    Return(Option<Box<Expr>>),
    Break,
    Continue,
    Throw(Box<Expr>),
    /// `spawn { ... }` (language.md §9).
    Spawn(Block),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Lit(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListItem {
    Item(Expr),
    /// `...expr`
    Spread(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DictItem {
    /// `key: value`
    Entry { key: DictKey, value: Expr },
    /// `...expr`
    Spread(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DictKey {
    /// `name: v` (identifier key; keywords are allowed as keys too)
    Name(String, Span),
    /// `"two words": v` (a plain string literal, no interpolation)
    Str(String, Span),
    /// `[expr]: v`
    Computed(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Positional(Expr),
    /// `...expr`
    Spread(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
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
    In,
    NotIn,
    /// `..`
    Range,
    /// `..=`
    RangeInclusive,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `??`
    Coalesce,
}

impl BinOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Range => "..",
            BinOp::RangeInclusive => "..=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Coalesce => "??",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    /// The arm's body: an expression, or an `ExprKind::Block` for `-> { ... }`.
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatchClause {
    /// `catch e` / `catch (e)` binds the error; `catch { }` binds nothing.
    pub binding: Option<Pattern>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// A name: binds the value.
    Bind(String),
    /// `nil`, `true`, `42`, `-1`, `2.5`, `"text"`: compared with `==`.
    Literal(Literal),
    /// `[a, b = 10, ...rest]`; `rest` is `Some(None)` for a bare `...`.
    List {
        items: Vec<ListPatternItem>,
        rest: Option<Option<(String, Span)>>,
    },
    /// `{name, age: years, role = "user", status: "ok", ...rest}`.
    Dict {
        entries: Vec<DictPatternEntry>,
        rest: Option<(String, Span)>,
    },
    /// `p1 | p2 | ...` (match only).
    Or(Vec<Pattern>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// One element of a list pattern: `name`, `name = default`, or a nested
/// pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPatternItem {
    pub pattern: Pattern,
    /// `name = default`: used when the list has no element at this position
    /// or the element is `nil` (as for dict patterns).
    pub default: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DictPatternEntry {
    /// The dict key (identifier or string literal).
    pub key: String,
    /// `key: PATTERN`; `None` for the shorthand `key` (binds a variable named `key`).
    pub pattern: Option<Pattern>,
    /// `key = default` (shorthand only) or `key: name = default`.
    pub default: Option<Expr>,
    pub span: Span,
}
