//! The checkpoint part of a file: what `mlp train --resume` needs beyond the model kept.
//!
//! Tensors: `checkpoint.order` (U32, [samples]) the current epoch's order of the training samples;
//! `checkpoint.layers.{i}.weight`, `.bias` the weights being trained, when the model kept is not
//! them (the best on validation, or the moving average of `--ema`);
//! `checkpoint.average.layers.{i}.weight`, `.bias` the moving average, when the model kept is the
//! best on validation; `checkpoint.optimizer.{slot}.layers.{i}.weight`, `.bias` each optimizer
//! slot's state, shaped like its parameter. The `checkpoint` metadata is `CheckpointMeta` as JSON.
//! Which of the layer tensors a file holds follows from the metadata: `best` and `config.ema`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use serde::{Deserialize, Serialize};

use super::tensors::{
    Tensor, f32_values, hex, layer_tensors, le_bytes, parameter_names, parameter_shapes, read_layers, unhex,
};
use super::{Checkpoint, ModelFormatError};
use crate::history::History;
use crate::metrics::Accuracy;
use crate::nn::Network;
use crate::optim::Optimizer;
use crate::train::{Best, TrainConfig, TrainState};

/// The parts of a checkpoint that are not tensors, as the `checkpoint` metadata.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointMeta {
    config: TrainConfig,
    epoch: usize,
    batches_done: usize,
    optimizer_steps: u64,
    /// The generator: its 32-byte seed (hex), stream and position in 32-bit words (decimal; a u128).
    rng_seed: String,
    rng_stream: u64,
    rng_word_pos: String,
    best: Option<BestMeta>,
    stale_epochs: usize,
    history: History,
}

#[derive(Debug, Serialize, Deserialize)]
struct BestMeta {
    epoch: usize,
    accuracy: Accuracy,
    loss: f64,
}

/// The checkpoint's tensors: the order, the trained layers and the moving average when they are
/// not the kept ones, and the optimizer's slots.
pub(super) fn tensors(state: &TrainState<f32>) -> Vec<Tensor> {
    let order = state.order.iter().flat_map(|&i| (i as u32).to_le_bytes()).collect();
    let mut tensors = vec![(
        "checkpoint.order".to_owned(),
        Dtype::U32,
        vec![state.order.len()],
        order,
    )];
    let (trained, average) = layer_copies(state.best.is_some(), state.average.is_some());
    if trained {
        tensors.extend(layer_tensors("checkpoint.", &state.network));
    }
    if let (true, Some(averaged)) = (average, &state.average) {
        tensors.extend(layer_tensors("checkpoint.average.", averaged));
    }
    let parameters = parameter_shapes(&state.network);
    for (slot, buffers) in state.optimizer.method.slot_names().iter().zip(&state.optimizer.buffers) {
        for ((name, shape), buffer) in parameters.iter().zip(buffers) {
            let tensor_name = format!("checkpoint.optimizer.{slot}.{name}");
            tensors.push((tensor_name, Dtype::F32, shape.clone(), le_bytes(buffer.iter())));
        }
    }
    tensors
}

/// Which copies of the layers a checkpoint holds besides the kept ones, for a state with a best
/// network on validation (`best`) and a moving average (`averaged`): the weights being trained
/// when the kept model is not them, and the average when the kept model is the best.
pub(super) fn layer_copies(best: bool, averaged: bool) -> (bool, bool) {
    (best || averaged, best && averaged)
}

/// The `checkpoint` metadata of `state` trained with `config`.
pub(super) fn metadata(config: &TrainConfig, state: &TrainState<f32>) -> String {
    let meta = CheckpointMeta {
        config: *config,
        epoch: state.epoch,
        batches_done: state.batches_done,
        optimizer_steps: state.optimizer.steps,
        rng_seed: hex(&state.rng.get_seed()),
        rng_stream: state.rng.get_stream(),
        rng_word_pos: state.rng.get_word_pos().to_string(),
        best: state.best.as_ref().map(|b| BestMeta {
            epoch: b.epoch,
            accuracy: b.accuracy,
            loss: b.loss,
        }),
        stale_epochs: state.stale_epochs,
        history: without_times(&state.history),
    };
    serde_json::to_string(&meta).expect("plain fields")
}

/// `history` with its wall times zeroed: the file records what was computed, so the same seed
/// always writes the same bytes.
fn without_times(history: &History) -> History {
    let mut history = history.clone();
    for r in &mut history.epochs {
        (r.seconds, r.train_seconds, r.eval_seconds) = (0.0, 0.0, 0.0);
    }
    history
}

/// The checkpoint of a file whose kept model is `kept`, from its `checkpoint` metadata `text`.
pub(super) fn read(file: &SafeTensors<'_>, text: &str, kept: &Network<f32>) -> Result<Checkpoint, ModelFormatError> {
    use ModelFormatError::Corrupt;
    let meta: CheckpointMeta = serde_json::from_str(text)
        .map_err(|e| Corrupt(format!("metadata `checkpoint` is not a training state: {e}")))?;
    if let Some(problem) = meta.config.problem() {
        return Err(Corrupt(format!("checkpoint settings: {problem}")));
    }
    let order = read_order(file)?;
    check_position(&meta, order.len())?;
    let layers_of = |prefix| -> Result<Network<f32>, ModelFormatError> {
        Ok(Network {
            layers: read_layers(file, prefix, &kept.sizes())?,
            ..kept.clone()
        })
    };
    let best = meta.best.as_ref().map(|b| Best {
        network: kept.clone(),
        epoch: b.epoch,
        accuracy: b.accuracy,
        loss: b.loss,
    });
    let averaged = meta.config.ema.is_some();
    let (trained, average_stored) = layer_copies(best.is_some(), averaged);
    let network = if trained {
        layers_of("checkpoint.")?
    } else {
        kept.clone()
    };
    let average = match (averaged, average_stored) {
        (false, _) => None,
        (true, true) => Some(layers_of("checkpoint.average.")?),
        (true, false) => Some(kept.clone()),
    };
    let optimizer = read_optimizer(file, &meta, &network)?;
    let rng = read_generator(&meta)?;
    Ok(Checkpoint {
        config: meta.config,
        state: TrainState {
            network,
            average,
            optimizer,
            rng,
            epoch: meta.epoch,
            order,
            batches_done: meta.batches_done,
            epoch_seconds: 0.0,
            best,
            stale_epochs: meta.stale_epochs,
            history: meta.history,
        },
    })
}

/// `checkpoint.order`, which must be a permutation of the training samples.
fn read_order(file: &SafeTensors<'_>) -> Result<Vec<usize>, ModelFormatError> {
    use ModelFormatError::Corrupt;
    let order_tensor = file
        .tensor("checkpoint.order")
        .map_err(|_| Corrupt("tensor `checkpoint.order` is missing".to_owned()))?;
    if order_tensor.dtype() != Dtype::U32 || order_tensor.shape().len() != 1 {
        return Err(Corrupt("tensor `checkpoint.order` is not a U32 list".to_owned()));
    }
    let order: Vec<usize> = order_tensor
        .data()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let mut seen = vec![false; order.len()];
    for &i in &order {
        if i >= order.len() || std::mem::replace(&mut seen[i], true) {
            return Err(Corrupt("`checkpoint.order` is not a permutation".to_owned()));
        }
    }
    Ok(order)
}

/// That the batches done leave at least one batch of an epoch of `samples` to go.
fn check_position(meta: &CheckpointMeta, samples: usize) -> Result<(), ModelFormatError> {
    let batches_per_epoch = samples.div_ceil(meta.config.batch_size.min(samples).max(1));
    if samples == 0 || meta.batches_done >= batches_per_epoch {
        return Err(ModelFormatError::Corrupt(format!(
            "checkpoint: {} batches done of an epoch of {samples} samples in batches of {}",
            meta.batches_done, meta.config.batch_size
        )));
    }
    Ok(())
}

/// The optimizer of `network` with its steps and each slot's state from the file.
fn read_optimizer(
    file: &SafeTensors<'_>,
    meta: &CheckpointMeta,
    network: &Network<f32>,
) -> Result<Optimizer<f32>, ModelFormatError> {
    let mut optimizer = Optimizer::new(meta.config.optimizer, network);
    optimizer.steps = meta.optimizer_steps;
    let names = parameter_names(network.layers.len());
    for (slot, buffers) in meta.config.optimizer.slot_names().iter().zip(&mut optimizer.buffers) {
        for ((name, buffer), (_, parameter)) in names.iter().zip(buffers.iter_mut()).zip(network.parameters()) {
            let tensor_name = format!("checkpoint.optimizer.{slot}.{name}");
            let tensor = file
                .tensor(&tensor_name)
                .map_err(|_| ModelFormatError::Corrupt(format!("tensor `{tensor_name}` is missing")))?;
            if tensor.dtype() != Dtype::F32 || tensor.shape().iter().product::<usize>() != parameter.len() {
                return Err(ModelFormatError::Corrupt(format!(
                    "tensor `{tensor_name}` does not match its parameter"
                )));
            }
            *buffer = f32_values(tensor.data());
        }
    }
    Ok(optimizer)
}

/// The generator at the position it had when the checkpoint was written.
fn read_generator(meta: &CheckpointMeta) -> Result<ChaCha8Rng, ModelFormatError> {
    use ModelFormatError::Corrupt;
    let seed_bytes = unhex(&meta.rng_seed)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Corrupt(format!(
                "checkpoint rng_seed `{}` is not 32 bytes of hex",
                meta.rng_seed
            ))
        })?;
    let word_pos: u128 = meta.rng_word_pos.parse().map_err(|_| {
        Corrupt(format!(
            "checkpoint rng_word_pos `{}` is not a number",
            meta.rng_word_pos
        ))
    })?;
    let mut rng = ChaCha8Rng::from_seed(seed_bytes);
    rng.set_stream(meta.rng_stream);
    rng.set_word_pos(word_pos);
    Ok(rng)
}
