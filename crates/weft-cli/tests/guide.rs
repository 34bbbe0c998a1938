//! Every code block of the user guide (`docs/guide/*.md`) is run, so the
//! guide cannot drift from the implementation.
//!
//! Each markdown file gets its own temporary working directory; its blocks
//! run in order, so a later block can use a file an earlier one wrote. Runs
//! use the built `weft` binary with `WEFT_LLM_DISABLED=1`, a temporary state
//! directory, and no LLM provider configured (the mock provider answers).
//!
//! Fence conventions (the info string after the opening ```` ``` ````):
//!
//! | fence | what the test does |
//! |---|---|
//! | `weft` | writes the block to a file and runs `weft run FILE` (with the flags of `// weft-args:` lines at its top, as `weft test` does); it must exit 0 |
//! | `weft,error` | runs it; it must fail, and a following `output` block is required: each of its non-empty lines must appear in stderr |
//! | `sh` | runs every command line (`\` continues a line; `#` lines are comments) with `sh -c` in the file's directory, `weft` first on `PATH`; every command must start with `weft `; exit 0 expected (`sh,error`: non-zero) |
//! | `output` | the expected output of the `weft`/`sh` block right before it (only blank lines between): stdout exactly, or for an error block, lines of stderr |
//! | `json`, `jsonl` | must parse (each line, for `jsonl`) |
//! | `text`, `toml` | shown as is (terminal transcripts, manifests); with `file=NAME`, written to that file (e.g. a test's `.expected`) |
//! | `rust` | skipped: the embedding chapter's Rust blocks are doctests run elsewhere |
//!
//! `file=NAME` after the language (```` ```weft file=util.wf ````) names the
//! file a `weft`, `json`, `jsonl`, `text` or `toml` block is written to
//! (parent directories are created), so later blocks can
//! import, read or pass it; otherwise a `weft` block is written to
//! `block-N.wf` (N counts from 1 within the file). Any other fence language,
//! an unknown option, or an `output` block after anything but a `weft`/`sh`
//! block fails the test: nothing goes untested silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variables that would choose a real LLM provider.
const PROVIDER_ENV: [&str; 7] = [
    "WEFT_PROVIDER",
    "WEFT_MODEL",
    "WEFT_OPENAI_BASE_URL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
];

const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);

fn guide_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide")
}

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    flags: Vec<String>,
    file: Option<String>,
    text: String,
}

/// The fenced code blocks of a markdown file, in order. An unclosed fence
/// is an error.
fn blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut words = info.split_whitespace();
        let head = words.next().unwrap_or("");
        let mut parts = head.split(',');
        let lang = parts.next().unwrap_or("").to_string();
        let flags: Vec<String> = parts.map(str::to_string).collect();
        let mut file = None;
        for w in words {
            match w.strip_prefix("file=") {
                Some(name) => file = Some(name.to_string()),
                None => return Err(format!("line {}: unknown fence option '{w}'", i + 1)),
            }
        }
        let mut text = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            // Blocks inside list items are indented; strip that indent.
            let l = if l.len() >= indent && l[..indent].trim().is_empty() {
                &l[indent..]
            } else {
                l
            };
            text.push_str(l);
            text.push('\n');
        }
        if !closed {
            return Err(format!("line {}: code block is never closed", i + 1));
        }
        out.push(Block {
            line: i + 1,
            lang,
            flags,
            file,
            text,
        });
    }
    Ok(out)
}

/// True when only blank lines separate the block ending before `next`
/// from `next` (the output block's fence).
fn adjacent(markdown: &str, prev: &Block, next: &Block) -> bool {
    let prev_end = prev.line + prev.text.lines().count() + 1; // closing fence line
    markdown
        .lines()
        .skip(prev_end)
        .take(next.line - 1 - prev_end)
        .all(|l| l.trim().is_empty())
}

struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn weft_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_weft"))
}

fn run_command(mut cmd: Command, cwd: &Path, state: &Path) -> Ran {
    let exe_dir = weft_exe().parent().unwrap().to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![exe_dir];
    paths.extend(std::env::split_paths(&path));
    cmd.current_dir(cwd)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in PROVIDER_ENV {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().expect("cannot start the command");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || read_all(stdout));
    let err_reader = std::thread::spawn(move || read_all(stderr));
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out_reader.join().unwrap();
    let mut stderr = err_reader.join().unwrap();
    if status.is_none() {
        stderr.push_str(&format!("\n(killed after {BLOCK_TIMEOUT:?})"));
    }
    Ran {
        ok: status.is_some_and(|s| s.success()),
        stdout,
        stderr,
    }
}

/// `weft run` flags from `// weft-args: ...` lines in the leading comment
/// block, as `weft test` reads them.
fn header_args(source: &str) -> Vec<String> {
    let mut args = Vec::new();
    for line in source.lines() {
        let Some(comment) = line.trim().strip_prefix("//") else {
            break;
        };
        if let Some(flags) = comment.trim_start().strip_prefix("weft-args:") {
            args.extend(flags.split_whitespace().map(str::to_string));
        }
    }
    args
}

/// Writes a block's text to `dir/name`, creating parent directories.
fn write_file(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn read_all(mut r: impl std::io::Read) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The commands of a `sh` block: `\`-continued lines joined, comments and
/// blank lines dropped.
fn sh_commands(text: &str) -> Vec<String> {
    let mut cmds = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head.trim_end());
            cur.push(' ');
        } else {
            cur.push_str(t);
            cmds.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        cmds.push(cur);
    }
    cmds
}

/// Checks one markdown file; returns the failures.
fn check_file(path: &Path) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let markdown = std::fs::read_to_string(path).unwrap();
    let blocks = match blocks(&markdown) {
        Ok(b) => b,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let cwd = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut weft_blocks = 0;
    let mut i = 0;
    while i < blocks.len() {
        let b = &blocks[i];
        let at = format!("{name}:{}", b.line);
        let runs = b.lang == "weft" || b.lang == "sh";
        let expected = blocks
            .get(i + 1)
            .filter(|n| runs && n.lang == "output" && adjacent(&markdown, b, n));
        let error = b.flags.iter().any(|f| f == "error");
        let bad_flags: Vec<&String> = b.flags.iter().filter(|f| *f != "error").collect();
        if !bad_flags.is_empty() {
            failures.push(format!("{at}: unknown fence flag(s) {bad_flags:?}"));
        }
        let ran = match b.lang.as_str() {
            "weft" => {
                weft_blocks += 1;
                let file = b
                    .file
                    .clone()
                    .unwrap_or_else(|| format!("block-{weft_blocks}.wf"));
                write_file(cwd.path(), &file, &b.text);
                let mut cmd = Command::new(weft_exe());
                cmd.arg("run").args(header_args(&b.text)).arg(&file);
                Some(run_command(cmd, cwd.path(), state.path()))
            }
            "sh" => {
                let cmds = sh_commands(&b.text);
                if cmds.is_empty() {
                    failures.push(format!("{at}: sh block has no command"));
                }
                let mut all = Ran {
                    ok: true,
                    stdout: String::new(),
                    stderr: String::new(),
                };
                for c in &cmds {
                    if !c.starts_with("weft ") {
                        failures.push(format!("{at}: sh command does not start with `weft `: {c}"));
                        continue;
                    }
                    let mut cmd = Command::new("sh");
                    cmd.args(["-c", c]);
                    let r = run_command(cmd, cwd.path(), state.path());
                    all.ok &= r.ok;
                    all.stdout.push_str(&r.stdout);
                    all.stderr.push_str(&r.stderr);
                }
                Some(all)
            }
            "output" => {
                failures.push(format!(
                    "{at}: an output block must follow a weft or sh block directly"
                ));
                None
            }
            "json" | "jsonl" => {
                let docs: Vec<&str> = if b.lang == "json" {
                    vec![b.text.as_str()]
                } else {
                    b.text.lines().filter(|l| !l.trim().is_empty()).collect()
                };
                for d in docs {
                    if let Err(e) = serde_json::from_str::<serde_json::Value>(d) {
                        failures.push(format!("{at}: invalid {}: {e}", b.lang));
                    }
                }
                if let Some(file) = &b.file {
                    write_file(cwd.path(), file, &b.text);
                }
                None
            }
            "text" | "toml" => {
                if let Some(file) = &b.file {
                    write_file(cwd.path(), file, &b.text);
                }
                None
            }
            "rust" => None,
            other => {
                failures.push(format!(
                    "{at}: unknown code block language '{other}' (see the conventions in crates/weft-cli/tests/guide.rs)"
                ));
                None
            }
        };
        if let Some(r) = ran {
            if error {
                if r.ok {
                    failures.push(format!(
                        "{at}: expected an error, but it succeeded:\n{}",
                        r.stdout
                    ));
                }
                match expected {
                    None => failures.push(format!(
                        "{at}: an error block needs an output block with the expected message"
                    )),
                    Some(o) => {
                        for line in o.text.lines().filter(|l| !l.trim().is_empty()) {
                            if !r.stderr.contains(line.trim_end()) {
                                failures.push(format!(
                                    "{at}: stderr lacks {line:?}; stderr was:\n{}",
                                    r.stderr
                                ));
                            }
                        }
                    }
                }
            } else {
                if !r.ok {
                    failures.push(format!("{at}: failed:\n{}{}", r.stdout, r.stderr));
                }
                if let Some(o) = expected {
                    if r.stdout != o.text {
                        let diff = similar::TextDiff::from_lines(&o.text, &r.stdout)
                            .unified_diff()
                            .header("expected (output block)", "actual stdout")
                            .to_string();
                        failures.push(format!("{at}: output differs\n{diff}"));
                    }
                }
            }
        }
        i += if expected.is_some() { 2 } else { 1 };
    }
    failures
}

#[test]
fn every_guide_code_block_runs() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(guide_dir())
        .expect("docs/guide exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no markdown files in docs/guide");
    let mut failures = Vec::new();
    for f in &files {
        failures.extend(check_file(f));
    }
    assert!(
        failures.is_empty(),
        "{} guide failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_block_parser_follows_the_conventions() {
    let md = "text\n\n```weft file=a.wf\nprintln(1)\n```\n\n```output\n1\n```\n\n  ```sh,error\n  weft run x \\\n    --fresh\n  ```\n";
    let b = blocks(md).unwrap();
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].lang, "weft");
    assert_eq!(b[0].file.as_deref(), Some("a.wf"));
    assert_eq!(b[0].text, "println(1)\n");
    assert!(adjacent(md, &b[0], &b[1]));
    assert_eq!(b[1].text, "1\n");
    assert_eq!(b[2].flags, ["error"]);
    assert_eq!(sh_commands(&b[2].text), ["weft run x --fresh"]);
    assert!(blocks("```weft\nprintln(1)\n").is_err());
    assert!(blocks("```weft bogus\n```\n").is_err());
}

#[test]
fn a_wrong_output_block_fails() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("t.md");
    std::fs::write(
        &md,
        "```weft\nprintln(\"a\")\n```\n\n```output\nb\n```\n\n```python\nprint(1)\n```\n\n```output\nstray\n```\n",
    )
    .unwrap();
    let failures = check_file(&md);
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].contains("output differs"));
    assert!(failures[1].contains("unknown code block language 'python'"));
    assert!(failures[2].contains("must follow a weft or sh block"));
}
