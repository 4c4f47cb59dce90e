//! The exponential and the logistic sigmoid of every value of a slice, in place (`ExpKernel`): for
//! f32 eight lanes at a time with AVX2 and FMA; for f64 (gradient checks) value by value with
//! std's `exp`.
//!
//! e^x = 2^n · e^r with n = round(x / ln 2) and r = x - n·ln 2, |r| ≤ ln 2 / 2:
//! - r is formed in two steps with ln 2 = C1 + C2 (Cody and Waite): C1 has 9 significant bits, so
//!   n·C1 is exact and x - n·C1 cancels without error; the small n·C2 supplies the rest of ln 2.
//! - e^r = 1 + r + r²·P(r), with P the degree-5 minimax polynomial of Cephes' `expf`.
//! - 2^n is written into the exponent bits as the two factors 2^⌊n/2⌋ and 2^(n - ⌊n/2⌋), both normal
//!   numbers for every n here: e^r·2^⌊n/2⌋ is exact, and the second product rounds once, into the
//!   subnormals for results below 2^-126 or to inf above f32::MAX.
//!
//! Inputs are clamped to [-104, 89] first: e^-104 < 2^-150 rounds to 0 and e^89 overflows to inf,
//! as every input beyond them does. NaN passes the clamp and the arithmetic, and comes out NaN.
//!
//! sigmoid(z) = 1 / (1 + e^-z) for z ≥ 0 and e^z / (1 + e^z) for z < 0: both are num / (1 + e) with
//! e = e^-|z| in [0, 1], so nothing overflows and the result lies in [0, 1]. It is the formula of
//! `scalar::sigmoid` with this exponential in place of std's.
//!
//! The last `len % 8` values of a slice go through the same vector code in a zero-padded register,
//! so a value's result never depends on where it sits in the slice. CPUs without AVX2 and FMA get
//! std's `exp` value by value.

use super::element::ExpKernel;
use super::scalar::sigmoid;

impl ExpKernel for f32 {
    fn sigmoid_in_place(values: &mut [f32]) {
        map_in_place::<Sigmoid>(values);
    }

    fn exp_in_place(values: &mut [f32]) {
        map_in_place::<Exp>(values);
    }
}

impl ExpKernel for f64 {
    fn sigmoid_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = sigmoid(*v));
    }

    fn exp_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = v.exp());
    }
}

/// An element-wise function, as eight AVX2 lanes and as one portable value.
trait Elementwise {
    fn portable(x: f32) -> f32;

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    unsafe fn lanes(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256;
}

struct Exp;
struct Sigmoid;

impl Elementwise for Exp {
    fn portable(x: f32) -> f32 {
        x.exp()
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn lanes(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
        // SAFETY: the caller vouches for AVX2 and FMA.
        unsafe { avx2::exp(x) }
    }
}

impl Elementwise for Sigmoid {
    fn portable(x: f32) -> f32 {
        sigmoid(x)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn lanes(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
        // SAFETY: the caller vouches for AVX2 and FMA.
        unsafe { avx2::sigmoid(x) }
    }
}

fn map_in_place<E: Elementwise>(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        return unsafe { avx2::map_in_place::<E>(values) };
    }
    values.iter_mut().for_each(|v| *v = E::portable(*v));
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Elementwise;

    /// Below this e^x < 2^-150 rounds to 0; above the upper bound it overflows to inf.
    const EXP_INPUT_MIN: f32 = -104.0;
    const EXP_INPUT_MAX: f32 = 89.0;
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    /// ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so n·LN2_HI is exact for |n| < 2^15.
    const LN2_HI: f32 = 355.0 / 512.0;
    const LN2_LO: f32 = -2.121_944_4e-4;
    /// P(r), highest degree first: e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln 2 / 2 (Cephes `expf`).
    const EXP_POLY: [f32; 6] = [
        1.987_569_2e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];

    /// Applies `E` to every value: whole vectors of eight, then the rest in a zero-padded vector.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn map_in_place<E: Elementwise>(values: &mut [f32]) {
        let mut chunks = values.chunks_exact_mut(8);
        for chunk in &mut chunks {
            // SAFETY: the chunk holds 8 f32, read and written as one unaligned vector; the caller
            // vouches for the CPU features `E::lanes` needs.
            unsafe {
                let x = _mm256_loadu_ps(chunk.as_ptr());
                _mm256_storeu_ps(chunk.as_mut_ptr(), E::lanes(x));
            }
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let mut padded = [0.0f32; 8];
            padded[..rest.len()].copy_from_slice(rest);
            // SAFETY: `padded` holds 8 f32; the CPU features are vouched for as above.
            unsafe {
                let x = _mm256_loadu_ps(padded.as_ptr());
                _mm256_storeu_ps(padded.as_mut_ptr(), E::lanes(x));
            }
            rest.copy_from_slice(&padded[..rest.len()]);
        }
    }

    /// e^x in each lane (see the module doc).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp(x: __m256) -> __m256 {
        // max and min return their second operand when either is NaN, so NaN survives the clamp.
        let x = _mm256_min_ps(
            _mm256_set1_ps(EXP_INPUT_MAX),
            _mm256_max_ps(_mm256_set1_ps(EXP_INPUT_MIN), x),
        );
        let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
            x,
            _mm256_set1_ps(LOG2_E),
        ));
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
        let mut p = _mm256_set1_ps(EXP_POLY[0]);
        for &c in &EXP_POLY[1..] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let e_r = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0));
        // n is in [-150, 128], so both halves are in [-75, 64]: normal exponents.
        let n = _mm256_cvtps_epi32(n);
        let low = _mm256_srai_epi32::<1>(n);
        let high = _mm256_sub_epi32(n, low);
        let bias = _mm256_set1_epi32(127);
        let two_to_low = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(low, bias)));
        let two_to_high = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(high, bias)));
        _mm256_mul_ps(_mm256_mul_ps(e_r, two_to_low), two_to_high)
    }

    /// The logistic sigmoid in each lane: num / (1 + e) with e = e^-|z| and num = 1 for z ≥ 0, e
    /// for z < 0 (see the module doc).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sigmoid(z: __m256) -> __m256 {
        let minus_abs = _mm256_or_ps(z, _mm256_set1_ps(-0.0));
        // SAFETY: this function has the same CPU features.
        let e = unsafe { exp(minus_abs) };
        let one = _mm256_set1_ps(1.0);
        let non_negative = _mm256_cmp_ps::<_CMP_GE_OQ>(z, _mm256_setzero_ps());
        let num = _mm256_blendv_ps(e, one, non_negative);
        _mm256_div_ps(num, _mm256_add_ps(one, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spacing of f32 values around `v`: 2^-149 among the subnormals.
    fn f32_ulp(v: f64) -> f64 {
        let magnitude = v.abs().max(f64::from(f32::MIN_POSITIVE));
        (magnitude.log2().floor() - 23.0).exp2()
    }

    /// |got - exact| in units of the last place of f32 at `exact`; 0 when both overflow to inf.
    fn ulp_error(got: f32, exact: f64) -> f64 {
        if (exact as f32).is_infinite() {
            return if got == exact as f32 { 0.0 } else { f64::INFINITY };
        }
        (f64::from(got) - exact).abs() / f32_ulp(exact)
    }

    /// The largest ulp error of `f` (on a slice) against `reference` (on f64) over `inputs`, and where.
    fn max_ulp_error(inputs: &[f32], f: fn(&mut [f32]), reference: fn(f64) -> f64) -> (f64, f32) {
        let mut outputs = inputs.to_vec();
        f(&mut outputs);
        inputs
            .iter()
            .zip(&outputs)
            .map(|(&x, &y)| (ulp_error(y, reference(f64::from(x))), x))
            .fold((0.0, 0.0), |worst, e| if e.0 > worst.0 { e } else { worst })
    }

    /// Every step-th f32 from `lo` to `hi`.
    fn sweep(lo: f32, hi: f32, step: f32) -> Vec<f32> {
        let n = ((hi - lo) / step) as usize;
        (0..=n).map(|i| lo + i as f32 * step).chain([hi]).collect()
    }

    fn sigmoid_f64(z: f64) -> f64 {
        sigmoid(z)
    }

    #[test]
    fn exp_is_within_two_ulp_of_f64_exp_over_its_whole_range() {
        // 1.9 million points, through the normal results, the subnormal ones below e^-87.3 and the
        // overflow to inf above 88.72; and every f32 near 0, where e^x is 1 + x.
        let mut inputs = sweep(-104.0, 89.0, 1e-4);
        inputs.extend(
            (0..100_000)
                .map(|i| f32::from_bits(0x3300_0000 + i * 1000))
                .flat_map(|x| [x, -x]),
        );
        let (max, at) = max_ulp_error(&inputs, f32::exp_in_place, f64::exp);
        assert!(max <= 2.0, "exp({at}) is {max} ulp from f64 exp");
    }

    #[test]
    fn exp_of_special_values() {
        let inputs = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -1000.0,
            1000.0,
            f32::MAX,
            f32::MIN,
        ];
        let mut outputs = inputs;
        f32::exp_in_place(&mut outputs);
        assert_eq!(outputs[..2], [1.0, 1.0], "e^±0");
        assert_eq!(outputs[2..4], [f32::INFINITY, 0.0], "e^±inf");
        assert!(outputs[4].is_nan(), "e^NaN is {}", outputs[4]);
        assert_eq!(
            outputs[5..],
            [0.0, f32::INFINITY, f32::INFINITY, 0.0],
            "e^±1000, e^±f32::MAX"
        );

        // Near the ends: the last normal results, the subnormals (e^-103 ≈ 1.4e-45 is the smallest,
        // 2^-149), the largest finite result and the first that overflows.
        for x in [-87.3f32, -87.5, -95.0, -103.0, -103.9, 88.7, 88.72] {
            let mut y = [x];
            f32::exp_in_place(&mut y);
            let exact = f64::from(x).exp();
            assert!(ulp_error(y[0], exact) <= 2.0, "e^{x} = {} but f64 says {exact}", y[0]);
        }
        let mut subnormal = [-95.0f32, -103.0];
        f32::exp_in_place(&mut subnormal);
        assert!(subnormal.iter().all(|y| y.is_subnormal()), "{subnormal:?}");
        let mut overflow = [88.72f32, 88.73];
        f32::exp_in_place(&mut overflow);
        assert!(overflow[0].is_finite() && overflow[1].is_infinite(), "{overflow:?}");
    }

    #[test]
    fn sigmoid_is_within_three_ulp_of_f64_sigmoid_and_in_the_unit_interval() {
        let mut inputs = sweep(-110.0, 110.0, 1e-4);
        inputs.extend(sweep(-1000.0, 1000.0, 0.37));
        inputs.extend([-1000.0, 1000.0, f32::MIN, f32::MAX, -0.0, 0.0]);
        let (max, at) = max_ulp_error(&inputs, f32::sigmoid_in_place, sigmoid_f64);
        assert!(max <= 3.0, "sigmoid({at}) is {max} ulp from f64 sigmoid");

        let mut outputs = inputs.clone();
        f32::sigmoid_in_place(&mut outputs);
        assert!(outputs.iter().all(|s| (0.0..=1.0).contains(s)), "a sigmoid left [0, 1]");
        let mut special = [f32::NEG_INFINITY, f32::INFINITY, f32::NAN, -1000.0, 1000.0];
        f32::sigmoid_in_place(&mut special);
        assert_eq!(special[..2], [0.0, 1.0]);
        assert!(special[2].is_nan(), "sigmoid(NaN) is {}", special[2]);
        assert_eq!(special[3..], [0.0, 1.0]);
    }

    #[test]
    fn a_value_gets_the_same_bits_at_every_position_and_on_every_call() {
        let probes: Vec<f32> = (0..64).map(|i| -95.0 + i as f32 * 2.9).collect();
        let functions = [
            (f32::exp_in_place as fn(&mut [f32]), Exp::portable as fn(f32) -> f32),
            (f32::sigmoid_in_place, Sigmoid::portable),
        ];
        for (f, portable) in functions {
            let alone: Vec<f32> = probes
                .iter()
                .map(|&x| {
                    let mut value = [x];
                    f(&mut value);
                    value[0]
                })
                .collect();
            // Some probes must round differently from std's exp, or a tail computed by std would pass.
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                let differ = probes
                    .iter()
                    .zip(&alone)
                    .filter(|&(&x, y)| portable(x).to_bits() != y.to_bits());
                assert!(differ.count() > 0, "no probe tells the vector code from std's");
            }
            for (&probe, &expected) in probes.iter().zip(&alone) {
                for len in 1..=17 {
                    for at in 0..len {
                        // Different neighbours at every position, so a lane cannot copy another.
                        let mut values: Vec<f32> = (0..len).map(|i| i as f32 * 0.37 - 3.0).collect();
                        values[at] = probe;
                        f(&mut values);
                        assert_eq!(values[at].to_bits(), expected.to_bits(), "f({probe}) at {at} of {len}");
                    }
                }
                let mut again = [probe];
                f(&mut again);
                assert_eq!(again[0].to_bits(), expected.to_bits(), "f({probe}) on a second call");
            }
        }
    }
}
