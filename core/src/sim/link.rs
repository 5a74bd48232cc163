//! One-way links: latency, jitter, loss (random or bursty), duplication, reordering, a
//! bandwidth limit with a drop-tail queue, and an MTU.
//!
//! Every interface in the simulation (a node's address, a network's gateway) has two links:
//! one towards its network ("up") and one from it ("down"). A datagram crosses a link in
//! this order: MTU check, drop-tail queue and serialization at the link's bandwidth, loss,
//! then propagation (latency plus jitter, possibly held back for reordering) — and a
//! duplicate, if one is made, takes its own propagation delay.

use super::capture::DropReason;
use crate::rng::Rng;
use std::time::{Duration, Instant};

/// Bytes the simulator adds to a UDP payload to get an IPv4 packet (IPv4 + UDP headers).
pub const IPV4_UDP_OVERHEAD: usize = 28;
/// Bytes the simulator adds to a UDP payload to get an IPv6 packet (IPv6 + UDP headers).
pub const IPV6_UDP_OVERHEAD: usize = 48;

/// How a link loses datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Nothing is lost.
    #[default]
    None,
    /// Each datagram is lost independently with this probability (0.0 to 1.0).
    Random(f64),
    /// Bursty loss from a two-state Gilbert-Elliott model.
    GilbertElliott(GilbertElliott),
}

/// A two-state Markov loss model: a "good" and a "bad" state, each with its own loss
/// probability. The state changes (or not) after every datagram.
///
/// The long-run fraction of time in the bad state is `good_to_bad / (good_to_bad +
/// bad_to_good)`, and a stay in the bad state lasts `1 / bad_to_good` datagrams on average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from good to bad after a datagram.
    pub good_to_bad: f64,
    /// Probability of moving from bad to good after a datagram.
    pub bad_to_good: f64,
    /// Loss probability in the good state (often 0).
    pub loss_in_good: f64,
    /// Loss probability in the bad state (often 1).
    pub loss_in_bad: f64,
}

impl GilbertElliott {
    /// The simple Gilbert model: the good state loses nothing, the bad state loses
    /// everything, so losses come in bursts of `mean_burst` datagrams on average and the
    /// overall loss rate is `mean_loss`.
    ///
    /// `mean_loss` is clamped to `[0, 0.99]` and `mean_burst` to at least 1.
    pub fn bursts(mean_loss: f64, mean_burst: f64) -> Self {
        let loss = mean_loss.clamp(0.0, 0.99);
        let bad_to_good = 1.0 / mean_burst.max(1.0);
        Self {
            good_to_bad: loss * bad_to_good / (1.0 - loss),
            bad_to_good,
            loss_in_good: 0.0,
            loss_in_bad: 1.0,
        }
    }
}

/// The behaviour of one direction of a link. Build it with the chained setters:
///
/// ```
/// # use rtcpeer::sim::{LinkConfig, Loss};
/// # use std::time::Duration;
/// let wan = LinkConfig::new()
///     .latency(Duration::from_millis(50))
///     .jitter(Duration::from_millis(5))
///     .loss(Loss::Random(0.01))
///     .bandwidth(2_000_000, 64 * 1024);
/// assert_eq!(wan.latency, Duration::from_millis(50));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// Fixed one-way propagation delay.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `[0, jitter]` for each datagram.
    pub jitter: Duration,
    /// When `false` (the default), jitter never reorders: a datagram never arrives before
    /// one that entered the link earlier. When `true`, datagrams may overtake each other.
    pub jitter_reorders: bool,
    /// How datagrams are lost.
    pub loss: Loss,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by [`LinkConfig::reorder_delay`] so that
    /// later datagrams overtake it.
    pub reorder: f64,
    /// How long a reordered datagram is held back (default 10 ms).
    pub reorder_delay: Duration,
    /// Bandwidth in bits per second; `None` for unlimited.
    pub bandwidth_bps: Option<u64>,
    /// Capacity of the drop-tail queue in front of a bandwidth-limited link, in bytes of IP
    /// packets (default 64 KiB). A datagram that does not fit is dropped.
    pub queue_bytes: usize,
    /// Largest IP packet (payload plus IP and UDP headers) the link carries; larger ones
    /// are dropped. `None` for unlimited.
    pub mtu: Option<usize>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            jitter_reorders: false,
            loss: Loss::None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(10),
            bandwidth_bps: None,
            queue_bytes: 64 * 1024,
            mtu: None,
        }
    }
}

impl LinkConfig {
    /// An ideal link: no delay, no loss, no limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the fixed one-way latency.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the jitter bound (extra delay uniform in `[0, jitter]`), keeping FIFO order.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Lets jitter reorder datagrams (see [`LinkConfig::jitter_reorders`]).
    pub fn jitter_reorders(mut self, reorders: bool) -> Self {
        self.jitter_reorders = reorders;
        self
    }

    /// Sets the loss model.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the duplication probability.
    pub fn duplicate(mut self, probability: f64) -> Self {
        self.duplicate = probability;
        self
    }

    /// Holds back each datagram with `probability` by `delay`, so later ones overtake it.
    pub fn reorder(mut self, probability: f64, delay: Duration) -> Self {
        self.reorder = probability;
        self.reorder_delay = delay;
        self
    }

    /// Limits the bandwidth to `bits_per_second` behind a drop-tail queue of `queue_bytes`.
    pub fn bandwidth(mut self, bits_per_second: u64, queue_bytes: usize) -> Self {
        self.bandwidth_bps = Some(bits_per_second);
        self.queue_bytes = queue_bytes;
        self
    }

    /// Sets the MTU (largest IP packet, headers included).
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = Some(mtu);
        self
    }
}

/// Where a datagram crossing a link arrives: the first copy and, if the link duplicated
/// it, the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrivals {
    pub(crate) first: Instant,
    pub(crate) duplicate: Option<Instant>,
}

/// One direction of a link with its state.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) config: LinkConfig,
    rng: Rng,
    /// Gilbert-Elliott state: `true` while in the bad state.
    bad: bool,
    /// When the serializer finishes the last queued datagram.
    busy_until: Option<Instant>,
    /// Latest arrival scheduled in FIFO order.
    last_arrival: Option<Instant>,
}

impl Link {
    pub(crate) fn new(config: LinkConfig, rng: Rng) -> Self {
        Self {
            config,
            rng,
            bad: false,
            busy_until: None,
            last_arrival: None,
        }
    }

    /// Sends an IP packet of `wire_len` bytes into the link at `now`.
    pub(crate) fn admit(&mut self, now: Instant, wire_len: usize) -> Result<Arrivals, DropReason> {
        if self.config.mtu.is_some_and(|mtu| wire_len > mtu) {
            return Err(DropReason::Mtu);
        }
        let departure = self.serialize(now, wire_len)?;
        if self.lose() {
            return Err(DropReason::Loss);
        }
        let first = self.propagate(departure);
        let duplicate = (self.config.duplicate > 0.0 && self.rng.chance(self.config.duplicate))
            .then(|| self.propagate(departure));
        Ok(Arrivals { first, duplicate })
    }

    /// Queues the packet behind the ones still being serialized; returns when its last
    /// bit leaves, or drops it when the queue is full.
    fn serialize(&mut self, now: Instant, wire_len: usize) -> Result<Instant, DropReason> {
        let Some(rate) = self.config.bandwidth_bps.filter(|r| *r > 0) else {
            return Ok(now);
        };
        let busy_until = self.busy_until.filter(|b| *b > now).unwrap_or(now);
        let backlog_nanos = (busy_until - now).as_nanos();
        let backlog_bytes = backlog_nanos * u128::from(rate) / 8_000_000_000;
        if backlog_bytes + wire_len as u128 > self.config.queue_bytes as u128 {
            return Err(DropReason::QueueFull);
        }
        let nanos = (wire_len as u128 * 8_000_000_000).div_ceil(u128::from(rate));
        let done = busy_until + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.busy_until = Some(done);
        Ok(done)
    }

    /// Decides whether this datagram is lost, advancing the Gilbert-Elliott state.
    fn lose(&mut self) -> bool {
        match self.config.loss {
            Loss::None => false,
            Loss::Random(p) => p > 0.0 && self.rng.chance(p),
            Loss::GilbertElliott(ge) => {
                let p = if self.bad {
                    ge.loss_in_bad
                } else {
                    ge.loss_in_good
                };
                let lost = p > 0.0 && self.rng.chance(p);
                let flip = if self.bad {
                    ge.bad_to_good
                } else {
                    ge.good_to_bad
                };
                if flip > 0.0 && self.rng.chance(flip) {
                    self.bad = !self.bad;
                }
                lost
            }
        }
    }

    /// The arrival time of a datagram whose last bit left at `departure`.
    fn propagate(&mut self, departure: Instant) -> Instant {
        let jitter_nanos = u64::try_from(self.config.jitter.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos > 0 {
            Duration::from_nanos(self.rng.below(jitter_nanos.saturating_add(1)))
        } else {
            Duration::ZERO
        };
        let arrival = departure + self.config.latency + jitter;
        if self.config.reorder > 0.0 && self.rng.chance(self.config.reorder) {
            // Held back outside the FIFO order, so later datagrams overtake it.
            return arrival + self.config.reorder_delay;
        }
        if self.config.jitter_reorders {
            return arrival;
        }
        let arrival = self.last_arrival.map_or(arrival, |last| arrival.max(last));
        self.last_arrival = Some(arrival);
        arrival
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    #[test]
    fn mtu_counts_headers_and_drops_larger_packets() {
        let mut link = Link::new(LinkConfig::new().mtu(100), Rng::from_u64(1));
        let now = t0();
        assert!(link.admit(now, 100).is_ok());
        assert_eq!(link.admit(now, 101), Err(DropReason::Mtu));
    }

    #[test]
    fn serialization_delay_follows_bandwidth() {
        // 8 kbit/s: 100 bytes take 100 ms.
        let mut link = Link::new(LinkConfig::new().bandwidth(8_000, 1000), Rng::from_u64(1));
        let now = t0();
        let a = link.admit(now, 100).expect("fits");
        let b = link.admit(now, 100).expect("fits");
        assert_eq!(a.first, now + Duration::from_millis(100));
        assert_eq!(b.first, now + Duration::from_millis(200));
    }

    #[test]
    fn drop_tail_queue_rejects_what_does_not_fit() {
        let mut link = Link::new(LinkConfig::new().bandwidth(8_000, 250), Rng::from_u64(1));
        let now = t0();
        assert!(link.admit(now, 100).is_ok());
        assert!(link.admit(now, 100).is_ok());
        assert_eq!(link.admit(now, 100), Err(DropReason::QueueFull));
        // After the first packet has left, there is room again.
        assert!(link.admit(now + Duration::from_millis(100), 100).is_ok());
    }

    #[test]
    fn fifo_jitter_never_reorders() {
        let cfg = LinkConfig::new()
            .latency(Duration::from_millis(10))
            .jitter(Duration::from_millis(20));
        let mut link = Link::new(cfg, Rng::from_u64(4));
        let now = t0();
        let mut last = now;
        for i in 0..200u64 {
            let a = link
                .admit(now + Duration::from_millis(i), 50)
                .expect("no loss");
            assert!(a.first >= last);
            assert!(a.first >= now + Duration::from_millis(i + 10));
            last = a.first;
        }
    }

    #[test]
    fn gilbert_bursts_parameters_match_the_requested_rate() {
        let ge = GilbertElliott::bursts(0.1, 4.0);
        assert!((ge.bad_to_good - 0.25).abs() < 1e-12);
        let stationary_bad = ge.good_to_bad / (ge.good_to_bad + ge.bad_to_good);
        assert!((stationary_bad - 0.1).abs() < 1e-12);
    }
}
