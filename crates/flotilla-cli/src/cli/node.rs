//! The grammar of `flotilla node`: the daemon and the commands that query and drive it.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `flotilla node`
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's data directory: identity.key (the node's secret seed, mode 0600),
    /// store.sqlite3 (remembered peers), node.json (node id, listen address, how to
    /// reach the control socket, pid), control.sock, control.token and lock (one
    /// daemon per directory). `run` creates it (mode 0700) when missing.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: NodeCommand,
}

/// The `flotilla node` subcommands.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Run the node in the foreground until `flotilla node stop`, Ctrl-C or SIGTERM.
    ///
    /// The first start creates the node's identity (DIR/identity.key, mode 0600; a
    /// key file others can read is refused). Every start writes DIR/node.json and a
    /// new control token. Logs go to stderr (info by default; RUST_LOG overrides).
    ///
    /// Example: flotilla node run --data-dir alice --listen 127.0.0.1:9735 --alias alice
    Run(NodeRunArgs),
    /// The node's id, listen address, features, uptime and message counters.
    Info(NodeQueryArgs),
    /// Connect to a peer, ID@HOST:PORT (its node id and listen address, as in its
    /// node.json `uri`): waits for the encrypted handshake and the init exchange, then
    /// remembers the peer so the node dials it again after a restart or a lost
    /// connection (backoff from 1 s doubling to 60 s).
    Connect(NodeConnectArgs),
    /// The connected peers: node id, remote address of the connection, direction,
    /// the peer's init features (hex) and seconds connected.
    Peers(NodeQueryArgs),
    /// Open a channel with a connected peer, funded by agreement: no on-chain
    /// transaction exists. The peer stores the channel and answers; then this node
    /// stores it (each side in one SQLite transaction). This node's starting balance
    /// is the capacity less --push-msat; the peer's is --push-msat. Each side sets the
    /// policy it announces for its own direction and its BOLT 2 channel parameters
    /// (its `node run` defaults; the flags below replace them for this channel, on
    /// this node's side); the peer refuses parameters it cannot accept, saying why.
    OpenChannel(NodeOpenChannelArgs),
    /// Change this node's policy for its direction of one of its channels: a new
    /// signed announcement (newer timestamp) floods the network, and forwarding
    /// enforces it at once (too little fee: fee_insufficient; too small:
    /// amount_below_minimum). Fields not given keep their value.
    ///
    /// Example: flotilla node --data-dir alice set-policy CHANNEL_ID --fee-rate-ppm 200
    SetPolicy(NodeSetPolicyArgs),
    /// The channels: id, peer, capacity, both balances and pending HTLCs, as the
    /// node's payment engine holds them now.
    Channels(NodeQueryArgs),
    /// Make a BOLT 11 invoice (with a payment_secret, signed by the node's key) and
    /// expect its payment.
    Invoice(NodeInvoiceArgs),
    /// Pay a BOLT 11 invoice: routes over the channels the node knows (its own and
    /// the ones peers announced), splits it into up to --max-parts parts (MPP),
    /// retries failed parts, and waits for the outcome. With --redundancy and --lock,
    /// a redundant overpayment (the simulator's redundant sender).
    Pay(NodePayArgs),
    /// Pay a node without an invoice (keysend; MPP when --max-parts > 1).
    Keysend(NodeKeysendArgs),
    /// Every payment sent and received, and the invoices not paid yet.
    Payments(NodeQueryArgs),
    /// Stop the node (it disconnects its peers and removes its control socket).
    Stop(NodeQueryArgs),
}

/// `flotilla node open-channel`
#[derive(Debug, Args)]
pub struct NodeOpenChannelArgs {
    /// The peer's node id (66 hex characters); it must be connected.
    #[arg(value_name = "ID")]
    pub peer: String,
    /// The channel's capacity in sat.
    #[arg(long)]
    pub capacity_sat: u64,
    /// What this node gives the peer at the start, in msat (default 0).
    #[arg(long, value_name = "MSAT", conflicts_with = "push_sat")]
    pub push_msat: Option<u64>,
    /// The same in sat (kept for older scripts).
    #[arg(long, value_name = "SAT")]
    pub push_sat: Option<u64>,
    #[command(flatten)]
    pub policy: PolicyFlags,
    #[command(flatten)]
    pub params: ChannelParamFlags,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla node set-policy`
#[derive(Debug, Args)]
pub struct NodeSetPolicyArgs {
    /// The channel id (64 hex characters, as `channels` shows it).
    #[arg(value_name = "CHANNEL_ID")]
    pub channel_id: String,
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// The policy a node announces for its direction of a channel (BOLT 7
/// `channel_update`); each flag replaces one field.
#[derive(Debug, Args, Default, Clone)]
pub struct PolicyFlags {
    /// Fixed fee per forwarded HTLC, msat (default 1000).
    #[arg(long, value_name = "MSAT")]
    pub fee_base_msat: Option<u32>,
    /// Proportional fee, millionths of the forwarded amount (default 1).
    #[arg(long, value_name = "PPM")]
    pub fee_rate_ppm: Option<u32>,
    /// Blocks this hop adds to an HTLC's expiry (1–2016; default 40).
    #[arg(long, value_name = "BLOCKS")]
    pub cltv_expiry_delta: Option<u16>,
    /// Smallest HTLC forwarded, msat (default 1).
    #[arg(long, value_name = "MSAT")]
    pub htlc_minimum_msat: Option<u64>,
    /// Largest HTLC forwarded, msat (default: the channel's capacity).
    #[arg(long, value_name = "MSAT")]
    pub htlc_maximum_msat: Option<u64>,
}

/// The BOLT 2 channel parameters a node sets (what it asks of HTLCs its peer offers
/// it); each flag replaces one field.
#[derive(Debug, Args, Default, Clone)]
pub struct ChannelParamFlags {
    /// The reserve the peer must keep, millionths of the capacity (default 10000,
    /// 1%; never below the dust limit; 0: none).
    #[arg(long, value_name = "PPM")]
    pub channel_reserve_ppm: Option<u32>,
    /// dust_limit_satoshis (at least 354, the default).
    #[arg(long, value_name = "SAT")]
    pub dust_limit_sat: Option<u64>,
    /// Most HTLCs the peer may have offered at once (1–483, default 483).
    #[arg(long, value_name = "N")]
    pub max_accepted_htlcs: Option<u16>,
    /// Most value the peer may have offered at once, msat (default: the capacity).
    #[arg(long, value_name = "MSAT")]
    pub max_htlc_value_in_flight_msat: Option<u64>,
    /// Smallest HTLC the peer may offer, msat (default 1).
    #[arg(long = "channel-htlc-minimum-msat", value_name = "MSAT")]
    pub htlc_minimum_msat: Option<u64>,
}

/// `flotilla node invoice`
#[derive(Debug, Args)]
pub struct NodeInvoiceArgs {
    /// The amount asked, msat (omit for an invoice of any amount).
    #[arg(long)]
    pub amount_msat: Option<u64>,
    /// What the payment is for.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Seconds until the invoice expires.
    #[arg(long, default_value_t = 3600)]
    pub expiry_secs: u64,
    /// A redundant invoice, paid by `pay --redundancy RHO --lock` the same lock:
    /// h2tlc, sender_hash or boomerang (needs --amount-msat).
    #[arg(long, value_name = "LOCK")]
    pub lock: Option<String>,
    /// boomerang: the number of equal parts k that pay it (default 4); --json prints
    /// the commitments the payer passes to `pay --commitments`.
    #[arg(long, value_name = "K")]
    pub parts: Option<u16>,
    /// Print JSON instead of the invoice alone.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla node pay`
#[derive(Debug, Args)]
pub struct NodePayArgs {
    /// The BOLT 11 invoice.
    #[arg(value_name = "BOLT11")]
    pub bolt11: String,
    /// The amount, for an invoice without one.
    #[arg(long)]
    pub amount_msat: Option<u64>,
    /// Most parts in flight at once (default 16; 1: a single path). With
    /// --redundancy: the base parts k (default 4).
    #[arg(long)]
    pub max_parts: Option<u32>,
    /// Redundant overpayment: send ceil(k·(1 + RHO)) parts of A/k, any k of which pay
    /// the invoice; the receiver claims exactly A, the surplus is cancelled. Needs
    /// --lock and an invoice made with that lock.
    #[arg(long, value_name = "RHO")]
    pub redundancy: Option<f64>,
    /// The redundant lock: h2tlc, sender_hash or boomerang.
    #[arg(long, value_name = "LOCK")]
    pub lock: Option<String>,
    /// boomerang: the receiver's commitments (its `invoice --json`
    /// boomerang_commitments, comma-separated).
    #[arg(long, value_name = "HEX,HEX,...")]
    pub commitments: Option<String>,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla node keysend`
#[derive(Debug, Args)]
pub struct NodeKeysendArgs {
    /// The receiver's node id.
    #[arg(value_name = "ID")]
    pub peer: String,
    /// The amount, msat.
    #[arg(long)]
    pub amount_msat: u64,
    /// Most parts in flight at once (1: a single path).
    #[arg(long, default_value_t = 16)]
    pub max_parts: u32,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla node run`
#[derive(Debug, Args)]
pub struct NodeRunArgs {
    /// Where to listen for peers, IP:PORT; port 0 picks a free port (node.json says
    /// which).
    #[arg(long, value_name = "IP:PORT")]
    pub listen: std::net::SocketAddr,
    /// A name for the node, shown by `info`.
    #[arg(long)]
    pub alias: Option<String>,
    /// Allow --listen on an address other than loopback (by default only 127.0.0.1
    /// and ::1 are accepted, so a test or a mistake cannot expose the node).
    #[arg(long)]
    pub allow_public_listen: bool,
    /// The defaults of new channels: the policy this node announces and the
    /// channel parameters it sets. Given flags are kept in DIR/node-config.json for
    /// later starts; channels opened already keep the terms they opened with.
    #[command(flatten)]
    pub policy: PolicyFlags,
    #[command(flatten)]
    pub params: ChannelParamFlags,
}

/// A query to a running node.
#[derive(Debug, Args)]
pub struct NodeQueryArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla node connect`
#[derive(Debug, Args)]
pub struct NodeConnectArgs {
    /// The peer: NODE_ID@HOST:PORT.
    #[arg(value_name = "ID@HOST:PORT")]
    pub peer: String,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub json: bool,
}
