//! `weft workers list|show --cluster URLS` and `weft runs list|show
//! --cluster URLS` (or `WEFT_CLUSTER`): the records of a NATS JetStream
//! cluster (docs/cluster.md) in the same table, JSON and summary as those
//! of a state directory, read-only. An unreachable cluster is the error
//! `weft run --cluster` gives; an unknown reference the error a state
//! directory gives, naming the cluster.

use weft::cluster::ClusterRecords;
use weft::tooling::{run_summary, RecordKind};

use super::{out, records, vm_thread_failure, Exit};
use crate::cli::ListFilter;
use crate::vm_thread::block_on_vm_thread;

/// What to print of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The record as JSON (a worker with its events).
    Json,
    /// A run's readable summary.
    Summary,
}

/// Connects, runs `read`, and turns an unreachable cluster into exit 1.
fn with_records<T, F, Fut>(urls: String, read: F) -> Result<T, Exit>
where
    T: Send + 'static,
    F: FnOnce(ClusterRecords) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = weft::Result<T>> + 'static,
{
    let outcome = block_on_vm_thread(move || async move {
        let records = weft::cluster::records(&urls).await?;
        read(records).await
    });
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            eprintln!("error: {}", e.message());
            Err(Exit::Failure)
        }
        Err(e) => Err(vm_thread_failure(e)),
    }
}

/// `weft workers list --cluster` / `weft runs list --cluster`.
pub fn list(urls: String, kind: RecordKind, filter: &ListFilter) -> Exit {
    if let Err(exit) = records::statuses_ok(kind, filter) {
        return exit;
    }
    let found = with_records(urls, move |r: ClusterRecords| async move {
        Ok((r.list(kind).await?, r.place()))
    });
    match found {
        Ok((all, place)) => records::show_list(kind, all, filter, &format!("on {place}"), true),
        Err(exit) => exit,
    }
}

/// `weft workers show --cluster` / `weft runs show --cluster`.
pub fn show(urls: String, kind: RecordKind, reference: String, shown: Shown) -> Exit {
    let found = with_records(urls, move |r: ClusterRecords| async move {
        r.show(kind, &reference).await
    });
    match found {
        Ok(v) => {
            match shown {
                Shown::Json => {
                    out(&serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()))
                }
                Shown::Summary => out(&run_summary(&v)),
            }
            Exit::Success
        }
        Err(exit) => exit,
    }
}
