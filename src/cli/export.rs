//! `mlp export MODEL --onnx FILE --torch FILE`: the model as one ONNX graph, as a PyTorch
//! `nn.Sequential` state dict in safetensors, or both (`crate::export`). Every path is checked
//! before the model is read; a checkpoint in mid-run is exported as it stands, with a line saying so.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args};
use serde_json::json;

use super::exit::usage_bail;
use super::output;
use crate::atomic_file::write_atomically;
use crate::export::{self, onnx, torch};
use crate::model_file::{self, Model, output_activation_name};
use crate::report::Console;
use crate::summary::{RunState, RunStatus};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("format").required(true).multiple(true).args(["onnx", "torch"])))]
pub struct ExportArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// Write one ONNX graph (opset 13): raw pixels 0-255 in, `logits` and `probabilities` out
    #[arg(long, value_name = "FILE")]
    pub onnx: Option<PathBuf>,
    /// Write the state dict of a PyTorch nn.Sequential(Linear, activation, ..., Linear) as safetensors
    #[arg(long, value_name = "FILE")]
    pub torch: Option<PathBuf>,
    /// Print what was written as one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

/// The formats a model is exported to.
#[derive(Clone, Copy, Debug)]
enum Format {
    Onnx,
    Torch,
}

impl Format {
    fn flag(self) -> &'static str {
        match self {
            Self::Onnx => "--onnx",
            Self::Torch => "--torch",
        }
    }

    fn encode(self, model: &Model) -> Vec<u8> {
        match self {
            Self::Onnx => onnx::encode(model),
            Self::Torch => torch::encode(model),
        }
    }

    /// What the file written holds: a line for a reader and the same as JSON.
    fn describe(self, model: &Model) -> (String, serde_json::Value) {
        let network = &model.network;
        let (inputs, classes) = (network.inputs(), network.outputs());
        match self {
            Self::Onnx => (
                format!(
                    "ONNX opset {}: {} float32 [batch, {inputs}] of raw pixels 0-255 in, {} and {} \
                     ({} of the logits) [batch, {classes}] out",
                    onnx::OPSET,
                    onnx::INPUT,
                    onnx::LOGITS,
                    onnx::PROBABILITIES,
                    output_activation_name(network.loss)
                ),
                json!({
                    "opset": onnx::OPSET,
                    "input": onnx::INPUT,
                    "outputs": [onnx::LOGITS, onnx::PROBABILITIES],
                }),
            ),
            Self::Torch => {
                let (factor, offset) = model.info.input.scaling.affine();
                let keys: Vec<String> = (0..network.layers.len()).flat_map(torch::state_dict_keys).collect();
                (
                    format!(
                        "the PyTorch state dict of {}; its input is x = pixels * {factor} + {offset}",
                        torch::sequential(network)
                    ),
                    json!({
                        "module": torch::sequential(network),
                        "tensors": keys,
                        "input_factor": factor,
                        "input_offset": offset,
                    }),
                )
            }
        }
    }
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    let targets: Vec<(Format, &Path)> = [(Format::Onnx, &args.onnx), (Format::Torch, &args.torch)]
        .into_iter()
        .filter_map(|(format, path)| Some((format, path.as_deref()?)))
        .collect();
    for &(format, path) in &targets {
        output::check_writable(format.flag(), path)?;
    }
    if let (Some(onnx), Some(torch)) = (&args.onnx, &args.torch)
        && onnx == torch
    {
        usage_bail!(
            "--onnx and --torch both name {}; give each its own file",
            onnx.display()
        );
    }
    let (model, checkpoint) = model_file::load_checkpoint(&args.model)?;
    let state = checkpoint.as_ref().map(RunState::of);
    let mid_run = state.as_ref().filter(|s| s.status == RunStatus::InProgress);
    if let Some(state) = mid_run {
        console.note(&mid_run_note(&args.model, state));
    }

    let mut written = Vec::new();
    for (format, path) in targets {
        let bytes = format.encode(&model);
        write_atomically(path, &bytes).with_context(|| format!("cannot write {} {}", format.flag(), path.display()))?;
        let (text, mut details) = format.describe(&model);
        console.line(&format!("wrote {} ({} bytes): {text}", path.display(), bytes.len()));
        details["format"] = json!(format.flag().trim_start_matches('-'));
        details["file"] = json!(path.display().to_string());
        details["bytes"] = json!(bytes.len());
        written.push(details);
    }
    let metadata: serde_json::Map<String, serde_json::Value> = export::metadata(&model)
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.into()))
        .collect();
    console.json(&json!({
        "model": args.model.display().to_string(),
        "checkpoint_in_mid_run": mid_run.is_some(),
        "state": state,
        "written": written,
        "metadata": metadata,
    }));
    Ok(())
}

/// The line for a model file saved in mid-run: how far it got and which weights go out.
fn mid_run_note(model: &Path, state: &RunState) -> String {
    let which = match state.best_epoch {
        Some(epoch) => format!("the model it keeps now, epoch {epoch}'s (the best on validation so far)"),
        None => "the weights it holds now".to_owned(),
    };
    format!(
        "note: {} is a checkpoint in mid-run ({}); exporting {which}, as mlp eval would use them; \
         mlp train --resume {} goes on training",
        model.display(),
        state.progress(),
        model.display()
    )
}
