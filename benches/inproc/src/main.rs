//! In-process comparison of embeddable engines (issue 16): Weft, Rune, Koto,
//! Rhai and Lua 5.4 (through mlua, vendored) run the same three programs —
//! `fib(30)`, a 10M-iteration loop and a 200k-entry string-keyed map — each
//! engine inside this one process. Every program returns an integer, and all
//! engines must return the same one, so no engine is timed doing less work.
//!
//! Timing covers compiling and running the program on an engine created
//! beforehand (engine set-up is excluded); each cell is the median of
//! `--runs N` (default 3). Prints a Markdown table for docs/performance.md.
//!
//!   cd benches/inproc && cargo run --release -- --runs 5

use std::sync::Arc;
use std::time::{Duration, Instant};

/// One benchmark: its name, the result every engine must return, and its
/// source in each language.
struct Bench {
    name: &'static str,
    expected: i64,
    weft: &'static str,
    rune: &'static str,
    koto: &'static str,
    rhai: &'static str,
    lua: &'static str,
}

/// Sum of `i % 7` for i in 0..10M.
const LOOP_SUM: i64 = 29_999_994;
/// Sum of 0..200k.
const MAP_SUM: i64 = 19_999_900_000;

const BENCHES: &[Bench] = &[
    Bench {
        name: "fib(30)",
        expected: 832_040,
        weft: "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }\nfib(30)",
        rune: "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }\npub fn main() { fib(30) }",
        koto: "fib = |n| if n < 2 then n else fib(n - 1) + fib(n - 2)\nfib(30)",
        rhai: "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }\nfib(30)",
        lua: "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end\nreturn fib(30)",
    },
    Bench {
        name: "loop 10M",
        expected: LOOP_SUM,
        weft: "fn main() {\n  var s = 0\n  var i = 0\n  while i < 10000000 { s += i % 7; i += 1 }\n  s\n}\nmain()",
        rune: "pub fn main() {\n  let s = 0;\n  let i = 0;\n  while i < 10000000 { s += i % 7; i += 1; }\n  s\n}",
        koto: "s = 0\ni = 0\nwhile i < 10000000\n  s += i % 7\n  i += 1\ns",
        rhai: "let s = 0;\nlet i = 0;\nwhile i < 10000000 { s += i % 7; i += 1; }\ns",
        lua: "local s = 0\nlocal i = 0\nwhile i < 10000000 do s = s + i % 7; i = i + 1 end\nreturn s",
    },
    Bench {
        name: "map 200k",
        expected: MAP_SUM,
        weft: "fn main() {\n  var m = {}\n  var i = 0\n  while i < 200000 { m[\"k${i}\"] = i; i += 1 }\n  var s = 0\n  i = 0\n  while i < 200000 { s += m[\"k${i}\"]; i += 1 }\n  s\n}\nmain()",
        rune: "pub fn main() {\n  let m = #{};\n  let i = 0;\n  while i < 200000 { m[`k${i}`] = i; i += 1; }\n  let s = 0;\n  i = 0;\n  while i < 200000 { s += m[`k${i}`]; i += 1; }\n  s\n}",
        koto: "m = {}\ni = 0\nwhile i < 200000\n  m.insert('k{i}', i)\n  i += 1\ns = 0\ni = 0\nwhile i < 200000\n  s += m.get('k{i}')\n  i += 1\ns",
        rhai: "let m = #{};\nlet i = 0;\nwhile i < 200000 { m[\"k\" + i] = i; i += 1; }\nlet s = 0;\ni = 0;\nwhile i < 200000 { s += m[\"k\" + i]; i += 1; }\ns",
        lua: "local m = {}\nlocal i = 0\nwhile i < 200000 do m[\"k\" .. i] = i; i = i + 1 end\nlocal s = 0\ni = 0\nwhile i < 200000 do s = s + m[\"k\" .. i]; i = i + 1 end\nreturn s",
    },
];

type Runner = fn(&Bench) -> Result<i64, String>;

const ENGINES: &[(&str, Runner)] = &[
    ("weft", run_weft),
    ("rune", run_rune),
    ("koto", run_koto),
    ("rhai", run_rhai),
    ("lua 5.4", run_lua),
];

/// Times only the closure; engine set-up happens before it.
fn timed(f: impl FnOnce() -> Result<i64, String>) -> Result<(i64, Duration), String> {
    let start = Instant::now();
    let v = f()?;
    Ok((v, start.elapsed()))
}

fn run_weft(b: &Bench) -> Result<i64, String> {
    let mut engine = weft::Engine::builder().build().map_err(|e| e.to_string())?;
    let (v, t) = timed(|| {
        let v = engine.eval_blocking(b.weft).map_err(|e| e.to_string())?;
        v.as_int().ok_or_else(|| format!("not an integer: {v:?}"))
    })?;
    record(t);
    Ok(v)
}

fn run_rune(b: &Bench) -> Result<i64, String> {
    let context = rune::Context::with_default_modules().map_err(|e| e.to_string())?;
    let runtime = Arc::new(context.runtime().map_err(|e| e.to_string())?);
    let (v, t) = timed(|| {
        let mut sources = rune::Sources::new();
        sources
            .insert(rune::Source::memory(b.rune).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let unit = rune::prepare(&mut sources)
            .with_context(&context)
            .build()
            .map_err(|e| e.to_string())?;
        let mut vm = rune::Vm::new(runtime.clone(), Arc::new(unit));
        let out = vm.call(["main"], ()).map_err(|e| e.to_string())?;
        rune::from_value::<i64>(out).map_err(|e| e.to_string())
    })?;
    record(t);
    Ok(v)
}

fn run_koto(b: &Bench) -> Result<i64, String> {
    use koto::prelude::*;
    let mut koto = Koto::default();
    let (v, t) = timed(
        || match koto.compile_and_run(b.koto).map_err(|e| e.to_string())? {
            KValue::Number(n) => Ok(i64::from(n)),
            other => Err(format!("not a number: {}", other.type_as_string())),
        },
    )?;
    record(t);
    Ok(v)
}

fn run_rhai(b: &Bench) -> Result<i64, String> {
    let engine = rhai::Engine::new();
    let (v, t) = timed(|| engine.eval::<i64>(b.rhai).map_err(|e| e.to_string()))?;
    record(t);
    Ok(v)
}

fn run_lua(b: &Bench) -> Result<i64, String> {
    let lua = mlua::Lua::new();
    let (v, t) = timed(|| lua.load(b.lua).eval::<i64>().map_err(|e| e.to_string()))?;
    record(t);
    Ok(v)
}

thread_local! {
    /// The last timing a runner measured (runners return their result).
    static LAST: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

fn record(t: Duration) {
    LAST.with(|c| c.set(t));
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| {
                        eprintln!("--runs needs a positive number");
                        std::process::exit(2)
                    })
            }
            other => {
                eprintln!("unknown argument '{other}' (expected: --runs N)");
                std::process::exit(2)
            }
        }
    }
    let names: Vec<&str> = ENGINES.iter().map(|(n, _)| *n).collect();
    println!("| benchmark | {} | weft/lua |", names.join(" | "));
    println!("|---|{}---|", "---|".repeat(names.len()));
    let mut failed = false;
    for b in BENCHES {
        let mut cells = Vec::new();
        let mut times = Vec::new();
        for (name, run) in ENGINES {
            let mut ts = Vec::new();
            for _ in 0..runs {
                match run(b) {
                    Ok(v) if v == b.expected => ts.push(LAST.with(|c| c.get())),
                    Ok(v) => {
                        eprintln!("{name} {}: returned {v}, expected {}", b.name, b.expected);
                        failed = true;
                        break;
                    }
                    Err(e) => {
                        eprintln!("{name} {}: {e}", b.name);
                        failed = true;
                        break;
                    }
                }
            }
            if ts.len() == runs {
                let m = median(ts);
                cells.push(format!("{} ms", m.as_millis()));
                times.push(Some(m));
            } else {
                cells.push("error".to_string());
                times.push(None);
            }
        }
        let ratio = match (times[0], times[times.len() - 1]) {
            (Some(w), Some(l)) => format!("{:.2}", w.as_secs_f64() / l.as_secs_f64()),
            _ => "-".to_string(),
        };
        println!("| {} | {} | {ratio} |", b.name, cells.join(" | "));
    }
    if failed {
        std::process::exit(1);
    }
}
