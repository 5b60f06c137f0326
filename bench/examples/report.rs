//! Measures every workload of `bench/benches/kernels.rs` and the run-time stage's
//! latencies in a few minutes, prints one table of ratios, writes it to
//! `bench/results/report.md` with an SVG chart of the speedups
//! (`bench/results/speedups.svg`), and with `--readme` puts the table in
//! README.md between its `results` markers.
//!
//! `cargo run --release -p staged-bench --example report [-- --readme | --print-only]`
//!
//! Timings are medians of repeated runs in this one process; the run-time
//! variants are built here with `-C target-cpu=native`, the rest of this
//! program with the build's own target.
#![allow(clippy::disallowed_methods)] // a child process gets its task through the environment

#[path = "../../examples/kernels/mod.rs"]
mod kernels;
#[path = "../benches/peers.rs"]
mod peers;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bitpacking::BitPacker as _;
use kernels::programs;
use kernels::*;
use peers::*;
use staged::runtime::{Config, Mode};

const N: usize = 1 << 20;
const CHILD: &str = "STAGED_REPORT_CHILD";

/// Median time of one call of `f`, in nanoseconds: 31 samples, each as many
/// calls as fit in about 20 ms.
fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    black_box(f());
    let once = start.elapsed().max(Duration::from_nanos(20));
    let per_sample =
        (Duration::from_millis(20).as_nanos() / once.as_nanos()).clamp(1, 1_000_000) as u32;
    let mut samples: Vec<f64> = (0..31)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_sample {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / f64::from(per_sample)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One workload: nanoseconds per run of each way to compute it.
struct Row {
    name: String,
    /// The name under its bars in the chart.
    short: String,
    generic: f64,
    /// `None` where no value is listed (a program that arrives at run time).
    fixed: Option<f64>,
    runtime: f64,
    by_hand: f64,
    peer: Option<(&'static str, f64)>,
}

fn store_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("staged-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = Command::new("chmod").arg("700").arg(&dir).status();
    dir.join("store")
}

fn kernels() -> Vec<Row> {
    let mut rows = Vec::new();
    let xs = data(N);

    let n = black_box(13u32);
    let (fixed, late) = (
        power_sum::specialized(13).unwrap(),
        power_sum_rt::specialized(n).unwrap(),
    );
    assert_eq!(late.call(&xs), power_sum::generic(&xs, n));
    rows.push(Row {
        name: "power x^13, 1M u64".into(),
        short: "x^13".into(),
        generic: time(|| power_sum::generic(black_box(&xs), n)),
        fixed: Some(time(|| fixed.call(black_box(&xs)))),
        runtime: time(|| late.call(black_box(&xs))),
        by_hand: time(|| power13_sum_by_hand(black_box(&xs))),
        peer: Some((
            "std wrapping_pow",
            time(|| power_sum_std(black_box(&xs), n)),
        )),
    });

    let d = black_box(7u64);
    let (fixed, late) = (
        div_sum::specialized(7).unwrap(),
        div_sum_rt::specialized(d).unwrap(),
    );
    assert_eq!(late.call(&xs), div_sum::generic(&xs, d));
    rows.push(Row {
        name: "sum x / d, 1M u64".into(),
        short: "x / d".into(),
        generic: time(|| div_sum::generic(black_box(&xs), d)),
        fixed: Some(time(|| fixed.call(black_box(&xs)))),
        runtime: time(|| late.call(black_box(&xs))),
        by_hand: time(|| div7_sum_by_hand(black_box(&xs))),
        peer: Some((
            "strength_reduce",
            time(|| div_sum_strength_reduce(black_box(&xs), d)),
        )),
    });
    let (fixed, late) = (
        mod_sum::specialized(7).unwrap(),
        mod_sum_rt::specialized(d).unwrap(),
    );
    assert_eq!(late.call(&xs), mod_sum::generic(&xs, d));
    rows.push(Row {
        name: "sum x % d, 1M u64".into(),
        short: "x % d".into(),
        generic: time(|| mod_sum::generic(black_box(&xs), d)),
        fixed: Some(time(|| fixed.call(black_box(&xs)))),
        runtime: time(|| late.call(black_box(&xs))),
        by_hand: time(|| mod7_sum_by_hand(black_box(&xs))),
        peer: Some((
            "strength_reduce",
            time(|| mod_sum_strength_reduce(black_box(&xs), d)),
        )),
    });
    let xs32: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
    let d = black_box(7u32);
    let (fixed, late) = (
        div_sum32::specialized(7).unwrap(),
        div_sum32_rt::specialized(d).unwrap(),
    );
    assert_eq!(late.call(&xs32), div_sum32::generic(&xs32, d));
    rows.push(Row {
        name: "sum x / d and x % d, 1M u32".into(),
        short: "u32 / and %".into(),
        generic: time(|| div_sum32::generic(black_box(&xs32), d)),
        fixed: Some(time(|| fixed.call(black_box(&xs32)))),
        runtime: time(|| late.call(black_box(&xs32))),
        by_hand: time(|| div7_sum32_by_hand(black_box(&xs32))),
        peer: Some((
            "strength_reduce",
            time(|| div_sum32_strength_reduce(black_box(&xs32), d)),
        )),
    });

    const BITS: u32 = 11;
    let values: Vec<u32> = xs.iter().map(|&x| (x as u32) & ((1 << BITS) - 1)).collect();
    let words = pack(&values, BITS);
    let bits = black_box(BITS);
    let (fixed, late) = (
        unpack::specialized(BITS).unwrap(),
        unpack_rt::specialized(bits).unwrap(),
    );
    let mut out = vec![0u32; N];
    late.call(&words, &mut out);
    assert_eq!(out, values);
    let p8 = <bitpacking::BitPacker8x as bitpacking::BitPacker>::new();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let block_bytes = BLOCK * BITS as usize / 8;
    rows.push(Row {
        name: format!("unpack {BITS}-bit, 1M values"),
        short: "unpack".into(),
        generic: time(|| unpack::generic(black_box(&words), &mut out, bits)),
        fixed: Some(time(|| fixed.call(black_box(&words), &mut out))),
        runtime: time(|| late.call(black_box(&words), &mut out)),
        by_hand: time(|| unpack_by_hand::<BITS>(black_box(&words), &mut out)),
        peer: Some((
            "bitpacking 8x",
            time(|| {
                for (chunk, o) in bytes
                    .chunks_exact(block_bytes)
                    .zip(out.chunks_exact_mut(BLOCK))
                {
                    p8.decompress(black_box(chunk), o, bits as u8);
                }
            }),
        )),
    });

    for n in [4usize, 8, 16] {
        let (a, b) = matrices(n);
        let mut c = vec![0.0; n * n];
        let size = black_box(n);
        let (fixed, late) = (
            matmul::specialized(n).unwrap(),
            matmul_rt::specialized(size).unwrap(),
        );
        let by_hand: fn(&[f64], &[f64], &mut [f64]) = match n {
            4 => matmul_by_hand::<4>,
            8 => matmul_by_hand::<8>,
            _ => matmul_by_hand::<16>,
        };
        rows.push(Row {
            name: format!("matmul {n}x{n} f64"),
            short: format!("{n}x{n} matmul"),
            generic: time(|| matmul::generic(black_box(&a), &b, &mut c, size)),
            fixed: Some(time(|| fixed.call(black_box(&a), &b, &mut c))),
            runtime: time(|| late.call(black_box(&a), &b, &mut c)),
            by_hand: time(|| by_hand(black_box(&a), &b, &mut c)),
            peer: Some((
                "matrixmultiply",
                time(|| matmul_matrixmultiply(black_box(&a), &b, &mut c, size)),
            )),
        });
    }

    let a: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
    let b: Vec<u32> = data(N + 1)[1..].iter().map(|&x| (x >> 32) as u32).collect();
    let (op_a, k_a, op_b, k_b) = black_box((GT, 500_000_000u32, LT, 3_000_000_000u32));
    let fixed = count_where::specialized(op_a, k_a, op_b, k_b).unwrap();
    let late = count_where_rt::specialized(op_a, k_a, op_b, k_b).unwrap();
    assert_eq!(late.call(&a, &b), count_where_by_hand(&a, &b));
    rows.push(Row {
        name: "filter a > k1 && b < k2, 1M rows".into(),
        short: "filter".into(),
        generic: time(|| count_where::generic(black_box(&a), &b, op_a, k_a, op_b, k_b)),
        fixed: Some(time(|| fixed.call(black_box(&a), &b))),
        runtime: time(|| late.call(black_box(&a), &b)),
        by_hand: time(|| count_where_by_hand(black_box(&a), &b)),
        peer: None,
    });

    // Programs as values, arriving at run time: no static column.
    let data = programs::columns(2_000_000);
    let cols: [&[i64]; 4] = [&data[0], &data[1], &data[2], &data[3]];
    let plan = programs::default_plan();
    let late = programs::count::specialized(&plan).unwrap();
    assert_eq!(late.call(&cols), programs::count_default_by_hand(&cols));
    rows.push(Row {
        name: "query plan of 3 predicates, 4 columns of 2M rows".into(),
        short: "query plan".into(),
        generic: time(|| programs::count::generic(black_box(&cols), &plan)),
        fixed: None,
        runtime: time(|| late.call(black_box(&cols))),
        by_hand: time(|| programs::count_default_by_hand(black_box(&cols))),
        peer: None,
    });
    let prog = programs::loop_program();
    let late = programs::run::specialized(&prog).unwrap();
    let x = black_box(3000i64);
    assert_eq!(late.call(x), programs::loop_by_hand(x));
    rows.push(Row {
        name: "bytecode loop of 14 instructions, 3000 iterations".into(),
        short: "bytecode".into(),
        generic: time(|| programs::run::generic(black_box(&prog), x)),
        fixed: None,
        runtime: time(|| late.call(black_box(x))),
        by_hand: time(|| programs::loop_by_hand(black_box(x))),
        peer: None,
    });
    rows
}

/// Latencies of the run-time stage, as `(what, value)` lines.
fn latencies(store: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let sync = |dir: &Path| {
        Config::from_env().mode(Mode::Sync).cache_dir(dir).install();
    };
    // The first build in an empty store also builds the support library
    // (once per toolchain, target, CPU and flags); every later one links it.
    let warm = store.join("cold");
    sync(&warm);
    let start = Instant::now();
    small::specialized(99).unwrap();
    let first = start.elapsed().as_secs_f64() * 1e3;
    let mut cold: Vec<f64> = (0..7)
        .map(|i| {
            sync(&warm);
            let start = Instant::now();
            small::specialized(100 + i).unwrap();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    cold.sort_by(f64::total_cmp);
    out.push((
        "cold build + load of a small function (median of 7)".into(),
        format!("{:.0} ms", cold[3]),
    ));
    out.push((
        "the first build in an empty store (the support library too)".into(),
        format!("{first:.0} ms"),
    ));

    let cache = store.join("cache");
    Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(&cache)
        .install();
    small::specialized(5).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut loads: Vec<f64> = (0..11)
        .map(|_| {
            let out = Command::new(&exe)
                .env(CHILD, "load")
                .env("STAGED_CACHE_DIR", &cache)
                .env("STAGED_RUSTC", "/nonexistent/rustc")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .unwrap()
        })
        .collect();
    loads.sort_by(f64::total_cmp);
    out.push((
        "disk-cache load in a new process (median of 11)".into(),
        format!("{:.2} ms", loads[5]),
    ));

    let xs = data(64);
    let n = black_box(5u32);
    let h = power_sum_rt::specialized(n).unwrap();
    let dispatch = time(|| power_sum_rt(black_box(&xs[..1]), n));
    let handle = time(|| h.call(black_box(&xs[..1])));
    out.push((
        "in-process hit: dispatcher over handle call".into(),
        format!("{:+.2} ns", dispatch - handle),
    ));

    for count in [1u32, 8, 32] {
        sync(&warm);
        let from = 1000 * count;
        let start = Instant::now();
        power_sum_rt::prepare(from..from + count).unwrap();
        out.push((
            format!("prepare of {count} value(s), one rustc run"),
            format!("{:.0} ms", start.elapsed().as_secs_f64() * 1e3),
        ));
    }

    // Background mode, as shipped: the first calls of a new value run the
    // generic body; the call that reaches the threshold queues a build, and
    // calls keep running the generic body until the variant is swapped in.
    Config::from_env()
        .mode(Mode::Background)
        .cache_dir(store.join("background"))
        .install();
    let n = black_box(77u32);
    let compiled = power_sum_rt::stats().compiled;
    let start = Instant::now();
    let mut generic_calls = 0u64;
    loop {
        let before = power_sum_rt::stats().generic_calls;
        black_box(power_sum_rt(black_box(&xs), n));
        let ran_generic = power_sum_rt::stats().generic_calls > before;
        generic_calls += u64::from(ran_generic);
        if !ran_generic && power_sum_rt::stats().compiled > compiled {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    out.push((
        "background mode: calls that ran the generic body before the variant took over (threshold 32)".into(),
        format!("{generic_calls} calls, {:.0} ms", start.elapsed().as_secs_f64() * 1e3),
    ));
    out
}

fn child_load() {
    let start = Instant::now();
    let h = small::specialized(5).unwrap();
    let ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(h.origin(), staged::Origin::Cached);
    println!("{ms}");
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// `const_init!` at run time: what its baked tables save, as `(what, value)`.
fn baked() -> Vec<(String, String)> {
    let buf: Vec<u8> = data(1 << 17).iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(crc32_with(&CRC32_SLICES, &buf), crc32fast::hash(&buf));
    let baked = time(|| crc32_with(black_box(&CRC32_SLICES), black_box(&buf)));
    let baseline = time(|| {
        let mut h = crc32fast::Hasher::internal_new_baseline(0, 0);
        h.update(black_box(&buf));
        h.finalize()
    });
    let hardware = time(|| crc32fast::hash(black_box(&buf)));
    let first_baked = time(|| black_box(&CRC32_SLICES)[15][black_box(7)]);
    let first_lazy = time(|| {
        let lazy = std::sync::LazyLock::new(crc32_slices_at_run_time);
        black_box(&*lazy)[15][black_box(7)]
    });
    vec![
        (
            "CRC-32 of 1 MiB, slicing-by-16 tables baked by const_init!".into(),
            format!(
                "{} ({:.2}× crc32fast's table code, {:.2}× crc32fast with PCLMULQDQ)",
                fmt_time(baked),
                baseline / baked,
                hardware / baked
            ),
        ),
        (
            "first access to those 16 KiB of tables: baked vs LazyLock".into(),
            format!("{} vs {}", fmt_time(first_baked), fmt_time(first_lazy)),
        ),
    ]
}

fn table(rows: &[Row], latencies: &[(String, String)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| workload | generic | static | run-time | by hand | peer | run-time vs generic | vs by hand | vs peer |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|---:|---:|---:|");
    for r in rows {
        let peer = r.peer.map_or("—".to_owned(), |(name, t)| {
            format!("{name}: {}", fmt_time(t))
        });
        let vs_peer = r
            .peer
            .map_or("—".to_owned(), |(_, t)| format!("{:.2}×", t / r.runtime));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {peer} | **{:.1}×** | {:.2}× | {vs_peer} |",
            r.name,
            fmt_time(r.generic),
            r.fixed.map_or("—".to_owned(), fmt_time),
            fmt_time(r.runtime),
            fmt_time(r.by_hand),
            r.generic / r.runtime,
            r.by_hand / r.runtime,
        );
    }
    let _ = writeln!(
        s,
        "\nRatios are speedups of the run-time variant (above 1× it is faster).\n"
    );
    let _ = writeln!(s, "| stage | measured |");
    let _ = writeln!(s, "|---|---:|");
    for (what, value) in latencies {
        let _ = writeln!(s, "| {what} | {value} |");
    }
    s
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let rustc = staged::__private::TOOLCHAIN
        .version
        .lines()
        .next()
        .unwrap_or("rustc");
    format!("{cpu}, {cores} cores; {rustc}; {}", today())
}

/// Today's date, `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Bars of the run-time variant's speedup over the generic body and over
/// the hand-written function, per workload.
fn chart(rows: &[Row], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let font = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
    ]
    .iter()
    .find_map(|p| std::fs::read(p).ok())
    .ok_or("no DejaVuSans.ttf font to draw text with")?;
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(font.into_boxed_slice()),
    )
    .map_err(|_| "the font cannot be read")?;
    let speedups: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.generic / r.runtime, r.by_hand / r.runtime))
        .collect();
    let top = speedups.iter().map(|s| s.0.max(s.1)).fold(1.0, f64::max) * 1.3;
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("run-time variant speedup (× faster)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..rows.len() as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("speedup")
        .draw()?;
    let bars = |offset: f64, pick: fn(&(f64, f64)) -> f64, color: RGBColor| {
        speedups.iter().enumerate().map(move |(i, s)| {
            let x = i as f64 + offset;
            Rectangle::new([(x, 0.0), (x + 0.35, pick(s))], color.filled())
        })
    };
    chart
        .draw_series(bars(0.12, |s| s.0, RGBColor(46, 110, 180)))?
        .label("over the generic body")
        .legend(|(x, y)| {
            Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                RGBColor(46, 110, 180).filled(),
            )
        });
    chart
        .draw_series(bars(0.5, |s| s.1, RGBColor(230, 140, 40)))?
        .label("over hand-written code (baseline target)")
        .legend(|(x, y)| {
            Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                RGBColor(230, 140, 40).filled(),
            )
        });
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 1.0), (rows.len() as f64, 1.0)],
        BLACK,
    )))?;
    // Each workload's short name under its pair of bars.
    let style = ("sans-serif", 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, row) in rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(row.short.clone(), (x, y + 8), style.clone()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() {
    if std::env::var(CHILD).is_ok() {
        child_load();
        return;
    }
    let update_readme = std::env::args().any(|a| a == "--readme");
    // For an experiment (another RUSTFLAGS or STAGED_RUSTFLAGS): print only.
    let print_only = std::env::args().any(|a| a == "--print-only");
    let store = store_dir();
    Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(&store)
        .install();
    eprintln!("timing the kernels (a minute or two)...");
    let rows = kernels();
    eprintln!("timing the run-time stage...");
    let mut latencies = latencies(&store);
    latencies.extend(baked());
    let machine = machine();
    let text = format!(
        "Measured on {machine} by `cargo run --release -p staged-bench --example report`.\n\n{}",
        table(&rows, &latencies)
    );
    println!("{text}");

    if print_only {
        let _ = std::fs::remove_dir_all(store.parent().unwrap());
        return;
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), &text).unwrap();
    match chart(&rows, &out.join("speedups.svg")) {
        Ok(()) => eprintln!("wrote {}", out.join("speedups.svg").display()),
        Err(e) => eprintln!("no chart: {e}"),
    }
    if update_readme {
        let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let old = std::fs::read_to_string(&readme).unwrap();
        let (begin, end) = ("<!-- results:begin -->", "<!-- results:end -->");
        match (old.find(begin), old.find(end)) {
            (Some(b), Some(e)) if b < e => {
                let new = format!("{}{begin}\n{text}{}", &old[..b], &old[e..]);
                std::fs::write(&readme, new).unwrap();
                eprintln!("updated {}", readme.display());
            }
            _ => eprintln!("README.md has no results markers; not updated"),
        }
    }
    let _ = std::fs::remove_dir_all(store.parent().unwrap());
}
