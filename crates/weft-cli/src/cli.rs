//! The command-line grammar of `weft` (clap derive): commands, flags and
//! their value checks. Turning the parsed flags into what a command needs
//! happens in `commands/`.

use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::capability::Capability;

/// `weft run`'s default `--max-string-len` (256 MiB): doubling a string in
/// a loop stops with `limit_exceeded` long before memory runs out.
pub const DEFAULT_MAX_STRING_LEN: usize = 256 << 20;
/// Default `--max-collection-len` (16 Mi items, 256 MiB of values).
pub const DEFAULT_MAX_COLLECTION_LEN: usize = 16 << 20;
/// Default `--max-tasks` (live tasks at once).
pub const DEFAULT_MAX_TASKS: usize = 100_000;
/// Default `--max-run-workers` (workers one run may create in all).
pub const DEFAULT_MAX_RUN_WORKERS: usize = 100_000;

/// Weft: a scripting language for orchestrating LLM agents and workers.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script
    Run(Box<RunArgs>),
    /// Parse and compile files, printing every diagnostic; runs nothing
    Check(CheckArgs),
    /// Run `.wf` tests (NAME.wf with NAME.expected or NAME.error)
    Test(TestArgs),
    /// Print the compiled bytecode of a file (for developers of Weft)
    Disasm(DisasmArgs),
    /// Show the worker snapshots of a state directory
    Workers(WorkersArgs),
    /// Show the workflow run records of a state directory
    Runs(RunsArgs),
    /// List the approval requests of a state directory
    Approvals(ApprovalsArgs),
    /// Answer a pending approval request (approve, or reject with --reject)
    Approve(ApproveArgs),
    /// Show or clear the result cache of a state directory
    Cache(CacheArgs),
    /// Start an interactive session (read-eval-print loop)
    Repl,
    /// Serve a cluster: claim worker jobs from NATS JetStream and run them
    Host(HostArgs),
    /// Serve a read-only web dashboard of the runs and workers of a state
    /// directory (live updates; graphs, timelines, transcripts)
    Ui(UiArgs),
    /// Model Context Protocol: serve a module's functions as MCP tools
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Address to listen on; anything but a loopback address needs a token
    #[arg(long, value_name = "IP:PORT", default_value = crate::ui::DEFAULT_ADDR)]
    pub addr: std::net::SocketAddr,

    /// Require this token on every request (also WEFT_UI_TOKEN)
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Open the dashboard in the desktop's browser
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: McpCommand,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Offer the `pub fn`s of FILE as MCP tools, over stdio (default) or
    /// streamable HTTP (`--http`)
    Serve(McpServeArgs),
}

#[derive(Debug, Args)]
pub struct McpServeArgs {
    /// The module whose `pub fn`s become tools
    pub file: PathBuf,

    /// Serve streamable HTTP at this address (e.g. 127.0.0.1:8931; the
    /// endpoint is /mcp) instead of stdio
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,

    /// Capability ceiling for the tool calls, a JSON policy file
    #[arg(long, value_name = "FILE.json")]
    pub policy: Option<PathBuf>,

    /// Deny a capability (repeatable), as for `weft run`
    #[arg(long, value_name = "CAP", value_parser = crate::capability::parse_flag)]
    pub deny: Vec<Capability>,

    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Answer LLM calls from recorded request/response pairs
    #[arg(long, value_name = "FILE.jsonl")]
    pub llm_fixture: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script to run
    pub file: PathBuf,

    /// Arguments for the script, bound to the global `argv` (after `--`)
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// State directory for snapshots and run records (WEFT_STATE_DIR, if
    /// set, takes precedence; default `.weft/`)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Maximum number of workers running at once
    #[arg(long, value_name = "N")]
    pub max_workers: Option<NonZeroU32>,

    /// Root capability ceiling, a JSON policy file
    #[arg(long, value_name = "FILE.json")]
    pub policy: Option<PathBuf>,

    /// Ignore stored durable state
    #[arg(long)]
    pub fresh: bool,

    /// Deny a capability (repeatable): fs.read fs.write process.exec
    /// network llm.call workers.spawn mcp
    #[arg(long, value_name = "CAP", value_parser = crate::capability::parse_flag)]
    pub deny: Vec<Capability>,

    /// Answer LLM calls from recorded request/response pairs
    #[arg(long, value_name = "FILE.jsonl")]
    pub llm_fixture: Option<PathBuf>,

    /// Record every real provider exchange to this file
    #[arg(long, value_name = "FILE.jsonl")]
    pub llm_record: Option<PathBuf>,

    /// Print worker events to stderr as JSON lines
    #[arg(long)]
    pub events: bool,

    /// Show a live table of workers on stderr
    #[arg(long)]
    pub progress: bool,

    /// VM instruction budget (exceeding it raises `limit_exceeded`)
    #[arg(long, value_name = "N")]
    pub max_steps: Option<NonZeroU64>,

    /// Longest string a script may create, in bytes (`limit_exceeded`)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STRING_LEN)]
    pub max_string_len: usize,

    /// Most items in one list or entries in one dict (`limit_exceeded`)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_COLLECTION_LEN)]
    pub max_collection_len: usize,

    /// Most tasks alive at once (`limit_exceeded`)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TASKS)]
    pub max_tasks: usize,

    /// Most workers the run may create in all, finished ones included
    /// (`limit_exceeded`)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_RUN_WORKERS)]
    pub max_run_workers: usize,

    /// Most heap bytes the run may add (`limit_exceeded`)
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<NonZeroUsize>,

    /// Wall-clock limit for the run, in milliseconds (`limit_exceeded`)
    #[arg(long, value_name = "MS")]
    pub time_limit_ms: Option<NonZeroU64>,

    /// Root budget of the delegation tree, e.g. `tokens=5000,model_calls=20`
    /// (keys: tokens model_calls wall_ms workers cost_usd)
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub budget: Option<String>,

    /// Per-model prices for `cost_usd` budgets, a JSON file
    /// `{"MODEL": {"input_per_mtok": N, "output_per_mtok": N}}`
    #[arg(long, value_name = "FILE.json")]
    pub prices: Option<PathBuf>,

    /// Bypass the result cache (`cache:` options neither read nor write it)
    #[arg(long)]
    pub no_cache: bool,

    /// A NATS JetStream cluster for `placement: "cluster"` workers,
    /// nats://HOST:PORT[,HOST:PORT...] (WEFT_CLUSTER when not given)
    #[arg(long, value_name = "URLS")]
    pub cluster: Option<String>,
}

#[derive(Debug, Args)]
pub struct HostArgs {
    /// The cluster's NATS servers, nats://HOST:PORT[,HOST:PORT...]
    /// (WEFT_CLUSTER when not given)
    #[arg(long, value_name = "URLS")]
    pub cluster: Option<String>,

    /// Jobs run at once
    #[arg(long, value_name = "N", default_value = "4")]
    pub slots: NonZeroUsize,

    /// This host's capability ceiling, a JSON policy file: a job's policy
    /// is narrowed by it, and a job asking more is refused
    #[arg(long, value_name = "FILE.json")]
    pub policy: Option<PathBuf>,

    /// Deny a capability on this host (repeatable), as for `weft run`
    #[arg(long, value_name = "CAP", value_parser = crate::capability::parse_flag)]
    pub deny: Vec<Capability>,

    /// Answer LLM calls from recorded request/response pairs
    #[arg(long, value_name = "FILE.jsonl")]
    pub llm_fixture: Option<PathBuf>,

    /// How long a claim lasts without a heartbeat before another host gets
    /// the job (applies when this host creates the queue)
    #[arg(long, value_name = "MS", default_value = "30000")]
    pub ack_wait_ms: NonZeroU64,

    /// This host's labels, NAME=VALUE[,NAME=VALUE...]: it also runs the
    /// workers whose placement asks for labels it has
    #[arg(long, value_name = "LABELS")]
    pub labels: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: ApprovalsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// One line per request: id, status, requested, worker, question
    List {
        /// A JSON array of the request records instead
        #[arg(long)]
        json: bool,
        /// Only pending requests
        #[arg(long)]
        pending: bool,
    },
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The request's id (`a_...`, from `weft approvals list`)
    pub id: String,

    /// Reject instead of approving
    #[arg(long, conflicts_with = "choice")]
    pub reject: bool,

    /// The choice to approve with (one of the request's choices)
    #[arg(long, value_name = "C")]
    pub choice: Option<String>,

    /// A comment for the requester
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The files to check
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WorkersArgs {
    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: WorkersCommand,
}

#[derive(Debug, Subcommand)]
pub enum WorkersCommand {
    /// A table of the stored workers, oldest first: id, status, name, key,
    /// updated, task
    List {
        #[command(flatten)]
        filter: ListFilter,
        #[command(flatten)]
        cluster: ClusterFlag,
    },
    /// A worker's whole snapshot as JSON (from a cluster: with its events)
    Show {
        /// The worker: its id, a unique prefix of it, its key, its name, or
        /// a snapshot file
        reference: String,
        #[command(flatten)]
        cluster: ClusterFlag,
    },
    /// Delete the snapshots (and key index entries) of finished workers;
    /// queued or running ones are never deleted
    Prune {
        #[command(flatten)]
        filter: PruneArgs,
    },
}

/// `--cluster` of the `weft workers` / `weft runs` commands that read.
#[derive(Debug, Args)]
pub struct ClusterFlag {
    /// Read the records of this NATS JetStream cluster instead of the
    /// state directory, nats://HOST:PORT[,HOST:PORT...] (WEFT_CLUSTER when
    /// not given)
    #[arg(long, value_name = "URLS")]
    pub cluster: Option<String>,
}

/// Filters of `weft workers list` / `weft runs list`.
#[derive(Debug, Args)]
pub struct ListFilter {
    /// Only these statuses (comma-separated or repeated)
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only this name (a worker's `name`, a run's workflow)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A JSON array of the records instead of a table
    #[arg(long)]
    pub json: bool,
}

/// What `weft workers prune` / `weft runs prune` delete.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only records last written at least this long ago (`30m`, `12h`,
    /// `7d`, `2w`)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Option<std::time::Duration>,
    /// Only these statuses (comma-separated or repeated; default: every
    /// finished status)
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Print what would be deleted, delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `--older-than`: a duration like `90s`, `30m`, `12h`, `7d`, `2w`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a duration like 90s, 30m, 12h, 7d or 2w"))
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Entries, total bytes, entries by kind, oldest and newest, how many
    /// expired, and the corrupt files (exit 1 when there are any)
    Stats {
        /// The statistics as a JSON object
        #[arg(long)]
        json: bool,
    },
    /// Delete the entries (all, or those created at least --older-than
    /// ago) and every corrupt file
    Clear {
        /// Only entries created at least this long ago (`30s`, `10m`, `2h`,
        /// `7d`)
        #[arg(long, value_name = "DURATION", value_parser = parse_age)]
        older_than: Option<std::time::Duration>,
        /// What was removed as a JSON object
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// State directory (WEFT_STATE_DIR, if set, takes precedence; default
    /// `.weft/`)
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: RunsCommand,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// A table of the stored runs, oldest first: id, status, workflow, key,
    /// stages, created, task
    List {
        #[command(flatten)]
        filter: ListFilter,
        #[command(flatten)]
        cluster: ClusterFlag,
    },
    /// A readable summary of a run: stages, branches, timings, usage
    Show {
        /// The run: its id, a unique prefix of it, its key, its workflow's
        /// name, or a record file
        reference: String,
        /// Print the raw record as JSON instead
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        cluster: ClusterFlag,
    },
    /// Delete the records (and key index entries) of finished runs; running
    /// ones are never deleted
    Prune {
        #[command(flatten)]
        filter: PruneArgs,
    },
    /// A picture of a workflow: of a run (nodes coloured by status, the
    /// edges taken with their counts) or of the definition in a `.wf` file
    /// (read, not run)
    Graph {
        /// The run (id, unique id prefix, key, workflow name, record file),
        /// or a `.wf` source file
        target: String,
        /// Mermaid flowchart, Graphviz DOT, or SVG
        #[arg(long, value_name = "FORMAT", default_value = "mermaid",
              value_parser = ["mermaid", "dot", "svg"])]
        format: String,
        /// Which workflow of a `.wf` file that defines several
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DisasmArgs {
    /// The file to disassemble
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files or directories searched recursively
    #[arg(value_name = "PATH", default_value = "conformance")]
    pub paths: Vec<PathBuf>,

    /// Run only tests whose path contains TEXT
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,

    /// Number of tests run at once (default: the number of CPUs)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn script_arguments_follow_double_dash() {
        let cli = Cli::try_parse_from(["weft", "run", "a.wf", "--", "x", "--fresh"]).unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.args, ["x", "--fresh"]);
        assert!(!run.fresh);
    }

    #[test]
    fn deny_is_repeatable_and_checked() {
        let cli = Cli::try_parse_from([
            "weft", "run", "--deny", "network", "--deny", "fs.write", "a.wf",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.deny, [Capability::Network, Capability::FsWrite]);
        let err = Cli::try_parse_from(["weft", "run", "--deny", "fs.raed", "a.wf"]).unwrap_err();
        assert!(err.to_string().contains("did you mean 'fs.read'?"), "{err}");
    }
}
