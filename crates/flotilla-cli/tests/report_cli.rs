//! The report end to end: `flotilla sim` writes it, `flotilla report` rebuilds it or
//! refuses bad directories with one `error:` line, and headless Chromium loads the
//! page with no console error and every plot drawn.
//!
//! The browser tests need Debian's `chromium` (`.ci/run` installs it). Without it they
//! skip loudly, unless FLOTILLA_REQUIRE_CHROMIUM is set, in which case they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

const PLOTS: [&str; 8] = [
    "success-by-amount",
    "ttc-cdf",
    "attempts",
    "fee-ppm-cdf",
    "liquidity-cdf",
    "failures",
    "success-over-time",
    "fee-over-time",
];

/// A finished small run (Watts–Strogatz graph, 200 payments, two arms) in `t/run`.
fn small_run(t: &Path) -> PathBuf {
    let g = t.join("ws.json");
    let o = flotilla(&[
        "graph",
        "generate",
        "watts-strogatz",
        "-o",
        g.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = t.join("run");
    let o = flotilla(&[
        "sim",
        "--graph",
        g.to_str().unwrap(),
        "--payments",
        "200",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("report.html"), "{stdout}");
    out
}

#[test]
fn sim_writes_the_report_and_report_rebuilds_it() {
    let t = tempfile::tempdir().unwrap();
    let out = small_run(t.path());
    for f in ["report.html", "run.json", "scenario.toml"] {
        assert!(out.join(f).exists(), "{f}");
    }
    for p in PLOTS {
        for ext in ["svg", "png"] {
            assert!(out.join(format!("plots/{p}.{ext}")).exists(), "{p}.{ext}");
        }
    }
    // The recorded command reproduces the run: same summary, wall time aside.
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["command"][0], "flotilla");
    assert_eq!(run["command"][1], "sim");
    let rerun = t.path().join("rerun");
    let o = flotilla(&[
        "sim",
        out.join("scenario.toml").to_str().unwrap(),
        "--out",
        rerun.to_str().unwrap(),
        "--quiet",
        "--no-report",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!rerun.join("report.html").exists(), "--no-report");
    let arms = |d: &Path| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
        v["arms"].clone()
    };
    assert_eq!(arms(&out), arms(&rerun));

    std::fs::remove_dir_all(out.join("plots")).unwrap();
    std::fs::remove_file(out.join("report.html")).unwrap();
    let o = flotilla(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("report.html").exists());
    assert!(out.join("plots/failures.png").exists());
}

/// Runs `flotilla report dir` expecting one `error:` line containing every needle.
fn report_fails(dir: &Path, needles: &[&str]) {
    let o = flotilla(&["report", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in {err}");
    }
}

#[test]
fn report_refuses_missing_incomplete_and_foreign_directories() {
    let t = tempfile::tempdir().unwrap();
    report_fails(
        &t.path().join("nothing-here"),
        &["nothing-here", "no such directory"],
    );

    let out = small_run(t.path());
    std::fs::write(out.join("INCOMPLETE"), "this run has not finished\n").unwrap();
    report_fails(&out, &["run", "incomplete", "this run has not finished"]);
    std::fs::remove_file(out.join("INCOMPLETE")).unwrap();

    let run_json = out.join("run.json");
    let text = std::fs::read_to_string(&run_json).unwrap();
    std::fs::write(
        &run_json,
        text.replace("\"format_version\": 2", "\"format_version\": 3"),
    )
    .unwrap();
    report_fails(
        &out,
        &[
            "run.json",
            "version 3",
            "reads `flotilla-results` versions 1 to 2",
        ],
    );

    std::fs::remove_file(&run_json).unwrap();
    report_fails(&out, &["run.json: missing"]);

    let file = out.join("summary.json");
    report_fails(&file, &["summary.json", "not a directory"]);
}

/// `run.json` without its checksums, as an older flotilla wrote it.
fn drop_checksums(dir: &Path) {
    let p = dir.join("run.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("files");
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn report_refuses_files_changed_after_the_run() {
    let t = tempfile::tempdir().unwrap();
    let out = small_run(t.path());
    let pristine = t.path().join("pristine");
    copy_dir(&out, &pristine);

    // One edited row.
    let csv = out.join("payments.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let edited = text.replacen(",Success,", ",Failure,", 1);
    assert_ne!(edited, text);
    std::fs::write(&csv, &edited).unwrap();
    report_fails(
        &out,
        &["payments.csv", "differs from the SHA-256", "--no-verify"],
    );
    // A truncated file, and a missing one.
    std::fs::write(&csv, &text.as_bytes()[..text.len() / 2]).unwrap();
    report_fails(&out, &["payments.csv", "differs from the SHA-256"]);
    std::fs::remove_file(&csv).unwrap();
    report_fails(&out, &["payments.csv", "missing, though run.json lists it"]);

    // --no-verify renders a harmlessly changed directory, with a warning.
    let dir = t.path().join("touched");
    copy_dir(&pristine, &dir);
    let toml = dir.join("scenario.toml");
    let mut s = std::fs::read_to_string(&toml).unwrap();
    s.push_str("# a note\n");
    std::fs::write(&toml, s).unwrap();
    report_fails(&dir, &["scenario.toml", "differs"]);
    let o = flotilla(&["report", "--no-verify", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("warning: ") && err.contains("scenario.toml: differs"),
        "{err}"
    );
}

#[test]
fn report_checks_ranges_even_without_checksums() {
    let t = tempfile::tempdir().unwrap();
    let out = small_run(t.path());
    let pristine = t.path().join("pristine");
    copy_dir(&out, &pristine);
    let fresh = |name: &str| {
        let d = t.path().join(name);
        copy_dir(&pristine, &d);
        drop_checksums(&d);
        d
    };
    // Unverifiable but intact: rendered with a warning.
    let d = fresh("old");
    let o = flotilla(&["report", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: "));

    // A success rate of 500%.
    let d = fresh("rate");
    let p = d.join("summary.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["arms"][0]["success_rate"] = serde_json::json!(5.0);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    report_fails(
        &d,
        &["summary.json", "arms[0]", "success_rate", "outside 0–1"],
    );

    // A truncated payments.csv (whole rows gone).
    let d = fresh("short");
    let p = d.join("payments.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let keep: Vec<&str> = text.lines().take(150).collect();
    std::fs::write(&p, keep.join("\n") + "\n").unwrap();
    report_fails(
        &d,
        &["payments.csv", "rows for arm", "summary.json counts 200"],
    );

    // An outcome flipped with its time to complete.
    let d = fresh("flip");
    let p = d.join("payments.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = lines.iter().position(|l| l.contains(",Failure,")).unwrap();
    let mut cells: Vec<String> = lines[i].split(',').map(str::to_string).collect();
    cells[6] = "Success".into();
    cells[13] = "100".into();
    cells[14] = String::new();
    lines[i] = cells.join(",");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    report_fails(&d, &["payments.csv", "successful rows for arm"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

// ---- the page in a real browser ----

/// Chromium, or `None` (after saying so loudly) when it is absent and not required.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        let required = std::env::var_os("FLOTILLA_REQUIRE_CHROMIUM").is_some();
        assert!(
            !required,
            "FLOTILLA_REQUIRE_CHROMIUM is set but chromium is not installed \
             (apt-get install -y chromium)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: chromium is not installed, the report was NOT checked in a \
             browser (apt-get install -y chromium; set FLOTILLA_REQUIRE_CHROMIUM=1 to make \
             this a failure) !!!!!!!!\n"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `extra` arguments and a fresh profile;
/// returns its (stdout, stderr). Killed after 90 s.
fn run_chromium(bin: &Path, page: &Path, extra: &[String], profile: &Path) -> (String, String) {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (reader.join().unwrap(), err_reader.join().unwrap())
}

/// Loads `page`, saves a full-height screenshot to `shot`, and returns every message
/// the page wrote to the console (log, warning or error alike: the report writes none).
fn console_messages(bin: &Path, page: &Path, shot: &Path, profile: &Path) -> Vec<String> {
    let (_, stderr) = run_chromium(
        bin,
        page,
        &[
            "--enable-logging=stderr".into(),
            "--v=0".into(),
            "--window-size=1200,9000".into(),
            format!("--screenshot={}", shot.display()),
        ],
        profile,
    );
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

/// The DOM after the page's scripts ran.
fn dom(bin: &Path, page: &Path, profile: &Path) -> String {
    run_chromium(bin, page, &["--dump-dom".into()], profile).0
}

#[test]
fn the_report_loads_in_chromium_without_console_errors_and_with_every_plot() {
    let Some(bin) = chromium() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = small_run(t.path());
    let page = out.join("report.html");
    let shot = t.path().join("report.png");
    let messages = console_messages(&bin, &page, &shot, &t.path().join("profile-1"));
    assert!(messages.is_empty(), "console: {messages:#?}");
    let png = std::fs::read(&shot).expect("screenshot saved");
    assert_eq!(&png[1..4], b"PNG");
    eprintln!("screenshot of the report: {}", shot.display());
    let dom = dom(&bin, &page, &t.path().join("profile-2"));
    assert!(
        dom.contains(&format!("data-plots-rendered=\"{}\"", PLOTS.len())),
        "not every plot rendered: {}",
        dom.lines().find(|l| l.contains("<body")).unwrap_or("")
    );
    for p in PLOTS {
        assert!(dom.contains(&format!("id=\"{p}\"")), "{p} missing");
    }
}

#[test]
fn the_browser_check_catches_console_errors_and_missing_plots() {
    let Some(bin) = chromium() else { return };
    let t = tempfile::tempdir().unwrap();
    let bad = t.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><p>deliberately broken</p>\
         <script>console.error('deliberate console error'); noSuchFunction();</script>\
         </body></html>",
    )
    .unwrap();
    let messages = console_messages(&bin, &bad, &t.path().join("bad.png"), &t.path().join("p1"));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("deliberate console error"))
            && messages.iter().any(|m| m.contains("noSuchFunction")),
        "{messages:#?}"
    );

    // A report whose plot was lost: the page's own check reports it.
    let out = small_run(t.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let broken = out.join("broken.html");
    std::fs::write(
        &broken,
        html.replacen("id=\"ttc-cdf\"", "id=\"renamed\"", 1),
    )
    .unwrap();
    let messages = console_messages(&bin, &broken, &t.path().join("b.png"), &t.path().join("p2"));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("plot ttc-cdf is missing")),
        "{messages:#?}"
    );
}
