//! The session description (RFC 8866 §5): its fields, typed session-level getters and a
//! small builder for JSEP.

use core::fmt;

use super::attribute::Attribute;
use super::media::MediaDescription;
use super::text::{fields, is_token, is_word, number};
use super::transport_attrs::{Direction, Fingerprint, Group, IceOptions, MsidSemantic, Setup};

/// A parsed or built SDP session description.
///
/// Fields appear in RFC 8866 order. The model holds only well-formed values when it comes from
/// [`SessionDescription::parse`]; when you build one by hand, keep values within their grammar
/// (no spaces in tokens, no line breaks anywhere) or check it with [`Self::check`].
/// Printing (`Display`) is canonical and `parse(print(x)) == x` for every valid `x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`
    pub origin: Origin,
    /// `s=` (`-` when there is no name).
    pub session_name: String,
    /// `i=`
    pub information: Option<String>,
    /// `u=`
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<ConnectionAddress>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines, each with its `r=` lines; at least one.
    pub times: Vec<TimeDescription>,
    /// `z=` adjustments (empty: no `z=` line).
    pub time_zones: Vec<TimeZoneAdjustment>,
    /// Session-level `k=` (obsolete, kept for round trips).
    pub key: Option<String>,
    /// Session-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// A description with `origin`, `s=-`, `t=0 0` and nothing else: the start of a JSEP
    /// offer or answer.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            session_name: "-".into(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: vec![TimeDescription {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            time_zones: Vec::new(),
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Appends a session-level attribute (builder style).
    pub fn with_attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Appends a media section (builder style).
    pub fn with_media(mut self, media: MediaDescription) -> Self {
        self.media.push(media);
        self
    }

    /// Checks that this description prints to text that parses back to itself, i.e. that
    /// every hand-set value is within its grammar. Descriptions from `parse` always pass.
    pub fn check(&self) -> Result<(), super::SdpError> {
        let reparsed = Self::parse(&self.to_string())?;
        if &reparsed == self {
            Ok(())
        } else {
            let line = first_difference(&self.to_string(), &reparsed.to_string());
            Err(super::SdpError::new(
                line,
                super::SdpErrorKind::InvalidValue {
                    expected: "a value that prints back to itself",
                },
            ))
        }
    }

    /// The media section whose `a=mid` is `mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// Mutable access to the media section whose `a=mid` is `mid`.
    pub fn media_by_mid_mut(&mut self, mid: &str) -> Option<&mut MediaDescription> {
        self.media.iter_mut().find(|m| m.mid() == Some(mid))
    }

    /// All `a=group` lines.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Group(g) => Some(g),
            _ => None,
        })
    }

    /// The `a=group:BUNDLE` lines (RFC 8843 allows several).
    pub fn bundle_groups(&self) -> impl Iterator<Item = &Group> {
        self.groups().filter(|g| g.is_bundle())
    }

    /// `a=msid-semantic`, if present.
    pub fn msid_semantic(&self) -> Option<&MsidSemantic> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MsidSemantic(m) => Some(m),
            _ => None,
        })
    }

    /// Whether `a=ice-lite` is present.
    pub fn ice_lite(&self) -> bool {
        self.attributes.contains(&Attribute::IceLite)
    }

    /// The `a=ice-pacing` value (milliseconds), if the session has one.
    pub fn ice_pacing(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::IcePacing(ms) => Some(*ms),
            _ => None,
        })
    }

    /// Whether `a=extmap-allow-mixed` is present at session level.
    pub fn extmap_allow_mixed(&self) -> bool {
        self.attributes.contains(&Attribute::ExtmapAllowMixed)
    }

    /// Session-level `a=ice-ufrag` (media-level ones override it).
    pub fn ice_ufrag(&self) -> Option<&str> {
        super::media::ice_ufrag(&self.attributes)
    }

    /// Session-level `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        super::media::ice_pwd(&self.attributes)
    }

    /// Session-level `a=ice-options`.
    pub fn ice_options(&self) -> Option<&IceOptions> {
        super::media::ice_options(&self.attributes)
    }

    /// Session-level `a=fingerprint` lines.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint> {
        super::media::fingerprints(&self.attributes)
    }

    /// Session-level `a=setup`.
    pub fn setup(&self) -> Option<Setup> {
        super::media::setup(&self.attributes)
    }

    /// The ICE ufrag and pwd that apply to `media`: each from the section when it has one,
    /// else from the session level (RFC 8839 §5.4). `None` unless both are found.
    pub fn ice_credentials<'a>(
        &'a self,
        media: &'a MediaDescription,
    ) -> Option<(&'a str, &'a str)> {
        let ufrag = media.ice_ufrag().or_else(|| self.ice_ufrag())?;
        let pwd = media.ice_pwd().or_else(|| self.ice_pwd())?;
        Some((ufrag, pwd))
    }

    /// The fingerprints that apply to `media`: the section's own when it has any, else the
    /// session-level ones (RFC 8122 §5; Firefox writes them at session level).
    pub fn fingerprints_for<'a>(&'a self, media: &'a MediaDescription) -> Vec<&'a Fingerprint> {
        let own: Vec<_> = media.fingerprints().collect();
        if own.is_empty() {
            self.fingerprints().collect()
        } else {
            own
        }
    }

    /// Whether `media` is rejected: port 0, unless it is a bundle-only section (port 0 with
    /// `a=bundle-only`, RFC 8843 section 6) whose mid is in a BUNDLE group, which an offerer
    /// with the max-bundle policy (Firefox, GStreamer) sends for every section but the
    /// first.
    pub fn is_rejected(&self, media: &MediaDescription) -> bool {
        if !media.is_port_zero() {
            return false;
        }
        let bundle_only = media
            .attributes
            .iter()
            .any(|a| matches!(a, Attribute::Other { name, value: None } if name == "bundle-only"));
        let bundled = media.mid().is_some_and(|mid| {
            self.bundle_groups()
                .any(|g| g.mids.iter().any(|m| m == mid))
        });
        !(bundle_only && bundled)
    }

    /// The `a=setup` that applies to `media`: the section's, else the session-level one.
    pub fn setup_for(&self, media: &MediaDescription) -> Option<Setup> {
        media.setup().or_else(|| self.setup())
    }

    /// Session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        super::media::direction(&self.attributes)
    }
}

fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .map_or(1, |i| i + 1)
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name, `-` when there is none.
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version; JSEP increments it on every new local description.
    pub session_version: u64,
    /// Address of the originator (WebRTC: `IN IP4 127.0.0.1` or `0.0.0.0`, meaningless).
    pub address: ConnectionAddress,
}

impl Origin {
    /// The JSEP origin: `- <session_id> <session_version> IN IP4 127.0.0.1`.
    pub fn jsep(session_id: u64, session_version: u64) -> Self {
        Self {
            username: "-".into(),
            session_id,
            session_version,
            address: ConnectionAddress::ip4("127.0.0.1"),
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let f = fields(value)?;
        let [username, id, version, nettype, addrtype, address] = f.as_slice() else {
            return None;
        };
        let address = ConnectionAddress::from_parts(nettype, addrtype, address)?;
        is_word(username).then_some(())?;
        Some(Self {
            username: (*username).into(),
            session_id: number(id)?,
            session_version: number(version)?,
            address,
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            username,
            session_id,
            session_version,
            address,
        } = self;
        write!(f, "{username} {session_id} {session_version} {address}")
    }
}

/// `<nettype> <addrtype> <address>` as in `c=`, `o=` and `a=rtcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionAddress {
    /// Network type, `IN`.
    pub nettype: String,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: String,
    /// The address as written (may carry a multicast `/ttl`, or be a name).
    pub address: String,
}

impl ConnectionAddress {
    /// `IN IP4 <address>`.
    pub fn ip4(address: impl Into<String>) -> Self {
        Self {
            nettype: "IN".into(),
            addrtype: "IP4".into(),
            address: address.into(),
        }
    }

    /// `IN IP6 <address>`.
    pub fn ip6(address: impl Into<String>) -> Self {
        Self {
            nettype: "IN".into(),
            addrtype: "IP6".into(),
            address: address.into(),
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match fields(value)?.as_slice() {
            [n, t, a] => Self::from_parts(n, t, a),
            _ => None,
        }
    }

    fn from_parts(nettype: &str, addrtype: &str, address: &str) -> Option<Self> {
        (is_token(nettype) && is_token(addrtype) && is_word(address)).then(|| Self {
            nettype: nettype.into(),
            addrtype: addrtype.into(),
            address: address.into(),
        })
    }
}

impl fmt::Display for ConnectionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)
    }
}

/// `b=<bwtype>:<bandwidth>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// `AS`, `CT`, `TIAS`, ...
    pub bwtype: String,
    /// The value (kbit/s for `AS` and `CT`, bit/s for `TIAS`).
    pub bandwidth: u64,
}

impl Bandwidth {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (bwtype, bw) = value.split_once(':')?;
        is_token(bwtype).then_some(())?;
        Some(Self {
            bwtype: bwtype.into(),
            bandwidth: number(bw)?,
        })
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bwtype, self.bandwidth)
    }
}

/// `t=<start> <stop>` and its `r=` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeDescription {
    /// Start time (NTP seconds; 0 for unbounded).
    pub start: u64,
    /// Stop time (NTP seconds; 0 for unbounded).
    pub stop: u64,
    /// `r=` lines.
    pub repeats: Vec<Repeat>,
}

impl TimeDescription {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match fields(value)?.as_slice() {
            [start, stop] => Some(Self {
                start: number(start)?,
                stop: number(stop)?,
                repeats: Vec::new(),
            }),
            _ => None,
        }
    }
}

/// A time with an optional unit (`d`, `h`, `m`, `s`) as in `r=` and `z=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedTime {
    /// The number as written.
    pub value: u64,
    /// The unit letter, if any.
    pub unit: Option<TimeUnit>,
}

/// Unit letter of a [`TypedTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// `d`
    Days,
    /// `h`
    Hours,
    /// `m`
    Minutes,
    /// `s`
    Seconds,
}

impl TypedTime {
    /// The time in seconds (saturating).
    pub fn seconds(self) -> u64 {
        let factor = match self.unit {
            Some(TimeUnit::Days) => 86_400,
            Some(TimeUnit::Hours) => 3_600,
            Some(TimeUnit::Minutes) => 60,
            Some(TimeUnit::Seconds) | None => 1,
        };
        self.value.saturating_mul(factor)
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (digits, unit) = match s.as_bytes().last()? {
            b'd' => (&s[..s.len() - 1], Some(TimeUnit::Days)),
            b'h' => (&s[..s.len() - 1], Some(TimeUnit::Hours)),
            b'm' => (&s[..s.len() - 1], Some(TimeUnit::Minutes)),
            b's' => (&s[..s.len() - 1], Some(TimeUnit::Seconds)),
            _ => (s, None),
        };
        Some(Self {
            value: number(digits)?,
            unit,
        })
    }
}

impl fmt::Display for TypedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        f.write_str(match self.unit {
            Some(TimeUnit::Days) => "d",
            Some(TimeUnit::Hours) => "h",
            Some(TimeUnit::Minutes) => "m",
            Some(TimeUnit::Seconds) => "s",
            None => "",
        })
    }
}

/// `r=<interval> <duration> <offset>...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// Repeat interval (not zero).
    pub interval: TypedTime,
    /// Active duration.
    pub duration: TypedTime,
    /// Offsets from the start time; at least one.
    pub offsets: Vec<TypedTime>,
}

impl Repeat {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let times = fields(value)?
            .into_iter()
            .map(TypedTime::parse)
            .collect::<Option<Vec<_>>>()?;
        match times.as_slice() {
            [interval, duration, offsets @ ..] if !offsets.is_empty() && interval.value > 0 => {
                Some(Self {
                    interval: *interval,
                    duration: *duration,
                    offsets: offsets.to_vec(),
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Repeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.interval, self.duration)?;
        self.offsets.iter().try_for_each(|o| write!(f, " {o}"))
    }
}

/// One `<adjustment time> <offset>` pair of `z=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneAdjustment {
    /// When the adjustment happens (NTP seconds).
    pub time: u64,
    /// Whether the offset is negative (`-1h`).
    pub negative: bool,
    /// The offset magnitude.
    pub offset: TypedTime,
}

impl TimeZoneAdjustment {
    pub(crate) fn parse_line(value: &str) -> Option<Vec<Self>> {
        let f = fields(value)?;
        if f.len() % 2 != 0 {
            return None;
        }
        f.chunks(2)
            .map(|pair| {
                let [time, offset] = pair else { return None };
                let (negative, offset) = match offset.strip_prefix('-') {
                    Some(o) => (true, o),
                    None => (false, *offset),
                };
                Some(Self {
                    time: number(time)?,
                    negative,
                    offset: TypedTime::parse(offset)?,
                })
            })
            .collect()
    }
}

impl fmt::Display for TimeZoneAdjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(f, "{} {sign}{}", self.time, self.offset)
    }
}
