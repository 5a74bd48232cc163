//! Simulcast (RFC 8853) with RTP stream identifiers (RFC 8851, RFC 8852).
//!
//! **Sending**: a video transceiver made with [`SendEncoding`]s (the browser's
//! `sendEncodings` of `addTransceiver`) offers `a=rid:<rid> send` and `a=simulcast:send`
//! and, once the answer accepts them, sends one RTP stream per layer: its own SSRC and RTX
//! SSRC, sequence numbers, history, sender reports and NACK answers. Its packets carry the
//! `rtp-stream-id` header extension until the peer's receiver report acknowledges the
//! SSRC (as libwebrtc does), and its retransmissions carry `repaired-rtp-stream-id`. The
//! application writes each layer's frames itself (rtcpeer does not encode); a layer
//! switched off (`active: false`, or by [`allocate_layers`] from a target bitrate) refuses
//! writes until it is switched on again.
//!
//! **Receiving**: a peer's simulcast arrives on undeclared SSRCs (browsers write no
//! `a=ssrc` lines with rids); each new SSRC is routed by the mid and named by the `rid`
//! extension, and an RTX SSRC is paired with its media stream by `repaired-rid`. Frames
//! and packets carry the rid; a layer that sends nothing for [`LAYER_PAUSE_AFTER`] is
//! reported paused, and resumed when it sends again.
//!
//! Not implemented: SVC layer selection (VP9 / AV1 dependency descriptors), rid
//! restrictions other than those the application states itself (the core does not scale
//! video), alternative rids within one simulcast stream (only the first alternative is
//! used).

use std::time::Duration;

/// Most simulcast layers one sender sends (what browsers support).
pub const MAX_SEND_LAYERS: usize = 3;

/// A received layer that sent nothing for this long is reported paused.
pub const LAYER_PAUSE_AFTER: Duration = Duration::from_millis(1500);

/// One encoding of a sender: the browser's `RTCRtpEncodingParameters` as far as the core
/// uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct SendEncoding {
    /// The RTP stream id (RFC 8851 `rid-id`: letters, digits, `-`, `_`; at most 16
    /// characters as browsers require).
    pub rid: String,
    /// Whether the layer is sent. Inactive layers are offered paused (`~rid`).
    pub active: bool,
    /// The most the layer may use, in bit/s (offered as `max-br`; used by
    /// [`allocate_layers`]).
    pub max_bitrate: Option<u32>,
    /// How much smaller than the source the application encodes this layer (informative:
    /// the core does not encode; offered as `max-width`/`max-height` when
    /// [`max_width`](Self::max_width)/[`max_height`](Self::max_height) are set).
    pub scale_resolution_down_by: f64,
    /// Largest width offered as the `max-width` restriction.
    pub max_width: Option<u32>,
    /// Largest height offered as the `max-height` restriction.
    pub max_height: Option<u32>,
    /// Highest frame rate offered as `max-fps`.
    pub max_framerate: Option<u32>,
}

impl SendEncoding {
    /// An active encoding named `rid` with no limits.
    pub fn new(rid: impl Into<String>) -> Self {
        Self {
            rid: rid.into(),
            active: true,
            max_bitrate: None,
            scale_resolution_down_by: 1.0,
            max_width: None,
            max_height: None,
            max_framerate: None,
        }
    }

    /// The same encoding limited to `bps` bit/s.
    pub fn with_max_bitrate(self, bps: u32) -> Self {
        Self {
            max_bitrate: Some(bps),
            ..self
        }
    }

    /// The same encoding scaled down by `factor`.
    pub fn with_scale(self, factor: f64) -> Self {
        Self {
            scale_resolution_down_by: factor,
            ..self
        }
    }

    /// The RFC 8851 restrictions this encoding is offered with (`None` without limits).
    pub(crate) fn restrictions(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("max-width", self.max_width),
            ("max-height", self.max_height),
            ("max-fps", self.max_framerate),
            ("max-br", self.max_bitrate),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect();
        (!parts.is_empty()).then(|| parts.join(";"))
    }
}

/// Checks a sender's encodings: at most [`MAX_SEND_LAYERS`], valid and distinct rids,
/// a scale of at least 1. `Err` names what is wrong.
pub(crate) fn validate_encodings(encodings: &[SendEncoding]) -> Result<(), &'static str> {
    if encodings.len() > MAX_SEND_LAYERS {
        return Err("at most 3 send encodings");
    }
    for (i, e) in encodings.iter().enumerate() {
        let valid = !e.rid.is_empty()
            && e.rid.len() <= 16
            && e.rid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err("a rid is 1 to 16 letters, digits, '-' or '_'");
        }
        if encodings[..i].iter().any(|o| o.rid == e.rid) {
            return Err("rids of one sender must differ");
        }
        if e.scale_resolution_down_by.is_nan() || e.scale_resolution_down_by < 1.0 {
            return Err("scaleResolutionDownBy is at least 1");
        }
    }
    Ok(())
}

/// The bitrate assumed for a layer without `max_bitrate` when allocating.
const UNLIMITED_LAYER_BPS: u64 = 2_500_000;

/// Which layers a target bitrate allows, in the order given (lowest quality first is not
/// assumed: layers are taken from the **smallest** `max_bitrate` up, as each needs the ones
/// below it to be worth sending). A layer is on when it is `active` and the sum of the
/// `max_bitrate`s of the active layers up to and including it fits in `target_bps`. The
/// smallest active layer is always on (a receiver needs something to show; the estimator
/// throttles its encoder). Layers without `max_bitrate` count as 2.5 Mbit/s.
///
/// This is what the bandwidth estimator calls with its estimate; the result is applied
/// with [`TransceiverHandle::set_layers_active`](crate::peer_connection::TransceiverHandle::set_layers_active).
pub fn allocate_layers(target_bps: u64, encodings: &[SendEncoding]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..encodings.len())
        .filter(|&i| encodings[i].active)
        .collect();
    order.sort_by_key(|&i| {
        encodings[i]
            .max_bitrate
            .map_or(UNLIMITED_LAYER_BPS, u64::from)
    });
    let mut on = vec![false; encodings.len()];
    let mut used = 0u64;
    for (n, &i) in order.iter().enumerate() {
        let need = encodings[i]
            .max_bitrate
            .map_or(UNLIMITED_LAYER_BPS, u64::from);
        if n > 0 && used + need > target_bps {
            break;
        }
        used += need;
        on[i] = true;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Vec<SendEncoding> {
        vec![
            SendEncoding::new("h").with_max_bitrate(1_500_000),
            SendEncoding::new("m")
                .with_max_bitrate(500_000)
                .with_scale(2.0),
            SendEncoding::new("l")
                .with_max_bitrate(150_000)
                .with_scale(4.0),
        ]
    }

    #[test]
    fn allocation_adds_layers_from_the_cheapest_as_the_target_grows() {
        let e = three();
        assert_eq!(allocate_layers(0, &e), [false, false, true]);
        assert_eq!(allocate_layers(649_999, &e), [false, false, true]);
        assert_eq!(allocate_layers(650_000, &e), [false, true, true]);
        assert_eq!(allocate_layers(2_149_999, &e), [false, true, true]);
        assert_eq!(allocate_layers(2_150_000, &e), [true, true, true]);
    }

    #[test]
    fn allocation_leaves_inactive_layers_off() {
        let mut e = three();
        e[2].active = false;
        assert_eq!(allocate_layers(0, &e), [false, true, false]);
        assert_eq!(allocate_layers(10_000_000, &e), [true, true, false]);
        e.iter_mut().for_each(|x| x.active = false);
        assert_eq!(allocate_layers(10_000_000, &e), [false, false, false]);
    }

    #[test]
    fn encodings_are_validated() {
        assert!(validate_encodings(&three()).is_ok());
        let mut four = three();
        four.push(SendEncoding::new("x"));
        assert!(validate_encodings(&four).is_err());
        assert!(validate_encodings(&[SendEncoding::new("a"), SendEncoding::new("a")]).is_err());
        assert!(validate_encodings(&[SendEncoding::new("a b")]).is_err());
        assert!(validate_encodings(&[SendEncoding::new("")]).is_err());
        assert!(validate_encodings(&[SendEncoding::new("a").with_scale(0.5)]).is_err());
    }

    #[test]
    fn restrictions_are_written_in_rfc_8851_syntax() {
        let mut e = SendEncoding::new("h").with_max_bitrate(900_000);
        e.max_width = Some(1280);
        e.max_height = Some(720);
        assert_eq!(
            e.restrictions().as_deref(),
            Some("max-width=1280;max-height=720;max-br=900000")
        );
        assert_eq!(SendEncoding::new("h").restrictions(), None);
    }
}
