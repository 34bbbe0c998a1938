//! A host program embedding Weft through the `weft` crate: native
//! functions (sync and async), a custom model provider, an event
//! subscription, running a script that spawns workers, and calling a
//! script function. Run it from the repository root:
//!
//! ```sh
//! cargo run -p weft-embed-example -- examples/embed/flow.wf
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use weft::llm::{ChatRequest, ChatResponse, LlmProvider, ProviderError};
use weft::{Engine, Event, Limits, Value};

/// A stand-in for an in-house model service: it "summarises" the task.
struct Internal;

impl LlmProvider for Internal {
    fn default_model(&self) -> &str {
        "internal-small"
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let task = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == weft::llm::Role::User)
            .map(|m| m.content.clone())
            .ok_or_else(|| ProviderError::new("provider_error", "no user message"))?;
        let title = task.split(" (").next().unwrap_or(&task);
        Ok(ChatResponse {
            text: format!("summary of '{title}'"),
            input_tokens: task.len() as u64,
            output_tokens: 4,
            ..Default::default()
        })
    }
}

/// The host's user directory.
fn lookup_user(id: i64) -> weft::Result<Value> {
    let name = match id {
        7 => "Ada",
        9 => "Grace",
        _ => return Err(weft::Error::new("not_found", format!("no user {id}"))),
    };
    Ok(Value::dict([("id", id.into()), ("name", name.into())]))
}

/// The host's ticket service (async, as a real client would be).
async fn fetch_ticket(id: String) -> weft::Result<serde_json::Value> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (title, user) = match id.as_str() {
        "T-1" => ("Printer on fire", 7),
        "T-2" => ("Coffee machine empty", 9),
        "T-3" => ("Wi-Fi down", 7),
        _ => return Err(weft::Error::new("not_found", format!("no ticket {id}"))),
    };
    Ok(serde_json::json!({"id": id, "title": title, "user_id": user}))
}

async fn run(script: &str) -> weft::Result<()> {
    let mut engine = Engine::builder()
        .limits(Limits {
            max_steps: Some(10_000_000),
            time_limit: Some(Duration::from_secs(30)),
            ..Default::default()
        })
        .build()?;
    engine.register_fn_with_params("lookup_user", &["id"], lookup_user)?;
    engine.register_async_fn_with_params("fetch_ticket", &["id"], fetch_ticket)?;
    engine.set_provider("internal", Internal)?;

    let counts: Rc<RefCell<BTreeMap<String, usize>>> = Rc::default();
    let seen = counts.clone();
    engine.on_event(move |ev: &Event| {
        *seen.borrow_mut().entry(ev.kind().to_string()).or_default() += 1
    });

    let value = engine.run_file(script).await?;
    println!("script returned {value}");

    let reply = engine.call("triage", vec!["T-3".into()]).await?;
    println!("triage(\"T-3\") = {reply}");

    let err = engine.call("triage", vec![42.into()]).await.unwrap_err();
    println!("triage(42) failed: [{}] {}", err.category(), err.message());

    let events: Vec<String> = counts
        .borrow()
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    println!("events: {}", events.join(" "));
    Ok(())
}

fn main() -> ExitCode {
    let script = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/embed/flow.wf".into());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, run(&script)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
