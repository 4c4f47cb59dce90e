//! Learning curves in the terminal: `mlp plot HISTORY --terminal` prints them as text, and `mlp
//! train --plot -` redraws them under the epoch lines on a terminal (plain lines otherwise).

mod common;

use std::path::Path;
use std::process::Command;

use predicates::prelude::*;

const BRAILLE: std::ops::RangeInclusive<char> = '\u{2800}'..='\u{28ff}';

fn history_csv(path: &Path) {
    let mut text = String::from("epoch,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds\n");
    for (epoch, (train, test)) in [(0.80, 0.79), (0.90, 0.88), (0.95, 0.91)].iter().enumerate() {
        let loss = 1.0 / (epoch + 1) as f64;
        text += &format!("{},0.5,{loss},{train},,,{loss},{test},1.0\n", epoch + 1);
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn plot_terminal_prints_both_panels_as_text_with_the_last_values() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("history.csv");
    history_csv(&csv);
    let output = common::mlp().arg("plot").arg(&csv).arg("--terminal").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "accuracy (%)  train 95.00  test 91.00", "{text}");
    assert!(lines.contains(&"mean loss  train 0.3333  test 0.3333"), "{text}");
    let braille_rows = lines.iter().filter(|l| l.starts_with(|c| BRAILLE.contains(&c))).count();
    assert_eq!(braille_rows, 20, "ten rows a panel:\n{text}");
    assert!(!text.contains('\x1b'), "no colour when stdout is not a terminal");
    assert!(!work.path().join("curves.png").exists() && !Path::new("curves.png").exists());

    common::mlp()
        .arg("plot")
        .arg(&csv)
        .args(["--terminal", "--out", "c.png"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--terminal").and(predicate::str::contains("--out")));
}

#[test]
fn train_plot_dash_prints_plain_lines_when_the_output_is_not_a_terminal() {
    let data = common::tiny_mnist(100, 30);
    let work = tempfile::tempdir().unwrap();
    let output = common::train(
        data.path(),
        &work.path().join("m.bin"),
        &["--epochs", "2", "--hidden", "8", "--plot", "-"],
    )
    .output()
    .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("epoch ")).count(), 2, "{text}");
    assert!(!text.chars().any(|c| BRAILLE.contains(&c)), "{text}");
    assert!(!work.path().join("-").exists(), "`-` is not a file name");
}

/// `script` (util-linux) runs a command on a pseudo-terminal.
fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn train_plot_dash_redraws_the_curves_in_place_on_a_terminal() {
    if !script_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs `script` (util-linux) to test on a terminal"
        );
        eprintln!("skipped: no `script` command to run mlp on a pseudo-terminal");
        return;
    }
    let data = common::tiny_mnist(100, 30);
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("m.bin");
    let command = format!(
        "{} train --epochs 3 --hidden 8 --plot - --data-dir {} --out {}",
        env!("CARGO_BIN_EXE_mlp"),
        data.path().display(),
        model.display()
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("COLUMNS", "80")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    // Two panels of a title, ten rows and a line of epochs: erased before each later epoch's line.
    assert_eq!(text.matches("\x1b[24F\x1b[J").count(), 2, "{text}");
    assert!(text.chars().any(|c| BRAILLE.contains(&c)));
    let last_chart = text.rsplit("\x1b[24F\x1b[J").next().unwrap();
    assert!(
        last_chart.contains("epoch   3/3"),
        "the last epoch's line comes before the last chart"
    );
    assert!(last_chart.contains("accuracy (%)"));
}
