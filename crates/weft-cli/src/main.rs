//! `weft`, the command-line tool of the Weft language (embedding.md §1):
//! `run`, `check`, `test`, `disasm`, `repl`, `workers`, `runs` and `ui`.
//! Exit status: 0 success, 1 an uncaught error / diagnostics / failed
//! tests, 2 a usage error.

mod capability;
mod cli;
mod commands;
mod repl;
mod testing;
mod ui;
mod vm_thread;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// Weft programs allocate many small strings, lists and dicts; mimalloc
/// handles that pattern markedly faster than the system allocator. The
/// counting wrapper enforces `--max-memory`.
#[global_allocator]
static GLOBAL: weft::CountingAlloc<mimalloc::MiMalloc> = weft::CountingAlloc(mimalloc::MiMalloc);

fn main() -> ExitCode {
    // Usage errors exit 2 (clap's default); --help and --version exit 0.
    GLOBAL.mark_installed();
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Run(args) => commands::run::execute(*args),
        Command::Check(args) => commands::check::execute(args),
        Command::Test(args) => testing::execute(args),
        Command::Disasm(args) => commands::disasm::execute(args),
        Command::Workers(args) => commands::workers::execute(args),
        Command::Runs(args) => commands::runs::execute(args),
        Command::Approvals(args) => commands::approvals::list(args),
        Command::Approve(args) => commands::approvals::approve(args),
        Command::Cache(args) => commands::cache::execute(args),
        Command::Repl => repl::execute(),
        Command::Host(args) => commands::host::execute(args),
        Command::Mcp(args) => match args.command {
            cli::McpCommand::Serve(args) => commands::mcp_serve::execute(args),
        },
        Command::Ui(args) => ui::execute(args),
    };
    exit.into()
}
