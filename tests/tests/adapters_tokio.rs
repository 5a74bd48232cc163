//! The tokio adapter over real loopback UDP (multi-thread runtime).

mod adapters_common;

use adapters_common as common;
use rtcpeer_tokio::TokioRuntime;

fn rt() -> std::sync::Arc<dyn rtcpeer_tokio::Runtime> {
    TokioRuntime::current().into_dyn()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_sockets_exchange_batches_over_loopback() {
    common::exchange_over_loopback(rt(), 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_timer_fires_at_reset_deadline() {
    common::timer_fires_at_reset_deadline(rt()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_spawned_task_runs() {
    common::spawned_task_runs(rt()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_resolves_literals_and_localhost() {
    common::resolves_literals_and_localhost(rt()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_seeds_differ() {
    common::seeds_differ(rt());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_bind_rejects_wildcard_address() {
    common::bind_rejects_wildcard_address(rt());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_bind_fails_when_no_address_qualifies() {
    common::bind_fails_when_no_address_qualifies(rt());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_two_peers_connect_open_channels_transfer_and_close() {
    common::scenario::two_peers_transfer(&common::peer::AsyncAdapter(rt())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_transfer_survives_garbage_datagrams() {
    common::stress::transfer_survives_garbage(&common::peer::AsyncAdapter(rt())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_dropping_every_handle_closes_the_connection() {
    common::async_only::dropping_every_handle_closes_the_connection(rt()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_slow_reader_pauses_and_resumes() {
    common::stress::slow_reader_pauses_and_resumes(&common::peer::AsyncAdapter(rt())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_trickled_candidates_connect() {
    common::async_only::trickled_candidates_connect(rt()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_echo_under_back_pressure_completes() {
    common::stress::echo_under_back_pressure_completes(&common::peer::AsyncAdapter(rt())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_channel_close_delivers_queued_data() {
    common::scenario::close_delivers_queued_data(&common::peer::AsyncAdapter(rt())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_endpoint_serves_many_connections_on_one_socket() {
    common::server::many_connections_on_one_port(rt(), 24, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_endpoint_shards_serve_many_connections_on_one_port() {
    common::server::many_connections_on_one_port(rt(), 24, 4).await;
}
