//! Drift statistics between a reference and a current histogram over the same bins, and the
//! downsampling that keeps charts under their point budget. Pure: no I/O.
//!
//! - PSI (population stability index): Σ (cᵢ − rᵢ) · ln(cᵢ / rᵢ) over bin shares, each share floored
//!   at [`SHARE_FLOOR`] so an empty bin does not make it infinite.
//! - Jensen–Shannon divergence in bits (0 = same, 1 = disjoint).
//! - Kolmogorov–Smirnov statistic on the binned distributions: the largest gap between the two
//!   cumulative shares.
//! - Wasserstein-1 (earth mover's distance) when the bin edges are known: Σ |CDF gap| × bin width,
//!   in the feature's own unit.

/// An empty bin counts as this share in PSI, the usual convention.
pub const SHARE_FLOOR: f64 = 1e-4;

/// Each count over the total. `None` when the total is not positive.
fn shares(counts: &[f64]) -> Option<Vec<f64>> {
    let total: f64 = counts.iter().sum();
    (total > 0.0 && total.is_finite()).then(|| counts.iter().map(|c| c / total).collect())
}

/// Both histograms as shares, when they have the same number of bins and some mass each.
fn both(reference: &[f64], current: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    if reference.len() != current.len() || reference.is_empty() {
        return None;
    }
    Some((shares(reference)?, shares(current)?))
}

pub fn psi(reference: &[f64], current: &[f64]) -> Option<f64> {
    let (r, c) = both(reference, current)?;
    Some(
        r.iter()
            .zip(&c)
            .map(|(r, c)| {
                let (r, c) = (r.max(SHARE_FLOOR), c.max(SHARE_FLOOR));
                (c - r) * (c / r).ln()
            })
            .sum::<f64>()
            .max(0.0),
    )
}

pub fn jensen_shannon(reference: &[f64], current: &[f64]) -> Option<f64> {
    let (r, c) = both(reference, current)?;
    // p · log2(p / m), with 0 · log 0 = 0.
    let term = |p: f64, m: f64| if p > 0.0 { p * (p / m).log2() } else { 0.0 };
    let divergence = r
        .iter()
        .zip(&c)
        .map(|(r, c)| {
            let m = (r + c) / 2.0;
            0.5 * term(*r, m) + 0.5 * term(*c, m)
        })
        .sum::<f64>();
    Some(divergence.clamp(0.0, 1.0))
}

/// The cumulative gaps after each bin.
fn cdf_gaps<'a>(r: &'a [f64], c: &'a [f64]) -> impl Iterator<Item = f64> + use<'a> {
    let (mut cr, mut cc) = (0.0, 0.0);
    r.iter().zip(c).map(move |(r, c)| {
        cr += r;
        cc += c;
        (cr - cc).abs()
    })
}

pub fn kolmogorov_smirnov(reference: &[f64], current: &[f64]) -> Option<f64> {
    let (r, c) = both(reference, current)?;
    Some(cdf_gaps(&r, &c).fold(0.0, f64::max).min(1.0))
}

/// `edges` has one more value than there are bins, strictly increasing.
pub fn wasserstein(reference: &[f64], current: &[f64], edges: &[f64]) -> Option<f64> {
    let (r, c) = both(reference, current)?;
    if edges.len() != r.len() + 1 {
        return None;
    }
    // The mass that has not yet been moved is the CDF gap at a bin's right edge; it travels to the
    // next bin's centre, a distance of half of each bin's width.
    let centres: Vec<f64> = edges.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    Some(
        cdf_gaps(&r, &c)
            .zip(centres.windows(2))
            .map(|(gap, w)| gap * (w[1] - w[0]))
            .sum(),
    )
}

/// At most `max` points of a series, chosen so that each of its buckets keeps its lowest and its
/// highest value (a spike or a dip stays visible), in time order, with the first and last point.
pub fn downsample<T: Clone>(points: &[(T, f64)], max: usize) -> Vec<(T, f64)> {
    if points.len() <= max || max < 4 {
        return points.iter().take(max).cloned().collect();
    }
    // First and last are kept as they are; the rest is cut into buckets of two points each.
    let inner = &points[1..points.len() - 1];
    let buckets = (max - 2) / 2;
    let size = inner.len().div_ceil(buckets);
    let mut kept = Vec::with_capacity(max);
    kept.push(points[0].clone());
    for bucket in inner.chunks(size) {
        let low = bucket
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map_or(0, |(i, _)| i);
        let high = bucket
            .iter()
            .enumerate()
            .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map_or(0, |(i, _)| i);
        let (first, second) = (low.min(high), low.max(high));
        kept.push(bucket[first].clone());
        if second != first {
            kept.push(bucket[second].clone());
        }
    }
    kept.push(points[points.len() - 1].clone());
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn psi_of_a_known_shift() {
        // 50/50 against 40/60: (0.4-0.5)ln(0.8) + (0.6-0.5)ln(1.2)
        let expected = -0.1 * 0.8_f64.ln() + 0.1 * 1.2_f64.ln();
        let value = psi(&[50.0, 50.0], &[40.0, 60.0]).expect("psi");
        assert!(close(value, expected), "{value} != {expected}");
        assert!(value > 0.04 && value < 0.041);
    }

    #[test]
    fn an_empty_bin_is_floored_not_infinite() {
        let value = psi(&[100.0, 0.0], &[90.0, 10.0]).expect("psi");
        assert!(value.is_finite() && value > 0.25, "{value}");
    }

    #[test]
    fn disjoint_histograms_are_one_bit_apart() {
        assert!(close(
            jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]).expect("js"),
            1.0
        ));
        assert!(close(
            kolmogorov_smirnov(&[1.0, 0.0], &[0.0, 1.0]).expect("ks"),
            1.0
        ));
    }

    #[test]
    fn moving_all_mass_one_bin_costs_one_bin_width() {
        let value = wasserstein(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[0.0, 2.0, 4.0, 6.0])
            .expect("wasserstein");
        assert!(close(value, 2.0), "{value}");
        let value = wasserstein(&[1.0, 0.0, 0.0], &[0.0, 0.0, 1.0], &[0.0, 2.0, 4.0, 6.0])
            .expect("wasserstein");
        assert!(close(value, 4.0), "{value}");
    }

    #[test]
    fn mismatched_or_empty_histograms_have_no_statistic() {
        assert_eq!(psi(&[1.0, 2.0], &[1.0]), None);
        assert_eq!(jensen_shannon(&[0.0, 0.0], &[1.0, 1.0]), None);
        assert_eq!(kolmogorov_smirnov(&[], &[]), None);
        assert_eq!(wasserstein(&[1.0], &[1.0], &[0.0]), None);
    }

    #[test]
    fn downsampling_a_short_series_keeps_it() {
        let points: Vec<(i32, f64)> = (0..10).map(|i| (i, f64::from(i))).collect();
        assert_eq!(downsample(&points, 2000), points);
    }

    fn histogram() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(0.0..1000.0_f64, 2..40)
    }

    fn pair() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        histogram().prop_flat_map(|r| {
            let n = r.len();
            (Just(r), prop::collection::vec(0.0..1000.0_f64, n))
        })
    }

    proptest! {
        #[test]
        fn statistics_are_zero_for_the_same_histogram(r in histogram()) {
            prop_assume!(r.iter().sum::<f64>() > 0.0);
            prop_assert!(psi(&r, &r).is_some_and(|v| v.abs() < 1e-9));
            prop_assert!(jensen_shannon(&r, &r).is_some_and(|v| v.abs() < 1e-9));
            prop_assert!(kolmogorov_smirnov(&r, &r).is_some_and(|v| v.abs() < 1e-9));
            // Scaling counts changes no share.
            let doubled: Vec<f64> = r.iter().map(|c| c * 2.0).collect();
            prop_assert!(psi(&r, &doubled).is_some_and(|v| v.abs() < 1e-9));
        }

        #[test]
        fn statistics_are_symmetric_and_bounded((r, c) in pair()) {
            prop_assume!(r.iter().sum::<f64>() > 0.0 && c.iter().sum::<f64>() > 0.0);
            let p = psi(&r, &c).expect("psi");
            prop_assert!(p >= 0.0 && (p - psi(&c, &r).expect("psi")).abs() < 1e-9);
            let js = jensen_shannon(&r, &c).expect("js");
            prop_assert!((0.0..=1.0).contains(&js));
            prop_assert!((js - jensen_shannon(&c, &r).expect("js")).abs() < 1e-9);
            let ks = kolmogorov_smirnov(&r, &c).expect("ks");
            prop_assert!((0.0..=1.0).contains(&ks));
            prop_assert!((ks - kolmogorov_smirnov(&c, &r).expect("ks")).abs() < 1e-12);
            // KS never exceeds the total variation distance (half the L1 gap between shares).
            let (rs, cs) = both(&r, &c).expect("shares");
            let tv: f64 = rs.iter().zip(&cs).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0;
            prop_assert!(ks <= tv + 1e-9);
            let edges: Vec<f64> = (0..=r.len()).map(|i| i as f64 * 0.5).collect();
            let w = wasserstein(&r, &c, &edges).expect("w");
            prop_assert!(w >= 0.0 && (w - wasserstein(&c, &r, &edges).expect("w")).abs() < 1e-9);
            // Nothing moves further than the whole range.
            prop_assert!(w <= edges[edges.len() - 1] + 1e-9);
        }

        #[test]
        fn downsampling_keeps_extremes_ends_and_order(
            values in prop::collection::vec(-1e6..1e6_f64, 0..6000),
            max in 4usize..2500,
        ) {
            let points: Vec<(usize, f64)> = values.iter().copied().enumerate().collect();
            let kept = downsample(&points, max);
            prop_assert!(kept.len() <= max);
            prop_assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "in time order, no repeats");
            if let (Some(first), Some(last)) = (points.first(), points.last()) {
                prop_assert_eq!(kept.first(), Some(first));
                prop_assert_eq!(kept.last(), Some(last));
                let min = values.iter().copied().fold(f64::INFINITY, f64::min);
                let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                prop_assert!(kept.iter().any(|p| p.1 == min));
                prop_assert!(kept.iter().any(|p| p.1 == top));
            }
        }
    }
}
