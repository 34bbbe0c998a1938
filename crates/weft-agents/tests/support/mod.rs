pub mod nats_cluster;
