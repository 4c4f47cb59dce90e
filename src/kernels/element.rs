//! What the kernels need from an element type (`f32` or `f64`): the per-type part of each kernel,
//! as a trait implemented for both beside the kernel it serves.

/// The per-type part of the element-wise exponentials (the sigmoid activation, the softmax): f32
/// takes whole slices with the vector exponential of `vexp`, f64 (gradient checks) goes value by
/// value with std's `exp`.
pub trait ExpKernel: Sized {
    /// sigmoid(v) for every value v, in place.
    fn sigmoid_in_place(values: &mut [Self]);
    /// e^v for every value v, in place.
    fn exp_in_place(values: &mut [Self]);
}
