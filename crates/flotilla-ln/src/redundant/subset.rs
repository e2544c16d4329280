//! Choosing held parts worth exactly A: [`choose_exact_subset`].

use super::HeldPart;

/// Whether `held` contains parts worth exactly `amount` (by their `amt_to_forward`):
/// at once when they sum to it, else by [`choose_exact_subset`].
pub(super) fn holds_exact_subset(held: &[HeldPart], amount: u64) -> bool {
    let sum: u128 = held.iter().map(|p| p.amount_msat as u128).sum();
    if sum == amount as u128 {
        return true;
    }
    let parts: Vec<(u16, u64)> = held.iter().map(|p| (p.part_index, p.amount_msat)).collect();
    choose_exact_subset(&parts, amount).is_some()
}

/// Work bound of the exact searches in [`choose_exact_subset`].
const SEARCH_BUDGET: usize = 1 << 22;

/// A subset of `parts` (`(part_index, amount)`) worth exactly `amount`, as part indices.
///
/// - Equal amounts a: the first amount / a parts (if a divides `amount`).
/// - Otherwise an exact search over the distinct amounts and how many parts of each to
///   take, complete when Π (count + 1) ≤ 2^22 (few distinct amounts, e.g. a
///   splitter's halving or a few sizes).
/// - Otherwise meet-in-the-middle over the parts, complete for up to 40 parts.
/// - Otherwise (more than 40 parts with many distinct amounts) a depth-first search with
///   a 2^22-step budget that may miss an existing subset and return `None`.
///
/// Msat amounts are too large for a dynamic program over the sum.
pub fn choose_exact_subset(parts: &[(u16, u64)], amount: u64) -> Option<Vec<u16>> {
    if amount == 0 {
        return Some(Vec::new());
    }
    let parts: Vec<(u16, u64)> = parts.iter().copied().filter(|p| p.1 > 0).collect();
    let total: u128 = parts.iter().map(|p| p.1 as u128).sum();
    if total < amount as u128 {
        return None;
    }
    // Group by amount, largest first.
    let mut groups: Vec<(u64, Vec<u16>)> = Vec::new();
    let mut sorted = parts.clone();
    sorted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, a) in sorted {
        match groups.last_mut() {
            Some((g, v)) if *g == a => v.push(i),
            _ => groups.push((a, vec![i])),
        }
    }
    if groups.len() == 1 {
        let (a, v) = &groups[0];
        if amount % a != 0 {
            return None;
        }
        let k = (amount / a) as usize;
        return (k <= v.len()).then(|| v[..k].to_vec());
    }
    let combos = groups
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len() + 1))
        .unwrap_or(usize::MAX);
    if combos <= SEARCH_BUDGET {
        return by_groups(&groups, amount, usize::MAX);
    }
    if parts.len() <= 40 {
        return meet_in_the_middle(&parts, amount);
    }
    by_groups(&groups, amount, SEARCH_BUDGET)
}

/// Depth-first over groups: how many of each amount, pruned by what the remaining groups
/// can still add; at most `budget` steps.
fn by_groups(groups: &[(u64, Vec<u16>)], amount: u64, budget: usize) -> Option<Vec<u16>> {
    let mut suffix = vec![0u128; groups.len() + 1];
    for j in (0..groups.len()).rev() {
        suffix[j] = suffix[j + 1] + groups[j].0 as u128 * groups[j].1.len() as u128;
    }
    let mut counts = vec![0usize; groups.len()];
    let mut steps = 0usize;
    #[allow(clippy::too_many_arguments)]
    fn go(
        j: usize,
        left: u64,
        groups: &[(u64, Vec<u16>)],
        suffix: &[u128],
        counts: &mut [usize],
        steps: &mut usize,
        budget: usize,
    ) -> bool {
        if left == 0 {
            return true;
        }
        if j == groups.len() || suffix[j] < left as u128 || *steps >= budget {
            return false;
        }
        *steps += 1;
        let (a, v) = &groups[j];
        let max = ((left / a) as usize).min(v.len());
        for c in (0..=max).rev() {
            counts[j] = c;
            if go(
                j + 1,
                left - a * c as u64,
                groups,
                suffix,
                counts,
                steps,
                budget,
            ) {
                return true;
            }
        }
        counts[j] = 0;
        false
    }
    if !go(0, amount, groups, &suffix, &mut counts, &mut steps, budget) {
        return None;
    }
    Some(
        groups
            .iter()
            .zip(&counts)
            .flat_map(|((_, v), &c)| v[..c].iter().copied())
            .collect(),
    )
}

/// Meet-in-the-middle for up to 40 parts: every subset sum of each half, sorted, then a
/// lookup per subset of the first half.
fn meet_in_the_middle(parts: &[(u16, u64)], amount: u64) -> Option<Vec<u16>> {
    let (a, b) = parts.split_at(parts.len() / 2);
    let sums = |half: &[(u16, u64)]| -> Vec<(u128, u64)> {
        (0u64..1 << half.len())
            .map(|mask| {
                let s = half
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask >> i & 1 == 1)
                    .map(|(_, p)| p.1 as u128)
                    .sum();
                (s, mask)
            })
            .collect()
    };
    let left = sums(a);
    let mut right = sums(b);
    right.sort_unstable();
    let pick = |half: &[(u16, u64)], mask: u64| -> Vec<u16> {
        half.iter()
            .enumerate()
            .filter(|(i, _)| mask >> i & 1 == 1)
            .map(|(_, p)| p.0)
            .collect()
    };
    for (s, mask) in left {
        if s > amount as u128 {
            continue;
        }
        let need = amount as u128 - s;
        if let Ok(k) = right.binary_search_by(|(t, _)| t.cmp(&need)) {
            let mut out = pick(a, mask);
            out.extend(pick(b, right[k].1));
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(parts: &[(u16, u64)], chosen: &[u16]) -> u64 {
        chosen
            .iter()
            .map(|i| parts.iter().find(|p| p.0 == *i).unwrap().1)
            .sum()
    }

    #[test]
    fn equal_parts_take_any_k() {
        let parts: Vec<(u16, u64)> = (0..5).map(|i| (i, 1_000)).collect();
        let c = choose_exact_subset(&parts, 3_000).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(choose_exact_subset(&parts, 3_500), None);
        assert_eq!(choose_exact_subset(&parts, 6_000), None);
    }

    #[test]
    fn uneven_parts_find_an_exact_subset() {
        let parts = [(0, 7_000), (1, 5_000), (2, 3_000), (3, 2_000), (4, 1_000)];
        for amount in [10_000u64, 8_000, 13_000, 18_000, 1_000] {
            let c = choose_exact_subset(&parts, amount).unwrap();
            assert_eq!(sum(&parts, &c), amount, "{amount}");
        }
        assert_eq!(choose_exact_subset(&parts, 18_500), None);
        assert_eq!(choose_exact_subset(&parts, 19_000), None);
    }

    #[test]
    fn many_distinct_parts_use_meet_in_the_middle() {
        // 30 distinct amounts: Π(count+1) = 2^30, over the group search budget.
        let parts: Vec<(u16, u64)> = (0..30)
            .map(|i| (i, 1_000 + 37 * i as u64 * i as u64))
            .collect();
        let target = parts[3].1 + parts[17].1 + parts[29].1 + parts[8].1;
        let c = choose_exact_subset(&parts, target).unwrap();
        assert_eq!(sum(&parts, &c), target);
        assert_eq!(choose_exact_subset(&parts, 1), None);
    }
}
