//! SDP parse and print of a real Chromium offer (audio + video + data, 177 lines).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rtcpeer::sdp::SessionDescription;

const OFFER: &str = include_str!("../src/sdp/fixtures/chromium-offer.sdp");

fn parse(c: &mut Criterion) {
    c.bench_function("sdp_parse_chromium_offer", |b| {
        b.iter(|| SessionDescription::parse(black_box(OFFER)).expect("fixture parses"))
    });
}

fn print(c: &mut Criterion) {
    let sdp = SessionDescription::parse(OFFER).expect("fixture parses");
    c.bench_function("sdp_print_chromium_offer", |b| {
        b.iter(|| black_box(&sdp).to_string())
    });
}

criterion_group!(benches, parse, print);
criterion_main!(benches);
