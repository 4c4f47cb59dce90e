//! The network's parts, generic over `Float`: activations, dense layers, dropout, losses, initialization,
//! and the multilayer perceptron that joins them.

pub mod activation;
pub mod dropout;
pub mod init;
pub mod layer;
pub mod loss;
pub mod network;

pub use activation::Activation;
pub use dropout::Dropout;
pub use init::Init;
pub use layer::Dense;
pub use loss::Loss;
pub use network::{Gradients, Network, Trace};
