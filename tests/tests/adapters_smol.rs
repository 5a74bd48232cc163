//! The smol adapter over real loopback UDP (smol's global executor).

mod adapters_common;

use adapters_common as common;
use rtcpeer_smol::SmolRuntime;

fn rt() -> std::sync::Arc<dyn rtcpeer_smol::Runtime> {
    SmolRuntime::current().into_dyn()
}

#[test]
fn smol_sockets_exchange_batches_over_loopback() {
    smol::block_on(common::exchange_over_loopback(rt(), 1000));
}

#[test]
fn smol_timer_fires_at_reset_deadline() {
    smol::block_on(common::timer_fires_at_reset_deadline(rt()));
}

#[test]
fn smol_spawned_task_runs() {
    smol::block_on(common::spawned_task_runs(rt()));
}

#[test]
fn smol_resolves_literals_and_localhost() {
    smol::block_on(common::resolves_literals_and_localhost(rt()));
}

#[test]
fn smol_seeds_differ() {
    common::seeds_differ(rt());
}

#[test]
fn smol_bind_rejects_wildcard_address() {
    common::bind_rejects_wildcard_address(rt());
}

#[test]
fn smol_bind_fails_when_no_address_qualifies() {
    common::bind_fails_when_no_address_qualifies(rt());
}

#[test]
fn smol_two_peers_connect_open_channels_transfer_and_close() {
    smol::block_on(common::scenario::two_peers_transfer(
        &common::peer::AsyncAdapter(rt()),
    ));
}

#[test]
fn smol_transfer_survives_garbage_datagrams() {
    smol::block_on(common::stress::transfer_survives_garbage(
        &common::peer::AsyncAdapter(rt()),
    ));
}

#[test]
fn smol_dropping_every_handle_closes_the_connection() {
    smol::block_on(common::async_only::dropping_every_handle_closes_the_connection(rt()));
}

#[test]
fn smol_slow_reader_pauses_and_resumes() {
    smol::block_on(common::stress::slow_reader_pauses_and_resumes(
        &common::peer::AsyncAdapter(rt()),
    ));
}

#[test]
fn smol_trickled_candidates_connect() {
    smol::block_on(common::async_only::trickled_candidates_connect(rt()));
}

#[test]
fn smol_echo_under_back_pressure_completes() {
    smol::block_on(common::stress::echo_under_back_pressure_completes(
        &common::peer::AsyncAdapter(rt()),
    ));
}

#[test]
fn smol_channel_close_delivers_queued_data() {
    smol::block_on(common::scenario::close_delivers_queued_data(
        &common::peer::AsyncAdapter(rt()),
    ));
}

#[test]
fn smol_endpoint_serves_many_connections_on_one_socket() {
    smol::block_on(common::server::many_connections_on_one_port(rt(), 24, 1));
}

#[test]
fn smol_endpoint_shards_serve_many_connections_on_one_port() {
    smol::block_on(common::server::many_connections_on_one_port(rt(), 24, 4));
}
