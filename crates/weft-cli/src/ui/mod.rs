//! `weft ui`: a read-only web dashboard of the runs and workers of a state
//! directory, served by the `weft` binary itself (axum on the VM thread's
//! tokio current-thread runtime; assets compiled in; no CDN).
//!
//! - [`source`]: the [`StateSource`](source::StateSource) trait and the
//!   local state directory behind it;
//! - [`head`]: the list fields of a record; [`rows`]: the runs list (filtering, paging); [`format`]: text helpers;
//! - [`pages`]: server-rendered HTML; [`live`]: server-sent events;
//! - [`server`]: routes, the token/host guard, handlers.

pub mod format;
pub mod head;
pub mod live;
pub mod pages;
pub mod rows;
pub mod server;
pub mod source;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::cli::UiArgs;
use crate::commands::Exit;

/// The address `weft ui` binds without `--addr`.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8765";

/// Why the server cannot start with these settings (a usage error).
pub fn check_settings(addr: &SocketAddr, token: Option<&str>) -> Result<(), String> {
    if token.is_some_and(|t| t.trim().is_empty()) {
        return Err("the token must not be empty".to_string());
    }
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(format!(
            "binding {addr} (not a loopback address) needs a token: pass --token TOKEN or set WEFT_UI_TOKEN"
        ));
    }
    Ok(())
}

/// Runs `weft ui` until the process is stopped.
pub fn execute(args: UiArgs) -> Exit {
    let state_dir = crate::commands::state_dir(args.state_dir);
    let token = args.token.or_else(|| {
        std::env::var("WEFT_UI_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
    });
    let addr = args.addr;
    if let Err(e) = check_settings(&addr, token.as_deref()) {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    let open = args.open;
    let result = crate::vm_thread::block_on_vm_thread(move || async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
        };
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let mut url = format!("http://{bound}/");
        if let Some(t) = &token {
            url.push_str(&format!("?token={t}"));
        }
        crate::commands::out(&format!("weft ui: {url}  (state: {})", state_dir.display()));
        if open {
            open_browser(&url);
        }
        let app = Arc::new(server::App {
            source: Arc::new(source::LocalState::new(state_dir)),
            token,
        });
        axum::serve(listener, server::router(app))
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(Ok(())) => Exit::Success,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}

/// Opens `url` in the desktop's browser (best effort: a failure is
/// reported, the server keeps running).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("weft ui: could not open a browser ({opener}: {e}); open {url}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elsewhere_than_loopback_needs_a_token() {
        let lo: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        assert!(check_settings(&lo, None).is_ok());
        assert!(check_settings(&any, None)
            .unwrap_err()
            .contains("needs a token"));
        assert!(check_settings(&any, Some("s")).is_ok());
        assert!(check_settings(&any, Some(" ")).is_err());
    }
}
