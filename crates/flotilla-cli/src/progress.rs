//! Progress of `flotilla sim` on stderr, per arm: one bar per arm on a terminal, a
//! plain line every few seconds elsewhere (nohup, CI, cluster jobs), where a bar's
//! control characters would be noise and silence looks like a hang.
//!
//! Rates and ETAs are each arm's own, measured over the last [`WINDOW`]: arms differ
//! in speed by orders of magnitude (an `-ldk` arm routes about a thousand times
//! slower), so a rate averaged over arms predicts none of them.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flotilla_sim::progress::ArmProgress;

use crate::table::thousands;

/// How far back a rate looks.
pub const WINDOW: Duration = Duration::from_secs(20);
/// Seconds between plain lines unless `$FLOTILLA_PROGRESS_SECS` says otherwise.
pub const DEFAULT_EVERY_SECS: f64 = 5.0;
/// The environment variable that sets the seconds between plain progress lines.
pub const EVERY_ENV: &str = "FLOTILLA_PROGRESS_SECS";

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Bars redrawn in place (stderr is a terminal).
    Bars,
    /// A plain line every so many seconds.
    Lines(Duration),
}

impl Style {
    /// Bars on a terminal, lines elsewhere (every `$FLOTILLA_PROGRESS_SECS`, default
    /// [`DEFAULT_EVERY_SECS`]; 0 turns them off).
    pub fn for_stderr() -> Option<Style> {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            return Some(Style::Bars);
        }
        let secs = std::env::var(EVERY_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(DEFAULT_EVERY_SECS);
        (secs > 0.0).then(|| Style::Lines(Duration::from_secs_f64(secs)))
    }
}

/// One arm's recent history: (when, payments done).
struct Arm {
    name: String,
    samples: VecDeque<(Instant, u64)>,
    finished: Option<Duration>,
}

/// What to show for one arm now.
struct View {
    done: u64,
    /// Payments per second over the window (None before the arm has started).
    rate: Option<f64>,
    eta: Option<Duration>,
}

impl Arm {
    fn observe(&mut self, now: Instant, done: u64, total: u64, since: Instant) -> View {
        if self.samples.back().is_none_or(|&(_, d)| d != done) || self.samples.len() < 2 {
            self.samples.push_back((now, done));
        }
        while self.samples.len() > 2 && now - self.samples[1].0 > WINDOW {
            self.samples.pop_front();
        }
        if done >= total && self.finished.is_none() {
            self.finished = Some(now - since);
        }
        let (t0, d0) = self.samples[0];
        let dt = (now - t0).as_secs_f64();
        let rate = (done > d0 && dt > 0.0).then(|| (done - d0) as f64 / dt);
        let eta = rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(total.saturating_sub(done) as f64 / r));
        View { done, rate, eta }
    }
}

/// Payments per second, readable: no decimals from 10 up.
pub fn rate(r: f64) -> String {
    if r >= 10.0 {
        format!("{}/s", thousands(r.round() as u64))
    } else {
        format!("{r:.1}/s")
    }
}

/// `H:MM:SS`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Shows progress of `names.len()` arm runs of `total` payments each until `stop` is
/// set. Writes to stderr; a write error there ends the display, not the run.
pub fn show(style: Style, names: &[String], total: u64, counts: &ArmProgress, stop: &AtomicBool) {
    let since = Instant::now();
    let mut arms: Vec<Arm> = names
        .iter()
        .map(|n| Arm {
            name: n.clone(),
            samples: VecDeque::new(),
            finished: None,
        })
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let tick = Duration::from_millis(100);
    match style {
        Style::Bars => {
            let multi = indicatif::MultiProgress::new();
            let bar_style = indicatif::ProgressStyle::with_template(&format!(
                "{{prefix:<{width}}} [{{elapsed_precise}}] {{wide_bar}} {{msg}}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            let bars: Vec<_> = names
                .iter()
                .map(|n| {
                    let b = multi.add(indicatif::ProgressBar::new(total));
                    b.set_style(bar_style.clone());
                    b.set_prefix(n.clone());
                    b
                })
                .collect();
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                for (i, (arm, bar)) in arms.iter_mut().zip(&bars).enumerate() {
                    let v = arm.observe(now, counts.done(i), total, since);
                    bar.set_position(v.done);
                    bar.set_message(describe(arm, &v, total));
                }
                std::thread::sleep(tick);
            }
            for b in &bars {
                b.finish_and_clear();
            }
            let _ = multi.clear();
        }
        Style::Lines(every) => {
            let mut next = since + every;
            let mut stderr = std::io::stderr();
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                let views: Vec<View> = arms
                    .iter_mut()
                    .enumerate()
                    .map(|(i, a)| a.observe(now, counts.done(i), total, since))
                    .collect();
                if now >= next {
                    next = now + every;
                    let parts: Vec<String> = arms
                        .iter()
                        .zip(&views)
                        .map(|(a, v)| format!("{:<width$} {}", a.name, describe(a, v, total)))
                        .collect();
                    let line = format!("progress {}  {}\n", clock(now - since), parts.join(" | "));
                    if stderr.write_all(line.as_bytes()).is_err() {
                        return;
                    }
                }
                std::thread::sleep(tick);
            }
        }
    }
}

/// `done/total, rate, eta` for one arm.
fn describe(arm: &Arm, v: &View, total: u64) -> String {
    let count = format!("{}/{}", thousands(v.done), thousands(total));
    if let Some(took) = arm.finished {
        return format!("{count} done in {}", clock(took));
    }
    match (v.rate, v.eta) {
        (Some(r), Some(eta)) => format!("{count} {} eta {}", rate(r), clock(eta)),
        _ if v.done == 0 => format!("{count} none finished yet"),
        _ => format!("{count} (rate not known yet)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_without_needless_decimals() {
        assert_eq!(rate(1234.5678), "1,235/s");
        assert_eq!(rate(12.49), "12/s");
        assert_eq!(rate(0.84), "0.8/s");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn each_arm_has_its_own_rate_and_eta() {
        let t0 = Instant::now();
        let mut fast = Arm {
            name: "fast".into(),
            samples: VecDeque::new(),
            finished: None,
        };
        let mut slow = Arm {
            name: "slow".into(),
            samples: VecDeque::new(),
            finished: None,
        };
        fast.observe(t0, 0, 10_000, t0);
        slow.observe(t0, 0, 10_000, t0);
        let t1 = t0 + Duration::from_secs(10);
        let f = fast.observe(t1, 5_000, 10_000, t0);
        let s = slow.observe(t1, 10, 10_000, t0);
        assert_eq!(f.rate.map(|r| r.round()), Some(500.0));
        assert_eq!(f.eta, Some(Duration::from_secs(10)));
        assert_eq!(s.rate.map(|r| r.round()), Some(1.0));
        assert_eq!(s.eta, Some(Duration::from_secs(9_990)));
    }
}
