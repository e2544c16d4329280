//! `flotilla bench routers`: every router on the same seeded random queries, in one
//! process, timed query by query. The headline is the speedup over LDK on routable
//! queries (those both routers answered); the speedup over all queries is printed too,
//! labelled as such.
//!
//! # Output keys (`--json`)
//! Top level:
//! - `graph`, `nodes`, `channels`, `scc_nodes`: the graph and its largest strongly
//!   connected component (where endpoints are drawn from);
//! - `queries`, `seed`, `max_parts` (of the multi-path rows), `ldk_queries` (how many of
//!   the queries, the first ones, LDK's rows ran), `amount_min_sat`, `amount_max_sat`;
//! - `probability_model`: how `mean_probability` is computed (below);
//! - `probability_scorer`: the scorer whose model that is (`UniformScorer`), the same
//!   for every router's answers, LDK's included;
//! - `routers`: one object per router, in the order run.
//!
//! Per router:
//! - `router`: `flotilla`, `ldk`, `greedy`, `mcf`, `halving` or `ldk-mpp`;
//! - `paths`: `single` or `mpp`; `max_parts`: 1 or `--max-parts`;
//! - `queries`: queries timed; `warmup_queries`: queries run once before timing;
//! - `answered`, `answered_share`: queries with a route, and their share;
//! - `median_us`, `p99_us`, `mean_us`: wall time of one `find_route` call, µs, over
//!   every timed query, answered or not (nearest-rank percentiles);
//!   `median_cpu_us`: the median of the same calls in the thread's CPU time (`null`
//!   where the platform has none). CPU time leaves out the time the thread waited for
//!   a core, which on a loaded machine inflates long queries (LDK's, tens of ms,
//!   preempted many times) far more than short ones (ours, tens of µs), so wall-time
//!   ratios measured under load overstate the speedup and CPU-time ratios do not;
//!   `median_us_answered`: the median over the answered queries only (`null` if none);
//! - `mean_fee_ppm`, `mean_parts`, `mean_probability`: means over the answered queries
//!   (`null` when none was answered) of fee ÷ amount in ppm, parts per answer, and the
//!   answer's success probability under the common model;
//! - `reference`: the LDK row this one is compared with (`ldk` for single-path rows,
//!   `ldk-mpp` for multi-path rows); `reference_queries`: the queries both ran (the
//!   first `ldk_queries`), `null` if the reference did not run;
//! - `median_us_on_reference_queries`, `mean_probability_on_reference_queries`: this
//!   router's median time and mean probability (answered queries) over those queries;
//! - `speedup_vs_ldk`: the reference's `median_us` ÷ this router's
//!   `median_us_on_reference_queries` (same queries), `null` if the reference did not
//!   run. Over *all* those queries, including the ones no router can answer (about 30%
//!   on mainnet), which ours and LDK both refuse in microseconds: it overstates the
//!   speedup on payments that can be routed;
//! - `routable_queries`: how many of the reference queries both this router and its
//!   reference answered (the routable ones), `null` if the reference did not run;
//! - `median_us_routable`, `reference_median_us_routable`: this router's and the
//!   reference's median over those queries;
//! - `speedup_routable`: `reference_median_us_routable` ÷ `median_us_routable`, the
//!   ratio of medians on routable queries (the headline);
//!   `speedup_routable_median_of_ratios`: the median over those queries of the
//!   reference's time ÷ this router's time on the same query;
//! - `median_cpu_us_routable`, `reference_median_cpu_us_routable`,
//!   `speedup_routable_cpu`: the same medians and ratio of medians in CPU time.
//!
//! # Common probability model
//! Hidden liquidity of every channel direction uniform on `0..=capacity` (the model of
//! `UniformScorer`); an answer succeeds if every part does, and parts that share a
//! channel direction must fit together: each direction used contributes
//! `(c + 1 − Σa) / (c + 1)` (`Σa`: the HTLC amounts of all parts over it, 0 if above
//! `c`), or 0 if one of its HTLCs breaks the channel's policy; the answer's probability
//! is the product over directions. For a single path it equals
//! `UniformScorer::path_probability`.

use std::collections::HashMap;
use std::hint::black_box;
use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{bail, Result};
use flotilla_graph::stats::largest_scc;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::scorers::UniformScorer;
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter};
use flotilla_route::{Pathfinder, Route, RouteRequest, Router, Scorer, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::cli::{BenchCommand, BenchRouterArg, BenchRoutersArgs, GraphInput};
use crate::commands::route::fmt_probability;
use crate::graph_source::load;
use crate::table::{thousands, Table};

/// Smallest amount drawn, sat.
const AMOUNT_MIN_SAT: u64 = 1_000;
/// Largest amount drawn, sat.
const AMOUNT_MAX_SAT: u64 = 1_000_000;
/// Queries our routers run before timing (the first ones of the list).
const WARMUP: usize = 50;
/// Queries LDK runs before timing (it is slow, and has less to warm).
const LDK_WARMUP: usize = 5;

const PROBABILITY_MODEL: &str = "uniform hidden liquidity on [0, capacity] per channel direction; all parts of an answer together (parts sharing a direction must fit together); product over directions";
/// The scorer whose model [`PROBABILITY_MODEL`] is: it scores every router's answers
/// (LDK's too), whatever scorer the router searched with.
const PROBABILITY_SCORER: &str = "UniformScorer";

/// Runs a `bench` subcommand.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Routers(args) => routers(args),
    }
}

impl BenchRouterArg {
    fn name(self) -> &'static str {
        match self {
            BenchRouterArg::Flotilla => "flotilla",
            BenchRouterArg::Ldk => "ldk",
            BenchRouterArg::Greedy => "greedy",
            BenchRouterArg::Mcf => "mcf",
            BenchRouterArg::Halving => "halving",
            BenchRouterArg::LdkMpp => "ldk-mpp",
        }
    }

    fn is_mpp(self) -> bool {
        !matches!(self, BenchRouterArg::Flotilla | BenchRouterArg::Ldk)
    }

    fn is_ldk(self) -> bool {
        matches!(self, BenchRouterArg::Ldk | BenchRouterArg::LdkMpp)
    }

    fn reference(self) -> BenchRouterArg {
        if self.is_mpp() {
            BenchRouterArg::LdkMpp
        } else {
            BenchRouterArg::Ldk
        }
    }
}

/// The routers, built when first needed. LDK's single- and multi-path rows share one
/// `LdkRouter` (it is stateless here: nothing is fed back).
#[derive(Default)]
struct Routers {
    flotilla: Option<Pathfinder<UniformScorer>>,
    greedy: Option<GreedySplitter<UniformScorer>>,
    mcf: Option<MinCostFlowSplitter<UniformScorer>>,
    halving: Option<HalvingSplitter<UniformScorer>>,
    ldk: Option<LdkRouter>,
}

impl Routers {
    fn get(&mut self, graph: &Graph, which: BenchRouterArg, seed: u64) -> &mut dyn Router {
        match which {
            BenchRouterArg::Flotilla => self.flotilla.get_or_insert_with(|| {
                let mut r = Pathfinder::new(UniformScorer);
                r.prepare(graph);
                r
            }),
            BenchRouterArg::Greedy => self.greedy.get_or_insert_with(|| {
                let mut r = GreedySplitter::new(UniformScorer);
                r.prepare(graph);
                r
            }),
            BenchRouterArg::Mcf => self.mcf.get_or_insert_with(|| {
                let mut r = MinCostFlowSplitter::new(UniformScorer);
                r.prepare(graph);
                r
            }),
            BenchRouterArg::Halving => self.halving.get_or_insert_with(|| {
                let mut r = HalvingSplitter::new(UniformScorer);
                r.prepare(graph);
                r
            }),
            BenchRouterArg::Ldk | BenchRouterArg::LdkMpp => self
                .ldk
                .get_or_insert_with(|| LdkRouter::with_seed(graph, seed)),
        }
    }
}

/// The benchmark's queries: distinct endpoints from `scc`, amounts log-uniform in
/// [1,000, 1,000,000] sat; the generator of the criterion benches in flotilla-route.
fn draw_queries(scc: &[NodeIdx], n: usize, seed: u64) -> Vec<RouteRequest> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (lo, hi) = ((AMOUNT_MIN_SAT as f64).ln(), (AMOUNT_MAX_SAT as f64).ln());
    (0..n)
        .map(|_| {
            let s = scc[rng.random_range(0..scc.len())];
            let mut t = s;
            while t == s {
                t = scc[rng.random_range(0..scc.len())];
            }
            let sat = rng.random_range(lo..hi).exp();
            RouteRequest::new(s, t, (sat * 1000.0).round() as u64)
        })
        .collect()
}

/// The success probability of `route` under the common model (see the module docs).
fn common_probability(graph: &Graph, route: &Route) -> f64 {
    let mut load: Vec<(EdgeIdx, u64)> = route
        .paths
        .iter()
        .flat_map(|p| p.hops.iter().map(|h| (h.edge, h.amount_msat)))
        .collect();
    load.sort_unstable_by_key(|&(e, a)| (e.0, a));
    let uniform = UniformScorer;
    let mut p = 1.0;
    for group in load.chunk_by(|a, b| a.0 == b.0) {
        let edge = group[0].0;
        // Each HTLC on its own must pass the policy gate.
        if group
            .iter()
            .any(|&(e, a)| uniform.success_probability(graph, e, a, Timestamp::ZERO) <= 0.0)
        {
            return 0.0;
        }
        let total: u64 = group.iter().map(|&(_, a)| a).sum();
        let c = graph.channel(edge.channel()).capacity_msat();
        p *= if total > c {
            0.0
        } else {
            ((c - total) as f64 + 1.0) / (c as f64 + 1.0)
        };
    }
    p
}

/// What one router did on one query.
struct Answer {
    fee_ppm: f64,
    parts: usize,
    probability: f64,
}

/// One router's run.
struct Run {
    which: BenchRouterArg,
    max_parts: u32,
    warmup: usize,
    /// Wall time per query, µs.
    micros: Vec<f64>,
    /// Thread CPU time per query, µs (`NaN` without a per-thread clock).
    cpu_micros: Vec<f64>,
    answers: Vec<Option<Answer>>,
}

/// CPU time the calling thread has used, µs; `NaN` where there is no per-thread clock.
#[cfg(unix)]
fn thread_cpu_us() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
    } else {
        f64::NAN
    }
}

/// CPU time the calling thread has used, µs; `NaN` where there is no per-thread clock.
#[cfg(not(unix))]
fn thread_cpu_us() -> f64 {
    f64::NAN
}

/// Nearest-rank percentile of unsorted values (`NaN` when empty).
fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Means over the answered queries: (answered, fee ppm, parts, probability).
fn answered_means(answers: &[Option<Answer>]) -> (usize, Option<f64>, Option<f64>, Option<f64>) {
    let ok: Vec<&Answer> = answers.iter().flatten().collect();
    if ok.is_empty() {
        return (0, None, None, None);
    }
    let n = ok.len() as f64;
    (
        ok.len(),
        Some(ok.iter().map(|a| a.fee_ppm).sum::<f64>() / n),
        Some(ok.iter().map(|a| a.parts as f64).sum::<f64>() / n),
        Some(ok.iter().map(|a| a.probability).sum::<f64>() / n),
    )
}

/// Warms `router` up on the first queries, then times each query alone.
fn measure(
    graph: &Graph,
    router: &mut dyn Router,
    queries: &[RouteRequest],
    warmup: usize,
    bar: &indicatif::ProgressBar,
) -> (Vec<f64>, Vec<f64>, Vec<Option<Answer>>) {
    for q in &queries[..warmup] {
        let _ = black_box(router.find_route(graph, black_box(q), Timestamp::ZERO));
        bar.inc(1);
    }
    let mut micros = Vec::with_capacity(queries.len());
    let mut cpu_micros = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    for q in queries {
        let cpu_started = thread_cpu_us();
        let started = Instant::now();
        let result = router.find_route(graph, black_box(q), Timestamp::ZERO);
        let us = started.elapsed().as_secs_f64() * 1e6;
        let cpu_us = thread_cpu_us() - cpu_started;
        let result = black_box(result);
        micros.push(us);
        cpu_micros.push(cpu_us);
        answers.push(result.ok().map(|route| Answer {
            fee_ppm: route.fee_msat() as f64 * 1e6 / q.amount_msat as f64,
            parts: route.paths.len(),
            probability: common_probability(graph, &route),
        }));
        bar.inc(1);
    }
    (micros, cpu_micros, answers)
}

/// One row of the output; the keys are documented in the module docs and `--help`.
#[derive(Serialize)]
struct RowOut {
    router: &'static str,
    paths: &'static str,
    max_parts: u32,
    queries: usize,
    warmup_queries: usize,
    answered: usize,
    answered_share: f64,
    median_us: f64,
    p99_us: f64,
    mean_us: f64,
    median_us_answered: Option<f64>,
    median_cpu_us: Option<f64>,
    mean_fee_ppm: Option<f64>,
    mean_parts: Option<f64>,
    mean_probability: Option<f64>,
    reference: &'static str,
    reference_queries: Option<usize>,
    median_us_on_reference_queries: Option<f64>,
    mean_probability_on_reference_queries: Option<f64>,
    speedup_vs_ldk: Option<f64>,
    routable_queries: Option<usize>,
    median_us_routable: Option<f64>,
    reference_median_us_routable: Option<f64>,
    speedup_routable: Option<f64>,
    speedup_routable_median_of_ratios: Option<f64>,
    median_cpu_us_routable: Option<f64>,
    reference_median_cpu_us_routable: Option<f64>,
    speedup_routable_cpu: Option<f64>,
}

/// The queries both runs answered, by index.
fn both_answered(run: &Run, reference: &Run) -> Vec<usize> {
    run.answers
        .iter()
        .zip(&reference.answers)
        .enumerate()
        .filter(|(_, (a, b))| a.is_some() && b.is_some())
        .map(|(i, _)| i)
        .collect()
}

/// Median of `values` at `at`, `None` if there are none (or no clock).
fn median_at(values: &[f64], at: &[usize]) -> Option<f64> {
    let v: Vec<f64> = at.iter().map(|&i| values[i]).collect();
    finite(percentile(&v, 0.5))
}

/// This router against its reference on the queries both answered (`None` if the
/// reference did not run): (count, this router's median, the reference's median,
/// median of per-query ratios). Medians are `NaN` when no query was answered by both.
fn routable(run: &Run, reference: Option<&Run>) -> Option<(usize, f64, f64, f64)> {
    let reference = reference?;
    let both: Vec<(f64, f64)> = run
        .micros
        .iter()
        .zip(&run.answers)
        .zip(reference.micros.iter().zip(&reference.answers))
        .filter(|((_, a), (_, b))| a.is_some() && b.is_some())
        .map(|((&ours, _), (&theirs, _))| (ours, theirs))
        .collect();
    let ours: Vec<f64> = both.iter().map(|b| b.0).collect();
    let theirs: Vec<f64> = both.iter().map(|b| b.1).collect();
    let ratios: Vec<f64> = both.iter().map(|b| b.1 / b.0).collect();
    Some((
        both.len(),
        percentile(&ours, 0.5),
        percentile(&theirs, 0.5),
        percentile(&ratios, 0.5),
    ))
}

/// `None` for `NaN` (a median over nothing), so JSON says `null`.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The `--json` object.
#[derive(Serialize)]
struct BenchOutput {
    graph: String,
    nodes: usize,
    channels: usize,
    scc_nodes: usize,
    queries: usize,
    seed: u64,
    max_parts: u32,
    ldk_queries: usize,
    amount_min_sat: u64,
    amount_max_sat: u64,
    probability_model: &'static str,
    probability_scorer: &'static str,
    routers: Vec<RowOut>,
}

fn routers(args: BenchRoutersArgs) -> Result<()> {
    if args.queries == 0 {
        bail!("--queries must be at least 1");
    }
    if args.max_parts == 0 {
        bail!("--max-parts must be at least 1");
    }
    let mut order: Vec<BenchRouterArg> = Vec::new();
    for r in &args.routers {
        if !order.contains(r) {
            order.push(*r);
        }
    }
    if order.is_empty() {
        bail!("--routers names no router");
    }
    let ldk_n = args.ldk_queries.min(args.queries);
    if ldk_n == 0 && order.iter().any(|r| r.is_ldk()) {
        bail!("--ldk-queries 0 leaves LDK nothing to run; leave ldk and ldk-mpp out of --routers instead");
    }

    let loaded = load(&GraphInput {
        file: args.graph.clone(),
        format: None,
    })?;
    let graph = &loaded.imported.graph;
    let scc = largest_scc(graph);
    if scc.len() < 2 {
        bail!(
            "the graph's largest strongly connected component has {} node(s): no pair of nodes can pay each other, so there is nothing to route",
            scc.len()
        );
    }
    let single = draw_queries(&scc, args.queries, args.seed);
    let mpp: Vec<RouteRequest> = single
        .iter()
        .map(|q| {
            let mut q = q.clone();
            q.limits.max_parts = args.max_parts;
            q
        })
        .collect();

    let plan: Vec<(BenchRouterArg, usize, usize)> = order
        .iter()
        .map(|&r| {
            let (n, w) = if r.is_ldk() {
                (ldk_n, LDK_WARMUP)
            } else {
                (args.queries, WARMUP)
            };
            (r, n, w.min(n))
        })
        .collect();
    let bar = if std::io::stderr().is_terminal() {
        let total: usize = plan.iter().map(|&(_, n, w)| n + w).sum();
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} queries (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut built = Routers::default();
    let mut runs = Vec::with_capacity(plan.len());
    for &(which, n, warmup) in &plan {
        bar.set_message(which.name());
        let router = built.get(graph, which, args.seed);
        let qs = if which.is_mpp() {
            &mpp[..n]
        } else {
            &single[..n]
        };
        let (micros, cpu_micros, answers) = measure(graph, router, qs, warmup, &bar);
        runs.push(Run {
            which,
            max_parts: if which.is_mpp() { args.max_parts } else { 1 },
            warmup,
            micros,
            cpu_micros,
            answers,
        });
    }
    bar.finish_and_clear();

    let medians: HashMap<BenchRouterArg, f64> = runs
        .iter()
        .map(|r| (r.which, percentile(&r.micros, 0.5)))
        .collect();
    let rows: Vec<RowOut> = runs
        .iter()
        .map(|r| {
            let n = r.micros.len();
            let (answered, fee, parts, prob) = answered_means(&r.answers);
            let reference = r.which.reference();
            let ref_median = medians.get(&reference).copied();
            let sub = ref_median.map(|_| ldk_n.min(n));
            let sub_median = sub.map(|m| percentile(&r.micros[..m], 0.5));
            let sub_prob = sub.and_then(|m| answered_means(&r.answers[..m]).3);
            let reference_run = runs.iter().find(|x| x.which == reference);
            let on_both = routable(r, reference_run);
            let median_routable = on_both.and_then(|b| finite(b.1));
            let reference_routable = on_both.and_then(|b| finite(b.2));
            let both = reference_run.map(|x| both_answered(r, x));
            let cpu_routable = both.as_ref().and_then(|b| median_at(&r.cpu_micros, b));
            let reference_cpu_routable = reference_run
                .zip(both.as_ref())
                .and_then(|(x, b)| median_at(&x.cpu_micros, b));
            RowOut {
                router: r.which.name(),
                paths: if r.which.is_mpp() { "mpp" } else { "single" },
                max_parts: r.max_parts,
                queries: n,
                warmup_queries: r.warmup,
                answered,
                answered_share: answered as f64 / n as f64,
                median_us: percentile(&r.micros, 0.5),
                p99_us: percentile(&r.micros, 0.99),
                mean_us: r.micros.iter().sum::<f64>() / n as f64,
                median_us_answered: (answered > 0).then(|| {
                    let ok: Vec<f64> = r
                        .micros
                        .iter()
                        .zip(&r.answers)
                        .filter(|(_, a)| a.is_some())
                        .map(|(&us, _)| us)
                        .collect();
                    percentile(&ok, 0.5)
                }),
                median_cpu_us: finite(percentile(&r.cpu_micros, 0.5)),
                mean_fee_ppm: fee,
                mean_parts: parts,
                mean_probability: prob,
                reference: reference.name(),
                reference_queries: sub,
                median_us_on_reference_queries: sub_median,
                mean_probability_on_reference_queries: sub_prob,
                speedup_vs_ldk: ref_median.zip(sub_median).map(|(l, m)| l / m),
                routable_queries: on_both.map(|b| b.0),
                median_us_routable: median_routable,
                reference_median_us_routable: reference_routable,
                speedup_routable: reference_routable.zip(median_routable).map(|(l, m)| l / m),
                speedup_routable_median_of_ratios: on_both.and_then(|b| finite(b.3)),
                median_cpu_us_routable: cpu_routable,
                reference_median_cpu_us_routable: reference_cpu_routable,
                speedup_routable_cpu: reference_cpu_routable.zip(cpu_routable).map(|(l, m)| l / m),
            }
        })
        .collect();

    let out = BenchOutput {
        graph: loaded.path.display().to_string(),
        nodes: graph.node_count(),
        channels: graph.channel_count(),
        scc_nodes: scc.len(),
        queries: args.queries,
        seed: args.seed,
        max_parts: args.max_parts,
        ldk_queries: ldk_n,
        amount_min_sat: AMOUNT_MIN_SAT,
        amount_max_sat: AMOUNT_MAX_SAT,
        probability_model: PROBABILITY_MODEL,
        probability_scorer: PROBABILITY_SCORER,
        routers: rows,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        print_table(&out)?;
    }
    Ok(())
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "–".to_string())
}

fn print_table(out: &BenchOutput) -> Result<()> {
    outln!(
        "{} ({} nodes, {} channels; largest SCC {} nodes)",
        out.graph,
        thousands(out.nodes as u64),
        thousands(out.channels as u64),
        thousands(out.scc_nodes as u64)
    )?;
    outln!(
        "{} queries, seed {}: endpoints from the largest SCC, amounts log-uniform in [{}, {}] sat; multi-path rows up to {} parts",
        thousands(out.queries as u64),
        out.seed,
        thousands(out.amount_min_sat),
        thousands(out.amount_max_sat),
        out.max_parts
    )?;
    let any_ldk = out.routers.iter().any(|r| r.router.starts_with("ldk"));
    if any_ldk && out.ldk_queries < out.queries {
        outln!(
            "LDK rows ran the first {} queries only (--ldk-queries); speedup compares medians on those same {} queries",
            thousands(out.ldk_queries as u64),
            thousands(out.ldk_queries as u64)
        )?;
    }
    outln!(
        "stateless scoring (ours: UniformScorer; LDK: fresh ProbabilisticScorer); P(success) of every router's answers, LDK's included, is scored by {}: {}",
        out.probability_scorer, out.probability_model
    )?;
    let headline: Vec<&RowOut> = out
        .routers
        .iter()
        .filter(|r| r.routable_queries.is_some() && !r.router.starts_with("ldk"))
        .collect();
    if !headline.is_empty() {
        outln!()?;
        outln!("Speedup over LDK on routable queries (both answered; the headline):")?;
        let mut t = Table::new(1).header([
            "router",
            "vs",
            "routable queries",
            "median µs",
            "LDK median µs",
            "ratio of medians",
            "median per-query ratio",
            "median CPU µs",
            "LDK median CPU µs",
            "ratio (CPU time)",
        ]);
        for r in headline {
            t.row([
                r.router.to_string(),
                r.reference.to_string(),
                opt(r.routable_queries.map(|n| n as f64), |v| {
                    thousands(v as u64)
                }),
                opt(r.median_us_routable, |v| format!("{v:.1}")),
                opt(r.reference_median_us_routable, |v| format!("{v:.1}")),
                opt(r.speedup_routable, |v| format!("{v:.1}x")),
                opt(r.speedup_routable_median_of_ratios, |v| format!("{v:.1}x")),
                opt(r.median_cpu_us_routable, |v| format!("{v:.1}")),
                opt(r.reference_median_cpu_us_routable, |v| format!("{v:.1}")),
                opt(r.speedup_routable_cpu, |v| format!("{v:.1}x")),
            ]);
        }
        out!("{}", t.render())?;
        outln!("(CPU time leaves out waiting for a core: on a loaded machine wall time inflates LDK's long queries more than ours, so compare CPU-time ratios there)")?;
    }
    outln!()?;
    outln!(
        "All queries (including those no router can answer, which every router refuses quickly):"
    )?;
    let mut t = Table::new(1).header([
        "router",
        "parts≤",
        "queries",
        "median µs",
        "p99 µs",
        "answered",
        "median µs (answered)",
        "fee ppm",
        "parts",
        "P(success)",
        "speedup vs LDK (all queries)",
    ]);
    for r in &out.routers {
        t.row([
            r.router.to_string(),
            r.max_parts.to_string(),
            thousands(r.queries as u64),
            format!("{:.1}", r.median_us),
            format!("{:.1}", r.p99_us),
            format!("{:.1}%", 100.0 * r.answered_share),
            opt(r.median_us_answered, |v| format!("{v:.1}")),
            opt(r.mean_fee_ppm, |v| format!("{v:.0}")),
            opt(r.mean_parts, |v| format!("{v:.2}")),
            opt(r.mean_probability, fmt_probability),
            opt(r.speedup_vs_ldk, |v| format!("{v:.1}x vs {}", r.reference)),
        ]);
    }
    out!("{}", t.render())?;
    if any_ldk && out.ldk_queries < out.queries {
        outln!()?;
        outln!(
            "on LDK's {} queries only:",
            thousands(out.ldk_queries as u64)
        )?;
        let mut t = Table::new(1).header(["router", "median µs", "P(success)"]);
        for r in &out.routers {
            if let Some(m) = r.median_us_on_reference_queries {
                t.row([
                    r.router.to_string(),
                    format!("{m:.1}"),
                    opt(r.mean_probability_on_reference_queries, fmt_probability),
                ]);
            }
        }
        out!("{}", t.render())?;
    }
    Ok(())
}
