//! The command-line grammar. Every `--help` text is written to teach: what the
//! command does, what each flag changes, and the defaults.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod node;
pub use node::*;

/// flotilla: a Lightning payment engine and a discrete-event simulator that runs it
/// over the real mainnet channel graph.
///
/// Every command that reads a graph defaults to the mainnet snapshot built into the
/// binary (builtin:mainnet-2026-02-03.describegraph.json.gz, from data/); set
/// FLOTILLA_GRAPH to a graph file or pass a file to use another. Graph files may be lnd `describegraph` JSON, CLN `listchannels`
/// JSON, sim-ln `sim.json` or CLoTH CSV (a directory or one of its files), gzip or not;
/// the format is detected from the content.
#[derive(Debug, Parser)]
#[command(name = "flotilla", version, about, long_about)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and convert channel graphs.
    #[command(subcommand)]
    Graph(GraphCommand),
    /// Create and decode BOLT 11 invoices (real ones, readable by any Lightning node).
    #[command(subcommand)]
    Invoice(InvoiceCommand),
    /// Run a payment simulation: every strategy ("arm") on its own copy of the network,
    /// over the identical workload, liquidity and faults.
    ///
    /// With no arguments it runs the default experiment on the bundled 2026 mainnet
    /// snapshot: uniform hidden liquidity, 10,000 payments of 1,000–2,000,000 sat
    /// (log-uniform), 50–150 ms per hop, three arms (single-path-retry, mpp-retry,
    /// redundant-h2tlc-split-1-hedge-retry), modeled onions. A scenario file (TOML; see
    /// --print-default-scenario for every field and its default) or a sim-ln sim.json
    /// changes that; flags override both.
    ///
    /// The `-ldk` arms (LDK's router) are about a thousand times slower per route than
    /// ours: for a first look at them, use a small --payments (e.g. 200).
    ///
    /// Results go to a new directory, --out or results/<UTC time>-<suffix>:
    /// payments.csv (one row per payment and arm), attempts.jsonl.gz (every path tried;
    /// see --attempts), summary.json (with each arm against the baseline arm;
    /// byte-identical for the same scenario and seed, whatever the threads),
    /// scenario.toml (the effective scenario, paths absolute: run it again with
    /// `flotilla sim DIR/scenario.toml` from anywhere), run.json (format version, the
    /// command, git commit, graph statistics, wall time, and a SHA-256 of every file,
    /// which `flotilla report` checks), and the report: report.html plus plots/*.svg
    /// and plots/*.png. While running, the directory holds an INCOMPLETE marker; a
    /// failed run leaves it with the reason. An existing --out is refused unless
    /// --force.
    ///
    /// Progress goes to stderr: bars on a terminal, otherwise a plain line per
    /// FLOTILLA_PROGRESS_SECS seconds (default 5; 0 for none) with each arm's
    /// done/total, rate and ETA.
    Sim(SimArgs),
    /// Rebuild report.html and plots/ from a finished results directory.
    ///
    /// `flotilla sim` writes the report itself; this command makes it again, e.g. after
    /// upgrading flotilla or deleting the plots. report.html is one self-contained page
    /// (inline SVG, no network access, readable offline): the run's scenario with every
    /// parameter, the graph's statistics, the summary tables, eight plots with every
    /// arm in one chart (success rate by amount with 95% Wilson intervals; time to
    /// complete; paths tried per payment; fees in ppm; liquidity-seconds per payment;
    /// failures by reason; success and fee per settled payment over simulated time)
    /// and the command that reproduces the run. The same plots are
    /// written to plots/ as SVG and as PNG (2× size, embedded font).
    ///
    /// A directory that is missing, still running or failed (INCOMPLETE marker), or
    /// written in another results format version, is refused with one error line; so
    /// is one whose files differ from the SHA-256 that run.json recorded (edited or
    /// truncated after the run; --no-verify renders it with a warning) or whose values
    /// are out of range (a success rate above 100%, rows that disagree with
    /// summary.json).
    Report(ReportArgs),
    /// Find a route for one payment and print its paths: hops, amounts, fees, CLTV
    /// expiries and the router's estimate of the success probability.
    ///
    /// NODE is a public key (66 hex characters) or an alias announced by exactly one
    /// node. The sender's own first channel charges no fee; every later hop's fee is
    /// charged by the node it leaves (BOLT 7: base + amount × ppm / 1e6, rounded down),
    /// so hop amounts fall by exactly those fees toward the destination.
    ///
    /// Routers: `flotilla` (our single-path search; the default for --max-parts 1),
    /// `greedy` (the default for --max-parts > 1), `mcf` (min-cost flow) and `halving`
    /// (lnd-style) split into up to --max-parts parts; all four score channels with a
    /// fresh liquidity-bounds scorer, i.e. hidden liquidity uniform on [0, capacity].
    /// `ldk` is LDK 0.2.7's find_route with a fresh ProbabilisticScorer (single path, or
    /// multi-path when --max-parts > 1).
    ///
    /// --json prints one object (keys: from, to, router, scorer, amount_msat,
    /// max_parts, limits, parts, paths[] (amount_msat, sent_msat, fee_msat, total_cltv,
    /// probability, hops[]: scid, from, to, amount_msat, fee_msat, cltv_expiry),
    /// total_amount_msat, total_sent_msat, total_fee_msat, fee_ppm, probability (the
    /// product over paths), search_micros).
    Route(RouteArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run a grid of scenarios × seeds: every point of the grid with every seed, each
    /// into its own results directory, then one table, the means across seeds and one
    /// report (docs/sweeps.md).
    ///
    /// SWEEP is a TOML file: `scenario = "PATH"` (the base scenario, relative to the
    /// sweep file), `seeds` (a count N for seeds 1..N, or a list) and a `[grid]` whose
    /// keys are scenario keys with a list of values each (dotted keys or nested tables:
    /// `workload.arrivals_per_sec = [25, 100, 400]`, `sender.arms = [["mpp-retry"],
    /// ["mpp-retry", "redundant-boomerang-1-retry"]]`). Every point is checked before
    /// anything runs: an unknown key or a wrong value is one error naming the key.
    ///
    /// Order: parameters sorted by key, the last one varying fastest; point i with seed
    /// s runs into DIR/runs/pNNNN-sS/ (an ordinary `flotilla sim` results directory).
    /// DIR gets sweep.json (what the sweep is), sweep.csv (one row per point × seed ×
    /// arm: every numeric summary figure, the point's parameters as columns),
    /// aggregates.csv (per point × arm × figure: mean, sd and 95% t-interval across
    /// seeds) and report.html (every figure against every parameter, one line per arm,
    /// interval bands). The same sweep gives the same bytes whatever --jobs, --threads
    /// or --shard + `flotilla merge`.
    Sweep(SweepArgs),
    /// Gather sweep directories (the shards of one sweep) into one, as if the sweep had
    /// run whole: its runs, sweep.csv, aggregates.csv and report.html.
    ///
    /// Every input must hold the same sweep (the same sweep file, base scenario and
    /// --set), and together every run complete; otherwise the merge is refused naming
    /// what is missing. Runs are hard-linked into --out where the file system allows
    /// it (they never change once finished), copied otherwise.
    Merge(MergeArgs),
    /// Run a live flotilla node, or talk to a running one.
    ///
    /// `flotilla node run --data-dir DIR --listen 127.0.0.1:PORT` starts a node in the
    /// foreground: it speaks the Lightning transport (BOLT 8 encryption, BOLT 1 init,
    /// ping and errors, through LDK's PeerManager) with other nodes, remembers the
    /// peers it dialed and dials them again after a restart. The other subcommands
    /// talk to the running node through the control socket in DIR:
    /// `flotilla node --data-dir DIR info | connect ID@HOST:PORT | peers |
    /// open-channel ID --capacity-sat N [--push-sat N] | channels | stop`.
    Node(NodeArgs),
    /// Run a small scenario live: one `flotilla node` process per graph node on
    /// loopback, the scenario's channels opened with its balances, its workload paid
    /// through the nodes' control sockets; the same outputs as `flotilla sim`.
    ///
    /// SCENARIO is loaded as `flotilla sim` loads it (with --set), on a graph of at most
    /// 50 nodes. Each node listens on a loopback port chosen at run time, with its data
    /// directory under --nodes-dir (kept) or a temporary directory (removed). The nodes
    /// connect along the graph's channels, open every channel by agreement (nodes[0]
    /// opens, pushing the other side's balance, rounded to the sat), and wait until
    /// gossip has told every node every channel. Then each payment of the workload (the
    /// simulator's own list, from the seed) is made at its arrival time, or with
    /// --concurrency N as fast as possible with N at once: an invoice from the receiver,
    /// `pay` from the sender (keysend when the workload says so), timed around the
    /// request. The payer is the live node's (MPP with the greedy splitter), which is
    /// the simulator's `mpp-retry` arm; the rows carry that arm's name, so the two
    /// payments.csv files pair by (arm, payment).
    ///
    /// What the live network cannot reproduce (fee policies other than the live
    /// node's, channel parameters, sender limits, faults, latency) is printed on stderr
    /// and written to live.json; what would change outcomes outright (offline or hodl
    /// nodes, background or warm-up payments, field sections, a closed loop) is refused.
    /// Results go to --out like `flotilla sim`'s (payments.csv, summary.json,
    /// scenario.toml, run.json, the report) plus live.json (the nodes, ports, set-up
    /// times and every difference). Every process started is stopped at the end, on
    /// error and on Ctrl-C. docs/live.md compares live and simulated runs.
    Live(LiveArgs),
}

/// `flotilla live`
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Scenario TOML (a graph of at most 50 nodes).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Set any scenario key (repeatable), as `flotilla sim --set`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<flotilla_sim::set::Setting>,
    /// Results directory (default: results/<UTC time>-live-<suffix>). Must not exist or
    /// be empty, unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace --out if it holds a previous run.
    #[arg(long)]
    pub force: bool,
    /// Ignore arrival times: keep N payments in flight at once, as fast as the nodes
    /// go (default: each payment at its arrival time, any number in flight).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: Option<u32>,
    /// Keep the nodes' data directories here (node.log, store, identity) instead of a
    /// temporary directory that is removed at the end.
    #[arg(long, value_name = "DIR")]
    pub nodes_dir: Option<PathBuf>,
    /// Print summary.json (with the live run's wall time) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No table and no progress.
    #[arg(long)]
    pub quiet: bool,
    /// Skip the report (report.html, plots/).
    #[arg(long)]
    pub no_report: bool,
}

/// `flotilla sweep`
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file (TOML: scenario, seeds, [grid]).
    #[arg(value_name = "SWEEP")]
    pub sweep: PathBuf,

    /// Sweep directory: absent or empty, or (with --resume) this sweep's.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Runs at once on this machine (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,

    /// Arms at once within each run (default 1: --jobs already fills the cores).
    #[arg(long, value_name = "T", default_value_t = 1)]
    pub threads: usize,

    /// Run only the I-th of N deterministic slices of the runs (1 <= I <= N), e.g. a
    /// Slurm array task or a Kubernetes indexed job; `flotilla merge` gathers them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<flotilla_sim::sweep::Shard>,

    /// Continue the sweep in --out: complete runs are kept, partial ones run again.
    #[arg(long)]
    pub resume: bool,

    /// Change the base scenario before the grid applies (repeatable), e.g.
    /// --set workload.payments=200 for a quick look at the whole grid.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<flotilla_sim::set::Setting>,

    /// No line per run on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Do not write report.html and plots/ (`flotilla merge` of this one directory
    /// writes them later).
    #[arg(long)]
    pub no_report: bool,
}

/// `flotilla merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Sweep directories to gather (shards written by `flotilla sweep --shard`).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,

    /// The merged sweep directory (absent or empty).
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,

    /// No summary on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Do not write report.html and plots/.
    #[arg(long)]
    pub no_report: bool,
}

/// `flotilla sim`
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Scenario TOML, or a sim-ln sim.json (its sim_network is the graph, its activity
    /// the workload).
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,

    /// Print the default scenario, every field documented, and exit.
    #[arg(long)]
    pub print_default_scenario: bool,

    /// Graph file (overrides the scenario's graph.file).
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,

    /// Payments per arm (overrides workload.payments).
    #[arg(long, value_name = "N")]
    pub payments: Option<u64>,

    /// Mean payment arrivals per second over the network (overrides
    /// workload.arrivals_per_sec): the load, e.g. for a throughput sweep.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<f64>,

    /// Seed of every random stream (overrides seed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Comma-separated arms (overrides sender.arms), e.g. single-path-retry,mpp-retry-ldk.
    /// The -ldk arms route about 1,000× slower than ours: try them with --payments 200.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub arms: Option<Vec<String>>,

    /// Onion mode (overrides network.onion).
    #[arg(long, value_enum)]
    pub onion: Option<OnionArg>,

    /// Hidden-liquidity model (overrides graph.liquidity).
    #[arg(long, value_name = "MODEL")]
    pub liquidity: Option<String>,

    /// Set any scenario key (repeatable), e.g. --set workload.arrivals_per_sec=25
    /// --set sender.arms='["mpp-retry"]'. VALUE is TOML (a bare word is a string);
    /// applied to the scenario file before it is checked, and before the flags above.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<flotilla_sim::set::Setting>,

    /// Results directory (default: a new results/<UTC time>-<suffix>, e.g.
    /// results/2026-02-03T14-05-09Z-3fa9). Must not exist or be empty, unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Replace --out if it holds a previous run (a directory with run.json or an
    /// INCOMPLETE marker; anything else is never deleted).
    #[arg(long)]
    pub force: bool,

    /// Arms run at once, one thread each, at least 1 (default: all cores). Results do
    /// not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// How to write every path tried: `gz` (attempts.jsonl.gz, about a sixth of the size),
    /// `full` (attempts.jsonl) or `off` (no file, a faster run). `flotilla report`
    /// reads either file.
    #[arg(long, value_enum, default_value = "gz", value_name = "FORM")]
    pub attempts: AttemptsArg,

    /// Also write the experiment as a sim-ln sim.json (its graph's channels with both
    /// policies, and one activity entry per payment) so sim-ln can run the same payments.
    #[arg(long, value_name = "FILE")]
    pub export_simln: Option<PathBuf>,

    /// Print summary.json instead of the table, with wall_seconds, payments_per_second
    /// and results (the directory) added.
    #[arg(long)]
    pub json: bool,

    /// No progress bar and no table (errors still go to stderr).
    #[arg(long)]
    pub quiet: bool,

    /// Do not write report.html and plots/ (saves well under a second; `flotilla
    /// report DIR` writes them later).
    #[arg(long)]
    pub no_report: bool,
}

/// `flotilla report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results directory written by `flotilla sim` (its --out).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Render even if a file differs from the SHA-256 that run.json recorded (a
    /// warning is printed instead of refusing).
    #[arg(long)]
    pub no_verify: bool,
}

/// `--attempts`: how the attempts file is written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AttemptsArg {
    /// No attempts file.
    Off,
    /// attempts.jsonl.gz.
    Gz,
    /// attempts.jsonl, uncompressed.
    Full,
}

/// Onion modes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnionArg {
    /// Each hop gets its payload as a struct (fast).
    Modeled,
    /// Real BOLT 4 Sphinx onions, built, peeled and failure-decoded.
    Real,
}

/// `flotilla graph …`
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Print counts, capacity, the largest strongly connected component and import
    /// warnings of a graph.
    ///
    /// The largest strongly connected component is taken over enabled policies only:
    /// it is the set of nodes that can all pay each other, from which simulations
    /// draw senders and receivers.
    Stats(StatsArgs),
    /// Convert a graph to another format so other tools can run the same topology.
    ///
    /// `describegraph` keeps everything; `simln` and `cloth` need an enabled policy in
    /// both directions and leave out other channels (the count is printed). CLoTH
    /// also needs balances per direction: they come from `--liquidity`, or from the
    /// input itself when it is CLoTH.
    Convert(ConvertArgs),
    /// Generate a seeded synthetic topology and write it in any export format.
    ///
    /// `watts-strogatz` reproduces the Boomerang paper's setup by default (100 nodes,
    /// k = 8, p = 0.8, each side's balance log-uniform in [100, 1000] units of
    /// 1,000 sat); `barabasi-albert` grows a scale-free graph with hubs, as mainnet
    /// has. The same seed gives the same graph, byte for byte.
    Generate(GenerateArgs),
}

/// Which graph to read.
#[derive(Debug, Args, Clone)]
pub struct GraphInput {
    /// The graph file (default: $FLOTILLA_GRAPH, else the 2026 mainnet snapshot built
    /// into the binary, builtin:mainnet-2026-02-03.describegraph.json.gz).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Force the input format instead of detecting it from the content.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `flotilla graph stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: GraphInput,

    /// Print one JSON object instead of a table (keys: nodes, channels, policies,
    /// enabled_policies, capacity_sat, largest_scc_nodes, warnings, …).
    #[arg(long)]
    pub json: bool,
}

/// `flotilla graph convert`
#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: GraphInput,

    /// Output format.
    #[arg(long, value_enum)]
    pub to: ExportFormatArg,

    /// Output file (a `.gz` name compresses), or directory for `cloth`.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Hidden-liquidity model for the balances CLoTH needs: `uniform`, `half`,
    /// `bimodal` (lnd's, scale 300,000 sat), `bimodal:SCALE_MSAT` or `bimodal:P%`
    /// (scale as a share of capacity). Default: the input's own balances when it is
    /// CLoTH, else `uniform`. Ignored by the other formats, which carry no balances.
    #[arg(long, value_name = "MODEL")]
    pub liquidity: Option<String>,

    /// Seed of the liquidity model.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `flotilla graph generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The model.
    #[arg(value_enum)]
    pub model: GeneratorArg,

    /// Nodes (default: 100 for watts-strogatz, 1,000 for barabasi-albert).
    #[arg(long)]
    pub nodes: Option<usize>,

    /// Watts–Strogatz: ring neighbours per node, even.
    #[arg(long, default_value_t = 8)]
    pub k: usize,

    /// Watts–Strogatz: rewiring probability.
    #[arg(long, default_value_t = 0.8)]
    pub p: f64,

    /// Barabási–Albert: channels each new node opens.
    #[arg(long, default_value_t = 3)]
    pub m: usize,

    /// Draw fees per direction (base 0–1,000 msat, rate 0–2,500 ppm log-uniform)
    /// instead of 1,000 msat + 1 ppm everywhere.
    #[arg(long)]
    pub random_fees: bool,

    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output format.
    #[arg(long, value_enum, default_value = "describegraph")]
    pub to: ExportFormatArg,

    /// Output file (a `.gz` name compresses), or directory for `cloth`.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

/// Synthetic topologies.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GeneratorArg {
    /// Small world: ring lattice with random rewiring (the Boomerang paper's setup).
    WattsStrogatz,
    /// Scale-free: preferential attachment.
    BarabasiAlbert,
}

/// Input formats, as named on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// lnd `lncli describegraph` JSON.
    Describegraph,
    /// Core Lightning `listchannels` JSON.
    Listchannels,
    /// sim-ln `sim.json`.
    Simln,
    /// CLoTH CSV files.
    Cloth,
}

/// Output formats, as named on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    /// lnd `describegraph` JSON.
    Describegraph,
    /// sim-ln `sim.json` (`sim_network`).
    Simln,
    /// CLoTH `nodes.csv`, `channels.csv`, `edges.csv` in a directory.
    Cloth,
}

impl From<FormatArg> for flotilla_graph::GraphFormat {
    fn from(f: FormatArg) -> Self {
        use flotilla_graph::GraphFormat as G;
        match f {
            FormatArg::Describegraph => G::Describegraph,
            FormatArg::Listchannels => G::Listchannels,
            FormatArg::Simln => G::Simln,
            FormatArg::Cloth => G::Cloth,
        }
    }
}

impl From<ExportFormatArg> for flotilla_graph::GraphFormat {
    fn from(f: ExportFormatArg) -> Self {
        use flotilla_graph::GraphFormat as G;
        match f {
            ExportFormatArg::Describegraph => G::Describegraph,
            ExportFormatArg::Simln => G::Simln,
            ExportFormatArg::Cloth => G::Cloth,
        }
    }
}

// ---- `flotilla invoice …` -------------------------------------------------------

/// `flotilla invoice …`
#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Create a signed BOLT 11 invoice and the preimage that settles it.
    ///
    /// The invoice carries a fresh random payment hash and payment_secret and the
    /// features var_onion_optin, payment_secret and basic_mpp (so payers may split it
    /// into several parts). It is signed with the node key: `--node-key`, or else a key
    /// derived from `--seed` (default 0), which is printed so it can be passed back
    /// with `--node-key`. Keys derived from a seed are public knowledge: use them for
    /// tests and simulations only.
    ///
    /// The output also prints the preimage. Keep it: the receiving node reveals it to
    /// settle the payment, and it is the payer's proof of payment. It is shown once
    /// and cannot be recovered from the invoice.
    ///
    /// Example: flotilla invoice create --amount-msat 50000 --description "a coffee"
    Create(InvoiceCreateArgs),
    /// Decode a BOLT 11 invoice, check its checksum and signature, and print its
    /// fields.
    ///
    /// Prints the payee (from the `n` field, or recovered from the signature),
    /// payment_hash, payment_secret, amount_msat, timestamp, expiry,
    /// min_final_cltv_expiry_delta, description, features, route hints and fallback
    /// addresses. A mistyped or altered invoice fails with a checksum or signature
    /// error. Upper case and a `lightning:` prefix are accepted.
    Decode(InvoiceDecodeArgs),
}

/// `flotilla invoice create`
#[derive(Debug, Args)]
pub struct InvoiceCreateArgs {
    /// The amount to ask, in millisatoshis (1 sat = 1000 msat); must be positive.
    #[arg(long, value_name = "MSAT", allow_hyphen_values = true)]
    pub amount_msat: String,

    /// What the payment is for, shown to the payer (at most 639 bytes of UTF-8).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,

    /// Seconds after creation during which the invoice may be paid.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "3600",
        allow_hyphen_values = true
    )]
    pub expiry_secs: String,

    /// Blocks the final HTLC must still have before it expires when it reaches the
    /// receiver (BOLT 11's `c` field; 18 is the BOLT 11 default).
    #[arg(
        long,
        value_name = "BLOCKS",
        default_value = "18",
        allow_hyphen_values = true
    )]
    pub min_final_cltv: String,

    /// The network the invoice is for (sets the lnbc / lntb / lntbs / lnbcrt prefix).
    #[arg(long, value_enum, default_value_t = InvoiceNetworkArg::Bitcoin)]
    pub network: InvoiceNetworkArg,

    /// The receiving node's secret key, 64 hex characters. Default: the key derived
    /// from `--seed`.
    #[arg(long, value_name = "HEX", conflicts_with = "seed")]
    pub node_key: Option<String>,

    /// Derive the node key from this number (sha256("flotilla-node-key" || seed)).
    #[arg(
        long,
        value_name = "N",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub seed: String,

    /// Creation time, seconds since 1970 (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    pub timestamp: Option<String>,

    /// Also write the payee's public key into the invoice (the `n` field), so payers
    /// need not recover it from the signature; the invoice gets longer.
    #[arg(long)]
    pub with_payee_key: bool,

    /// Print one JSON object instead of text (keys: bolt11, preimage, payment_hash,
    /// payment_secret, node_key, payee, amount_msat, …).
    #[arg(long)]
    pub json: bool,
}

/// `flotilla invoice decode`
#[derive(Debug, Args)]
pub struct InvoiceDecodeArgs {
    /// The invoice (lnbc…, lntb…, lntbs…, lnbcrt…).
    #[arg(value_name = "BOLT11", allow_hyphen_values = true)]
    pub invoice: String,

    /// Print one JSON object instead of a table (keys: payee, payment_hash,
    /// payment_secret, amount_msat, timestamp, expiry_secs, expires_at, expired,
    /// seconds_until_expiry, min_final_cltv_expiry_delta, description, features, …).
    #[arg(long)]
    pub json: bool,

    /// The time to judge expiry against, seconds since 1970 (default: now). The
    /// output says whether the invoice has expired and when it does or did.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<u64>,
}

/// Networks an invoice can be for, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvoiceNetworkArg {
    /// Bitcoin mainnet (lnbc).
    Bitcoin,
    /// Bitcoin testnet (lntb).
    Testnet,
    /// Signet (lntbs).
    Signet,
    /// Regtest (lnbcrt).
    Regtest,
}

impl From<InvoiceNetworkArg> for flotilla_ln::invoice::Currency {
    fn from(n: InvoiceNetworkArg) -> Self {
        use flotilla_ln::invoice::Currency as C;
        match n {
            InvoiceNetworkArg::Bitcoin => C::Bitcoin,
            InvoiceNetworkArg::Testnet => C::BitcoinTestnet,
            InvoiceNetworkArg::Signet => C::Signet,
            InvoiceNetworkArg::Regtest => C::Regtest,
        }
    }
}

// ---- `flotilla route` and `flotilla bench …` ----------------------------------

/// Routers `flotilla route` can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RouterArg {
    /// Our fast single-path pathfinder.
    Flotilla,
    /// Greedy MPP splitter (LDK-like path collection with channel saturation limits).
    Greedy,
    /// Min-cost-flow MPP splitter (Pickhardt–Richter).
    Mcf,
    /// lnd-style halving MPP splitter.
    Halving,
    /// LDK 0.2.7's find_route with its ProbabilisticScorer.
    Ldk,
}

/// `flotilla route`
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The sender: public key or alias.
    #[arg(long, value_name = "NODE", allow_hyphen_values = true)]
    pub from: String,

    /// The receiver: public key or alias.
    #[arg(long, value_name = "NODE", allow_hyphen_values = true)]
    pub to: String,

    /// Amount to deliver to the receiver, millisatoshis (1 sat = 1000 msat).
    #[arg(long, value_name = "MSAT", allow_hyphen_values = true)]
    pub amount_msat: String,

    /// The router (default: flotilla for one part, greedy for more).
    #[arg(long, value_enum)]
    pub router: Option<RouterArg>,

    /// Most parts the payment may be split into (1: a single path).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub max_parts: u32,

    /// Most fees the sender pays over all parts, msat (default: LDK's, 1% of the
    /// amount plus 50 sat).
    #[arg(long, value_name = "MSAT")]
    pub max_fee_msat: Option<u64>,

    /// Smallest part of a split payment, msat (default 10,000,000, i.e. 10,000 sat).
    #[arg(long, value_name = "MSAT")]
    pub min_part_msat: Option<u64>,

    /// CLTV delta the receiver requires on its HTLC, blocks (BOLT 11 default 18).
    #[arg(long, value_name = "BLOCKS", default_value_t = 18)]
    pub final_cltv: u32,

    /// Most blocks the sender's first HTLC may lock funds for.
    #[arg(long, value_name = "BLOCKS", default_value_t = 2016)]
    pub max_total_cltv: u32,

    /// The graph file (default: $FLOTILLA_GRAPH, else the 2026 mainnet snapshot built
    /// into the binary, builtin:mainnet-2026-02-03.describegraph.json.gz).
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time every router on the same seeded random queries, in one process.
    ///
    /// Queries: sender and receiver drawn from the largest strongly connected
    /// component (distinct), amount log-uniform in [1,000, 1,000,000] sat, from a
    /// ChaCha8 generator seeded with --seed (seed 2026 gives the queries of the
    /// criterion benches in crates/flotilla-route/benches). Single-path rows: flotilla,
    /// ldk. Multi-path rows (up to --max-parts parts): greedy, mcf, halving, ldk-mpp.
    ///
    /// Every router scores statelessly: ours use UniformScorer (hidden liquidity
    /// uniform on [0, capacity]), LDK a fresh ProbabilisticScorer with its default
    /// parameters; no outcome is fed back, so every query starts from the same beliefs.
    /// Each router is warmed up on the first queries (not timed), then each
    /// find_route call is timed alone with a monotonic clock. LDK takes tens of
    /// milliseconds per query, so its rows run on the first --ldk-queries queries
    /// only; speedup_vs_ldk compares medians on exactly those queries. The headline is
    /// speedup_routable: the same ratio of medians over the queries both routers
    /// answered, leaving out the unroutable ones (about 30% on mainnet) that every
    /// router refuses in microseconds.
    ///
    /// The success probability of an answer is computed under one common model for
    /// every router: uniform hidden liquidity on [0, capacity], all parts of the answer
    /// together (parts sharing a channel direction must fit together: that direction
    /// contributes (c + 1 − Σa) / (c + 1)), product over channel directions.
    ///
    /// JSON (--json) keys. Top level: graph, nodes, channels, scc_nodes, queries, seed,
    /// max_parts, ldk_queries, amount_min_sat, amount_max_sat, probability_model,
    /// probability_scorer (UniformScorer: it scores every router's answers), routers[]. Per router: router (name), paths ("single" or "mpp"), max_parts,
    /// queries (timed), warmup_queries, answered, answered_share, median_us, p99_us,
    /// mean_us (all timed queries, answered or not), median_us_answered (answered
    /// queries only), mean_fee_ppm, mean_parts and mean_probability (answered queries;
    /// probability under the common model), reference (the LDK row it is compared
    /// with: "ldk" or "ldk-mpp"), reference_queries (how many queries both ran),
    /// median_us_on_reference_queries and mean_probability_on_reference_queries (this
    /// router's values over those queries), speedup_vs_ldk (the reference's median ÷
    /// this router's median over those queries, all of them; null when the reference
    /// did not run), routable_queries (how many of those both answered),
    /// median_us_routable and reference_median_us_routable (the two medians over them),
    /// speedup_routable (their ratio) and speedup_routable_median_of_ratios (the median
    /// over them of the reference's time ÷ this router's on the same query),
    /// median_cpu_us, median_cpu_us_routable, reference_median_cpu_us_routable and
    /// speedup_routable_cpu (the same in the thread's CPU time, which a loaded machine
    /// inflates far less than wall time; null without a per-thread clock).
    /// Times are microseconds per query; p99 is the nearest-rank 99th percentile.
    Routers(BenchRoutersArgs),
}

/// Routers `flotilla bench routers` can time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum BenchRouterArg {
    /// Our single-path pathfinder.
    Flotilla,
    /// LDK's find_route, single path.
    Ldk,
    /// Greedy MPP splitter.
    Greedy,
    /// Min-cost-flow MPP splitter.
    Mcf,
    /// Halving MPP splitter.
    Halving,
    /// LDK's find_route with multi-path payments.
    #[value(name = "ldk-mpp")]
    LdkMpp,
}

/// `flotilla bench routers`
#[derive(Debug, Args)]
pub struct BenchRoutersArgs {
    /// The graph file (default: $FLOTILLA_GRAPH, else the 2026 mainnet snapshot built
    /// into the binary, builtin:mainnet-2026-02-03.describegraph.json.gz).
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,

    /// Random queries per router.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub queries: usize,

    /// Queries LDK's rows run (the first ones of the same list).
    #[arg(long, value_name = "M", default_value_t = 200)]
    pub ldk_queries: usize,

    /// Seed of the query generator.
    #[arg(long, value_name = "S", default_value_t = 2026)]
    pub seed: u64,

    /// Most parts for the multi-path rows (greedy, mcf, halving, ldk-mpp).
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub max_parts: u32,

    /// Comma-separated routers to run, in this order (default: all).
    #[arg(
        long,
        value_name = "A,B,…",
        value_enum,
        value_delimiter = ',',
        default_value = "flotilla,ldk,greedy,mcf,halving,ldk-mpp"
    )]
    pub routers: Vec<BenchRouterArg>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `--threads`: a positive count. 0 used to mean the default silently; it is refused
/// so that nobody believes they asked for something else.
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err(
            "0 threads cannot run anything: give at least 1, or leave --threads out \
                      for one per core"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number of threads")),
    }
}
