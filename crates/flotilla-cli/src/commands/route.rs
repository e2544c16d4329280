//! `flotilla route`: find a route for one payment and print its paths.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use flotilla_graph::{Graph, NodeIdx};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter};
use flotilla_route::{Path, Pathfinder, Route, RouteRequest, Router, Timestamp};
use serde::Serialize;

use crate::cli::{GraphInput, RouteArgs, RouterArg};
use crate::graph_source::load;
use crate::table::{thousands, Table};

/// What our routers believe: a fresh liquidity-bounds scorer.
const OUR_SCORER: &str = "liquidity bounds, fresh (hidden liquidity uniform on [0, capacity])";
/// What LDK believes.
const LDK_SCORER: &str = "LDK ProbabilisticScorer, fresh, default parameters";

/// Runs `flotilla route`.
pub fn run(args: RouteArgs) -> Result<()> {
    // Everything that can be checked without the graph first: a typo fails fast.
    let amount = parse_amount(&args.amount_msat)?;
    if args.max_parts == 0 {
        bail!("--max-parts must be at least 1 (1 means a single path)");
    }
    let choice = args.router.unwrap_or(if args.max_parts > 1 {
        RouterArg::Greedy
    } else {
        RouterArg::Flotilla
    });
    if choice == RouterArg::Flotilla && args.max_parts > 1 {
        bail!(
            "--router flotilla finds a single path; for --max-parts {} use greedy, mcf, halving or ldk",
            args.max_parts
        );
    }

    let loaded = load(&GraphInput {
        file: args.graph.clone(),
        format: None,
    })?;
    let graph = &loaded.imported.graph;
    let source = graph.find_node(&args.from).context("--from")?;
    let target = graph.find_node(&args.to).context("--to")?;

    let mut request = RouteRequest::new(source, target, amount);
    request.final_cltv_delta = args.final_cltv;
    let limits = &mut request.limits;
    limits.max_parts = args.max_parts;
    limits.max_total_cltv = args.max_total_cltv;
    if let Some(fee) = args.max_fee_msat {
        limits.max_fee_msat = fee;
    }
    if let Some(min) = args.min_part_msat {
        limits.min_part_msat = min;
    }

    let (mut router, scorer) = make_router(graph, choice, source);
    let started = Instant::now();
    let route = router
        .find_route(graph, &request, Timestamp::ZERO)
        .with_context(|| {
            format!(
                "routing {} msat from {} to {}",
                amount,
                label(graph, source),
                label(graph, target)
            )
        })?;
    let search_micros = started.elapsed().as_secs_f64() * 1e6;

    let out = RouteOutput::new(
        graph,
        &request,
        router.name(),
        scorer,
        &route,
        search_micros,
    );
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        print_text(&out)?;
    }
    Ok(())
}

/// `--amount-msat`: a positive whole number (underscores allowed).
fn parse_amount(s: &str) -> Result<u64> {
    let t = s.trim().replace('_', "");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        bail!("--amount-msat must be a positive whole number of millisatoshis, got {s:?}");
    }
    let Ok(amount) = t.parse::<u64>() else {
        bail!("--amount-msat {s} is too large: at most {} fits", u64::MAX);
    };
    if amount == 0 {
        bail!("--amount-msat must be greater than zero: there is nothing to route");
    }
    Ok(amount)
}

/// The router, its search structures prepared, and a description of its scorer.
fn make_router(
    graph: &Graph,
    choice: RouterArg,
    source: NodeIdx,
) -> (Box<dyn Router>, &'static str) {
    let scorer = || LiquidityBoundsScorer::new(graph, source);
    match choice {
        RouterArg::Flotilla => {
            let mut r = Pathfinder::new(scorer());
            r.prepare(graph);
            (Box::new(r), OUR_SCORER)
        }
        RouterArg::Greedy => {
            let mut r = GreedySplitter::new(scorer());
            r.prepare(graph);
            (Box::new(r), OUR_SCORER)
        }
        RouterArg::Mcf => {
            let mut r = MinCostFlowSplitter::new(scorer());
            r.prepare(graph);
            (Box::new(r), OUR_SCORER)
        }
        RouterArg::Halving => {
            let mut r = HalvingSplitter::new(scorer());
            r.prepare(graph);
            (Box::new(r), OUR_SCORER)
        }
        RouterArg::Ldk => (Box::new(LdkRouter::new(graph)), LDK_SCORER),
    }
}

/// A node as people read it: its alias, or the start of its key when it has none.
fn label(graph: &Graph, n: NodeIdx) -> String {
    let node = graph.node(n);
    let alias = node.alias.trim();
    if alias.is_empty() || alias.chars().any(char::is_control) {
        let hex = node.pubkey.to_hex();
        format!("{}…", &hex[..12])
    } else if alias.chars().count() > 24 {
        format!("{}…", alias.chars().take(23).collect::<String>())
    } else {
        alias.to_string()
    }
}

/// A probability with enough digits to tell small ones apart.
pub(crate) fn fmt_probability(p: f64) -> String {
    if p == 0.0 || p >= 1e-3 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

#[derive(Serialize)]
struct NodeOut {
    pubkey: String,
    alias: String,
}

impl NodeOut {
    fn new(graph: &Graph, n: NodeIdx) -> Self {
        let node = graph.node(n);
        NodeOut {
            pubkey: node.pubkey.to_hex(),
            alias: node.alias.clone(),
        }
    }
}

#[derive(Serialize)]
struct LimitsOut {
    max_fee_msat: u64,
    max_total_cltv: u32,
    min_part_msat: u64,
    final_cltv_delta: u32,
}

/// One hop: the HTLC over one channel direction.
#[derive(Serialize)]
struct HopOut {
    scid: String,
    from: NodeOut,
    to: NodeOut,
    /// HTLC amount on this channel (what `to` receives), msat.
    amount_msat: u64,
    /// Fee `from` charges for forwarding over this channel (0 on the sender's own).
    fee_msat: u64,
    /// Blocks above the current height at which this HTLC expires.
    cltv_expiry: u32,
}

#[derive(Serialize)]
struct PathOut {
    amount_msat: u64,
    sent_msat: u64,
    fee_msat: u64,
    total_cltv: u32,
    probability: f64,
    hops: Vec<HopOut>,
}

impl PathOut {
    fn new(graph: &Graph, path: &Path, probability: f64) -> Self {
        let hops = path
            .hops
            .iter()
            .enumerate()
            .map(|(i, h)| HopOut {
                scid: graph.channel(h.edge.channel()).scid.to_string(),
                from: NodeOut::new(graph, graph.edge_source(h.edge)),
                to: NodeOut::new(graph, graph.edge_target(h.edge)),
                amount_msat: h.amount_msat,
                fee_msat: if i == 0 { 0 } else { path.hop_fee_msat(i - 1) },
                cltv_expiry: h.cltv_expiry,
            })
            .collect();
        PathOut {
            amount_msat: path.amount_msat(),
            sent_msat: path.sent_msat(),
            fee_msat: path.fee_msat(),
            total_cltv: path.total_cltv(),
            probability,
            hops,
        }
    }
}

/// The `--json` object (and what the text is printed from).
#[derive(Serialize)]
struct RouteOutput {
    from: NodeOut,
    to: NodeOut,
    router: String,
    scorer: &'static str,
    amount_msat: u64,
    max_parts: u32,
    limits: LimitsOut,
    parts: usize,
    paths: Vec<PathOut>,
    /// Delivered over all parts (LDK may overpay a part to meet an htlc_minimum).
    total_amount_msat: u64,
    total_sent_msat: u64,
    total_fee_msat: u64,
    fee_ppm: f64,
    /// Product of the per-path estimates; a splitter's estimate of part i is
    /// conditional on the parts before it, so theirs is the joint probability.
    probability: f64,
    /// Wall time of the router's find_route call alone, µs.
    search_micros: f64,
    #[serde(skip)]
    from_label: String,
    #[serde(skip)]
    to_label: String,
    #[serde(skip)]
    hop_labels: Vec<Vec<(String, String)>>,
}

impl RouteOutput {
    fn new(
        graph: &Graph,
        request: &RouteRequest,
        router: &str,
        scorer: &'static str,
        route: &Route,
        search_micros: f64,
    ) -> Self {
        let paths: Vec<PathOut> = route
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                PathOut::new(
                    graph,
                    p,
                    route.probabilities.get(i).copied().unwrap_or(f64::NAN),
                )
            })
            .collect();
        let hop_labels = route
            .paths
            .iter()
            .map(|p| {
                p.hops
                    .iter()
                    .map(|h| {
                        (
                            label(graph, graph.edge_source(h.edge)),
                            label(graph, graph.edge_target(h.edge)),
                        )
                    })
                    .collect()
            })
            .collect();
        let total_fee = route.fee_msat();
        RouteOutput {
            from: NodeOut::new(graph, request.source),
            to: NodeOut::new(graph, request.target),
            router: router.to_string(),
            scorer,
            amount_msat: request.amount_msat,
            max_parts: request.limits.max_parts,
            limits: LimitsOut {
                max_fee_msat: request.limits.max_fee_msat,
                max_total_cltv: request.limits.max_total_cltv,
                min_part_msat: request.limits.min_part_msat,
                final_cltv_delta: request.final_cltv_delta,
            },
            parts: route.paths.len(),
            total_amount_msat: route.amount_msat(),
            total_sent_msat: route.paths.iter().map(Path::sent_msat).sum(),
            total_fee_msat: total_fee,
            fee_ppm: total_fee as f64 * 1e6 / request.amount_msat as f64,
            probability: paths.iter().map(|p| p.probability).product(),
            paths,
            search_micros,
            from_label: label(graph, request.source),
            to_label: label(graph, request.target),
            hop_labels,
        }
    }
}

fn print_text(out: &RouteOutput) -> Result<()> {
    outln!(
        "route from {} to {}: {} msat, router {}",
        out.from_label,
        out.to_label,
        thousands(out.amount_msat),
        out.router
    )?;
    outln!("  from {}", out.from.pubkey)?;
    outln!("  to   {}", out.to.pubkey)?;
    outln!("  scorer: {}", out.scorer)?;
    outln!(
        "  found {} path{} in {:.0} µs",
        out.parts,
        if out.parts == 1 { "" } else { "s" },
        out.search_micros
    )?;
    for (i, p) in out.paths.iter().enumerate() {
        outln!()?;
        outln!(
            "path {} of {}: delivers {} msat over {} hop{}, fee {} msat, CLTV {} blocks, success probability {}",
            i + 1,
            out.parts,
            thousands(p.amount_msat),
            p.hops.len(),
            if p.hops.len() == 1 { "" } else { "s" },
            thousands(p.fee_msat),
            p.total_cltv,
            fmt_probability(p.probability)
        )?;
        let mut t = Table::new(3).header([
            "hop",
            "from",
            "to",
            "scid",
            "amount_msat",
            "fee_msat",
            "cltv_expiry",
        ]);
        for (j, h) in p.hops.iter().enumerate() {
            let (from, to) = &out.hop_labels[i][j];
            t.row([
                (j + 1).to_string(),
                from.clone(),
                to.clone(),
                h.scid.clone(),
                thousands(h.amount_msat),
                thousands(h.fee_msat),
                h.cltv_expiry.to_string(),
            ]);
        }
        out!("{}", t.render())?;
    }
    outln!()?;
    outln!(
        "total: {} part{}, delivers {} msat, sends {} msat, fee {} msat ({:.0} ppm), success probability {}",
        out.parts,
        if out.parts == 1 { "" } else { "s" },
        thousands(out.total_amount_msat),
        thousands(out.total_sent_msat),
        thousands(out.total_fee_msat),
        out.fee_ppm,
        fmt_probability(out.probability)
    )?;
    outln!(
        "(fee_msat: charged by the hop's `from` node for forwarding; amounts fall by it toward the receiver. cltv_expiry: blocks above the current height.)"
    )?;
    Ok(())
}
