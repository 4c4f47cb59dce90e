//! The model-file reader on arbitrary bytes: it must return a model or an error, never panic, and
//! never allocate more than the input justifies. A model it accepts must write back to a file that
//! reads again with the same tensors, bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlp::model_file::{decode, encode};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(model) = decode(bytes) {
        let again = decode(&encode(&model.network, &model.info)).expect("a re-encoded model decodes");
        assert_eq!(again.info.dataset, model.info.dataset);
        assert_eq!(again.network.sizes(), model.network.sizes());
        for (a, b) in again.network.layers.iter().zip(&model.network.layers) {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a.weight.as_slice().unwrap()), bits(b.weight.as_slice().unwrap()));
            assert_eq!(bits(a.bias.as_slice().unwrap()), bits(b.bias.as_slice().unwrap()));
        }
    }
});
