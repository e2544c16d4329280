//! BOLT 11 invoices: create them signed by the receiving node's key, decode and check
//! them, and make the (preimage, hash, secret) triple a payment is locked with.
//!
//! Encoding, signing and the bech32 checksum are the `lightning-invoice` crate's
//! (LDK's), so the strings are real BOLT 11 that any Lightning node reads. Decoding
//! goes one step lower than [`Bolt11Invoice::from_str`](core::str::FromStr): it also
//! accepts the legacy invoices of the BOLT 11 examples that carry no `payment_secret`
//! (LDK refuses them outright), reports them with `payment_secret: None`, and turns
//! every failure into one [`InvoiceError`] whose message says what is wrong.
//!
//! Like the rest of the crate this module never reads the clock: the invoice's
//! timestamp is a parameter. It never panics on any input string.
//!
//! ```
//! use flotilla_ln::invoice::{create_invoice, decode_invoice, node_key_from_seed, InvoiceParams, PaymentKeys};
//!
//! let node_key = node_key_from_seed(7);
//! let keys = PaymentKeys::from_bytes([1; 32], [2; 32]);
//! let mut params = InvoiceParams::new(keys.hash, keys.secret, 1_700_000_000);
//! params.amount_msat = Some(50_000);
//! params.description = "a coffee".into();
//! let invoice = create_invoice(&params, &node_key).unwrap();
//! let decoded = decode_invoice(&invoice.to_string()).unwrap();
//! assert_eq!(decoded.amount_msat, Some(50_000));
//! assert_eq!(decoded.payment_hash, keys.hash);
//! assert_eq!(decoded.payment_secret, Some(keys.secret));
//! ```

use core::time::Duration;

use bech32::primitives::decode::{
    CharError, CheckedHrpstringError, ChecksumError, UncheckedHrpstringError,
};
use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{ecdsa, Message, Secp256k1};
use bitcoin::{Address, Network, WitnessProgram};
use lightning_invoice::{
    Bolt11ParseError, Fallback, InvoiceBuilder, RawHrp, SignedRawBolt11Invoice, TaggedField,
};
use lightning_types::features::Bolt11InvoiceFeatures;
use lightning_types::payment::{PaymentHash, PaymentPreimage, PaymentSecret};

pub use bitcoin::secp256k1::{PublicKey, SecretKey};
pub use lightning_invoice::{Bolt11Invoice, Currency};
pub use lightning_types::routing::{RouteHint, RouteHintHop};

/// BOLT 11's default `expiry` when an invoice has no `x` field: one hour.
pub const DEFAULT_EXPIRY_SECS: u64 = 3600;
/// BOLT 11's default `min_final_cltv_expiry_delta` when an invoice has no `c` field.
pub const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA: u64 = 18;
/// The longest description a `d` field holds, in bytes (longer ones go by hash, `h`).
pub const MAX_DESCRIPTION_BYTES: usize = 639;
/// The largest timestamp BOLT 11's 35-bit field holds (seconds since 1970, year 3058).
pub const MAX_TIMESTAMP: u64 = lightning_invoice::MAX_TIMESTAMP;
/// The longest invoice string `lightning-invoice` (and lnd) accept.
pub const MAX_INVOICE_LENGTH: usize = lightning_invoice::MAX_LENGTH;
/// The largest amount an invoice can carry, msat: the prefix holds the amount in
/// pico-BTC as a 64-bit number, so `u64::MAX / 10` msat (about 18.4 million BTC), which
/// is below the bitcoin supply ([`flotilla_graph::MAX_MSAT`]); the smaller bound wins.
pub const MAX_AMOUNT_MSAT: u64 = if u64::MAX / 10 < flotilla_graph::MAX_MSAT {
    u64::MAX / 10
} else {
    flotilla_graph::MAX_MSAT
};

/// Everything wrong with an invoice string, a request to create one, or a key.
///
/// Messages are written for a person: each says what is wrong and, where it helps,
/// what would be right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// Not a bech32 string at all: no separator, mixed case, a character outside the
    /// bech32 alphabet, empty.
    #[error("malformed bech32: {0}")]
    MalformedBech32(String),
    /// A well-formed bech32 string whose checksum does not match: a character was
    /// changed, lost or swapped.
    #[error("bad checksum: the invoice was altered or mistyped (a single changed character is enough); copy it again exactly")]
    BadChecksum,
    /// Longer than any node accepts.
    #[error("invoice too long: {len} characters, at most {MAX_INVOICE_LENGTH} are accepted")]
    TooLong {
        /// The length seen.
        len: usize,
    },
    /// The prefix does not start with `ln`.
    #[error("not a Lightning invoice: the prefix {prefix:?} does not start with \"ln\"")]
    NotAnInvoice {
        /// The human-readable part seen.
        prefix: String,
    },
    /// `ln` followed by a currency this decoder does not know.
    #[error("unknown currency {currency:?} in prefix {prefix:?}: expected lnbc (bitcoin), lntb (testnet), lntbs (signet), lnbcrt (regtest) or lnsb (simnet)")]
    UnknownCurrency {
        /// The currency code seen (what follows `ln`).
        currency: String,
        /// The whole human-readable part.
        prefix: String,
    },
    /// The amount in the prefix is not a number, has an unknown multiplier, overflows
    /// or is not a whole number of millisatoshis.
    #[error("bad amount in prefix {prefix:?}: {reason}")]
    BadAmount {
        /// The human-readable part seen.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature is malformed, cannot be recovered to a key, or does not verify
    /// against the payee key the invoice names.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The invoice decodes and its signature is valid, but it was signed by another
    /// node than the one expected: it was tampered with (re-signed) or is not from the
    /// payee you think.
    #[error("tampered: the invoice is signed by {}, not by the expected payee {}", .0.actual, .0.expected)]
    PayeeMismatch(Box<PayeeMismatch>),
    /// The data part does not follow BOLT 11's layout.
    #[error("malformed invoice data: {0}")]
    MalformedData(String),
    /// A field BOLT 11 requires is absent.
    #[error("invalid invoice: it has no {0}")]
    MissingField(&'static str),
    /// A field that must appear once appears more often.
    #[error("invalid invoice: it has more than one {0}")]
    DuplicateField(&'static str),
    /// The feature vector sets even (compulsory) bits this decoder does not know, so
    /// BOLT 11 forbids paying it.
    #[error("invoice requires unknown features (even bits {bits:?}): it cannot be paid by a node that does not understand them")]
    UnknownRequiredFeatures {
        /// The unknown even bits set.
        bits: Vec<u64>,
    },
    /// An invoice for 0 msat: nothing could pay it. Leave the amount out for an
    /// invoice of any amount.
    #[error("amount must be positive: an invoice for 0 msat cannot be paid (leave the amount out for an any-amount invoice)")]
    ZeroAmount,
    /// An expiry of 0 seconds: the invoice would have expired when it was made.
    #[error("expiry must be at least 1 second: an invoice with expiry 0 has expired the moment it is created")]
    ZeroExpiry,
    /// More than an invoice can carry.
    #[error("amount {0} msat is too large: an invoice carries at most {MAX_AMOUNT_MSAT} msat (about 18.4 million BTC)")]
    AmountTooLarge(u64),
    /// A `d` field holds at most 639 bytes.
    #[error("description is {0} bytes long; BOLT 11 allows at most {MAX_DESCRIPTION_BYTES}")]
    DescriptionTooLong(usize),
    /// A timestamp outside BOLT 11's 35-bit field.
    #[error(
        "timestamp {0} is out of range: it must be seconds since 1970, at most {MAX_TIMESTAMP}"
    )]
    TimestampOutOfRange(u64),
    /// A node key that is not 32 bytes of hex or not a valid secp256k1 secret.
    #[error("invalid node key: {0}")]
    BadNodeKey(String),
    /// `lightning-invoice` refused to build the invoice for another reason.
    #[error("cannot create the invoice: {0}")]
    Creation(String),
}

/// The two keys of an [`InvoiceError::PayeeMismatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayeeMismatch {
    /// The key the caller expected.
    pub expected: PublicKey,
    /// The key that signed the invoice.
    pub actual: PublicKey,
}

/// What to put in a new invoice. [`InvoiceParams::new`] fills BOLT 11's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceParams {
    /// The network the invoice is for (the `lnbc`/`lntb`/… prefix).
    pub currency: Currency,
    /// The amount asked, msat; `None` for an invoice of any amount. Must be positive.
    pub amount_msat: Option<u64>,
    /// What the payment is for (the `d` field), at most 639 bytes of UTF-8.
    pub description: String,
    /// Seconds after `timestamp` when the receiver stops accepting payment (`x`).
    pub expiry_secs: u64,
    /// Blocks the final HTLC must still have to run when it reaches the receiver (`c`).
    pub min_final_cltv_expiry_delta: u64,
    /// SHA-256 of the preimage that settles the payment (`p`).
    pub payment_hash: PaymentHash,
    /// The secret that only the payer learns, carried to the receiver inside the onion (`s`).
    pub payment_secret: PaymentSecret,
    /// Creation time, seconds since 1970. Passed in: this crate never reads the clock.
    pub timestamp: u64,
    /// Also write the payee's key in an `n` field (longer invoice, no key recovery needed).
    pub include_payee_pubkey: bool,
}

impl InvoiceParams {
    /// Mainnet, any amount, empty description, 3600 s expiry, final CLTV delta 18, no
    /// `n` field.
    pub fn new(payment_hash: PaymentHash, payment_secret: PaymentSecret, timestamp: u64) -> Self {
        InvoiceParams {
            currency: Currency::Bitcoin,
            amount_msat: None,
            description: String::new(),
            expiry_secs: DEFAULT_EXPIRY_SECS,
            min_final_cltv_expiry_delta: DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
            payment_hash,
            payment_secret,
            timestamp,
            include_payee_pubkey: false,
        }
    }
}

/// Creates a BOLT 11 invoice signed with `node_key`, with the features
/// `var_onion_optin` (required), `payment_secret` (required) and `basic_mpp` (optional).
pub fn create_invoice(
    params: &InvoiceParams,
    node_key: &SecretKey,
) -> Result<Bolt11Invoice, InvoiceError> {
    match params.amount_msat {
        Some(0) => return Err(InvoiceError::ZeroAmount),
        Some(a) if a > MAX_AMOUNT_MSAT => return Err(InvoiceError::AmountTooLarge(a)),
        _ => {}
    }
    if params.expiry_secs == 0 {
        return Err(InvoiceError::ZeroExpiry);
    }
    if params.description.len() > MAX_DESCRIPTION_BYTES {
        return Err(InvoiceError::DescriptionTooLong(params.description.len()));
    }
    if params.timestamp > MAX_TIMESTAMP {
        return Err(InvoiceError::TimestampOutOfRange(params.timestamp));
    }
    let secp = Secp256k1::new();
    let hash = sha256::Hash::from_byte_array(params.payment_hash.0);
    let mut builder = InvoiceBuilder::new(params.currency.clone())
        .description(params.description.clone())
        .payment_hash(hash)
        .duration_since_epoch(Duration::from_secs(params.timestamp))
        .min_final_cltv_expiry_delta(params.min_final_cltv_expiry_delta)
        .payment_secret(params.payment_secret)
        .basic_mpp()
        .expiry_time(Duration::from_secs(params.expiry_secs));
    if let Some(amount) = params.amount_msat {
        builder = builder.amount_milli_satoshis(amount);
    }
    if params.include_payee_pubkey {
        builder = builder.payee_pub_key(node_key.public_key(&secp));
    }
    builder
        .build_signed(|m| secp.sign_ecdsa_recoverable(m, node_key))
        .map_err(|e| InvoiceError::Creation(e.to_string()))
}

/// How an invoice describes its purpose.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceDescription {
    /// The text itself (`d`).
    Direct(String),
    /// SHA-256 of a text delivered some other way (`h`).
    Hash([u8; 32]),
}

impl core::fmt::Display for InvoiceDescription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InvoiceDescription::Direct(s) => f.write_str(s),
            InvoiceDescription::Hash(h) => write!(f, "sha256:{}", hex(h)),
        }
    }
}

/// One feature bit an invoice sets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FeatureBit {
    /// The bit number (even: compulsory, odd: optional).
    pub bit: u64,
    /// BOLT 9's name, or `None` for a bit this decoder does not know.
    pub name: Option<&'static str>,
}

impl FeatureBit {
    /// Whether the payer must understand it (even bits).
    pub fn required(&self) -> bool {
        self.bit % 2 == 0
    }

    /// The name, or `unknown_bit_N`.
    pub fn label(&self) -> String {
        match self.name {
            Some(n) => n.to_string(),
            None => format!("unknown_bit_{}", self.bit),
        }
    }
}

/// The features BOLT 9 defines for invoices (the `9` field) that LDK knows: pairs of
/// (even bit, name). A set even bit outside this list makes an invoice unpayable.
const KNOWN_FEATURES: [(u64, &str); 5] = [
    (8, "var_onion_optin"),
    (14, "payment_secret"),
    (16, "basic_mpp"),
    (48, "option_payment_metadata"),
    (56, "option_trampoline_routing"),
];

fn feature_name(bit: u64) -> Option<&'static str> {
    KNOWN_FEATURES
        .iter()
        .find(|(even, _)| *even == bit & !1)
        .map(|(_, n)| *n)
}

/// A decoded, signature-checked invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedInvoice {
    /// The invoice string, in lower case, without a `lightning:` prefix.
    pub bolt11: String,
    /// The network.
    pub currency: Currency,
    /// The node that signed the invoice and will receive the payment.
    pub payee: PublicKey,
    /// Whether the invoice names the payee in an `n` field (else the key was recovered
    /// from the signature).
    pub payee_explicit: bool,
    /// `p`.
    pub payment_hash: PaymentHash,
    /// `s`; `None` only for legacy invoices, which modern nodes refuse to pay.
    pub payment_secret: Option<PaymentSecret>,
    /// The amount asked, msat; `None` for an any-amount invoice.
    pub amount_msat: Option<u64>,
    /// Creation time, seconds since 1970.
    pub timestamp: u64,
    /// Seconds after `timestamp` the invoice stays payable (3600 if absent).
    pub expiry_secs: u64,
    /// `c` (18 if absent).
    pub min_final_cltv_expiry_delta: u64,
    /// `d` or `h`.
    pub description: InvoiceDescription,
    /// The feature bits set, in increasing order.
    pub features: Vec<FeatureBit>,
    /// Private route hints (`r`), each a path from a public node to the payee.
    pub route_hints: Vec<RouteHint>,
    /// On-chain fallback addresses (`f`) of a known version.
    pub fallback_addresses: Vec<String>,
}

impl DecodedInvoice {
    /// The features' names (`unknown_bit_N` for bits without one), in bit order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(FeatureBit::label).collect()
    }

    /// Whether the invoice sets bit `bit`.
    pub fn has_feature_bit(&self, bit: u64) -> bool {
        self.features.iter().any(|f| f.bit == bit)
    }

    /// Whether the payee accepts multi-path payments (`basic_mpp`, bit 16 or 17).
    pub fn supports_basic_mpp(&self) -> bool {
        self.has_feature_bit(16) || self.has_feature_bit(17)
    }

    /// How many route hints the invoice carries.
    pub fn route_hint_count(&self) -> usize {
        self.route_hints.len()
    }

    /// When the invoice stops being payable, seconds since 1970.
    pub fn expires_at(&self) -> u64 {
        self.timestamp.saturating_add(self.expiry_secs)
    }

    /// Whether the invoice has expired at `now` (seconds since 1970).
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at()
    }

    /// Seconds from `now` until the invoice expires; negative once it has expired
    /// (then the magnitude is how long ago).
    pub fn seconds_until_expiry(&self, now: u64) -> i128 {
        self.expires_at() as i128 - now as i128
    }

    /// Fails with [`InvoiceError::PayeeMismatch`] unless `expected` signed the invoice.
    pub fn verify_payee(&self, expected: &PublicKey) -> Result<(), InvoiceError> {
        if &self.payee == expected {
            Ok(())
        } else {
            Err(InvoiceError::PayeeMismatch(Box::new(PayeeMismatch {
                expected: *expected,
                actual: self.payee,
            })))
        }
    }
}

/// Decodes a BOLT 11 invoice: checks the bech32 checksum, the prefix and amount, the
/// layout, the signature (against the `n` field if there is one, else by recovering the
/// key), the fields BOLT 11 requires and the feature bits. Upper case and a
/// `lightning:` prefix are accepted; surrounding whitespace is ignored.
pub fn decode_invoice(s: &str) -> Result<DecodedInvoice, InvoiceError> {
    let s = s.trim();
    let s = strip_prefix_ignore_case(s, "lightning:").unwrap_or(s);
    if s.is_empty() {
        return Err(InvoiceError::MalformedBech32("the invoice is empty".into()));
    }
    if s.len() > MAX_INVOICE_LENGTH {
        return Err(InvoiceError::TooLong { len: s.len() });
    }
    let signed: SignedRawBolt11Invoice = s.parse().map_err(|e| parse_error(e, s))?;
    let raw = signed.raw_invoice();
    let hrp = hrp_of(s);

    let payee_explicit = raw.payee_pub_key().is_some();
    let payee = match raw.payee_pub_key() {
        Some(pk) => {
            let msg = Message::from_digest(*signed.signable_hash());
            let sig: ecdsa::Signature = signed.signature().0.to_standard();
            Secp256k1::verification_only().verify_ecdsa(&msg, &sig, &pk.0).map_err(|_| {
                InvoiceError::BadSignature(format!(
                    "it does not verify against the payee key {} the invoice names (tampered or signed by another key)",
                    pk.0
                ))
            })?;
            pk.0
        }
        None => {
            signed
                .recover_payee_pub_key()
                .map_err(|e| {
                    InvoiceError::BadSignature(format!(
                        "no public key can be recovered from it ({e})"
                    ))
                })?
                .0
        }
    };

    let amount_msat = match raw.hrp.raw_amount {
        None => None,
        Some(_) => {
            let pico = raw
                .amount_pico_btc()
                .ok_or_else(|| InvoiceError::BadAmount {
                    prefix: hrp.clone(),
                    reason: "it overflows".into(),
                })?;
            if pico % 10 != 0 {
                return Err(InvoiceError::BadAmount {
                    prefix: hrp,
                    reason: format!("{pico} pico-BTC is not a whole number of millisatoshis"),
                });
            }
            // `lnbc0n…`: the same refusal as `create_invoice` gives an amount of 0.
            if pico == 0 {
                return Err(InvoiceError::BadAmount {
                    prefix: hrp,
                    reason: "an amount of 0 cannot be paid (an invoice for any amount leaves \
                             the amount out of the prefix)"
                        .into(),
                });
            }
            Some(pico / 10)
        }
    };

    let fields: Vec<&TaggedField> = raw.known_tagged_fields().collect();
    let payment_hash = exactly_one(
        fields.iter().filter_map(|f| match f {
            TaggedField::PaymentHash(h) => Some(PaymentHash(h.0.to_byte_array())),
            _ => None,
        }),
        "payment hash (p field)",
    )?;
    let description = exactly_one(
        fields.iter().filter_map(|f| match f {
            TaggedField::Description(d) => Some(InvoiceDescription::Direct(d.as_inner().0.clone())),
            TaggedField::DescriptionHash(h) => Some(InvoiceDescription::Hash(h.0.to_byte_array())),
            _ => None,
        }),
        "description (d or h field)",
    )?;
    let payment_secret = at_most_one(
        fields.iter().filter_map(|f| match f {
            TaggedField::PaymentSecret(s) => Some(*s),
            _ => None,
        }),
        "payment secret (s field)",
    )?;

    let features = raw.features().map(list_features).unwrap_or_default();
    let unknown: Vec<u64> = features
        .iter()
        .filter(|f| f.required() && f.name.is_none())
        .map(|f| f.bit)
        .collect();
    if !unknown.is_empty() {
        return Err(InvoiceError::UnknownRequiredFeatures { bits: unknown });
    }
    if payment_secret.is_none() && features.iter().any(|f| f.name == Some("payment_secret")) {
        return Err(InvoiceError::MissingField(
            "payment secret (s field), which its payment_secret feature promises",
        ));
    }

    let timestamp = raw.data.timestamp.as_unix_timestamp();
    let expiry_secs = raw
        .expiry_time()
        .map_or(DEFAULT_EXPIRY_SECS, |x| x.as_seconds());
    let min_final_cltv_expiry_delta = raw
        .min_final_cltv_expiry_delta()
        .map_or(DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA, |c| c.0);
    let route_hints = raw
        .private_routes()
        .into_iter()
        .map(|r| (**r).clone())
        .collect();
    let network = Network::from(raw.currency());
    let fallback_addresses = raw
        .fallbacks()
        .into_iter()
        .filter_map(|f| fallback_address(f, network))
        .collect();

    Ok(DecodedInvoice {
        bolt11: s.to_ascii_lowercase(),
        currency: raw.currency(),
        payee,
        payee_explicit,
        payment_hash,
        payment_secret,
        amount_msat,
        timestamp,
        expiry_secs,
        min_final_cltv_expiry_delta,
        description,
        features,
        route_hints,
        fallback_addresses,
    })
}

/// The (preimage, hash, secret) triple that locks one payment: the receiver keeps the
/// preimage to settle, puts the hash and the secret in the invoice.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaymentKeys {
    /// Revealed to settle; its SHA-256 is `hash`. Proof of payment.
    pub preimage: PaymentPreimage,
    /// SHA-256 of `preimage`, the lock every HTLC of the payment carries.
    pub hash: PaymentHash,
    /// The invoice's `payment_secret`.
    pub secret: PaymentSecret,
}

impl PaymentKeys {
    /// From a given preimage and secret (the hash is computed).
    pub fn from_bytes(preimage: [u8; 32], secret: [u8; 32]) -> Self {
        let preimage = PaymentPreimage(preimage);
        PaymentKeys {
            preimage,
            hash: payment_hash_of(&preimage),
            secret: PaymentSecret(secret),
        }
    }

    /// Fresh keys from `rng` (a seeded stream in simulations): 32 bytes of preimage,
    /// then 32 bytes of secret.
    pub fn from_rng<R: rand::RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut preimage = [0u8; 32];
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut preimage);
        rng.fill_bytes(&mut secret);
        Self::from_bytes(preimage, secret)
    }

    /// Fresh keys from the operating system's randomness (for real invoices).
    pub fn random() -> Self {
        Self::from_rng(&mut rand::rng())
    }
}

/// SHA-256 of a preimage: the payment hash it settles.
pub fn payment_hash_of(preimage: &PaymentPreimage) -> PaymentHash {
    PaymentHash(sha256::Hash::hash(&preimage.0).to_byte_array())
}

/// A node secret key derived from a seed:
/// `sha256("flotilla-node-key" || seed (8 bytes BE))`, with a 4-byte BE counter
/// appended on retries should the hash not be a valid key. Anyone who knows the seed
/// knows the key: for tests and simulations only.
pub fn node_key_from_seed(seed: u64) -> SecretKey {
    let mut counter: u32 = 0;
    loop {
        let mut e = sha256::Hash::engine();
        e.input(b"flotilla-node-key");
        e.input(&seed.to_be_bytes());
        if counter > 0 {
            e.input(&counter.to_be_bytes());
        }
        if let Ok(key) = SecretKey::from_slice(&sha256::Hash::from_engine(e).to_byte_array()) {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

/// Parses a node secret key written as 64 hex characters (an optional `0x` is allowed).
pub fn parse_node_key(s: &str) -> Result<SecretKey, InvoiceError> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let bytes: [u8; 32] = parse_hex32(t).map_err(InvoiceError::BadNodeKey)?;
    SecretKey::from_slice(&bytes).map_err(|_| {
        InvoiceError::BadNodeKey(
            "not a valid secp256k1 secret key (it must be non-zero and below the curve order)"
                .into(),
        )
    })
}

/// Parses 64 hex characters into 32 bytes; the error says what is wrong.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!("{c:?} at position {} is not a hex digit", i + 1));
    }
    if s.len() != 64 {
        return Err(format!(
            "expected 64 hex characters (32 bytes), got {}",
            s.len()
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16).unwrap_or(0);
        let lo = (pair[1] as char).to_digit(16).unwrap_or(0);
        out[i] = (hi * 16 + lo) as u8;
    }
    Ok(out)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The network's name as the CLI spells it: bitcoin, testnet, signet, regtest, simnet.
pub fn currency_name(c: &Currency) -> &'static str {
    match c {
        Currency::Bitcoin => "bitcoin",
        Currency::BitcoinTestnet => "testnet",
        Currency::Signet => "signet",
        Currency::Regtest => "regtest",
        Currency::Simnet => "simnet",
    }
}

fn list_features(f: &Bolt11InvoiceFeatures) -> Vec<FeatureBit> {
    let mut out = Vec::new();
    for (i, byte) in f.le_flags().iter().enumerate() {
        for b in 0..8u64 {
            if byte & (1 << b) != 0 {
                let bit = i as u64 * 8 + b;
                out.push(FeatureBit {
                    bit,
                    name: feature_name(bit),
                });
            }
        }
    }
    out
}

fn fallback_address(f: &Fallback, network: Network) -> Option<String> {
    let address = match f {
        Fallback::SegWitProgram { version, program } => {
            let wp = WitnessProgram::new(*version, program).ok()?;
            Address::from_witness_program(wp, network)
        }
        Fallback::PubKeyHash(pkh) => Address::p2pkh(*pkh, network),
        Fallback::ScriptHash(sh) => Address::p2sh_from_hash(*sh, network),
    };
    Some(address.to_string())
}

fn exactly_one<T>(mut it: impl Iterator<Item = T>, what: &'static str) -> Result<T, InvoiceError> {
    let first = it.next().ok_or(InvoiceError::MissingField(what))?;
    if it.next().is_some() {
        return Err(InvoiceError::DuplicateField(what));
    }
    Ok(first)
}

fn at_most_one<T>(
    mut it: impl Iterator<Item = T>,
    what: &'static str,
) -> Result<Option<T>, InvoiceError> {
    let first = it.next();
    if first.is_some() && it.next().is_some() {
        return Err(InvoiceError::DuplicateField(what));
    }
    Ok(first)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The human-readable part (before the last `1`), lower case.
fn hrp_of(s: &str) -> String {
    s.rfind('1').map_or(s, |i| &s[..i]).to_ascii_lowercase()
}

fn parse_error(e: Bolt11ParseError, s: &str) -> InvoiceError {
    use Bolt11ParseError as P;
    let prefix = hrp_of(s);
    let malformed = |m: &str| InvoiceError::MalformedData(m.to_string());
    match e {
        P::Bech32Error(e) => bech32_error(e, s),
        P::ParseAmountError(e) => InvoiceError::BadAmount {
            prefix,
            reason: format!("the amount is not a number ({e})"),
        },
        P::UnknownSiPrefix => InvoiceError::BadAmount {
            prefix,
            reason: "unknown multiplier; expected m (milli), u (micro), n (nano) or p (pico) after the number".into(),
        },
        P::MalformedSignature(e) => InvoiceError::BadSignature(format!("it is malformed ({e})")),
        P::BadPrefix => InvoiceError::NotAnInvoice { prefix },
        P::UnknownCurrency => {
            let rest = prefix.strip_prefix("ln").unwrap_or(&prefix);
            let currency: String = rest.chars().take_while(|c| !c.is_ascii_digit()).collect();
            InvoiceError::UnknownCurrency { currency, prefix }
        }
        P::MalformedHRP => {
            if prefix.starts_with("ln") {
                InvoiceError::BadAmount {
                    prefix,
                    reason: "expected ln, a currency, then optionally a number and a multiplier (m, u, n, p)".into(),
                }
            } else {
                InvoiceError::NotAnInvoice { prefix }
            }
        }
        P::TooShortDataPart => malformed("the data part is too short to hold a timestamp and a signature"),
        P::UnexpectedEndOfTaggedFields => malformed("a tagged field runs past the end of the data"),
        P::DescriptionDecodeError(_) => malformed("the description is not valid UTF-8"),
        P::PaddingError => malformed("a field has non-zero padding bits"),
        P::IntegerOverflowError => {
            if prefix.parse::<RawHrp>() == Err(P::IntegerOverflowError) {
                InvoiceError::BadAmount {
                    prefix,
                    reason: "the amount overflows".into(),
                }
            } else {
                malformed("a number in a field overflows 64 bits")
            }
        }
        P::InvalidSegWitProgramLength => malformed("a fallback segwit program has an invalid length"),
        P::InvalidPubKeyHashLength => malformed("a fallback public key hash has an invalid length"),
        P::InvalidScriptHashLength => malformed("a fallback script hash has an invalid length"),
        P::InvalidSliceLength(got, expected, what) => InvoiceError::MalformedData(format!(
            "field {what} is {got} long, expected {expected}"
        )),
        P::Skip => malformed("a field could not be read"),
    }
}

fn bech32_error(e: CheckedHrpstringError, s: &str) -> InvoiceError {
    let m = |m: String| InvoiceError::MalformedBech32(m);
    match e {
        CheckedHrpstringError::Checksum(ChecksumError::InvalidResidue) => InvoiceError::BadChecksum,
        CheckedHrpstringError::Checksum(ChecksumError::CodeLength(_)) => {
            InvoiceError::TooLong { len: s.len() }
        }
        CheckedHrpstringError::Checksum(ChecksumError::InvalidLength) => {
            m("too short to hold a 6-character checksum".into())
        }
        CheckedHrpstringError::Parse(UncheckedHrpstringError::Char(c)) => match c {
            CharError::MissingSeparator => {
                m("no separator '1' between the prefix (lnbc…) and the data".into())
            }
            CharError::NothingAfterSeparator => m("nothing after the separator '1'".into()),
            CharError::InvalidChar(c) => {
                m(format!("character {c:?} is not in the bech32 alphabet"))
            }
            CharError::MixedCase => m("it mixes upper and lower case".into()),
            other => m(other.to_string()),
        },
        CheckedHrpstringError::Parse(UncheckedHrpstringError::Hrp(h)) => {
            m(format!("invalid prefix: {h}"))
        }
        other => m(other.to_string()),
    }
}
