pub mod nats_cluster;

/// One readiness check of the test cluster for `nats_cluster`: a stream
/// with three replicas can be created and deleted.
pub async fn probe_cluster_ready(urls: &str) -> Result<(), String> {
    let urls = weft_agents::cluster::ClusterUrls::parse(urls)?;
    let cluster =
        weft_agents::cluster::Cluster::connect(&urls, weft_agents::cluster::CONNECT_TIMEOUT)
            .await?;
    weft_agents::cluster::ready::probe_replicated_write(&cluster, 3).await
}
