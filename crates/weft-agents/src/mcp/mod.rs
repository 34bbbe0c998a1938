//! MCP (Model Context Protocol) through the `rmcp` SDK. The client side:
//! connections to stdio and streamable HTTP servers (`connection.rs`), their
//! options (`options.rs`), the per-run connection table with capability
//! checks and closing by owner (`state.rs`) and the builtins
//! (`builtins.rs`); `mcp_tool` declarations for `weft mcp serve`
//! (`declare.rs`).

pub mod builtins;
pub mod connection;
pub mod declare;
pub mod options;
pub mod state;

pub use state::close_owned_by;
