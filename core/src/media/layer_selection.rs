//! Choosing which received simulcast layer to forward to one subscriber, from that
//! subscriber's bandwidth estimate: the decision a selective forwarding unit makes per
//! viewer.
//!
//! [`LayerSelector`] measures each layer's bitrate as it arrives from the publisher
//! ([`on_packet`](LayerSelector::on_packet)) and, given the estimate of the connection the
//! layer is forwarded on ([`PeerConnection::bandwidth_estimate`](crate::peer_connection::PeerConnection::bandwidth_estimate)),
//! [`select`](LayerSelector::select)s the layer with the highest measured rate that fits
//! under a fraction of the estimate (the lowest when none fits). It moves up only after
//! the estimate has allowed a higher layer for a while, so that one good feedback report
//! does not flip the picture back and forth, and down at once when the chosen layer no
//! longer fits under the whole estimate. Layers are told apart by
//! their rid and ranked by what they measure, so no order of rids is assumed.
//!
//! Pure and deterministic: packets and time come in, a rid comes out. Switching the
//! forwarded stream at a keyframe of the new layer (and asking for one) and continuing the
//! subscriber's sequence numbers and timestamps are the forwarder's part
//! (`RtpWrite::source` keeps the numbering continuous across sources).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Most distinct layers tracked; packets of further rids are ignored.
pub const MAX_SELECTABLE_LAYERS: usize = 8;
/// Granularity of the rate measurement.
const BUCKET: Duration = Duration::from_millis(100);

/// Settings of a [`LayerSelector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSelectorConfig {
    /// Share of the estimate a layer's measured rate may take to be chosen (headroom for
    /// keyframes, retransmissions and the rate's swings). Default 0.8.
    pub usable_share: f64,
    /// How long the estimate must keep allowing a higher layer before it is chosen.
    /// Default 2 s.
    pub up_after: Duration,
    /// Span over which a layer's rate is measured; a layer is not chosen before it has
    /// been seen this long. Default 1 s.
    pub rate_window: Duration,
}

impl Default for LayerSelectorConfig {
    fn default() -> Self {
        Self {
            usable_share: 0.8,
            up_after: Duration::from_secs(2),
            rate_window: Duration::from_secs(1),
        }
    }
}

/// Bytes received on one layer, in [`BUCKET`]-long buckets over the rate window.
#[derive(Debug)]
struct LayerRate {
    rid: String,
    first_seen: Instant,
    /// (bucket start, bytes), oldest first, none older than the window.
    buckets: VecDeque<(Instant, u64)>,
}

impl LayerRate {
    fn add(&mut self, bytes: usize, now: Instant, window: Duration) {
        match self.buckets.back_mut() {
            Some((start, sum)) if now.saturating_duration_since(*start) < BUCKET => {
                *sum += bytes as u64;
            }
            _ => self.buckets.push_back((now, bytes as u64)),
        }
        self.forget_before(now, window);
    }

    fn forget_before(&mut self, now: Instant, window: Duration) {
        while self
            .buckets
            .front()
            .is_some_and(|(start, _)| now.saturating_duration_since(*start) >= window)
        {
            self.buckets.pop_front();
        }
    }

    /// Bits per second over the window ending at `now`; `None` until the layer has been
    /// seen for a whole window, and when nothing arrived within it.
    fn rate(&self, now: Instant, window: Duration) -> Option<u64> {
        if now.saturating_duration_since(self.first_seen) < window {
            return None;
        }
        let recent = || {
            self.buckets
                .iter()
                .filter(|(start, _)| now.saturating_duration_since(*start) < window)
        };
        let bytes: u64 = recent().map(|(_, b)| b).sum();
        let oldest = recent().next()?.0;
        // Over the span the counted buckets cover, so that the bucket straddling the
        // window's start is neither half counted nor counted whole against a window.
        let span = now.saturating_duration_since(oldest).max(BUCKET);
        (bytes > 0).then(|| (bytes as f64 * 8.0 / span.as_secs_f64()) as u64)
    }
}

/// Picks the simulcast layer one subscriber gets (see the module documentation).
#[derive(Debug)]
pub struct LayerSelector {
    config: LayerSelectorConfig,
    layers: Vec<LayerRate>,
    chosen: Option<usize>,
    /// Since when the estimate has allowed a layer above the chosen one.
    higher_allowed_since: Option<Instant>,
}

impl LayerSelector {
    /// A selector with no layer measured and none chosen.
    pub fn new(config: LayerSelectorConfig) -> Self {
        let window = config.rate_window.max(BUCKET);
        Self {
            config: LayerSelectorConfig {
                rate_window: window,
                ..config
            },
            layers: Vec::new(),
            chosen: None,
            higher_allowed_since: None,
        }
    }

    /// A packet of `bytes` (its whole size) arrived from the publisher on layer `rid`.
    /// Times must not go backwards (earlier ones count as the latest).
    pub fn on_packet(&mut self, rid: &str, bytes: usize, now: Instant) {
        let window = self.config.rate_window;
        if let Some(layer) = self.layers.iter_mut().find(|l| l.rid == rid) {
            layer.add(bytes, now, window);
            return;
        }
        if self.layers.len() >= MAX_SELECTABLE_LAYERS {
            return;
        }
        let mut layer = LayerRate {
            rid: rid.to_owned(),
            first_seen: now,
            buckets: VecDeque::new(),
        };
        layer.add(bytes, now, window);
        self.layers.push(layer);
    }

    /// The measured rate of layer `rid` in bit/s, once it has been seen for a whole rate
    /// window; `None` before that, when unknown, or when it sent nothing lately.
    pub fn layer_bitrate(&self, rid: &str, now: Instant) -> Option<u64> {
        let layer = self.layers.iter().find(|l| l.rid == rid)?;
        layer.rate(now, self.config.rate_window)
    }

    /// The layer chosen by the last [`select`](Self::select).
    pub fn chosen(&self) -> Option<&str> {
        self.chosen.map(|i| self.layers[i].rid.as_str())
    }

    /// Chooses the layer to forward now, given the subscriber's estimate in bit/s (`None`
    /// while there is none: the cheapest layer). The best layer is the one with the highest
    /// measured rate within [`usable_share`](LayerSelectorConfig::usable_share) of the
    /// estimate, or the cheapest when none fits. A dearer best layer is taken only after
    /// the estimate has allowed some layer above the chosen one for
    /// [`up_after`](LayerSelectorConfig::up_after) without a break; the chosen layer stays
    /// while its rate is within the whole estimate, and is left for the best one at once
    /// when it is not (or when it stopped arriving). `None` while no layer has a measured
    /// rate.
    pub fn select(&mut self, estimate_bps: Option<u64>, now: Instant) -> Option<&str> {
        let rates = self.rates(now);
        let Some(best) = self.best(&rates, estimate_bps) else {
            return self.chosen();
        };
        let current = self.chosen.and_then(|c| rates[c]);
        let best_rate = rates[best].unwrap_or(0);
        let within_estimate = |rate: u64| estimate_bps.is_some_and(|e| rate <= e);
        match current {
            Some(rate) if best_rate > rate => {
                let since = *self.higher_allowed_since.get_or_insert(now);
                if now.saturating_duration_since(since) >= self.config.up_after {
                    self.choose(best);
                }
            }
            // The chosen layer stays while it fits under the whole estimate: the headroom
            // is for going up, so that a layer's swings (a keyframe) do not flip it.
            Some(rate) if within_estimate(rate) => self.higher_allowed_since = None,
            _ => self.choose(best),
        }
        self.chosen()
    }

    fn choose(&mut self, layer: usize) {
        self.chosen = Some(layer);
        self.higher_allowed_since = None;
    }

    /// Each layer's measured rate, by index.
    fn rates(&mut self, now: Instant) -> Vec<Option<u64>> {
        let window = self.config.rate_window;
        self.layers
            .iter_mut()
            .map(|l| {
                l.forget_before(now, window);
                l.rate(now, window)
            })
            .collect()
    }

    /// The dearest layer that fits under the usable share of the estimate, else the
    /// cheapest measured one.
    fn best(&self, rates: &[Option<u64>], estimate_bps: Option<u64>) -> Option<usize> {
        let measured = || {
            rates
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i, (*r)?)))
        };
        let cheapest = measured().min_by_key(|&(_, r)| r).map(|(i, _)| i);
        let Some(estimate) = estimate_bps else {
            return cheapest;
        };
        let budget = estimate as f64 * self.config.usable_share;
        measured()
            .filter(|&(_, r)| r as f64 <= budget)
            .max_by_key(|&(_, r)| r)
            .map(|(i, _)| i)
            .or(cheapest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    /// Layers l, m, h at about 150, 500 and 1500 kbit/s: one packet per layer every
    /// 10 ms from `from` until `until` (milliseconds after `t`).
    fn feed(s: &mut LayerSelector, t: Instant, from: u64, until: u64) {
        for ms in (from..until).step_by(10) {
            let now = t + Duration::from_millis(ms);
            for (rid, bytes) in [("l", 187), ("m", 625), ("h", 1875)] {
                s.on_packet(rid, bytes, now);
            }
        }
    }

    fn at(t: Instant, ms: u64) -> Instant {
        t + Duration::from_millis(ms)
    }

    #[test]
    fn rates_are_measured_per_layer_after_a_whole_window() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 900);
        assert_eq!(s.layer_bitrate("l", at(t, 900)), None, "not a window yet");
        feed(&mut s, t, 900, 2000);
        let rate = |rid| s.layer_bitrate(rid, at(t, 2000)).expect("measured");
        for (rid, want) in [("l", 149_600), ("m", 500_000), ("h", 1_500_000)] {
            let got = rate(rid);
            assert!(got.abs_diff(want) <= want / 50, "{rid}: {got} for {want}");
        }
        assert_eq!(s.layer_bitrate("x", at(t, 2000)), None);
        // A layer that stops is no longer measured once its window has passed.
        assert_eq!(s.layer_bitrate("h", at(t, 3100)), None);
    }

    #[test]
    fn nothing_is_chosen_before_a_rate_is_known_then_the_cheapest_without_estimate() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 500);
        assert_eq!(s.select(Some(10_000_000), at(t, 500)), None);
        feed(&mut s, t, 500, 1100);
        assert_eq!(s.select(None, at(t, 1100)), Some("l"));
    }

    #[test]
    fn the_dearest_layer_under_the_usable_share_of_the_estimate_is_chosen() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 1100);
        // From nothing chosen, the first choice is immediate.
        assert_eq!(s.select(Some(700_000), at(t, 1100)), Some("m"));
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 1100);
        // 600 kbit/s × 0.8 = 480 kbit/s: m (500) does not fit, l does.
        assert_eq!(s.select(Some(600_000), at(t, 1100)), Some("l"));
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 1100);
        // Below even l: the cheapest layer still goes.
        assert_eq!(s.select(Some(50_000), at(t, 1100)), Some("l"));
    }

    #[test]
    fn up_waits_for_the_estimate_to_allow_it_without_a_break_down_is_at_once() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        let mut fed = 0;
        // Feeds the layers up to `ms`, then selects with `estimate`.
        let mut step = |s: &mut LayerSelector, ms: u64, estimate: u64| {
            feed(s, t, fed, ms);
            fed = ms;
            s.select(Some(estimate), at(t, ms)).map(str::to_owned)
        };
        let l = Some("l".to_owned());
        assert_eq!(step(&mut s, 1000, 300_000), l);
        // The estimate allows h from 1.5 s on, with a dip at 2.5 s: the wait starts again.
        assert_eq!(step(&mut s, 1500, 3_000_000), l);
        assert_eq!(step(&mut s, 2400, 3_000_000), l);
        assert_eq!(step(&mut s, 2500, 300_000), l);
        assert_eq!(step(&mut s, 2600, 3_000_000), l);
        assert_eq!(step(&mut s, 4500, 3_000_000), l);
        // Two seconds of "allowed" since 2.6 s: up to the best layer then.
        assert_eq!(step(&mut s, 4600, 3_000_000).as_deref(), Some("h"));
        // The estimate falls: down at once, to what fits.
        assert_eq!(step(&mut s, 4700, 700_000).as_deref(), Some("m"));
        assert_eq!(step(&mut s, 4800, 100_000), l);
    }

    #[test]
    fn the_chosen_layer_stays_while_it_fits_under_the_whole_estimate() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 1100);
        assert_eq!(s.select(Some(700_000), at(t, 1100)), Some("m"));
        // m (500 kbit/s) no longer fits under 80 % of 600 kbit/s, but under all of it.
        assert_eq!(s.select(Some(600_000), at(t, 1100)), Some("m"));
        // Under 500 kbit/s it does not: down at once.
        assert_eq!(s.select(Some(450_000), at(t, 1100)), Some("l"));
    }

    #[test]
    fn a_chosen_layer_that_stops_arriving_is_replaced_at_once() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        feed(&mut s, t, 0, 1100);
        assert_eq!(s.select(Some(700_000), at(t, 1100)), Some("m"));
        // Only l and h go on; m's measurement runs dry a window later.
        for ms in (1100..3000).step_by(10) {
            s.on_packet("l", 187, at(t, ms));
            s.on_packet("h", 1875, at(t, ms));
        }
        assert_eq!(s.select(Some(700_000), at(t, 3000)), Some("l"));
        assert_eq!(s.select(Some(10_000_000), at(t, 3000)), Some("l"));
    }

    #[test]
    fn layers_beyond_the_bound_are_ignored() {
        let t = t0();
        let mut s = LayerSelector::new(LayerSelectorConfig::default());
        for i in 0..3 * MAX_SELECTABLE_LAYERS {
            s.on_packet(&format!("r{i}"), 100, t);
        }
        assert_eq!(s.layers.len(), MAX_SELECTABLE_LAYERS);
        assert_eq!(s.layer_bitrate("r20", at(t, 2000)), None);
    }
}
