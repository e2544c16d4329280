//! The value types of the channel graph: indices, identifiers and policies.
//!
//! Everything here is plain data. Indices are `u32` so that adjacency arrays stay
//! compact: the mainnet graph has well under 2^32 nodes and channels.

use std::fmt;
use std::str::FromStr;

/// Index of a node inside one [`crate::Graph`]. Only meaningful for the graph that issued it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeIdx(pub u32);

impl NodeIdx {
    /// The index as a `usize`, for slicing.
    #[inline]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// Index of a channel inside one [`crate::Graph`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelIdx(pub u32);

impl ChannelIdx {
    /// The index as a `usize`, for slicing.
    #[inline]
    pub fn ix(self) -> usize {
        self.0 as usize
    }

    /// The directed half of this channel that leaves `channel.nodes[dir]`.
    #[inline]
    pub fn edge(self, dir: Direction) -> EdgeIdx {
        EdgeIdx(self.0 * 2 + dir as u32)
    }
}

/// Which half of a channel: [`Direction::AToB`] is the policy set by `nodes[0]`
/// for payments flowing from `nodes[0]` to `nodes[1]`.
///
/// When a source follows BOLT 7 (lnd, CLN and our own exports do), `nodes[0]` is the
/// node with the lexicographically smaller public key, so `AToB` matches
/// `channel_flags` bit 0 being clear.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Direction {
    /// From `nodes[0]` to `nodes[1]`.
    AToB = 0,
    /// From `nodes[1]` to `nodes[0]`.
    BToA = 1,
}

impl Direction {
    /// Both directions, in index order.
    pub const BOTH: [Direction; 2] = [Direction::AToB, Direction::BToA];

    /// The opposite direction.
    #[inline]
    pub fn reverse(self) -> Direction {
        match self {
            Direction::AToB => Direction::BToA,
            Direction::BToA => Direction::AToB,
        }
    }

    /// `0` or `1`, for indexing `[T; 2]`.
    #[inline]
    pub fn ix(self) -> usize {
        self as usize
    }
}

/// A directed half-channel: `channel * 2 + direction`. Dense, so per-direction state
/// (policies, balances, scorer beliefs) lives in flat `Vec`s indexed by it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeIdx(pub u32);

impl EdgeIdx {
    /// The channel this half belongs to.
    #[inline]
    pub fn channel(self) -> ChannelIdx {
        ChannelIdx(self.0 >> 1)
    }

    /// Which half it is.
    #[inline]
    pub fn direction(self) -> Direction {
        if self.0 & 1 == 0 {
            Direction::AToB
        } else {
            Direction::BToA
        }
    }

    /// The other half of the same channel.
    #[inline]
    pub fn reverse(self) -> EdgeIdx {
        EdgeIdx(self.0 ^ 1)
    }

    /// The index as a `usize`, for slicing.
    #[inline]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// A short channel id as BOLT 7 packs it: 3 bytes block height, 3 bytes transaction
/// index, 2 bytes output index.
///
/// Some sources carry an arbitrary integer instead of a real id (the bundled 2026
/// snapshot numbers its channels 0, 1, 2, …); those keep their integer and print as it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortChannelId(pub u64);

impl ShortChannelId {
    /// Packs block, transaction index and output index. Returns `None` if a part overflows.
    pub fn from_parts(block: u64, tx: u64, out: u64) -> Option<Self> {
        if block >= 1 << 24 || tx >= 1 << 24 || out >= 1 << 16 {
            return None;
        }
        Some(ShortChannelId((block << 40) | (tx << 16) | out))
    }

    /// Block height of the funding transaction.
    pub fn block(self) -> u64 {
        self.0 >> 40
    }

    /// Index of the funding transaction in its block.
    pub fn tx_index(self) -> u64 {
        (self.0 >> 16) & 0xFF_FFFF
    }

    /// Output index of the funding output.
    pub fn output_index(self) -> u64 {
        self.0 & 0xFFFF
    }

    /// Whether the value decodes to a plausible on-chain position (a non-zero block).
    /// Plain indices such as `17` do not, and are printed as integers.
    pub fn is_onchain(self) -> bool {
        self.block() > 0
    }
}

impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_onchain() {
            write!(
                f,
                "{}x{}x{}",
                self.block(),
                self.tx_index(),
                self.output_index()
            )
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Why a short channel id string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid short channel id {0:?}: expected BLOCKxTXxOUT or a decimal integer")]
pub struct ScidParseError(pub String);

impl FromStr for ShortChannelId {
    type Err = ScidParseError;

    /// Accepts `BLOCKxTXxOUT` (CLN), `BLOCK:TX:OUT` (some tools) or a decimal `u64` (lnd).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScidParseError(s.to_string());
        let sep = if s.contains('x') {
            Some('x')
        } else if s.contains(':') {
            Some(':')
        } else {
            None
        };
        match sep {
            None => s.parse::<u64>().map(ShortChannelId).map_err(|_| err()),
            Some(sep) => {
                let mut it = s.split(sep);
                let mut part = || -> Result<u64, ScidParseError> {
                    it.next()
                        .and_then(|p| p.parse::<u64>().ok())
                        .ok_or_else(err)
                };
                let (b, t, o) = (part()?, part()?, part()?);
                if it.next().is_some() {
                    return Err(err());
                }
                ShortChannelId::from_parts(b, t, o).ok_or_else(err)
            }
        }
    }
}

/// A node's 33-byte compressed secp256k1 public key, validated to be a point on the curve.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePubkey([u8; 33]);

/// Why a public key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubkeyError {
    /// Not 66 hex digits.
    #[error("expected 66 hex digits, got {0} characters")]
    Length(usize),
    /// A character outside `0-9a-fA-F`.
    #[error("not hexadecimal")]
    NotHex,
    /// 33 bytes that are not a compressed point on secp256k1.
    #[error("not a valid compressed secp256k1 point")]
    NotOnCurve,
}

impl NodePubkey {
    /// Parses 66 hex digits and checks that they encode a point on the curve.
    pub fn from_hex(s: &str) -> Result<Self, PubkeyError> {
        Self::from_bytes(Self::from_hex_unchecked(s)?.0)
    }

    /// Checks that 33 bytes are a compressed point on the curve.
    pub fn from_bytes(bytes: [u8; 33]) -> Result<Self, PubkeyError> {
        if bytes[0] != 2 && bytes[0] != 3 {
            return Err(PubkeyError::NotOnCurve);
        }
        bitcoin::secp256k1::PublicKey::from_slice(&bytes).map_err(|_| PubkeyError::NotOnCurve)?;
        Ok(NodePubkey(bytes))
    }

    /// Hex-decodes 66 digits without the curve check; for looking up keys that are
    /// validated when first seen.
    pub(crate) fn from_hex_unchecked(s: &str) -> Result<Self, PubkeyError> {
        let bytes = s.as_bytes();
        if bytes.len() != 66 {
            return Err(PubkeyError::Length(s.chars().count()));
        }
        // Every channel endpoint of an imported graph comes through here: decode by
        // table and check all digits once at the end rather than branch per digit.
        let mut out = [0u8; 33];
        let mut seen = 0u8;
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let (hi, lo) = (HEX_DIGIT[pair[0] as usize], HEX_DIGIT[pair[1] as usize]);
            seen |= hi | lo;
            out[i] = (hi << 4) | (lo & 15);
        }
        if seen > 15 {
            return Err(PubkeyError::NotHex);
        }
        Ok(NodePubkey(out))
    }

    /// The 33 bytes.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The key derived from a 32-byte secret (for synthetic graphs); `None` if the
    /// bytes are not a valid secret key (zero or not below the group order).
    pub fn from_secret(secret: [u8; 32]) -> Option<Self> {
        let secp = bitcoin::secp256k1::Secp256k1::signing_only();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&secret).ok()?;
        Some(NodePubkey(sk.public_key(&secp).serialize()))
    }

    /// The key as `secp256k1`'s type (the one `bitcoin` and LDK use).
    pub fn to_secp(&self) -> bitcoin::secp256k1::PublicKey {
        // Every NodePubkey was validated on construction.
        bitcoin::secp256k1::PublicKey::from_slice(&self.0).expect("validated on construction")
    }

    /// Lower-case hex, as every Lightning tool prints keys.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(66);
        for b in self.0 {
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
        }
        s
    }
}

/// The value of each hex digit (either case); 0xFF for every other byte.
const HEX_DIGIT: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

impl fmt::Display for NodePubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for NodePubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodePubkey({})", self.to_hex())
    }
}

impl FromStr for NodePubkey {
    type Err = PubkeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodePubkey::from_hex(s)
    }
}

/// One announced network address of a node, kept as the source wrote it
/// (`network` is lnd's field: `tcp` for IPv4, IPv6, Tor and DNS alike).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeAddress {
    /// lnd's `network` field, usually `tcp`.
    pub network: String,
    /// `host:port`, e.g. `203.0.113.5:9735`, `[2001:db8::1]:9735` or `abc….onion:9735`.
    pub addr: String,
}

/// What kind of host an address names; derived from the text, for statistics.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressKind {
    /// `a.b.c.d:port`.
    Ipv4,
    /// `[v6]:port`.
    Ipv6,
    /// A Tor v2 or v3 `.onion` host.
    Onion,
    /// Anything else (DNS names).
    Dns,
}

impl NodeAddress {
    /// Classifies the host part of the address.
    pub fn kind(&self) -> AddressKind {
        let host = self
            .addr
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(&self.addr);
        if host.ends_with(".onion") {
            AddressKind::Onion
        } else if host.starts_with('[') || host.parse::<std::net::Ipv6Addr>().is_ok() {
            AddressKind::Ipv6
        } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
            AddressKind::Ipv4
        } else {
            AddressKind::Dns
        }
    }
}

/// A node of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Identity key.
    pub pubkey: NodePubkey,
    /// Announced alias; empty when none was announced. Not unique.
    pub alias: String,
    /// Announced colour as `#rrggbb`, if known.
    pub color: Option<String>,
    /// Announced addresses, in announcement order.
    pub addresses: Vec<NodeAddress>,
    /// Feature bits that are set, ascending.
    pub features: Vec<u16>,
    /// Unix time of the node announcement, 0 when unknown.
    pub last_update: u32,
}

impl Node {
    /// A node known only by its key (sources such as `listchannels` name nodes nowhere else).
    pub fn bare(pubkey: NodePubkey) -> Self {
        Node {
            pubkey,
            alias: String::new(),
            color: None,
            addresses: Vec::new(),
            features: Vec::new(),
            last_update: 0,
        }
    }
}

/// The routing policy one side of a channel announced (a BOLT 7 `channel_update`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Fixed fee per forwarded HTLC, msat.
    pub fee_base_msat: u32,
    /// Proportional fee, millionths of the forwarded amount.
    pub fee_rate_ppm: u32,
    /// Blocks this hop adds to the CLTV expiry.
    pub cltv_expiry_delta: u16,
    /// Smallest HTLC forwarded, msat.
    pub htlc_minimum_msat: u64,
    /// Largest HTLC forwarded, msat. Sources that omit it get the channel capacity.
    pub htlc_maximum_msat: u64,
    /// The channel is announced as disabled in this direction.
    pub disabled: bool,
    /// Unix time of the update, 0 when unknown.
    pub last_update: u32,
}

impl Policy {
    /// The fee this hop charges to forward `amount_msat`, per BOLT 7:
    /// `fee_base_msat + amount_msat * fee_proportional_millionths / 1_000_000`, rounded down.
    #[inline]
    pub fn fee_msat(&self, amount_msat: u64) -> u64 {
        self.fee_base_msat as u64
            + ((amount_msat as u128 * self.fee_rate_ppm as u128) / 1_000_000) as u64
    }
}

/// A channel between two nodes with up to two directed policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Short channel id (or the source's integer id).
    pub scid: ShortChannelId,
    /// The two endpoints, in the source's order (BOLT 7 order for lnd and CLN data).
    pub nodes: [NodeIdx; 2],
    /// Funding amount, sat.
    pub capacity_sat: u64,
    /// `policies[Direction::AToB]` is `nodes[0]`'s policy; `None` when never announced.
    pub policies: [Option<Policy>; 2],
    /// Funding outpoint `txid:vout`, when the source has it.
    pub chan_point: Option<String>,
    /// Unix time of the latest update, 0 when unknown.
    pub last_update: u32,
}

impl Channel {
    /// Capacity in msat.
    #[inline]
    pub fn capacity_msat(&self) -> u64 {
        self.capacity_sat.saturating_mul(1000)
    }

    /// The policy of one direction.
    #[inline]
    pub fn policy(&self, dir: Direction) -> Option<&Policy> {
        self.policies[dir.ix()].as_ref()
    }

    /// The node a direction leaves from.
    #[inline]
    pub fn from_node(&self, dir: Direction) -> NodeIdx {
        self.nodes[dir.ix()]
    }

    /// The node a direction arrives at.
    #[inline]
    pub fn to_node(&self, dir: Direction) -> NodeIdx {
        self.nodes[dir.reverse().ix()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scid_round_trips_both_spellings() {
        let s: ShortChannelId = "513887x1177x0".parse().unwrap();
        assert_eq!(
            (s.block(), s.tx_index(), s.output_index()),
            (513887, 1177, 0)
        );
        assert_eq!(s.to_string(), "513887x1177x0");
        let n: ShortChannelId = s.0.to_string().parse().unwrap();
        assert_eq!(n, s);
        assert_eq!("513887:1177:0".parse::<ShortChannelId>().unwrap(), s);
        assert_eq!(ShortChannelId(17).to_string(), "17");
    }

    #[test]
    fn scid_rejects_garbage() {
        for bad in [
            "",
            "1x2",
            "1x2x3x4",
            "16777216x0x0",
            "1x2x65536",
            "abc",
            "-5",
        ] {
            assert!(bad.parse::<ShortChannelId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pubkey_validation() {
        let good = "03864ef025fde8fb587d989186ce6a4a186895ee44a926bfc370e2c366597a3f8f";
        let k = NodePubkey::from_hex(good).unwrap();
        assert_eq!(k.to_hex(), good);
        assert_eq!(NodePubkey::from_hex("02"), Err(PubkeyError::Length(2)));
        let not_hex = good.replace('f', "g");
        assert_eq!(NodePubkey::from_hex(&not_hex), Err(PubkeyError::NotHex));
        let bad_prefix = format!("05{}", &good[2..]);
        assert_eq!(
            NodePubkey::from_hex(&bad_prefix),
            Err(PubkeyError::NotOnCurve)
        );
        // x = 5 is not the x coordinate of any point on secp256k1.
        let off_curve = format!("02{:064x}", 5);
        assert_eq!(
            NodePubkey::from_hex(&off_curve),
            Err(PubkeyError::NotOnCurve)
        );
    }

    #[test]
    fn hex_decoding_takes_exactly_the_hex_digits() {
        let good = "03864ef025fde8fb587d989186ce6a4a186895ee44a926bfc370e2c366597a3f8f";
        for pos in [0, 1, 33, 64, 65] {
            for c in 0u8..128 {
                let mut s = good.as_bytes().to_vec();
                s[pos] = c;
                let s = String::from_utf8(s).unwrap();
                let got = NodePubkey::from_hex_unchecked(&s);
                if c.is_ascii_hexdigit() {
                    let want: Vec<u8> = (0..33)
                        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
                        .collect();
                    assert_eq!(got.unwrap().as_bytes().to_vec(), want, "{s}");
                } else {
                    assert_eq!(got, Err(PubkeyError::NotHex), "byte {c} at {pos}");
                }
            }
        }
        // A two-byte character keeps the byte length at 66.
        let s = format!("é{}", &good[2..]);
        assert_eq!(NodePubkey::from_hex_unchecked(&s), Err(PubkeyError::NotHex));
    }

    #[test]
    fn bolt7_fee_rounds_down() {
        let p = Policy {
            fee_base_msat: 1000,
            fee_rate_ppm: 1,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1,
            htlc_maximum_msat: u64::MAX,
            disabled: false,
            last_update: 0,
        };
        assert_eq!(p.fee_msat(999_999), 1000);
        assert_eq!(p.fee_msat(1_000_000), 1001);
        assert_eq!(p.fee_msat(u64::MAX), 1000 + u64::MAX / 1_000_000);
    }

    #[test]
    fn edge_index_packs_channel_and_direction() {
        let e = ChannelIdx(7).edge(Direction::BToA);
        assert_eq!(e.0, 15);
        assert_eq!(e.channel(), ChannelIdx(7));
        assert_eq!(e.direction(), Direction::BToA);
        assert_eq!(e.reverse().direction(), Direction::AToB);
    }
}
